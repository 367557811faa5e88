/// @file
/// The losses the sparse models train with: logistic (log) loss for click and fraud probabilities,
/// squared loss for ratings. A model's raw output is its *margin* z (a logit, or the predicted
/// value itself); the loss maps it to a prediction, a loss value and the derivative dL/dz that
/// every gradient step starts from.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/version.hpp>

#include <cmath>
#include <string>
#include <string_view>

MLSD_BEGIN_NAMESPACE
namespace model {

/// Which loss a model minimises.
///
/// - `logistic`: `L(z, y) = log(1 + exp(-s z))` with `s = +1` for a positive label and `-1`
///   otherwise; the prediction is `sigmoid(z)`, a probability. Labels follow LIBSVM and libFM:
///   any label `> 0` is positive, anything else (0 or -1) negative, so {0, 1} and {-1, +1} files
///   both work unchanged.
/// - `squared`: `L(z, y) = (z - y)^2 / 2`; the prediction is `z` itself (a rating, a count).
enum class loss_function { logistic, squared };

/// The name used in model files, configs and the CLI: "logistic" or "squared".
[[nodiscard]] constexpr std::string_view to_string(loss_function loss) noexcept {
  return loss == loss_function::logistic ? "logistic" : "squared";
}

/// Parses "logistic" (also "log", "log_loss", "binary") or "squared" (also "regression",
/// "squared_loss"). @throws mlsd::config_error naming `field` for anything else.
[[nodiscard]] inline loss_function parse_loss_function(std::string_view name,
                                                       std::string_view field = "loss") {
  if (name == "logistic" || name == "log" || name == "log_loss" || name == "binary") {
    return loss_function::logistic;
  }
  if (name == "squared" || name == "regression" || name == "squared_loss") {
    return loss_function::squared;
  }
  throw config_error(std::string(field), "\"logistic\" or \"squared\"");
}

/// True when `label` counts as the positive class under the logistic loss (`label > 0`).
[[nodiscard]] constexpr bool is_positive(float label) noexcept {
  return label > 0.0f;
}

/// The loss of margin `z` for `label`, in a form that neither overflows nor takes log(0):
/// `max(t, 0) + log1p(exp(-|t|))` with `t = -s z` for the logistic loss (finite for every finite
/// z; a confident mistake at |z| = 1e30 costs 1e30).
[[nodiscard]] inline float loss_value(loss_function loss, float z, float label) noexcept {
  if (loss == loss_function::squared) {
    const float r = z - label;
    return 0.5f * r * r;
  }
  const float t = is_positive(label) ? -z : z;
  return std::fmax(t, 0.0f) + std::log1p(std::exp(-std::fabs(t)));
}

/// dL/dz at margin `z`: `sigmoid(z) - y01` for the logistic loss (y01 the label as 0 or 1),
/// `z - label` for the squared loss. Every model's gradient step is this times dz/dθ.
[[nodiscard]] inline float loss_gradient(loss_function loss, float z, float label) noexcept {
  if (loss == loss_function::squared) {
    return z - label;
  }
  // sigmoid(z) computed from exp(-|z|) so that neither branch overflows.
  const float e = std::exp(-std::fabs(z));
  const float p = z >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
  return p - (is_positive(label) ? 1.0f : 0.0f);
}

/// The model's prediction from its margin: a probability in [0, 1] (logistic) or `z` (squared).
[[nodiscard]] inline float predict_from_margin(loss_function loss, float z) noexcept {
  if (loss == loss_function::squared) {
    return z;
  }
  const float e = std::exp(-std::fabs(z));
  return z >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

} // namespace model
MLSD_END_NAMESPACE
