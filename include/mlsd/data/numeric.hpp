/// @file
/// Numeric feature transforms, fitted on training data and applied identically at serving:
/// standardisation (`standard_scaler`), min-max scaling (`min_max_scaler`), `log1p_transform` for
/// counts, and quantile buckets (`quantile_bucketizer`). Each models `data::feature_transform`: fit
/// on a span of training values, apply with a `const` call operator (pure, thread-safe), save and
/// load the fitted parameters as JSON.
///
/// Shared conventions:
/// - statistics are computed in `double`; mean and variance with Welford's update on shifted values
///   (`running_moments`), which stays accurate where the textbook `E[x^2] - E[x]^2` cancels
///   catastrophically;
/// - NaN and ±inf are rejected with `mlsd::input_error` at fit and at apply time (put an imputer
///   from `<mlsd/data/missing.hpp>` in front to handle missing values); the error names the
///   transform, the 1-based row of the fit span and the feature (`config::feature`);
/// - fitting an empty span is an `input_error`; fitting again replaces (does not accumulate) the
///   parameters;
/// - applying a transform that needs fitting before `fit` (or `from_json`) throws
///   `mlsd::not_fitted_error`.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/fitting.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

namespace detail {

/// "nan", "inf" or "-inf" for the `found` part of an error.
[[nodiscard]] inline std::string non_finite_text(double x) {
  if (std::isnan(x)) {
    return "nan";
  }
  return x > 0 ? "inf" : "-inf";
}

/// Where a bad value is: `transform.fit` at line `row + 1` (`row` 0-based) for a training value,
/// `transform` (no line) for a value being applied; the field is the feature.
[[nodiscard]] inline input_position value_position(std::string_view transform,
                                                   const std::string& feature, bool at_fit,
                                                   std::size_t row) {
  return input_position(at_fit ? field_path(transform, "fit") : std::string(transform),
                        at_fit ? row + 1 : 0, 0, feature);
}

/// Throws `input_error` when `x` is not finite (see `value_position` for `at_fit` and `row`).
inline void require_finite(double x, std::string_view transform, const std::string& feature,
                           bool at_fit, std::size_t row) {
  if (!std::isfinite(x)) [[unlikely]] {
    throw input_error(value_position(transform, feature, at_fit, row),
                      "a finite number (impute missing values first)", non_finite_text(x));
  }
}

/// Type-7 sample quantile of sorted `x` at probability `p` (Hyndman & Fan 1996, definition 7: the
/// default of R and NumPy): linear interpolation between order statistics at h = (n - 1) p.
[[nodiscard]] inline double sample_quantile(std::span<const double> sorted, double p) noexcept {
  const double h = static_cast<double>(sorted.size() - 1) * p;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

} // namespace detail

/// Count, mean and variance of a stream of values by Welford's update (Welford 1962; Knuth, TAOCP
/// vol. 2, §4.2.2) on values shifted by the first observation (Chan, Golub & LeVeque 1983), merged
/// across shards by the pairwise formula of Chan, Golub & LeVeque (1979). Each `add` is O(1) and
/// numerically stable: the sum of squared deviations grows by `(y - old_mean)(y - new_mean)`, and
/// the shift makes `y = x - x0` exact for values close to each other, so 1e9 + small noise keeps
/// its variance, where `E[x^2] - E[x]^2` loses every digit. Not thread-safe; one accumulator per
/// thread, then `merge`.
class running_moments {
public:
  /// Adds one observation.
  void add(double x) noexcept {
    if (count_ == 0) {
      shift_ = x;
    }
    ++count_;
    const double y = x - shift_;
    const double delta = y - mean_;
    mean_ += delta / static_cast<double>(count_);
    m2_ += delta * (y - mean_);
  }

  /// Adds every observation of `other` (as if they had been added here).
  void merge(const running_moments& other) noexcept {
    if (other.count_ == 0) {
      return;
    }
    if (count_ == 0) {
      *this = other;
      return;
    }
    const double n_a = static_cast<double>(count_);
    const double n_b = static_cast<double>(other.count_);
    const double n = n_a + n_b;
    const double delta = (other.shift_ - shift_) + other.mean_ - mean_;
    mean_ += delta * n_b / n;
    m2_ += other.m2_ + delta * delta * n_a * n_b / n;
    count_ += other.count_;
  }

  /// Number of observations.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// Mean (0 when empty).
  [[nodiscard]] double mean() const noexcept { return shift_ + mean_; }
  /// Population variance, the sum of squared deviations over n (0 when empty).
  [[nodiscard]] double population_variance() const noexcept {
    return count_ == 0 ? 0.0 : m2_ / static_cast<double>(count_);
  }
  /// Sample (unbiased) variance, over n - 1 (0 with fewer than two observations).
  [[nodiscard]] double sample_variance() const noexcept {
    return count_ < 2 ? 0.0 : m2_ / static_cast<double>(count_ - 1);
  }

private:
  std::uint64_t count_ = 0;
  double shift_ = 0.0; // the first observation
  double mean_ = 0.0;  // of the shifted values
  double m2_ = 0.0;    // sum of squared deviations from the mean
};

/// Standardisation: `(x - mean) / std` with the mean and the *population* standard deviation of
/// the training values (as scikit-learn's `StandardScaler`). A constant training column has
/// std 0; it is then scaled by 1, so that training values map to 0 and others to `x - mean`
/// (scikit-learn's behaviour) rather than to ±inf. Apply is O(1), pure and thread-safe.
class standard_scaler : public feature_transform_tag {
public:
  /// Settings; validated on construction.
  struct config {
    /// The feature's name, used in error messages.
    std::string feature{};
    /// Subtract the mean (otherwise only divide by the standard deviation).
    bool with_mean = true;
    /// Divide by the standard deviation (otherwise only centre).
    bool with_std = true;

    /// Nothing can be out of range here; present for symmetry with the other transforms.
    void validate() const noexcept {}
    /// The settings as JSON.
    [[nodiscard]] nlohmann::json to_json() const {
      return {{"feature", feature}, {"with_mean", with_mean}, {"with_std", with_std}};
    }
    /// Settings from JSON (missing keys keep their defaults; unknown keys are errors).
    [[nodiscard]] static config from_json(const nlohmann::json& j) {
      detail::config_reader r(j, "standard_scaler");
      config c;
      r.read("feature", c.feature);
      r.read("with_mean", c.with_mean);
      r.read("with_std", c.with_std);
      r.finish();
      c.validate();
      return c;
    }
    friend void to_json(nlohmann::json& j, const config& c) { j = c.to_json(); }
    friend void from_json(const nlohmann::json& j, config& c) { c = config::from_json(j); }
  };

  using input_type = double;
  using output_type = double;

  /// An unfitted scaler with default settings.
  standard_scaler() = default;
  /// An unfitted scaler.
  explicit standard_scaler(config c)
      : config_(std::move(c)) {
    config_.validate();
  }

  /// Learns mean and population std from `values` (O(n), one pass). Throws `input_error` on an
  /// empty span or a non-finite value (naming its row).
  void fit(std::span<const double> values) {
    if (values.empty()) {
      detail::throw_empty_fit(name, config_.feature);
    }
    running_moments m;
    for (std::size_t i = 0; i < values.size(); ++i) {
      detail::require_finite(values[i], name, config_.feature, true, i);
      m.add(values[i]);
    }
    count_ = m.count();
    mean_ = m.mean();
    std_dev_ = std::sqrt(m.population_variance());
    fitted_ = true;
  }

  /// The standardised value. Throws `not_fitted_error` before fit, `input_error` on NaN/inf.
  [[nodiscard]] double operator()(double x) const {
    if (!fitted_) [[unlikely]] {
      throw not_fitted_error(std::string(name), config_.feature);
    }
    detail::require_finite(x, name, config_.feature, false, 0);
    const double centred = config_.with_mean ? x - mean_ : x;
    return config_.with_std && std_dev_ > 0.0 ? centred / std_dev_ : centred;
  }

  /// Whether `fit` (or `from_json` of a fitted scaler) has run.
  [[nodiscard]] bool fitted() const noexcept { return fitted_; }
  /// The training mean.
  [[nodiscard]] double mean() const noexcept { return mean_; }
  /// The training population standard deviation.
  [[nodiscard]] double std_dev() const noexcept { return std_dev_; }
  /// How many values it was fitted on.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// The settings.
  [[nodiscard]] const config& settings() const noexcept { return config_; }

  /// Settings and fitted parameters as JSON (doubles round-trip exactly).
  [[nodiscard]] nlohmann::json to_json() const {
    nlohmann::json j = {{"transform", name}, {"config", config_.to_json()}, {"fitted", fitted_}};
    if (fitted_) {
      j["count"] = count_;
      j["mean"] = mean_;
      j["std"] = std_dev_;
    }
    return j;
  }
  /// A scaler from `to_json`'s output; throws `config_error` naming a missing or bad key.
  [[nodiscard]] static standard_scaler from_json(const nlohmann::json& j) {
    detail::config_reader r(j, name);
    const bool fitted = detail::read_transform_header(r, name);
    standard_scaler s(config::from_json(r.at("config")));
    if (fitted) {
      r.require("count", s.count_);
      r.require("mean", s.mean_);
      r.require("std", s.std_dev_);
      s.fitted_ = true;
    }
    r.finish();
    return s;
  }

  /// The transform's name in JSON and in messages.
  static constexpr std::string_view name = "standard_scaler";

private:
  config config_;
  std::uint64_t count_ = 0;
  double mean_ = 0.0;
  double std_dev_ = 0.0;
  bool fitted_ = false;
};
static_assert(feature_transform<standard_scaler>);

/// Min-max scaling to `[lower, upper]` (default [0, 1]): `lower + (x - min) / (max - min) *
/// (upper - lower)` with the training minimum and maximum. Serving values outside the training
/// range map outside `[lower, upper]` unless `clip` is set. A constant training column has no
/// range; it is scaled by 1 (as scikit-learn does), so training values map to `lower`. Apply is
/// O(1), pure and thread-safe.
class min_max_scaler : public feature_transform_tag {
public:
  /// Settings; validated on construction.
  struct config {
    /// The feature's name, used in error messages.
    std::string feature{};
    /// Where the training minimum maps.
    double lower = 0.0;
    /// Where the training maximum maps; must be greater than `lower`.
    double upper = 1.0;
    /// Clamp outputs to `[lower, upper]` (values outside the training range at serving).
    bool clip = false;

    /// Throws `config_error` naming the bad field.
    void validate() const {
      if (!std::isfinite(lower)) {
        throw config_error("min_max_scaler.lower", "a finite number");
      }
      if (!std::isfinite(upper) || !(upper > lower)) {
        throw config_error("min_max_scaler.upper", "a finite number greater than 'lower'");
      }
    }
    /// The settings as JSON.
    [[nodiscard]] nlohmann::json to_json() const {
      return {{"feature", feature}, {"lower", lower}, {"upper", upper}, {"clip", clip}};
    }
    /// Settings from JSON (missing keys keep their defaults; unknown keys are errors).
    [[nodiscard]] static config from_json(const nlohmann::json& j) {
      detail::config_reader r(j, "min_max_scaler");
      config c;
      r.read("feature", c.feature);
      r.read("lower", c.lower);
      r.read("upper", c.upper);
      r.read("clip", c.clip);
      r.finish();
      c.validate();
      return c;
    }
    friend void to_json(nlohmann::json& j, const config& c) { j = c.to_json(); }
    friend void from_json(const nlohmann::json& j, config& c) { c = config::from_json(j); }
  };

  using input_type = double;
  using output_type = double;

  /// An unfitted scaler to [0, 1].
  min_max_scaler() = default;
  /// An unfitted scaler; throws `config_error` for invalid settings.
  explicit min_max_scaler(config c)
      : config_(std::move(c)) {
    config_.validate();
  }

  /// Learns the training minimum and maximum (O(n)). Throws `input_error` on an empty span or a
  /// non-finite value.
  void fit(std::span<const double> values) {
    if (values.empty()) {
      detail::throw_empty_fit(name, config_.feature);
    }
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    for (std::size_t i = 0; i < values.size(); ++i) {
      detail::require_finite(values[i], name, config_.feature, true, i);
      lo = std::min(lo, values[i]);
      hi = std::max(hi, values[i]);
    }
    min_ = lo;
    max_ = hi;
    fitted_ = true;
  }

  /// The scaled value. Throws `not_fitted_error` before fit, `input_error` on NaN/inf.
  [[nodiscard]] double operator()(double x) const {
    if (!fitted_) [[unlikely]] {
      throw not_fitted_error(std::string(name), config_.feature);
    }
    detail::require_finite(x, name, config_.feature, false, 0);
    const double range = max_ > min_ ? max_ - min_ : 1.0;
    const double y = config_.lower + (x - min_) / range * (config_.upper - config_.lower);
    return config_.clip ? std::clamp(y, config_.lower, config_.upper) : y;
  }

  /// Whether `fit` (or `from_json` of a fitted scaler) has run.
  [[nodiscard]] bool fitted() const noexcept { return fitted_; }
  /// The training minimum.
  [[nodiscard]] double min() const noexcept { return min_; }
  /// The training maximum.
  [[nodiscard]] double max() const noexcept { return max_; }
  /// The settings.
  [[nodiscard]] const config& settings() const noexcept { return config_; }

  /// Settings and fitted parameters as JSON.
  [[nodiscard]] nlohmann::json to_json() const {
    nlohmann::json j = {{"transform", name}, {"config", config_.to_json()}, {"fitted", fitted_}};
    if (fitted_) {
      j["min"] = min_;
      j["max"] = max_;
    }
    return j;
  }
  /// A scaler from `to_json`'s output; throws `config_error` naming a missing or bad key.
  [[nodiscard]] static min_max_scaler from_json(const nlohmann::json& j) {
    detail::config_reader r(j, name);
    const bool fitted = detail::read_transform_header(r, name);
    min_max_scaler s(config::from_json(r.at("config")));
    if (fitted) {
      r.require("min", s.min_);
      r.require("max", s.max_);
      if (!(s.max_ >= s.min_)) {
        throw config_error(r.field("max"), "a number not less than 'min'");
      }
      s.fitted_ = true;
    }
    r.finish();
    return s;
  }

  /// The transform's name in JSON and in messages.
  static constexpr std::string_view name = "min_max_scaler";

private:
  config config_;
  double min_ = 0.0;
  double max_ = 0.0;
  bool fitted_ = false;
};
static_assert(feature_transform<min_max_scaler>);

/// What `log1p_transform` does with a negative input.
enum class negative_policy {
  error,      ///< throw `input_error` (counts are never negative: a negative one is a bug upstream)
  signed_log, ///< sign(x) · log1p(|x|): odd, monotone, defined everywhere
};

/// `log1p(x) = ln(1 + x)` for counts and other heavy-tailed non-negative values (views, spend):
/// compresses the tail so that a linear model is not dominated by a few huge values, and maps 0 to
/// 0. Negative inputs are an error or use the signed form, per `config::on_negative`.
///
/// There is nothing to learn: `fit` only checks the training values (so a negative count is caught
/// at training time), and the transform may be applied without fitting (the identity of the
/// formula). Apply is O(1), pure and thread-safe.
class log1p_transform : public feature_transform_tag {
public:
  /// Settings.
  struct config {
    /// The feature's name, used in error messages.
    std::string feature{};
    /// What a negative value does.
    negative_policy on_negative = negative_policy::error;

    /// Nothing can be out of range here; present for symmetry with the other transforms.
    void validate() const noexcept {}
    /// The settings as JSON.
    [[nodiscard]] nlohmann::json to_json() const {
      return {{"feature", feature}, {"on_negative", detail::enum_name(on_negative, policy_names)}};
    }
    /// Settings from JSON (missing keys keep their defaults; unknown keys are errors).
    [[nodiscard]] static config from_json(const nlohmann::json& j) {
      detail::config_reader r(j, "log1p_transform");
      config c;
      r.read("feature", c.feature);
      r.read_enum("on_negative", c.on_negative, policy_names);
      r.finish();
      return c;
    }
    friend void to_json(nlohmann::json& j, const config& c) { j = c.to_json(); }
    friend void from_json(const nlohmann::json& j, config& c) { c = config::from_json(j); }
  };

  using input_type = double;
  using output_type = double;

  /// The transform with default settings (negative inputs are errors).
  log1p_transform() = default;
  /// The transform with `c`.
  explicit log1p_transform(config c)
      : config_(std::move(c)) {
    config_.validate();
  }

  /// Checks the training values: throws `input_error` on an empty span, a non-finite value, or
  /// (with `negative_policy::error`) a negative one.
  void fit(std::span<const double> values) {
    if (values.empty()) {
      detail::throw_empty_fit(name, config_.feature);
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
      check(values[i], true, i);
    }
    fitted_ = true;
  }

  /// `log1p(x)`, or the signed form. Throws `input_error` on NaN/inf or a rejected negative.
  [[nodiscard]] double operator()(double x) const {
    check(x, false, 0);
    return x < 0.0 ? -std::log1p(-x) : std::log1p(x);
  }

  /// Whether `fit` has checked training data (applying does not require it).
  [[nodiscard]] bool fitted() const noexcept { return fitted_; }
  /// The settings.
  [[nodiscard]] const config& settings() const noexcept { return config_; }

  /// Settings as JSON (there are no fitted parameters).
  [[nodiscard]] nlohmann::json to_json() const {
    return {{"transform", name}, {"config", config_.to_json()}, {"fitted", fitted_}};
  }
  /// The transform from `to_json`'s output.
  [[nodiscard]] static log1p_transform from_json(const nlohmann::json& j) {
    detail::config_reader r(j, name);
    const bool fitted = detail::read_transform_header(r, name);
    log1p_transform t(config::from_json(r.at("config")));
    t.fitted_ = fitted;
    r.finish();
    return t;
  }

  /// The transform's name in JSON and in messages.
  static constexpr std::string_view name = "log1p_transform";
  /// The JSON names of `negative_policy`.
  static constexpr std::array<std::pair<negative_policy, std::string_view>, 2> policy_names = {
      {{negative_policy::error, "error"}, {negative_policy::signed_log, "signed_log"}}};

private:
  void check(double x, bool at_fit, std::size_t row) const {
    detail::require_finite(x, name, config_.feature, at_fit, row);
    if (x < 0.0 && config_.on_negative == negative_policy::error) [[unlikely]] {
      throw input_error(detail::value_position(name, config_.feature, at_fit, row),
                        "a non-negative count (or on_negative = signed_log)", std::to_string(x));
    }
  }

  config config_;
  bool fitted_ = false;
};
static_assert(feature_transform<log1p_transform>);

/// Quantile bucketisation: boundaries at sample quantiles of the training values (Hyndman & Fan
/// 1996, definition 7, the default of R and NumPy), so that each bucket holds about the same share
/// of training data whatever the distribution's shape. The output is the bucket index: bucket `i`
/// holds `[b[i-1], b[i])` (a value equal to a boundary goes to the upper bucket), bucket 0
/// everything below `b[0]`, the last bucket everything from the last boundary up. Equal boundaries
/// (a value repeated across several quantiles) are removed and counted (`duplicate_boundaries()`),
/// so there may be fewer buckets than requested. With heavy ties a bucket can still be empty on
/// training data (all of a repeated minimum goes to bucket 1 when it is also the first boundary).
///
/// `encode` appends the bucket as a one-hot sparse feature at `index_offset + bucket` (value 1).
/// Fit sorts a copy of the training values: O(n log n) time, O(n) memory. Apply is a binary search,
/// O(log buckets), pure and thread-safe.
class quantile_bucketizer : public feature_transform_tag {
public:
  /// Settings; validated on construction.
  struct config {
    /// The feature's name, used in error messages.
    std::string feature{};
    /// The probabilities of the boundaries, strictly increasing in (0, 1): k - 1 of them for k
    /// buckets. Default: deciles (10 buckets); `evenly_spaced(k)` gives k buckets of equal mass.
    std::vector<double> quantiles = evenly_spaced(10);
    /// Where the one-hot block of `encode` starts in the sparse feature space.
    std::uint32_t index_offset = 0;

    /// The k - 1 probabilities 1/k, ..., (k-1)/k that split the data into `buckets` (≥ 2)
    /// buckets of equal mass. Throws `config_error` for fewer than 2 buckets.
    [[nodiscard]] static std::vector<double> evenly_spaced(std::size_t buckets) {
      if (buckets < 2) {
        throw config_error("quantile_bucketizer.quantiles", "at least 2 buckets");
      }
      std::vector<double> q(buckets - 1);
      for (std::size_t k = 1; k < buckets; ++k) {
        q[k - 1] = static_cast<double>(k) / static_cast<double>(buckets);
      }
      return q;
    }

    /// Throws `config_error` naming the bad field (with the element index).
    void validate() const {
      if (quantiles.empty()) {
        throw config_error("quantile_bucketizer.quantiles", "at least one probability");
      }
      for (std::size_t i = 0; i < quantiles.size(); ++i) {
        const double p = quantiles[i];
        if (!(p > 0.0 && p < 1.0) || (i > 0 && !(p > quantiles[i - 1]))) {
          std::string field = "quantile_bucketizer.quantiles[";
          field += std::to_string(i);
          field += ']';
          throw config_error(field, "strictly increasing probabilities in (0, 1)");
        }
      }
      if (quantiles.size() > std::numeric_limits<std::uint32_t>::max() - index_offset) {
        throw config_error("quantile_bucketizer.index_offset",
                           "an offset that leaves room for every bucket below 2^32");
      }
    }
    /// The settings as JSON.
    [[nodiscard]] nlohmann::json to_json() const {
      return {{"feature", feature}, {"quantiles", quantiles}, {"index_offset", index_offset}};
    }
    /// Settings from JSON (missing keys keep their defaults; unknown keys are errors).
    [[nodiscard]] static config from_json(const nlohmann::json& j) {
      detail::config_reader r(j, "quantile_bucketizer");
      config c;
      r.read("feature", c.feature);
      r.read("quantiles", c.quantiles);
      r.read("index_offset", c.index_offset);
      r.finish();
      c.validate();
      return c;
    }
    friend void to_json(nlohmann::json& j, const config& c) { j = c.to_json(); }
    friend void from_json(const nlohmann::json& j, config& c) { c = config::from_json(j); }
  };

  using input_type = double;
  using output_type = std::uint32_t;

  /// An unfitted bucketizer into deciles.
  quantile_bucketizer() = default;
  /// An unfitted bucketizer; throws `config_error` for invalid settings.
  explicit quantile_bucketizer(config c)
      : config_(std::move(c)) {
    config_.validate();
  }

  /// Learns the boundaries from `values`. Throws `input_error` on an empty span or a non-finite
  /// value.
  void fit(std::span<const double> values) {
    if (values.empty()) {
      detail::throw_empty_fit(name, config_.feature);
    }
    std::vector<double> sorted(values.begin(), values.end());
    for (std::size_t i = 0; i < sorted.size(); ++i) {
      detail::require_finite(sorted[i], name, config_.feature, true, i);
    }
    std::sort(sorted.begin(), sorted.end());
    std::vector<double> b;
    b.reserve(config_.quantiles.size());
    for (const double p : config_.quantiles) {
      b.push_back(detail::sample_quantile(sorted, p));
    }
    const std::size_t requested = b.size();
    b.erase(std::unique(b.begin(), b.end()), b.end());
    boundaries_ = std::move(b);
    duplicates_ = requested - boundaries_.size();
    fitted_ = true;
  }

  /// The bucket of `x`, in `[0, num_buckets())`. Throws `not_fitted_error` before fit,
  /// `input_error` on NaN/inf.
  [[nodiscard]] std::uint32_t operator()(double x) const {
    if (!fitted_) [[unlikely]] {
      throw not_fitted_error(std::string(name), config_.feature);
    }
    detail::require_finite(x, name, config_.feature, false, 0);
    return static_cast<std::uint32_t>(std::upper_bound(boundaries_.begin(), boundaries_.end(), x) -
                                      boundaries_.begin());
  }

  /// Appends the one-hot feature `(index_offset + bucket, 1)` to `out`; no allocation once `out`
  /// has capacity.
  void encode(double x, sparse_row& out) const {
    out.push_back(config_.index_offset + (*this)(x), 1.0f);
  }

  /// Whether `fit` (or `from_json` of a fitted bucketizer) has run.
  [[nodiscard]] bool fitted() const noexcept { return fitted_; }
  /// The boundaries, strictly increasing.
  [[nodiscard]] std::span<const double> boundaries() const noexcept { return boundaries_; }
  /// The number of buckets, `boundaries().size() + 1`.
  [[nodiscard]] std::size_t num_buckets() const noexcept { return boundaries_.size() + 1; }
  /// How many requested boundaries were removed as duplicates at fit.
  [[nodiscard]] std::size_t duplicate_boundaries() const noexcept { return duplicates_; }
  /// The settings.
  [[nodiscard]] const config& settings() const noexcept { return config_; }

  /// Settings and boundaries as JSON.
  [[nodiscard]] nlohmann::json to_json() const {
    nlohmann::json j = {{"transform", name}, {"config", config_.to_json()}, {"fitted", fitted_}};
    if (fitted_) {
      j["boundaries"] = boundaries_;
      j["duplicate_boundaries"] = duplicates_;
    }
    return j;
  }
  /// A bucketizer from `to_json`'s output; throws `config_error` naming a missing or bad key.
  [[nodiscard]] static quantile_bucketizer from_json(const nlohmann::json& j) {
    detail::config_reader r(j, name);
    const bool fitted = detail::read_transform_header(r, name);
    quantile_bucketizer q(config::from_json(r.at("config")));
    if (fitted) {
      r.require("boundaries", q.boundaries_);
      r.require("duplicate_boundaries", q.duplicates_);
      if (q.boundaries_.size() > q.config_.quantiles.size() ||
          std::adjacent_find(q.boundaries_.begin(), q.boundaries_.end(),
                             [](double a, double b) { return !(a < b); }) != q.boundaries_.end()) {
        throw config_error(r.field("boundaries"),
                           "strictly increasing numbers, at most one per quantile");
      }
      q.fitted_ = true;
    }
    r.finish();
    return q;
  }

  /// The transform's name in JSON and in messages.
  static constexpr std::string_view name = "quantile_bucketizer";

private:
  config config_;
  std::vector<double> boundaries_;
  std::size_t duplicates_ = 0;
  bool fitted_ = false;
};
static_assert(feature_transform<quantile_bucketizer>);

} // namespace data
MLSD_END_NAMESPACE
