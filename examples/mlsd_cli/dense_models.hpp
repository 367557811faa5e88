/// @file
/// `mlsd train --model iforest`: an isolation forest (Liu, Ting and Zhou, ICDM 2008) on the numeric
/// columns of a CSV file. Training needs no label; a `--label-col` is left out of the features
/// and lets `eval` measure how well the anomaly score ranks the labelled anomalies (ROC-AUC). The
/// model file's feature encoder keeps the feature columns by name, so a file to score may hold
/// its columns in any order, and more of them.
#pragma once

#include "cli_common.hpp"
#include "data_files.hpp"
#include "metrics.hpp"
#include "settings.hpp"
#include "sparse_models.hpp"

#include <mlsd/core/matrix_view.hpp>
#include <mlsd/evaluation/classification.hpp>
#include <mlsd/model/isolation_forest.hpp>
#include <mlsd/model/model_file.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace mlsd_cli {

namespace detail {

inline void require_numeric_csv(const std::string& file, const std::optional<std::string>& format,
                                bool quiet) {
  if (format) {
    if (*format != "csv") {
      throw usage_error("--model iforest reads a CSV file of numeric columns, not " + *format);
    }
    return;
  }
  const format_guess g = detect_format(file);
  if (g.format != data_format::csv) {
    throw mlsd::input_error({file}, "a CSV file of numeric columns with a header",
                            to_string(g.format) + " data");
  }
  say_detected(file, g, quiet);
}

[[nodiscard]] inline mlsd::matrix_view<const float> matrix_of(const dense_data& d) {
  return {d.values.data(), d.rows, d.columns.size()};
}

} // namespace detail

/// Fits `--model iforest` as the flags say.
[[nodiscard]] inline training_outcome train_iforest(const train_settings& s) {
  using forest = mlsd::model::isolation_forest;
  detail::require_numeric_csv(s.train_file, s.format, s.quiet);
  const std::string label = s.label_col.value_or("");
  const std::vector<std::string> columns =
      csv_feature_columns(s.train_file, label, s.drop_cols, !label.empty());
  const dense_data train = load_dense(s.train_file, columns, label, !label.empty());

  mlsd::model::isolation_forest_config c;
  c.trees = s.trees.value_or(c.trees);
  c.sample_size = s.sample_size.value_or(c.sample_size);
  c.seed = s.seed;
  c.threads = s.threads;
  forest model(c);
  const auto start = std::chrono::steady_clock::now();
  model.fit(detail::matrix_of(train));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  training_outcome out{model.to_model_file(), {}};
  out.file.feature_encoder = {{"kind", "dense_csv"}, {"columns", columns}, {"label_column", label}};
  out.file.training["data"] = {
      {"file", s.train_file}, {"rows", train.rows}, {"features", columns.size()}};
  out.file.training["seconds"] = seconds;
  char text[160];
  std::snprintf(text, sizeof text,
                "mlsd: fitted iforest on %zu rows x %zu columns: %zu trees of %zu rows, %.2f s",
                train.rows, columns.size(), c.trees, model.sample_size(), seconds);
  out.summary = text;
  if (!train.labels.empty()) {
    const std::vector<float> scores = model.scores(detail::matrix_of(train));
    nlohmann::json& metrics = out.file.training["metrics"];
    try {
      const double auc = mlsd::evaluation::roc_auc_of(scores, train.labels);
      metrics["train_roc_auc"] = auc;
      std::snprintf(text, sizeof text, ", train ROC-AUC %.4f ('%s')", auc, label.c_str());
      out.summary += text;
    } catch (const mlsd::evaluation::undefined_metric& e) {
      metrics["train_roc_auc"] = nullptr;
      out.summary += ", train ROC-AUC undefined (";
      out.summary += e.reason();
      out.summary += ')';
    }
  }
  out.summary += " -> ";
  out.summary += s.out_file;
  return out;
}

/// Scores a CSV file with an isolation forest model file: the anomaly score of each row.
[[nodiscard]] inline scored_rows score_iforest(const mlsd::model::model_file& file,
                                               const apply_settings& a, bool need_labels) {
  using forest = mlsd::model::isolation_forest;
  const forest model = model_from_file<forest>(file, a.model_file);
  std::vector<std::string> columns;
  std::string label;
  try {
    columns = file.feature_encoder.at("columns").get<std::vector<std::string>>();
    label = file.feature_encoder.value("label_column", "");
  } catch (const nlohmann::json::exception& x) {
    std::string d = "the column list saved with the forest does not read: ";
    d += x.what();
    throw mlsd::model::model_file_error(mlsd::model::model_file_error::kind::corrupted,
                                        a.model_file, std::move(d));
  }
  if (columns.size() != model.features()) {
    throw mlsd::model::model_file_error(mlsd::model::model_file_error::kind::corrupted,
                                        a.model_file,
                                        "the saved columns do not match the forest's features");
  }
  if (a.format && *a.format != "csv") {
    throw usage_error("an iforest model reads a CSV file, not " + *a.format);
  }
  label = a.label_col.value_or(label);
  const dense_data data = load_dense(a.data_file, columns, label, need_labels);
  scored_rows out;
  out.task = model_task::anomaly_detection;
  out.scores = model.scores(detail::matrix_of(data));
  out.labels = data.labels;
  return out;
}

} // namespace mlsd_cli
