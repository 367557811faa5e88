/// @file
/// Evaluation reports: a builder of named sections (metric tables, per-slice tables, SVG figures,
/// free text) written as JSON for tools and as one self-contained HTML page for people (inline
/// CSS and SVG, no script, no external resource: it opens from a mail attachment or a CI
/// artifact), plus `binary_classifier_report`, the standard report of a binary classifier from
/// its scores and labels (and optional slice labels).
///
/// ```cpp
/// namespace ev = mlsd::evaluation;
/// ev::evaluation_report report = ev::binary_classifier_report(scores, labels, countries);
/// report.add_text("Notes", "Trained on 2024-05-01..07, evaluated on 2024-05-08.");
/// report.write_html("report.html");
/// std::cout << report.to_json().dump(2);
/// ```
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/evaluation/calibration.hpp>
#include <mlsd/evaluation/classification.hpp>
#include <mlsd/evaluation/curves.hpp>
#include <mlsd/evaluation/metric.hpp>
#include <mlsd/evaluation/plot.hpp>
#include <mlsd/model/loss.hpp>

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace evaluation {

/// One row of a metric table: a metric's value, or the reason it has none (the text of an
/// `undefined_metric`), so that a report shows "undefined: only one class (3 positives, 0
/// negatives)" instead of a blank or a NaN.
struct metric_value {
  /// The metric's name, e.g. "roc_auc".
  std::string name;
  /// The value; empty when the metric is undefined on the data.
  std::optional<double> value;
  /// Why the metric is undefined (set exactly when `value` is empty).
  std::string undefined_reason;
};

/// Runs `compute` (returning a number) and records its result as `name`, or, when it throws
/// `undefined_metric`, the metric's reason. Other exceptions (bad input) propagate.
template <class Compute>
[[nodiscard]] metric_value measure(std::string name, Compute&& compute) {
  try {
    const double v = static_cast<double>(std::forward<Compute>(compute)());
    return {std::move(name), v, {}};
  } catch (const undefined_metric& e) {
    return {std::move(name), std::nullopt, e.reason()};
  }
}

/// One row of a per-slice table: the slice's value (a country, a device, a segment), its number
/// of observations, and its metrics (the same names, in the same order, in every row).
struct slice_row {
  std::string slice;
  std::uint64_t count = 0;
  std::vector<metric_value> metrics;
};

/// A per-slice table: what the slices are (the column header, e.g. "country") and one row each.
struct slice_table {
  std::string slice_name = "slice";
  std::vector<slice_row> rows;
};

/// An SVG figure with its caption and the data it draws (JSON, for tools that redraw it).
struct report_figure {
  /// One `<svg>` element, as `line_chart_svg` or `reliability_diagram_svg` write it.
  std::string svg;
  std::string caption;
  nlohmann::json data;
};

/// Free text; a blank line separates paragraphs. Preformatted text (a table a program printed,
/// a JSON document) is shown as it is, in a monospaced font, with its line breaks and spaces.
struct report_text {
  std::string text;
  bool preformatted = false;
};

/// One named section of a report.
struct report_section {
  std::string title;
  std::variant<std::vector<metric_value>, slice_table, report_figure, report_text> content;
};

namespace detail {

/// A number for people: six significant digits, locale-independent ("0.812345", "1.5e-07").
[[nodiscard]] inline std::string report_number(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 6);
  return std::string(buf, r.ptr);
}

/// Throws `std::invalid_argument` from `evaluation_report::what` with `why`.
[[noreturn]] inline void bad_section(std::string_view what, std::string_view why) {
  std::string msg = "mlsd::evaluation::evaluation_report::";
  msg += what;
  msg += ": ";
  msg += why;
  throw std::invalid_argument(msg);
}

inline void check_metric_values(std::string_view what, const std::vector<metric_value>& ms) {
  for (const metric_value& m : ms) {
    if (m.name.empty()) {
      bad_section(what, "a metric without a name");
    }
    if (m.value ? !std::isfinite(*m.value) || !m.undefined_reason.empty()
                : m.undefined_reason.empty()) {
      bad_section(what, "metric '" + m.name +
                            "' needs either a finite value or the reason it is undefined");
    }
  }
}

[[nodiscard]] inline nlohmann::json metric_json(const metric_value& m) {
  nlohmann::json j = {{"name", m.name}};
  if (m.value) {
    j["value"] = *m.value;
  } else {
    j["undefined"] = m.undefined_reason;
  }
  return j;
}

/// `<td>` of a metric: its value, or "undefined: reason".
[[nodiscard]] inline std::string metric_cell(const metric_value& m) {
  if (m.value) {
    return "<td class=\"value\">" + report_number(*m.value) + "</td>";
  }
  return "<td class=\"undefined\">undefined: " + xml_escape(m.undefined_reason) + "</td>";
}

inline constexpr std::string_view report_css = R"(
body { font-family: system-ui, sans-serif; color: #222; margin: 0; background: #fafafa; }
main { max-width: 1040px; margin: 0 auto; padding: 24px; background: #ffffff; }
h1 { font-size: 1.6em; margin: 0 0 4px 0; }
h2 { font-size: 1.2em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.generated { color: #777; margin-top: 0; }
nav ol { columns: 2; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: left; }
th { background: #f0f0f0; }
td.value { font-variant-numeric: tabular-nums; text-align: right; }
td.undefined { color: #a15c00; font-style: italic; }
section.figure { display: inline-block; vertical-align: top; margin-right: 16px; }
figure { margin: 0; }
figcaption { color: #555; font-size: 0.9em; max-width: 480px; }
figure svg { max-width: 100%; height: auto; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; font-size: 0.85em; }
)";

} // namespace detail

/// A report under construction: add named sections in the order they should read, then write it
/// as JSON (`to_json`) or as a self-contained HTML page (`html`, `write_html`). Not thread-safe
/// while sections are added; the const members may run concurrently.
class evaluation_report {
public:
  /// An empty report titled `title`.
  explicit evaluation_report(std::string title)
      : title_(std::move(title)) {}

  /// Adds a table of metrics, one row each ("undefined: reason" for an undefined one).
  /// @throws std::invalid_argument for an empty title or name, a non-finite value, or a row with
  /// neither a value nor a reason.
  evaluation_report& add_metrics(std::string title, std::vector<metric_value> metrics) {
    check_title("add_metrics", title);
    detail::check_metric_values("add_metrics", metrics);
    sections_.push_back({std::move(title), std::move(metrics)});
    return *this;
  }

  /// Adds a per-slice table. @throws std::invalid_argument for an empty title, a bad metric
  /// value, or rows whose metric names differ from the first row's.
  evaluation_report& add_slices(std::string title, slice_table table) {
    check_title("add_slices", title);
    for (const slice_row& row : table.rows) {
      detail::check_metric_values("add_slices", row.metrics);
      bool same = row.metrics.size() == table.rows.front().metrics.size();
      for (std::size_t m = 0; same && m < row.metrics.size(); ++m) {
        same = row.metrics[m].name == table.rows.front().metrics[m].name;
      }
      if (!same) {
        detail::bad_section("add_slices",
                            "slice '" + row.slice + "' has other metrics than the first row");
      }
    }
    sections_.push_back({std::move(title), std::move(table)});
    return *this;
  }

  /// Adds an SVG figure. @throws std::invalid_argument for an empty title, or when `f.svg` is not
  /// one `<svg>` element or contains a script.
  evaluation_report& add_figure(std::string title, report_figure f) {
    check_title("add_figure", title);
    const std::string_view svg = f.svg;
    const std::size_t end = svg.rfind("</svg>");
    if (!svg.starts_with("<svg") || end == std::string_view::npos ||
        svg.find_first_not_of(" \n\r\t", end + 6) != std::string_view::npos ||
        svg.find("<script") != std::string_view::npos) {
      detail::bad_section("add_figure", "the figure must be one <svg> element without script");
    }
    sections_.push_back({std::move(title), std::move(f)});
    return *this;
  }

  /// Adds free text (a blank line separates paragraphs). @throws std::invalid_argument for an
  /// empty title.
  evaluation_report& add_text(std::string title, std::string text) {
    check_title("add_text", title);
    sections_.push_back({std::move(title), report_text{std::move(text), false}});
    return *this;
  }

  /// Adds preformatted text, shown as it is (`<pre>`): a table a program printed, a JSON
  /// document. @throws std::invalid_argument for an empty title.
  evaluation_report& add_preformatted(std::string title, std::string text) {
    check_title("add_preformatted", title);
    sections_.push_back({std::move(title), report_text{std::move(text), true}});
    return *this;
  }

  /// The report's title.
  [[nodiscard]] const std::string& title() const noexcept { return title_; }
  /// The sections, in the order they were added.
  [[nodiscard]] const std::vector<report_section>& sections() const noexcept { return sections_; }

  /// The report as JSON: `{"title", "mlsd_version", "sections": [...]}`, each section
  /// `{"title", "kind"}` plus, by kind, `"metrics": [{"name", "value"} or {"name",
  /// "undefined"}]` ("metrics"), `"slice_name"` and `"rows": [{"slice", "count", "metrics"}]`
  /// ("slices"), `"caption"`, `"data"` and `"svg"` ("figure"), or `"text"` ("text").
  [[nodiscard]] nlohmann::json to_json() const {
    nlohmann::json sections = nlohmann::json::array();
    for (const report_section& s : sections_) {
      nlohmann::json j = {{"title", s.title}};
      if (const auto* ms = std::get_if<std::vector<metric_value>>(&s.content)) {
        j["kind"] = "metrics";
        j["metrics"] = nlohmann::json::array();
        for (const metric_value& m : *ms) {
          j["metrics"].push_back(detail::metric_json(m));
        }
      } else if (const auto* t = std::get_if<slice_table>(&s.content)) {
        j["kind"] = "slices";
        j["slice_name"] = t->slice_name;
        j["rows"] = nlohmann::json::array();
        for (const slice_row& row : t->rows) {
          nlohmann::json r = {{"slice", row.slice}, {"count", row.count}};
          r["metrics"] = nlohmann::json::array();
          for (const metric_value& m : row.metrics) {
            r["metrics"].push_back(detail::metric_json(m));
          }
          j["rows"].push_back(std::move(r));
        }
      } else if (const auto* f = std::get_if<report_figure>(&s.content)) {
        j["kind"] = "figure";
        j["caption"] = f->caption;
        j["data"] = f->data;
        j["svg"] = f->svg;
      } else {
        const auto& t = std::get<report_text>(s.content);
        j["kind"] = t.preformatted ? "preformatted" : "text";
        j["text"] = t.text;
      }
      sections.push_back(std::move(j));
    }
    return {{"title", title_}, {"mlsd_version", version_string}, {"sections", sections}};
  }

  /// The report as one self-contained HTML5 page: inline CSS, inline SVG, no script, no external
  /// resource (even the favicon is an empty `data:` URL, so a browser makes no request). Every
  /// text is escaped. Each section is a `<section id="section-N">` with an `<h2>`, listed in a
  /// table of contents.
  [[nodiscard]] std::string html() const {
    std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out += "<title>" + detail::xml_escape(title_) + "</title>\n";
    out += "<link rel=\"icon\" href=\"data:,\">\n<style>";
    out += detail::report_css;
    out += "</style>\n</head>\n<body>\n<main>\n";
    out += "<h1>" + detail::xml_escape(title_) + "</h1>\n";
    out += "<p class=\"generated\">Written by mlsd ";
    out += version_string;
    out += "</p>\n<nav><ol>\n";
    for (std::size_t i = 0; i < sections_.size(); ++i) {
      out += "<li><a href=\"#section-" + std::to_string(i + 1) + "\">" +
             detail::xml_escape(sections_[i].title) + "</a></li>\n";
    }
    out += "</ol></nav>\n";
    for (std::size_t i = 0; i < sections_.size(); ++i) {
      const report_section& s = sections_[i];
      const bool is_figure = std::holds_alternative<report_figure>(s.content);
      out += "<section id=\"section-" + std::to_string(i + 1) + "\"";
      out += is_figure ? " class=\"figure\">\n" : ">\n";
      out += "<h2>" + detail::xml_escape(s.title) + "</h2>\n";
      if (const auto* ms = std::get_if<std::vector<metric_value>>(&s.content)) {
        out += "<table class=\"metrics\">\n<thead><tr><th>metric</th><th>value</th></tr></thead>"
               "\n<tbody>\n";
        for (const metric_value& m : *ms) {
          out += "<tr><td>" + detail::xml_escape(m.name) + "</td>" + detail::metric_cell(m) +
                 "</tr>\n";
        }
        out += "</tbody>\n</table>\n";
      } else if (const auto* t = std::get_if<slice_table>(&s.content)) {
        out += "<table class=\"slices\">\n<thead><tr><th>" + detail::xml_escape(t->slice_name) +
               "</th><th>count</th>";
        if (!t->rows.empty()) {
          for (const metric_value& m : t->rows.front().metrics) {
            out += "<th>" + detail::xml_escape(m.name) + "</th>";
          }
        }
        out += "</tr></thead>\n<tbody>\n";
        for (const slice_row& row : t->rows) {
          out += "<tr><td>" + detail::xml_escape(row.slice) + "</td><td class=\"value\">" +
                 std::to_string(row.count) + "</td>";
          for (const metric_value& m : row.metrics) {
            out += detail::metric_cell(m);
          }
          out += "</tr>\n";
        }
        out += "</tbody>\n</table>\n";
      } else if (const auto* f = std::get_if<report_figure>(&s.content)) {
        out += "<figure>\n" + f->svg;
        out += "<figcaption>" + detail::xml_escape(f->caption) + "</figcaption>\n</figure>\n";
      } else {
        const std::string& text = std::get<report_text>(s.content).text;
        const bool preformatted = std::get<report_text>(s.content).preformatted;
        if (preformatted) {
          out += "<pre>" + detail::xml_escape(text) + "</pre>\n";
        }
        std::size_t start = preformatted ? text.size() + 1 : 0;
        while (start <= text.size()) {
          std::size_t end = text.find("\n\n", start);
          if (end == std::string::npos) {
            end = text.size();
          }
          const std::string paragraph = text.substr(start, end - start);
          if (paragraph.find_first_not_of(" \n\r\t") != std::string::npos) {
            out += "<p>" + detail::xml_escape(paragraph) + "</p>\n";
          }
          start = end + 2;
        }
      }
      out += "</section>\n";
    }
    out += "</main>\n</body>\n</html>\n";
    return out;
  }

  /// Writes `html()` to `path`. @throws input_error naming the file when it cannot be written.
  void write_html(const std::filesystem::path& path) const { write(path, html()); }

  /// Writes `to_json().dump(2)` and a newline to `path`. @throws input_error naming the file when
  /// it cannot be written.
  void write_json(const std::filesystem::path& path) const {
    write(path, to_json().dump(2) + "\n");
  }

private:
  static void check_title(std::string_view what, const std::string& title) {
    if (title.empty()) {
      detail::bad_section(what, "a section needs a title");
    }
  }

  static void write(const std::filesystem::path& path, const std::string& text) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(text.data(), static_cast<std::streamsize>(text.size()));
    file.close();
    if (!file) {
      throw input_error(input_position(path.string()), "a file that can be written");
    }
  }

  std::string title_;
  std::vector<report_section> sections_;
};

// ---------------------------------------------------------------------------------------------
// Figures of the standard curves
// ---------------------------------------------------------------------------------------------

namespace detail {

/// `{"x": [...], "y": [...], "threshold": [...]}`, an infinite threshold written as null.
[[nodiscard]] inline nlohmann::json curve_json(std::span<const curve_point> points) {
  nlohmann::json x = nlohmann::json::array();
  nlohmann::json y = nlohmann::json::array();
  nlohmann::json t = nlohmann::json::array();
  for (const curve_point& p : points) {
    x.push_back(p.x);
    y.push_back(p.y);
    t.push_back(std::isfinite(p.threshold) ? nlohmann::json(p.threshold) : nlohmann::json());
  }
  return {{"x", std::move(x)}, {"y", std::move(y)}, {"threshold", std::move(t)}};
}

[[nodiscard]] inline chart_config unit_square_chart(std::string title, std::string x_label,
                                                    std::string y_label) {
  chart_config c;
  c.title = std::move(title);
  c.x_label = std::move(x_label);
  c.y_label = std::move(y_label);
  c.x_min = 0.0;
  c.x_max = 1.0;
  c.y_min = 0.0;
  c.y_max = 1.0;
  return c;
}

[[nodiscard]] inline std::string points_caption(std::size_t drawn, std::size_t total) {
  std::string out = std::to_string(drawn);
  out += " of ";
  out += std::to_string(total);
  out += " points drawn";
  return out;
}

} // namespace detail

/// The ROC figure: the curve (downsampled to `max_points`), the chance diagonal, and
/// "`model` (AUC = 0.8123)" in the legend. @throws std::invalid_argument for an empty curve,
/// `max_points < 2` or a non-finite coordinate.
[[nodiscard]] inline report_figure roc_figure(std::span<const curve_point> roc, double auc,
                                              const std::string& model = "model",
                                              std::size_t max_points = 200) {
  const std::vector<curve_point> drawn = downsample(roc, max_points);
  chart_config c =
      detail::unit_square_chart("ROC curve", "false positive rate", "true positive rate");
  c.diagonal = true;
  const std::vector<line_series> s = {
      {model + " (AUC = " + detail::fixed_number(auc, 4) + ")", drawn}};
  return {line_chart_svg(s, c),
          "ROC curve; the dashed diagonal is a random ordering. " +
              detail::points_caption(drawn.size(), roc.size()) + ".",
          {{"curve", "roc"}, {"auc", auc}, {"points", detail::curve_json(drawn)}}};
}

/// The precision–recall figure: the curve, the positive rate as a dashed baseline (the precision
/// of a random ordering), and "`model` (AP = 0.4321)" in the legend.
/// @throws as `roc_figure`.
[[nodiscard]] inline report_figure precision_recall_figure(std::span<const curve_point> pr,
                                                           double average_precision,
                                                           double positive_rate,
                                                           const std::string& model = "model",
                                                           std::size_t max_points = 200) {
  const std::vector<curve_point> drawn = downsample(pr, max_points);
  chart_config c = detail::unit_square_chart("Precision-recall curve", "recall", "precision");
  c.reference_y = positive_rate;
  const std::vector<line_series> s = {
      {model + " (AP = " + detail::fixed_number(average_precision, 4) + ")", drawn}};
  return {line_chart_svg(s, c),
          "Precision-recall curve; the dashed line is the positive rate (" +
              detail::report_number(positive_rate) + "), a random ordering. " +
              detail::points_caption(drawn.size(), pr.size()) + ".",
          {{"curve", "precision_recall"},
           {"average_precision", average_precision},
           {"positive_rate", positive_rate},
           {"points", detail::curve_json(drawn)}}};
}

/// The cumulative gain figure: the curve, the best possible ordering (all positives first) and
/// the diagonal (a random ordering). @throws as `roc_figure`, and std::invalid_argument unless
/// `0 < positive_rate <= 1`.
[[nodiscard]] inline report_figure cumulative_gain_figure(std::span<const curve_point> gain,
                                                          double positive_rate,
                                                          const std::string& model = "model",
                                                          std::size_t max_points = 200) {
  if (!(positive_rate > 0.0 && positive_rate <= 1.0)) {
    throw std::invalid_argument(
        "mlsd::evaluation::cumulative_gain_figure: positive_rate must be in (0, 1]");
  }
  const std::vector<curve_point> drawn = downsample(gain, max_points);
  chart_config c = detail::unit_square_chart("Cumulative gain", "share of population targeted",
                                             "share of positives found");
  c.diagonal = true;
  const std::vector<line_series> s = {
      {model, drawn},
      {"best possible ordering", {{0.0, 0.0, 0.0}, {positive_rate, 1.0, 0.0}, {1.0, 1.0, 0.0}}}};
  return {line_chart_svg(s, c),
          "Cumulative gain, highest scores targeted first; the dashed diagonal is a random "
          "ordering. " +
              detail::points_caption(drawn.size(), gain.size()) + ".",
          {{"curve", "cumulative_gain"},
           {"positive_rate", positive_rate},
           {"points", detail::curve_json(drawn)}}};
}

/// The lift figure: the curve and the dashed line of lift 1 (a random ordering); the y axis
/// starts at 0 and grows to the highest lift. @throws as `roc_figure`.
[[nodiscard]] inline report_figure lift_figure(std::span<const curve_point> lift,
                                               const std::string& model = "model",
                                               std::size_t max_points = 200) {
  const std::vector<curve_point> drawn = downsample(lift, max_points);
  chart_config c;
  c.title = "Lift";
  c.x_label = "share of population targeted";
  c.y_label = "lift (positive rate / overall rate)";
  c.x_min = 0.0;
  c.x_max = 1.0;
  c.y_min = 0.0;
  c.reference_y = 1.0;
  const std::vector<line_series> s = {{model, drawn}};
  return {line_chart_svg(s, c),
          "Lift, highest scores targeted first; the dashed line is a random ordering (lift 1). " +
              detail::points_caption(drawn.size(), lift.size()) + ".",
          {{"curve", "lift"}, {"points", detail::curve_json(drawn)}}};
}

/// The reliability diagram of `bins` (see `reliability_diagram_svg`).
/// @throws as `reliability_diagram_svg`.
[[nodiscard]] inline report_figure reliability_figure(std::span<const reliability_bin> bins) {
  const chart_config c =
      detail::unit_square_chart("Reliability diagram", "predicted probability", "observed rate");
  nlohmann::json data = nlohmann::json::array();
  std::uint64_t total = 0;
  for (const reliability_bin& b : bins) {
    data.push_back(b);
    total += b.count;
  }
  return {reliability_diagram_svg(bins, c),
          "Observed positive rate per bin of predicted probability (" +
              std::to_string(bins.size()) + " non-empty bins, " + std::to_string(total) +
              " observations); a calibrated model's points lie on the dashed diagonal.",
          {{"curve", "reliability"}, {"bins", std::move(data)}}};
}

// ---------------------------------------------------------------------------------------------
// The standard binary-classifier report
// ---------------------------------------------------------------------------------------------

/// What `binary_classifier_report` writes.
struct binary_report_config {
  /// The report's title.
  std::string title = "Binary classifier evaluation";
  /// The model's name in legends.
  std::string model_name = "model";
  /// What the slice labels are, the per-slice table's first column (e.g. "country").
  std::string slice_name = "slice";
  /// The most points a curve figure draws (`downsample`), at least 2.
  std::size_t max_curve_points = 200;
  /// The decision threshold of `accuracy` (`score > threshold`), finite.
  double threshold = 0.5;
  /// The bins of the reliability diagram and of the expected calibration error.
  reliability_config reliability;

  /// Throws `config_error` naming the field.
  void validate() const {
    if (max_curve_points < 2) {
      throw config_error("binary_report.max_curve_points", "an integer of at least 2");
    }
    if (!std::isfinite(threshold)) {
      throw config_error("binary_report.threshold", "a finite number");
    }
    reliability.validate();
  }
  friend bool operator==(const binary_report_config&, const binary_report_config&) = default;
};

/// JSON: `{"title", "model_name", "slice_name", "max_curve_points", "threshold",
/// "reliability": {"bins", "strategy"}}`.
inline void to_json(nlohmann::json& j, const binary_report_config& c) {
  j = nlohmann::json{{"title", c.title},           {"model_name", c.model_name},
                     {"slice_name", c.slice_name}, {"max_curve_points", c.max_curve_points},
                     {"threshold", c.threshold},   {"reliability", c.reliability}};
}
/// Reads `to_json`'s form (absent keys keep their defaults; unknown keys are errors); throws
/// `config_error` naming the field.
inline void from_json(const nlohmann::json& j, binary_report_config& c) {
  data::detail::config_reader r(j, "binary_report");
  binary_report_config out;
  r.read("title", out.title);
  r.read("model_name", out.model_name);
  r.read("slice_name", out.slice_name);
  r.read("max_curve_points", out.max_curve_points);
  r.read("threshold", out.threshold);
  if (const nlohmann::json* v = r.find("reliability")) {
    out.reliability = v->get<reliability_config>();
  }
  r.finish();
  out.validate();
  c = out;
}

namespace detail {

/// Empty when every score is a probability; otherwise why not, naming the first offender.
[[nodiscard]] inline std::string non_probability_reason(std::span<const float> scores) {
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!(scores[i] >= 0.0f && scores[i] <= 1.0f)) {
      std::string out = "the scores are not probabilities (scores[";
      out += std::to_string(i);
      out += "] = ";
      out += number_text(scores[i]);
      out += " is outside [0, 1])";
      return out;
    }
  }
  return {};
}

/// The metrics of one slice (`full`: of everything): ranking metrics always, probability metrics
/// only when every score is a probability (otherwise undefined, naming the first offender).
[[nodiscard]] inline std::vector<metric_value> binary_metrics(std::span<const float> scores,
                                                              std::span<const float> labels,
                                                              const binary_report_config& cfg,
                                                              bool full) {
  const std::string not_probabilities = non_probability_reason(scores);
  const auto probability_metric = [&](std::string name, auto compute) {
    if (!not_probabilities.empty()) {
      return metric_value{std::move(name), std::nullopt, not_probabilities};
    }
    return measure(std::move(name), compute);
  };
  std::vector<metric_value> out;
  if (!full) {
    out.push_back(measure("positive_rate", [&] {
      std::size_t positives = 0;
      for (const float y : labels) {
        positives += model::is_positive(y) ? 1 : 0;
      }
      return static_cast<double>(positives) / static_cast<double>(labels.size());
    }));
  }
  out.push_back(measure("roc_auc", [&] { return roc_auc_of(scores, labels); }));
  out.push_back(measure("average_precision", [&] { return average_precision_of(scores, labels); }));
  out.push_back(probability_metric("log_loss", [&] { return log_loss_of(scores, labels); }));
  if (full) {
    out.push_back(probability_metric("normalized_entropy",
                                     [&] { return normalized_entropy_of(scores, labels); }));
  }
  out.push_back(probability_metric("brier_score", [&] { return brier_score_of(scores, labels); }));
  out.push_back(probability_metric("calibration_ratio",
                                   [&] { return calibration_ratio_of(scores, labels); }));
  if (full) {
    out.push_back(probability_metric("expected_calibration_error", [&] {
      return expected_calibration_error_of(scores, labels, cfg.reliability);
    }));
    accuracy_config a;
    a.threshold = cfg.threshold;
    out.push_back(measure("accuracy (score > " + report_number(cfg.threshold) + ")",
                          [&] { return accuracy_of(scores, labels, a); }));
  }
  return out;
}

} // namespace detail

/// The standard report of a binary classifier: a data summary, the overall metrics (ROC-AUC,
/// average precision, log loss, normalized entropy, Brier score, calibration ratio, expected
/// calibration error, accuracy at `cfg.threshold`), the ROC, precision–recall, cumulative gain
/// and lift figures, the reliability diagram (`cfg.reliability`'s bins), and, when `slices` is not
/// empty, a per-slice table (count, positive rate, ROC-AUC, average precision, log loss, Brier
/// score, calibration ratio), slices in lexicographic order. A metric that is undefined on the data
/// reads "undefined: reason"; a figure that cannot be drawn (one class only; scores that are not
/// probabilities for the reliability diagram) is replaced by a text section saying why. O(n log n).
/// @throws std::invalid_argument when the sizes of `scores`, `labels` and a non-empty `slices`
/// differ; input_error naming `scores[i]` or `labels[i]` for a NaN; config_error for a bad
/// `cfg`.
[[nodiscard]] inline evaluation_report
binary_classifier_report(std::span<const float> scores, std::span<const float> labels,
                         std::span<const std::string> slices = {},
                         const binary_report_config& cfg = {}) {
  cfg.validate();
  detail::check_same_size("binary_classifier_report", "scores", scores.size(), "labels",
                          labels.size());
  if (!slices.empty()) {
    detail::check_same_size("binary_classifier_report", "scores", scores.size(), "slices",
                            slices.size());
  }
  // NaNs fail here, with the element's index, before anything is computed.
  const std::vector<curve_point> roc_points = [&] {
    try {
      return roc_curve_of(scores, labels);
    } catch (const undefined_metric&) {
      return std::vector<curve_point>{};
    }
  }();
  std::uint64_t positives = 0;
  for (const float y : labels) {
    positives += model::is_positive(y) ? 1 : 0;
  }
  const std::uint64_t n = scores.size();
  evaluation_report report(cfg.title);
  std::string summary = std::to_string(n) + " observations: " + std::to_string(positives) +
                        " positives, " + std::to_string(n - positives) + " negatives";
  if (n > 0) {
    summary += " (positive rate " +
               detail::report_number(static_cast<double>(positives) / static_cast<double>(n)) + ")";
  }
  summary += ". Labels > 0 are positive.";
  if (!slices.empty()) {
    summary += " Slices by " + cfg.slice_name + ".";
  }
  report.add_text("Data", summary);
  report.add_metrics("Metrics", detail::binary_metrics(scores, labels, cfg, true));

  const std::string& model = cfg.model_name;
  const std::size_t max_points = cfg.max_curve_points;
  if (!roc_points.empty()) {
    const double rate = static_cast<double>(positives) / static_cast<double>(n);
    const std::vector<curve_point> pr = precision_recall_curve_of(scores, labels);
    report.add_figure("ROC curve",
                      roc_figure(roc_points, roc_auc_of(scores, labels), model, max_points));
    report.add_figure(
        "Precision-recall curve",
        precision_recall_figure(pr, average_precision_of(scores, labels), rate, model, max_points));
    report.add_figure(
        "Cumulative gain",
        cumulative_gain_figure(cumulative_gain_curve_of(scores, labels), rate, model, max_points));
    report.add_figure("Lift", lift_figure(lift_curve_of(scores, labels), model, max_points));
  } else {
    report.add_text("Curves", "No ROC, precision-recall, gain or lift curve: they need both "
                              "classes, and the data has " +
                                  std::to_string(positives) + " positives and " +
                                  std::to_string(n - positives) + " negatives.");
  }
  std::string reliability_missing = detail::non_probability_reason(scores);
  std::vector<reliability_bin> bins;
  if (reliability_missing.empty()) {
    try {
      reliability_curve curve(cfg.reliability);
      for (std::size_t i = 0; i < n; ++i) {
        curve.add({scores[i], labels[i]});
      }
      bins = curve.result();
    } catch (const undefined_metric& e) {
      reliability_missing = e.reason();
    }
  }
  if (reliability_missing.empty() && bins.empty()) {
    reliability_missing = "no observations";
  }
  if (reliability_missing.empty()) {
    report.add_figure("Reliability diagram", reliability_figure(bins));
  } else {
    report.add_text("Reliability diagram", "No reliability diagram: " + reliability_missing + ".");
  }

  if (!slices.empty()) {
    std::map<std::string, std::vector<std::size_t>> members;
    for (std::size_t i = 0; i < slices.size(); ++i) {
      members[slices[i]].push_back(i);
    }
    slice_table table;
    table.slice_name = cfg.slice_name;
    for (const auto& [slice, rows] : members) {
      std::vector<float> s;
      std::vector<float> y;
      s.reserve(rows.size());
      y.reserve(rows.size());
      for (const std::size_t i : rows) {
        s.push_back(scores[i]);
        y.push_back(labels[i]);
      }
      table.rows.push_back({slice, rows.size(), detail::binary_metrics(s, y, cfg, false)});
    }
    report.add_slices("Metrics per " + cfg.slice_name, std::move(table));
  }
  return report;
}

} // namespace evaluation
MLSD_END_NAMESPACE
