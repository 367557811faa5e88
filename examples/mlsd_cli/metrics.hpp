/// @file
/// The metrics `mlsd eval` reports, chosen by the model's task, computed with mlsd/evaluation/.
/// A metric that has no value on the data (ROC-AUC over one class, R² of constant targets) is
/// written as `null`, with the reason under `"undefined"`: never a NaN, never left out silently.
#pragma once

#include <mlsd/evaluation/classification.hpp>
#include <mlsd/evaluation/metric.hpp>
#include <mlsd/evaluation/regression.hpp>
#include <mlsd/model/loss.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace mlsd_cli {

/// The task a model's scores answer, which decides the metrics.
enum class model_task {
  binary_classification, ///< scores are probabilities of the positive class (label > 0)
  regression,            ///< scores are predicted targets
  anomaly_detection,     ///< scores are anomaly scores (higher: more anomalous)
};

/// "binary_classification", "regression" or "anomaly_detection".
[[nodiscard]] inline std::string to_string(model_task t) {
  switch (t) {
  case model_task::binary_classification:
    return "binary_classification";
  case model_task::regression:
    return "regression";
  case model_task::anomaly_detection:
    return "anomaly_detection";
  }
  return "?";
}

/// Scores of a model on a file, with the file's labels (empty when the file has none).
struct scored_rows {
  model_task task = model_task::binary_classification;
  std::vector<float> scores;
  std::vector<float> labels;
};

namespace detail {

/// Sets `out[name]` to `metric()`, or to null with the reason under `undefined[name]`.
template <class Metric>
void put_metric(nlohmann::ordered_json& out, nlohmann::ordered_json& undefined, const char* name,
                Metric&& metric) {
  try {
    out[name] = metric();
  } catch (const mlsd::evaluation::undefined_metric& e) {
    out[name] = nullptr;
    undefined[name] = e.reason();
  }
}

} // namespace detail

/// The metrics of `rows` for its task, as one JSON object (keys in this order):
/// - binary classification: rows, positives, log_loss, roc_auc, accuracy (threshold 0.5),
///   normalized_entropy (He et al. 2014) and calibration_ratio (mean prediction / positive rate);
/// - regression: rows, rmse, mae, r_squared;
/// - anomaly detection with labels: rows, positives (anomalies), roc_auc of the anomaly score.
[[nodiscard]] inline nlohmann::ordered_json metrics_of(const scored_rows& rows) {
  namespace ev = mlsd::evaluation;
  const std::span<const float> s = rows.scores;
  const std::span<const float> y = rows.labels;
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  nlohmann::ordered_json undefined = nlohmann::ordered_json::object();
  out["task"] = to_string(rows.task);
  out["rows"] = rows.scores.size();
  std::size_t positives = 0;
  for (const float label : rows.labels) {
    positives += mlsd::model::is_positive(label) ? 1 : 0;
  }
  switch (rows.task) {
  case model_task::binary_classification:
    out["positives"] = positives;
    detail::put_metric(out, undefined, "log_loss", [&] { return ev::log_loss_of(s, y); });
    detail::put_metric(out, undefined, "roc_auc", [&] { return ev::roc_auc_of(s, y); });
    detail::put_metric(out, undefined, "accuracy", [&] { return ev::accuracy_of(s, y); });
    detail::put_metric(out, undefined, "normalized_entropy",
                       [&] { return ev::normalized_entropy_of(s, y); });
    detail::put_metric(out, undefined, "calibration_ratio",
                       [&] { return ev::calibration_ratio_of(s, y); });
    break;
  case model_task::regression:
    detail::put_metric(out, undefined, "rmse", [&] { return ev::rmse_of(s, y); });
    detail::put_metric(out, undefined, "mae", [&] { return ev::mae_of(s, y); });
    detail::put_metric(out, undefined, "r_squared", [&] { return ev::r_squared_of(s, y); });
    break;
  case model_task::anomaly_detection:
    out["positives"] = positives;
    detail::put_metric(out, undefined, "roc_auc", [&] { return ev::roc_auc_of(s, y); });
    break;
  }
  if (!undefined.empty()) {
    out["undefined"] = std::move(undefined);
  }
  return out;
}

} // namespace mlsd_cli
