/// @file
/// `mlsd metrics`: evaluates the predictions of any system, the way trec_eval does. It reads a
/// CSV file with a header and the columns `label` and `score`, and optionally `group` (a query or
/// user id: ranking metrics per group) and `slice` (a segment: every metric per slice), and
/// prints one JSON object with every metric that fits the data (docs/cli.md, "mlsd metrics").
///
/// A metric that has no value on the data is `null` with the reason under `"undefined"`, as in
/// `mlsd eval`; a metric that does not fit the scores (log loss of margins) is `null` with the
/// reason too, so a reader sees why it is missing instead of wondering.
#pragma once

#include "cli_common.hpp"
#include "data_files.hpp"
#include "metrics.hpp"

#include <mlsd/core/error.hpp>
#include <mlsd/data/csv.hpp>
#include <mlsd/data/record.hpp>
#include <mlsd/evaluation/calibration.hpp>
#include <mlsd/evaluation/classification.hpp>
#include <mlsd/evaluation/metric.hpp>
#include <mlsd/evaluation/ranking.hpp>
#include <mlsd/evaluation/regression.hpp>
#include <mlsd/evaluation/slices.hpp>
#include <mlsd/evaluation/threshold.hpp>
#include <mlsd/model/loss.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mlsd_cli {

/// Everything `mlsd metrics` reads from its command line.
struct metrics_settings {
  std::string input;
  std::size_t k = 10;
  double threshold = 0.5;
};

/// A CLI11 validator for any finite number (a decision threshold: 0.5 for probabilities, 0 for
/// margins).
[[nodiscard]] inline CLI::Validator finite_number() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) {
          std::string message = "expected a finite number, found '";
          message += text;
          message += '\'';
          return message;
        }
        return {};
      },
      "NUM");
}

/// Declares `mlsd metrics` on `app`.
inline CLI::App* add_metrics_command(CLI::App& app, metrics_settings& s) {
  CLI::App* cmd = app.add_subcommand(
      "metrics", "Evaluate predictions from any system: a CSV file with columns label,score and "
                 "optionally group and slice; prints one JSON object of every metric that fits");
  cmd->option_defaults()->always_capture_default();
  cmd->add_option("--input", s.input,
                  "CSV with a header: label, score (required), group (query / user id: ranking "
                  "metrics), slice (segment: metrics per slice); no other column")
      ->required();
  cmd->add_option("--k", s.k, "Cut-off of the ranking metrics (precision@k, nDCG@k, ...)")
      ->check(whole_number_at_least(1));
  cmd->add_option("--threshold", s.threshold,
                  "Decision threshold of accuracy, precision, recall, F1 and the confusion "
                  "matrix: predicted positive when score >= threshold")
      ->check(finite_number());
  return cmd;
}

namespace detail {

/// The rows of a predictions file. Group and slice values are interned: `group[i]` indexes
/// `group_names` (and likewise for slices).
struct prediction_rows {
  std::vector<float> labels;
  std::vector<float> scores;
  std::vector<std::uint32_t> group;
  std::vector<std::uint32_t> slice;
  std::vector<std::string> group_names;
  std::vector<std::string> slice_names;
  bool has_group = false;
  bool has_slice = false;
  // The first row whose score is outside [0, 1], and the first negative label (0: none).
  std::uint64_t first_non_probability_line = 0;
  float first_non_probability = 0.0f;
  std::uint64_t first_negative_label_line = 0;
  float first_negative_label = 0.0f;
};

/// The index of `name` in `names`, added when new.
inline std::uint32_t intern(std::unordered_map<std::string, std::uint32_t>& index,
                            std::vector<std::string>& names, const std::string& name) {
  const auto [it, added] = index.try_emplace(name, static_cast<std::uint32_t>(names.size()));
  if (added) {
    names.push_back(name);
  }
  return it->second;
}

/// Reads a predictions file through `data::csv_source`: errors name file:line:column and the
/// column. A column other than label, score, group and slice is an error (a misspelt `slice`
/// would otherwise silently give no per-slice report).
[[nodiscard]] inline prediction_rows read_predictions(const std::string& path) {
  require_data_file(path);
  const std::vector<std::string> header = csv_header(path);
  prediction_rows out;
  std::size_t column = 1; // byte column of each header name, for the error
  for (const std::string& name : header) {
    if (name == "group") {
      out.has_group = true;
    } else if (name == "slice") {
      out.has_slice = true;
    } else if (name != "label" && name != "score") {
      throw mlsd::input_error({path, 1, column, name},
                              "only the columns label, score, group and slice", name);
    }
    column += name.size() + 1;
  }
  using mlsd::data::column_type;
  std::vector<mlsd::data::column> columns = {{"label", column_type::float64, false},
                                             {"score", column_type::float64, false}};
  if (out.has_group) {
    columns.push_back({"group", column_type::string, false});
  }
  if (out.has_slice) {
    columns.push_back({"slice", column_type::string, false});
  }
  mlsd::data::csv_config cfg;
  cfg.schema = mlsd::data::record_schema(std::move(columns));
  mlsd::data::csv_source source(path, cfg);
  mlsd::data::record r;
  std::unordered_map<std::string, std::uint32_t> groups;
  std::unordered_map<std::string, std::uint32_t> slices;
  while (source.next(r)) {
    const auto label = static_cast<float>(r.get<double>(0));
    const auto score = static_cast<float>(r.get<double>(1));
    // A double beyond the float range becomes infinite: name it, as the reader names a bad
    // number, instead of letting an infinity reach the metrics.
    for (const auto& [value, name] : {std::pair{label, "label"}, std::pair{score, "score"}}) {
      if (!std::isfinite(value)) {
        throw mlsd::input_error({path, r.line(), 0, name}, "a number within the float range",
                                mlsd::data::to_string(r.values()[name[0] == 'l' ? 0 : 1]));
      }
    }
    if (!(score >= 0.0f && score <= 1.0f) && out.first_non_probability_line == 0) {
      out.first_non_probability_line = r.line();
      out.first_non_probability = score;
    }
    if (label < 0.0f && out.first_negative_label_line == 0) {
      out.first_negative_label_line = r.line();
      out.first_negative_label = label;
    }
    out.labels.push_back(label);
    out.scores.push_back(score);
    std::size_t c = 2;
    if (out.has_group) {
      out.group.push_back(intern(groups, out.group_names, r.get<std::string>(c++)));
    }
    if (out.has_slice) {
      out.slice.push_back(intern(slices, out.slice_names, r.get<std::string>(c)));
    }
  }
  return out;
}

/// The labels are binary: every label is 0 or 1, or every label is -1 or 1 (mlsd's `> 0` is
/// positive rule reads both). No rows counts as binary (every metric is then undefined).
[[nodiscard]] inline bool binary_labels(const std::vector<float>& labels) {
  bool zero = false;
  bool minus_one = false;
  for (const float y : labels) {
    if (y == 0.0f) {
      zero = true;
    } else if (y == -1.0f) {
      minus_one = true;
    } else if (y != 1.0f) {
      return false;
    }
  }
  return !(zero && minus_one);
}

/// Puts `metric`'s value, or null with its reason, into `out` / `undefined`. Values without an
/// `ordered_json` conversion (the confusion counts) go through `nlohmann::json`.
template <class Outcome>
void put_outcome(nlohmann::ordered_json& out, nlohmann::ordered_json& undefined, const char* name,
                 const Outcome& o) {
  if (o.defined()) {
    if constexpr (std::is_arithmetic_v<std::decay_t<decltype(*o.value)>>) {
      out[name] = *o.value;
    } else {
      out[name] = nlohmann::ordered_json(nlohmann::json(*o.value));
    }
  } else {
    out[name] = nullptr;
    undefined[name] = o.undefined;
  }
}

/// The report of one set of rows (the whole file or one slice): one JSON object and its
/// "undefined" reasons.
struct report_part {
  nlohmann::ordered_json values = nlohmann::ordered_json::object();
  nlohmann::ordered_json undefined = nlohmann::ordered_json::object();
};

/// One pass over the rows computes every pointwise metric per slice (key "" without a slice
/// column) with `evaluation::sliced`; `emit` writes one metric of every part.
class pointwise_report {
public:
  pointwise_report(const prediction_rows& rows, std::vector<report_part>& slices,
                   report_part& overall)
      : rows_(rows)
      , slices_(slices)
      , overall_(overall) {}

  /// Computes `Metric` (a copy of `prototype`) over every row, per slice and overall, and
  /// writes the value (or `null` and the reason) under `name`. `observe` builds the observation
  /// of row i.
  template <class Metric, class Observe>
  void emit(const char* name, Metric prototype, Observe observe) {
    mlsd::evaluation::sliced<Metric> m(std::move(prototype));
    for (std::size_t i = 0; i < rows_.labels.size(); ++i) {
      m.add(key(i), observe(i));
    }
    write(name, m.result(), [](const auto& o) { return o; });
  }

  /// As `emit`, then `derive` maps the metric's result to each of `names`' values (the rates of
  /// one confusion matrix).
  template <class Metric, class Observe, class Derive>
  void emit_derived(std::initializer_list<const char*> names, Metric prototype, Observe observe,
                    Derive derive) {
    mlsd::evaluation::sliced<Metric> m(std::move(prototype));
    for (std::size_t i = 0; i < rows_.labels.size(); ++i) {
      m.add(key(i), observe(i));
    }
    const auto result = m.result();
    std::size_t which = 0;
    for (const char* name : names) {
      write(name, result, [&](const auto& o) { return derive(which, o); });
      ++which;
    }
  }

  /// Writes `null` with `reason` under `name` in every part (a metric that does not fit).
  void emit_unfit(const char* name, const std::string& reason) {
    for (report_part* p : parts()) {
      p->values[name] = nullptr;
      p->undefined[name] = reason;
    }
  }

private:
  [[nodiscard]] std::string_view key(std::size_t i) const {
    return rows_.has_slice ? std::string_view(rows_.slice_names[rows_.slice[i]])
                           : std::string_view();
  }
  [[nodiscard]] std::vector<report_part*> parts() {
    std::vector<report_part*> out{&overall_};
    for (report_part& p : slices_) {
      out.push_back(&p);
    }
    return out;
  }
  // `slices_` is in sorted key order, as `sliced::result()` reports them; a slice has at least
  // one row, so every metric sees every slice.
  template <class Result, class Map>
  void write(const char* name, const Result& result, Map map) {
    put_outcome(overall_.values, overall_.undefined, name, map(result.overall));
    if (rows_.has_slice) {
      for (std::size_t s = 0; s < result.slices.size(); ++s) {
        put_outcome(slices_[s].values, slices_[s].undefined, name, map(result.slices[s].outcome));
      }
    }
  }

  const prediction_rows& rows_;
  std::vector<report_part>& slices_;
  report_part& overall_;
};

/// A confusion-matrix rate as an outcome: the rate, or the reason it is 0/0.
template <class Rate>
[[nodiscard]] mlsd::evaluation::metric_outcome<double>
rate_outcome(const mlsd::evaluation::metric_outcome<mlsd::evaluation::confusion_counts>& o,
             Rate rate) {
  mlsd::evaluation::metric_outcome<double> out;
  if (!o.defined()) {
    out.undefined = o.undefined;
    return out;
  }
  try {
    out.value = rate(*o.value);
  } catch (const mlsd::evaluation::undefined_metric& e) {
    out.undefined = e.reason();
  }
  return out;
}

/// The ranking metrics over the groups: one `ranked_query` per group, relevance = the label
/// (for -1/+1 labels, 1 for a positive and 0 for a negative). Groups without a relevant item are
/// skipped and counted (trec_eval's convention; scikit-learn's `ndcg_score` counts them as 0).
[[nodiscard]] inline nlohmann::ordered_json ranking_report(const prediction_rows& rows,
                                                           std::size_t k, bool binary) {
  namespace ev = mlsd::evaluation;
  std::vector<std::vector<ev::ranked_item>> queries(rows.group_names.size());
  for (std::size_t i = 0; i < rows.labels.size(); ++i) {
    const float y = rows.labels[i];
    const float relevance = binary ? (mlsd::model::is_positive(y) ? 1.0f : 0.0f) : y;
    queries[rows.group[i]].push_back({rows.scores[i], relevance});
  }
  ev::ranking_config rc;
  rc.k = k;
  ev::ndcg_config nc;
  nc.k = k;
  ev::mrr_config mc;
  ev::ndcg_at_k ndcg(nc);
  ev::precision_at_k precision(rc);
  ev::recall_at_k recall(rc);
  ev::hit_rate_at_k hit_rate(rc);
  ev::map_at_k map(rc);
  ev::mrr mrr(mc);
  ev::gauc gauc;
  for (const std::vector<ev::ranked_item>& q : queries) {
    const ev::ranked_query view{q};
    ndcg.add(view);
    precision.add(view);
    recall.add(view);
    hit_rate.add(view);
    map.add(view);
    mrr.add(view);
    if (binary) {
      gauc.add(view);
    }
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  nlohmann::ordered_json undefined = nlohmann::ordered_json::object();
  out["groups"] = queries.size();
  out["k"] = k;
  out["groups_without_relevant"] = ndcg.skipped();
  put_outcome(out, undefined, "ndcg_at_k", ev::outcome_of(ndcg));
  put_outcome(out, undefined, "precision_at_k", ev::outcome_of(precision));
  put_outcome(out, undefined, "recall_at_k", ev::outcome_of(recall));
  put_outcome(out, undefined, "hit_rate_at_k", ev::outcome_of(hit_rate));
  put_outcome(out, undefined, "map_at_k", ev::outcome_of(map));
  put_outcome(out, undefined, "mrr", ev::outcome_of(mrr));
  if (binary) {
    put_outcome(out, undefined, "gauc", ev::outcome_of(gauc));
    out["gauc_groups_skipped"] = gauc.skipped();
  }
  if (!undefined.empty()) {
    out["undefined"] = std::move(undefined);
  }
  return out;
}

} // namespace detail

/// The JSON report of `rows` (see docs/cli.md for the keys).
[[nodiscard]] inline nlohmann::ordered_json predictions_report(const detail::prediction_rows& rows,
                                                               const metrics_settings& s) {
  namespace ev = mlsd::evaluation;
  const bool binary = detail::binary_labels(rows.labels);
  const bool probabilities = rows.first_non_probability_line == 0;
  std::vector<detail::report_part> slices(rows.slice_names.size());
  detail::report_part overall;
  // Slices in sorted key order, as sliced::result() lists them.
  std::vector<std::uint32_t> slice_order(rows.slice_names.size());
  for (std::uint32_t i = 0; i < slice_order.size(); ++i) {
    slice_order[i] = i;
  }
  std::sort(slice_order.begin(), slice_order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return rows.slice_names[a] < rows.slice_names[b];
  });
  std::vector<std::uint32_t> rank_of_slice(rows.slice_names.size());
  for (std::uint32_t r = 0; r < slice_order.size(); ++r) {
    rank_of_slice[slice_order[r]] = r;
  }
  // Row and positive counts per part.
  std::vector<std::uint64_t> slice_rows(slices.size());
  std::vector<std::uint64_t> slice_positives(slices.size());
  std::uint64_t positives = 0;
  for (std::size_t i = 0; i < rows.labels.size(); ++i) {
    const bool pos = mlsd::model::is_positive(rows.labels[i]);
    positives += pos ? 1 : 0;
    if (rows.has_slice) {
      const std::uint32_t r = rank_of_slice[rows.slice[i]];
      ++slice_rows[r];
      slice_positives[r] += pos ? 1 : 0;
    }
  }
  overall.values["input"] = s.input;
  overall.values["rows"] = rows.labels.size();
  overall.values["task"] = binary ? "binary_classification" : "regression";
  if (binary) {
    overall.values["positives"] = positives;
    overall.values["scores_are_probabilities"] = probabilities;
  }
  for (std::size_t r = 0; r < slices.size(); ++r) {
    slices[r].values["rows"] = slice_rows[r];
    if (binary) {
      slices[r].values["positives"] = slice_positives[r];
    }
  }

  detail::pointwise_report report(rows, slices, overall);
  const auto scored = [&](std::size_t i) {
    return ev::scored_label{rows.scores[i], rows.labels[i]};
  };
  const auto pair = [&](std::size_t i) {
    return ev::prediction_target{rows.scores[i], rows.labels[i]};
  };
  if (binary) {
    report.emit("roc_auc", ev::roc_auc(), scored);
    report.emit("average_precision", ev::average_precision(), scored);
    const char* const probability_metrics[] = {"log_loss", "normalized_entropy", "brier_score",
                                               "calibration_ratio", "expected_calibration_error"};
    if (probabilities) {
      report.emit("log_loss", ev::log_loss(), scored);
      report.emit("normalized_entropy", ev::normalized_entropy(), scored);
      report.emit("brier_score", ev::brier_score(), scored);
      report.emit("calibration_ratio", ev::calibration_ratio(), scored);
      report.emit("expected_calibration_error", ev::expected_calibration_error(), scored);
    } else {
      std::string reason = "the scores are not probabilities in [0, 1] (line ";
      reason += std::to_string(rows.first_non_probability_line);
      reason += ": ";
      reason += mlsd::evaluation::detail::number_text(rows.first_non_probability);
      reason += ')';
      for (const char* name : probability_metrics) {
        report.emit_unfit(name, reason);
      }
    }
    ev::threshold_config tc;
    tc.threshold = s.threshold;
    overall.values["threshold"] = s.threshold;
    report.emit_derived({"accuracy", "precision", "recall", "f1"}, ev::confusion_matrix(tc), scored,
                        [](std::size_t which, const ev::metric_outcome<ev::confusion_counts>& o) {
                          return detail::rate_outcome(o, [which](const ev::confusion_counts& c) {
                            switch (which) {
                            case 0:
                              return c.accuracy();
                            case 1:
                              return c.precision();
                            case 2:
                              return c.recall();
                            default:
                              return c.f1();
                            }
                          });
                        });
    report.emit("confusion_matrix", ev::confusion_matrix(tc), scored);
  } else {
    report.emit("rmse", ev::rmse(), pair);
    report.emit("mae", ev::mae(), pair);
    report.emit("r_squared", ev::r_squared(), pair);
  }

  nlohmann::ordered_json out = std::move(overall.values);
  if (rows.has_group) {
    out["ranking"] = detail::ranking_report(rows, s.k, binary);
  }
  if (rows.has_slice) {
    nlohmann::ordered_json by_slice = nlohmann::ordered_json::object();
    for (std::size_t r = 0; r < slices.size(); ++r) {
      nlohmann::ordered_json one = std::move(slices[r].values);
      if (!slices[r].undefined.empty()) {
        one["undefined"] = std::move(slices[r].undefined);
      }
      by_slice[rows.slice_names[slice_order[r]]] = std::move(one);
    }
    out["slices"] = std::move(by_slice);
  }
  if (!overall.undefined.empty()) {
    out["undefined"] = std::move(overall.undefined);
  }
  return out;
}

/// `mlsd metrics`: one JSON object on one line of standard output. Returns the exit code.
inline int run_metrics(const metrics_settings& s) {
  const detail::prediction_rows rows = detail::read_predictions(s.input);
  if (rows.has_group && !detail::binary_labels(rows.labels) &&
      rows.first_negative_label_line != 0) {
    throw mlsd::input_error({s.input, rows.first_negative_label_line, 0, "label"},
                            "a relevance >= 0 (with a group column, a label that is not binary "
                            "is the item's graded relevance)",
                            mlsd::evaluation::detail::number_text(rows.first_negative_label));
  }
  std::cout << predictions_report(rows, s).dump() << '\n';
  return success;
}

} // namespace mlsd_cli
