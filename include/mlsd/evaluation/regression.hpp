/// @file
/// Offline metrics of real-valued predictions (ratings, watch time, prices): RMSE, MAE and R².
///
/// Each metric is an `evaluation::metric_accumulator` over `{prediction, target}` pairs, with
/// O(1) state (counts and double sums), so shards and slices merge exactly as if every pair had
/// been added to one accumulator (up to floating-point rounding). Predictions and targets must be
/// finite (`input_error` otherwise, so that no NaN or infinity reaches a sum); a metric with no
/// value on what it saw throws `undefined_metric` from `result()`.
///
/// ```cpp
/// namespace ev = mlsd::evaluation;
/// const double error = ev::rmse_of(predictions, targets);   // std::span<const float> each
/// ev::r_squared r2;
/// for (auto [yhat, y] : stream) r2.add({yhat, y});
/// ```
#pragma once

#include <mlsd/core/roles.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/numeric.hpp> // running_moments
#include <mlsd/evaluation/metric.hpp>
#include <mlsd/requirements/requirements.hpp>

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

MLSD_BEGIN_NAMESPACE
namespace evaluation {

/// One observation of a regression model: its prediction and the true target.
struct prediction_target {
  float prediction = 0.0f;
  float target = 0.0f;
};

namespace detail {
/// Both values of a regression observation must be finite.
inline void check_regression(std::string_view metric, const prediction_target& o) {
  check_finite(metric, "prediction", o.prediction);
  check_finite(metric, "target", o.target);
}
} // namespace detail

/// Root mean squared error, `sqrt((1/n) Σ (ŷ_i - y_i)^2)`, in the target's unit. Squares weigh
/// large errors more than MAE does. O(1) per observation. Undefined with no observations.
class rmse : public metric_tag {
public:
  using observation_type = prediction_target;
  using result_type = double;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "rmse";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::rmse;

  /// Adds one observation. @throws input_error when the prediction or the target is not finite.
  void add(const prediction_target& o) {
    detail::check_regression(name, o);
    const double r = static_cast<double>(o.prediction) - static_cast<double>(o.target);
    sum_squares_ += r * r;
    ++count_;
  }

  /// Adds `other`'s observations.
  void merge(const rmse& other) {
    sum_squares_ += other.sum_squares_;
    count_ += other.count_;
  }

  /// The RMSE, `>= 0`. @throws undefined_metric with no observations.
  [[nodiscard]] double result() const {
    if (count_ == 0) {
      throw undefined_metric(std::string(name), "no observations");
    }
    return std::sqrt(sum_squares_ / static_cast<double>(count_));
  }

  /// Observations added so far.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }

private:
  double sum_squares_ = 0.0;
  std::uint64_t count_ = 0;
};

/// Mean absolute error, `(1/n) Σ |ŷ_i - y_i|`, in the target's unit; less sensitive to outliers
/// than RMSE. O(1) per observation. Undefined with no observations.
class mae : public metric_tag {
public:
  using observation_type = prediction_target;
  using result_type = double;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "mae";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::mae;

  /// Adds one observation. @throws input_error when the prediction or the target is not finite.
  void add(const prediction_target& o) {
    detail::check_regression(name, o);
    sum_abs_ += std::fabs(static_cast<double>(o.prediction) - static_cast<double>(o.target));
    ++count_;
  }

  /// Adds `other`'s observations.
  void merge(const mae& other) {
    sum_abs_ += other.sum_abs_;
    count_ += other.count_;
  }

  /// The MAE, `>= 0`. @throws undefined_metric with no observations.
  [[nodiscard]] double result() const {
    if (count_ == 0) {
      throw undefined_metric(std::string(name), "no observations");
    }
    return sum_abs_ / static_cast<double>(count_);
  }

  /// Observations added so far.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }

private:
  double sum_abs_ = 0.0;
  std::uint64_t count_ = 0;
};

/// The coefficient of determination, `R² = 1 - SSE / SST` with `SSE = Σ (ŷ_i - y_i)^2` and
/// `SST = Σ (y_i - ȳ)^2`: the share of the targets' variance the model explains (1 is perfect,
/// 0 is no better than predicting the mean, negative is worse), as scikit-learn's `r2_score`.
///
/// SST is accumulated in one pass with Welford's update (Welford 1962, "Note on a method for
/// calculating corrected sums of squares and products") and shards are merged with Chan, Golub
/// & LeVeque's pairwise formula (1979, "Updating formulae and a pairwise algorithm for computing
/// sample variances"): `M2 = M2_a + M2_b + δ² n_a n_b / n`, `δ = ȳ_b - ȳ_a`; both avoid the
/// cancellation of `Σ y² - n ȳ²` when targets are large and close (prices, timestamps).
/// O(1) per observation.
///
/// Undefined with no observations, or when every target is the same (SST = 0; scikit-learn
/// then returns 1.0 or 0.0 by convention, mlsd throws rather than invent a value).
class r_squared : public metric_tag {
public:
  using observation_type = prediction_target;
  using result_type = double;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "r_squared";
  /// The requirement this accumulator measures (`r2` in requirements).
  static constexpr offline_metric metric = offline_metric::r2;

  /// Adds one observation. @throws input_error when the prediction or the target is not finite.
  void add(const prediction_target& o) {
    detail::check_regression(name, o);
    const double y = static_cast<double>(o.target);
    const double r = static_cast<double>(o.prediction) - y;
    sse_ += r * r;
    targets_.add(y);
  }

  /// Adds `other`'s observations (Chan et al.'s merge; `other` may be `*this`).
  void merge(const r_squared& other) {
    sse_ += other.sse_;
    targets_.merge(other.targets_);
  }

  /// R², at most 1 (can be very negative). @throws undefined_metric with no observations or
  /// constant targets.
  [[nodiscard]] double result() const {
    if (targets_.count() == 0) {
      throw undefined_metric(std::string(name), "no observations");
    }
    if (!(total_sum_of_squares() > 0.0)) {
      std::string reason = "all ";
      reason += std::to_string(targets_.count());
      reason += " targets are equal: their total sum of squares is 0";
      throw undefined_metric(std::string(name), reason);
    }
    return 1.0 - sse_ / total_sum_of_squares();
  }

  /// Observations added so far.
  [[nodiscard]] std::uint64_t count() const noexcept { return targets_.count(); }
  /// The mean of the targets so far (0 before the first observation).
  [[nodiscard]] double target_mean() const noexcept { return targets_.mean(); }
  /// `SST = Σ (y_i - ȳ)^2` so far.
  [[nodiscard]] double total_sum_of_squares() const noexcept {
    return targets_.population_variance() * static_cast<double>(targets_.count());
  }
  /// `SSE = Σ (ŷ_i - y_i)^2` so far.
  [[nodiscard]] double residual_sum_of_squares() const noexcept { return sse_; }

private:
  double sse_ = 0.0;
  data::running_moments targets_; // Welford with a shift, Chan's merge
};

static_assert(metric_accumulator<rmse>);
static_assert(metric_accumulator<mae>);
static_assert(metric_accumulator<r_squared>);

/// RMSE of `predictions` against `targets` (see `rmse`). O(n).
/// @throws std::invalid_argument when the sizes differ; input_error naming `predictions[i]` or
/// `targets[i]` for a value that is not finite; undefined_metric when empty.
[[nodiscard]] inline double rmse_of(std::span<const float> predictions,
                                    std::span<const float> targets) {
  return detail::accumulate_pairs(rmse(), "rmse_of", predictions, "predictions", targets,
                                  "targets");
}

/// MAE of `predictions` against `targets` (see `mae`). O(n). @throws as `rmse_of`.
[[nodiscard]] inline double mae_of(std::span<const float> predictions,
                                   std::span<const float> targets) {
  return detail::accumulate_pairs(mae(), "mae_of", predictions, "predictions", targets, "targets");
}

/// R² of `predictions` against `targets` (see `r_squared`). O(n).
/// @throws as `rmse_of`, and undefined_metric when every target is the same.
[[nodiscard]] inline double r_squared_of(std::span<const float> predictions,
                                         std::span<const float> targets) {
  return detail::accumulate_pairs(r_squared(), "r_squared_of", predictions, "predictions", targets,
                                  "targets");
}

} // namespace evaluation
MLSD_END_NAMESPACE
