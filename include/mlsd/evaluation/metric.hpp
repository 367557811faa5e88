/// @file
/// What every offline metric of `mlsd/evaluation/` shares: the `undefined_metric` error (a metric
/// that has no value on the data it saw, such as ROC-AUC over one class, throws instead of
/// returning NaN), and the checks of observations and of the one-call helpers' spans.
///
/// Every metric is an `evaluation::metric_accumulator` (core/roles.hpp): `add` observations,
/// `merge` another accumulator of the same metric, read `result()`.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/version.hpp>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

MLSD_BEGIN_NAMESPACE
namespace evaluation {

/// Thrown by `result()` when the metric has no value on the observations it saw: no observations
/// at all, ROC-AUC or normalized entropy over one class only, a calibration ratio without a
/// positive, R² of constant targets. A `std::domain_error` (the data lies outside the metric's
/// domain), never a NaN that would travel silently into a report or a model-selection decision.
/// `what()` reads "mlsd::evaluation::roc_auc is undefined: only one class (3 positives, 0
/// negatives)".
class undefined_metric : public std::domain_error {
public:
  undefined_metric(std::string metric, std::string reason)
      : std::domain_error(format(metric, reason))
      , metric_(std::move(metric))
      , reason_(std::move(reason)) {}

  /// The metric's name, e.g. "roc_auc".
  [[nodiscard]] const std::string& metric() const noexcept { return metric_; }
  /// Why it is undefined, e.g. "no observations".
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

private:
  static std::string format(const std::string& metric, const std::string& reason) {
    std::string out = "mlsd::evaluation::";
    out += metric;
    out += " is undefined: ";
    out += reason;
    return out;
  }
  std::string metric_;
  std::string reason_;
};

namespace detail {

/// The shortest text that reads back as `v` ("0.5", "nan", "inf").
[[nodiscard]] inline std::string number_text(float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

/// Throws `input_error` at `metric: field 'field'` (in-memory observations have no file or line:
/// the position names the metric instead).
[[noreturn]] inline void bad_observation(std::string_view metric, std::string_view field,
                                         std::string expected, float found) {
  throw input_error(input_position(std::string(metric), 0, 0, std::string(field)),
                    std::move(expected), number_text(found));
}

/// `v` must not be NaN (±inf is allowed: it orders and compares).
inline void check_not_nan(std::string_view metric, std::string_view field, float v) {
  if (std::isnan(v)) {
    bad_observation(metric, field, "a number (not NaN)", v);
  }
}

/// `v` must be finite.
inline void check_finite(std::string_view metric, std::string_view field, float v) {
  if (!std::isfinite(v)) {
    bad_observation(metric, field, "a finite number", v);
  }
}

/// `v` must be a probability, in [0, 1] (a margin or logit passed by mistake fails here).
inline void check_probability(std::string_view metric, std::string_view field, float v) {
  if (!(v >= 0.0f && v <= 1.0f)) {
    bad_observation(metric, field, "a probability in [0, 1]", v);
  }
}

/// Throws `std::invalid_argument` unless the two spans of a one-call helper have one size.
inline void check_same_size(std::string_view helper, std::string_view first, std::size_t n_first,
                            std::string_view second, std::size_t n_second) {
  if (n_first != n_second) {
    std::string what = "mlsd::evaluation::";
    what += helper;
    what += ": ";
    what += std::to_string(n_first);
    what += ' ';
    what += first;
    what += " but ";
    what += std::to_string(n_second);
    what += ' ';
    what += second;
    throw std::invalid_argument(what);
  }
}

/// Adds the pairs `(a[i], b[i])` to `m` and returns `m.result()`. A bad value rethrows the
/// accumulator's `input_error` with the element's index: field 'score' becomes 'scores[7]'.
template <class Metric>
[[nodiscard]] typename Metric::result_type
accumulate_pairs(Metric m, std::string_view helper, std::span<const float> a,
                 std::string_view a_name, std::span<const float> b, std::string_view b_name) {
  check_same_size(helper, a_name, a.size(), b_name, b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    try {
      m.add({a[i], b[i]});
    } catch (const input_error& e) {
      input_position where = e.where();
      where.field += "s[";
      where.field += std::to_string(i);
      where.field += ']';
      throw input_error(std::move(where), e.expected(), e.found());
    }
  }
  return m.result();
}

} // namespace detail
} // namespace evaluation
MLSD_END_NAMESPACE
