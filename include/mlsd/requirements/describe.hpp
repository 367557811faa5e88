/// @file
/// A design that describes itself: any pipeline (with or without its requirements) as JSON for
/// tools, and as a Mermaid or Graphviz DOT diagram for people. Also the JSON form of
/// `requirements`, which round-trips.
///
/// ```cpp
/// const auto d = mlsd::describe(ad_click, serve);  // requirements + pipeline
/// std::cout << d.to_json().dump(2);                 // stages, types, budgets, fan-out, review
/// std::ofstream("serve.dot") << d.to_dot();         // dot -Tsvg serve.dot -o serve.svg
/// ```
#pragma once

#include <mlsd/core/stage.hpp>
#include <mlsd/core/type_name.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/requirements/budget.hpp>
#include <mlsd/requirements/requirements.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE

namespace detail {

// `n` with thousands separators (1,000,000), exact; capacity.hpp's `format_count` rounds instead.
inline std::string format_thousands(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return out;
}

inline std::string format_ms(time_span t) {
  const double ms = static_cast<double>(t.microseconds) / 1000.0;
  std::string s = std::to_string(ms);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') {
    s.pop_back();
  }
  return s.append(" ms");
}

inline double to_ms(time_span t) {
  return static_cast<double>(t.microseconds) / 1000.0;
}

inline time_span from_ms(double ms) {
  time_span t;
  t.microseconds = std::llround(ms * 1000.0);
  return t;
}

[[noreturn]] inline void json_error(std::string_view path, std::string_view expected) {
  throw std::invalid_argument(
      detail::concat({"mlsd: requirements JSON: field '", path, "': expected ", expected}));
}

inline const nlohmann::json& json_field(const nlohmann::json& j, std::string_view parent,
                                        const char* key) {
  const std::string path = parent.empty() ? std::string(key) : detail::concat({parent, ".", key});
  if (!j.is_object() || !j.contains(key)) {
    json_error(path, "a value (missing)");
  }
  return j.at(key);
}

inline double json_number(const nlohmann::json& j, std::string_view parent, const char* key,
                          bool non_negative = true) {
  const nlohmann::json& v = json_field(j, parent, key);
  if (!v.is_number() || (non_negative && v.get<double>() < 0)) {
    json_error(detail::concat({parent, ".", key}),
               non_negative ? "a non-negative number" : "a number");
  }
  return v.get<double>();
}

inline std::uint64_t json_count(const nlohmann::json& j, std::string_view parent, const char* key) {
  const nlohmann::json& v = json_field(j, parent, key);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
    json_error(detail::concat({parent, ".", key}), "a non-negative integer");
  }
  return v.get<std::uint64_t>();
}

template <class E>
E json_enum(const nlohmann::json& v, const std::string& path) {
  if (!v.is_string()) {
    json_error(path, "a string");
  }
  const auto e = enum_from_string<E>(v.get<std::string>());
  if (!e) {
    std::string names;
    for (std::string_view n : enum_names<E>::values) {
      names += names.empty() ? "" : ", ";
      names += n;
    }
    json_error(path, detail::concat({"one of ", names, " (got \"", v.get<std::string>(), "\")"}));
  }
  return *e;
}

template <class E>
nlohmann::json metric_names(const metric_set<E>& set) {
  nlohmann::json names = nlohmann::json::array();
  set.for_each([&](E m) { names.push_back(std::string(to_string(m))); });
  return names;
}

template <class E>
metric_set<E> json_metric_set(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = json_field(j, "", key);
  if (!v.is_array()) {
    json_error(key, "an array of metric names");
  }
  metric_set<E> set;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const E m = json_enum<E>(v[i], detail::concat({key, "[", std::to_string(i), "]"}));
    set.bits |= std::uint64_t{1} << static_cast<unsigned>(m);
  }
  return set;
}

} // namespace detail

// The JSON functions below are templates over the JSON type (always `nlohmann::json`) so that their
// bodies are compiled only in translation units that call them: a file that includes
// <mlsd/mlsd.hpp> and never writes JSON does not pay for them (bench/compile_cost.py).

/// `requirements` as JSON: enum values by name, durations in milliseconds, availability as a
/// fraction. `requirements_from_json(requirements_to_json(r)) == r` for durations in whole
/// microseconds.
template <class Json = nlohmann::json>
Json requirements_to_json(const requirements& r) {
  return {{"objective", std::string(to_string(r.objective))},
          {"task", std::string(to_string(r.task))},
          {"offline_metrics", detail::metric_names(r.offline)},
          {"online_metrics", detail::metric_names(r.online)},
          {"slo",
           {{"p99_latency_ms", detail::to_ms(r.slo.p99_latency)},
            {"peak_qps", r.slo.peak_qps},
            {"catalog_size", r.slo.catalog_size},
            {"feature_freshness_ms", detail::to_ms(r.slo.feature_freshness)},
            {"availability", r.slo.availability.fraction()}}}};
}

/// Parses the JSON form of `requirements_to_json`.
/// @throws std::invalid_argument naming the field (e.g. `slo.peak_qps`) and what was expected.
template <class Json>
requires std::same_as<Json, nlohmann::json> requirements requirements_from_json(const Json& j) {
  if (!j.is_object()) {
    detail::json_error("(top level)", "an object");
  }
  requirements r;
  r.objective =
      detail::json_enum<business_objective>(detail::json_field(j, "", "objective"), "objective");
  r.task = detail::json_enum<ml_task>(detail::json_field(j, "", "task"), "task");
  r.offline = detail::json_metric_set<offline_metric>(j, "offline_metrics");
  r.online = detail::json_metric_set<online_metric>(j, "online_metrics");
  const Json& slo = detail::json_field(j, "", "slo");
  r.slo.p99_latency = detail::from_ms(detail::json_number(slo, "slo", "p99_latency_ms"));
  r.slo.peak_qps = detail::json_count(slo, "slo", "peak_qps");
  r.slo.catalog_size = detail::json_count(slo, "slo", "catalog_size");
  r.slo.feature_freshness =
      detail::from_ms(detail::json_number(slo, "slo", "feature_freshness_ms"));
  const double availability = detail::json_number(slo, "slo", "availability");
  if (availability > 1.0) {
    detail::json_error("slo.availability", "a fraction between 0 and 1");
  }
  r.slo.availability = availability;
  return r;
}

/// One stage of a described design.
struct stage_description {
  std::string name; ///< the budget's name, or the stage type's unqualified name
  std::string type; ///< the stage's type (without its budget wrapper)
  stage_role role = stage_role::other;
  std::string input_type; ///< as the compiler spells it, normalised
  std::string output_type;
  std::optional<stage_budget> budget;
};

/// A pipeline, optionally with the requirements it serves, ready to print.
struct design_description {
  std::optional<requirements> reqs;
  std::vector<stage_description> stages;
  std::optional<design_review> review; ///< present when requirements are

  /// Stages, types, budgets, fan-out, requirements and the design review, as one JSON object.
  template <class Json = nlohmann::json>
  [[nodiscard]] Json to_json() const {
    nlohmann::json j;
    if (reqs) {
      j["requirements"] = requirements_to_json(*reqs);
    }
    nlohmann::json list = nlohmann::json::array();
    for (std::size_t i = 0; i < stages.size(); ++i) {
      const stage_description& s = stages[i];
      nlohmann::json e = {{"index", i},
                          {"name", s.name},
                          {"type", s.type},
                          {"role", std::string(to_string(s.role))},
                          {"input_type", s.input_type},
                          {"output_type", s.output_type}};
      if (s.budget) {
        e["budget"] = {{"latency_ms", detail::to_ms(s.budget->latency)},
                       {"items_in", s.budget->items_in},
                       {"items_out", s.budget->items_out}};
      } else {
        e["budget"] = nullptr;
      }
      list.push_back(std::move(e));
    }
    j["stages"] = std::move(list);
    if (!stages.empty()) {
      j["input_type"] = stages.front().input_type;
      j["output_type"] = stages.back().output_type;
    }
    if (review) {
      j["review"] = {{"ok", review->ok()},
                     {"rule", std::string(to_string(review->rule))},
                     {"message", std::string(review->message())},
                     {"budgeted_latency_ms", detail::to_ms(review->total_latency)}};
    }
    return j;
  }

  /// A Mermaid flowchart (left to right): one node per stage with its role, budget and fan-out,
  /// edges labelled with the type that crosses them, and the requirements as a note.
  template <class = void>
  [[nodiscard]] std::string to_mermaid() const {
    std::string out = "flowchart LR\n";
    out += "  request([request])\n";
    for (std::size_t i = 0; i < stages.size(); ++i) {
      std::string label = detail::concat(
          {"<b>", mermaid_escape(stages[i].name), "</b><br/>", to_string(stages[i].role)});
      for (const std::string& line : budget_lines(stages[i])) {
        label += detail::concat({"<br/>", mermaid_escape(line)});
      }
      out += detail::concat({"  s", std::to_string(i), "[\"", label, "\"]\n"});
    }
    out += "  response([response])\n";
    // Each edge carries the type that crosses it: what the compiler checks at each `|`.
    std::string previous = "request";
    for (std::size_t i = 0; i <= stages.size() && !stages.empty(); ++i) {
      const std::string node =
          i == stages.size() ? "response" : detail::concat({"s", std::to_string(i)});
      const std::string& type =
          i == stages.size() ? stages.back().output_type : stages[i].input_type;
      out += detail::concat({"  ", previous, " -->|\"", mermaid_escape(type), "\"| ", node, "\n"});
      previous = node;
    }
    if (reqs) {
      std::string caption = mermaid_escape(requirements_caption("\n"));
      detail::replace_all(caption, "\n", "<br/>");
      out += detail::concat({"  requirements[/\"", caption, "\"/]\n"});
      out += "  requirements -.- s0\n";
    }
    return out;
  }

  /// A Graphviz DOT digraph (render with `dot -Tsvg`): the same content as `to_mermaid`.
  template <class = void>
  [[nodiscard]] std::string to_dot() const {
    std::string out = "digraph mlsd_pipeline {\n"
                      "  rankdir=LR;\n"
                      "  graph [fontname=\"Helvetica\", fontsize=11, nodesep=0.4, ranksep=0.5];\n"
                      "  node [fontname=\"Helvetica\", fontsize=11, shape=box, style=\"rounded,"
                      "filled\", fillcolor=\"#f2f2f2\", color=\"#555555\"];\n"
                      "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n";
    out += "  request [shape=plaintext, style=\"\", label=\"request\"];\n";
    out += "  response [shape=plaintext, style=\"\", label=\"response\"];\n";
    for (std::size_t i = 0; i < stages.size(); ++i) {
      std::string label = detail::concat({stages[i].name, "\\n", to_string(stages[i].role)});
      for (const std::string& line : budget_lines(stages[i])) {
        label += detail::concat({"\\n", line});
      }
      out +=
          detail::concat({"  s", std::to_string(i), " [label=\"", dot_escape_keep_newlines(label),
                          "\", fillcolor=\"", role_colour(stages[i].role), "\"];\n"});
    }
    std::string previous = "request";
    for (std::size_t i = 0; i <= stages.size(); ++i) {
      const std::string node =
          i == stages.size() ? "response" : detail::concat({"s", std::to_string(i)});
      const std::string& type =
          i == stages.size() ? stages.back().output_type : stages[i].input_type;
      if (!stages.empty()) {
        out += detail::concat(
            {"  ", previous, " -> ", node, " [label=\"", dot_escape(type), "\"];\n"});
      }
      previous = node;
    }
    if (reqs) {
      out += detail::concat({"  requirements [shape=note, fillcolor=\"#fff8dc\", label=\"",
                             dot_escape_keep_newlines(requirements_caption("\\l")), "\\l\"];\n"});
      out += "  requirements -> s0 [style=dashed, arrowhead=none];\n";
      out += "  { rank=min; requirements; }\n";
    }
    out += "}\n";
    return out;
  }

private:
  static std::vector<std::string> budget_lines(const stage_description& s) {
    if (!s.budget) {
      return {"no budget"};
    }
    return {detail::concat({detail::format_ms(s.budget->latency), " budget"}),
            detail::concat({detail::format_thousands(s.budget->items_in), " \u2192 ",
                            detail::format_thousands(s.budget->items_out), " items"})};
  }

  [[nodiscard]] std::string requirements_caption(const std::string& newline) const {
    std::string c = detail::concat({"objective: ", to_string(reqs->objective), newline,
                                    "task: ", to_string(reqs->task), newline, "offline: "});
    bool first = true;
    reqs->offline.for_each([&](offline_metric m) {
      c.append(first ? "" : ", ").append(to_string(m));
      first = false;
    });
    c += detail::concat({newline, "online: "});
    first = true;
    reqs->online.for_each([&](online_metric m) {
      c.append(first ? "" : ", ").append(to_string(m));
      first = false;
    });
    c += detail::concat({newline, "p99 ", detail::format_ms(reqs->slo.p99_latency), ", ",
                         detail::format_thousands(reqs->slo.peak_qps), " QPS peak", newline,
                         "catalog ", detail::format_thousands(reqs->slo.catalog_size), " items"});
    if (review) {
      c += detail::concat({newline, "review: ", review->message()});
    }
    return c;
  }

  static std::string role_colour(stage_role r) {
    switch (r) {
    case stage_role::retriever:
      return "#dbe9f6";
    case stage_role::ranker:
      return "#dff0d8";
    case stage_role::re_ranker:
      return "#fcf3cf";
    case stage_role::scorer:
      return "#e8dff5";
    case stage_role::feature_transform:
      return "#fde2e1";
    default:
      return "#f2f2f2";
    }
  }

  static std::string dot_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
      if (c == '"' || c == '\\') {
        out += '\\';
      }
      out += c;
    }
    return out;
  }
  // Escapes quotes but keeps the `\n` / `\l` line breaks written by the caller.
  static std::string dot_escape_keep_newlines(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 'n' || s[i + 1] == 'l')) {
        out += s[i];
        out += s[++i];
      } else if (s[i] == '"' || s[i] == '\\') {
        out += '\\';
        out += s[i];
      } else {
        out += s[i];
      }
    }
    return out;
  }
  static std::string mermaid_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
      switch (c) {
      case '"':
        out += "#quot;";
        break;
      case '<':
        out += "#lt;";
        break;
      case '>':
        out += "#gt;";
        break;
      default:
        out += c;
      }
    }
    return out;
  }
};

namespace detail {

template <class S>
std::string short_type_name() {
  std::string full = type_name<S>();
  const std::size_t angle = full.find('<');
  const std::size_t colon = full.rfind("::", angle);
  return colon == std::string::npos ? full : full.substr(colon + 2);
}

// The stage inside a `budgeted<S, B>`, or the stage itself.
template <class S>
struct unbudgeted {
  using type = S;
};
template <class S, stage_budget B>
struct unbudgeted<budgeted<S, B>> {
  using type = S;
};

template <class S>
stage_description describe_stage() {
  stage_description d;
  using plain = std::remove_cvref_t<S>;
  if constexpr (budgeted_stage<plain>) {
    d.budget = plain::budget;
  }
  using unwrapped = typename unbudgeted<plain>::type;
  d.type = type_name<unwrapped>();
  d.name = d.budget && !d.budget->name.empty() ? std::string(d.budget->name.view())
                                               : short_type_name<unwrapped>();
  d.role = role_of<plain>;
  d.input_type = type_name<stage_input_t<plain>>();
  d.output_type = type_name<stage_output_t<plain>>();
  return d;
}

template <class P>
struct describe_stages {
  static std::vector<stage_description> get() { return {describe_stage<P>()}; }
};
template <class... S>
struct describe_stages<pipeline<S...>> {
  static std::vector<stage_description> get() { return {describe_stage<S>()...}; }
};

} // namespace detail

/// Describes pipeline (or stage) `p`: its stages, their types, roles and budgets.
template <stage P>
[[nodiscard]] design_description describe(const P&) {
  design_description d;
  d.stages = detail::describe_stages<P>::get();
  return d;
}

/// Describes pipeline `p` together with the requirements it serves, and the design review.
template <stage P>
[[nodiscard]] design_description describe(const requirements& r, const P& p) {
  design_description d = describe(p);
  d.reqs = r;
  d.review = review_design(r, pipeline_shape<P>);
  return d;
}

MLSD_END_NAMESPACE
