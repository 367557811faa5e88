/// @file
/// Missing-value policies: imputation with the mean, the median, the most frequent value or a
/// constant, learnt on training data and applied identically at serving, with an optional missing
/// indicator. A value is missing when it is `std::nullopt` or NaN (parsers write NaN for an empty
/// numeric cell, so both spellings mean the same thing); ±inf is not missing but bad input.
///
/// ```cpp
/// mlsd::data::imputer fill({.feature = "age", .strategy = mlsd::data::impute_strategy::median});
/// fill.fit(training_ages);           // std::span<const std::optional<double>>
/// mlsd::data::standard_scaler scale({.feature = "age"});
/// scale.fit(imputed_training_ages);  // the training values after `fill`
/// const auto age = fill | scale;     // a stage from std::optional<double> to double
/// ```
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/fitting.hpp>
#include <mlsd/data/numeric.hpp> // running_moments, detail::require_finite, detail::sample_quantile

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

/// The statistic that replaces a missing value.
enum class impute_strategy {
  mean,          ///< the training mean (Welford), for roughly symmetric values
  median,        ///< the training median (robust to outliers and skew)
  most_frequent, ///< the training mode (ties: the smallest value, as scikit-learn), for codes
  constant,      ///< `config::fill_value`, e.g. 0 for "no purchases yet"
};

/// Whether an imputer also outputs a missing indicator. A compile-time choice because it changes
/// the imputer's output type (and so what it composes with).
enum class missing_indicator {
  none, ///< output the value alone (`double`), composable with the numeric transforms
  add,  ///< output `imputed_value`: the value and whether it was missing
};

/// A value after imputation, and the missing indicator: a model can learn that "missing" itself
/// carries signal (a field left empty on a fraudulent sign-up), which imputation alone hides.
struct imputed_value {
  /// The observed value, or the imputed statistic.
  double value = 0.0;
  /// True when the input was missing (`nullopt` or NaN).
  bool missing = false;

  friend bool operator==(const imputed_value&, const imputed_value&) = default;
};

/// Replaces missing values (`nullopt` or NaN) by a statistic of the observed training values.
///
/// `fit` ignores missing values, counts them (`missing_in_fit()`), and learns the statistic from
/// the rest; a training column with no observed value is an `input_error` naming the feature and
/// the transform (a column that is always missing is a bug upstream, not something to fill),
/// whatever the strategy. ±inf is an `input_error` at fit and at apply. Apply before fit throws
/// `not_fitted_error`.
///
/// Complexity: fit O(n) for mean and constant, O(n log n) for median and most frequent (a sorted
/// copy of the observed values); apply O(1), pure and thread-safe. Missing values seen at serving
/// are not counted here (apply is `const`): count them through the indicator.
template <missing_indicator Indicator = missing_indicator::none>
class basic_imputer : public feature_transform_tag {
public:
  /// Settings; validated on construction.
  struct config {
    /// The feature's name, used in error messages.
    std::string feature{};
    /// Which statistic fills missing values.
    impute_strategy strategy = impute_strategy::mean;
    /// The fill value of `impute_strategy::constant`; must be finite.
    double fill_value = 0.0;

    /// Throws `config_error` naming the bad field.
    void validate() const {
      if (!std::isfinite(fill_value)) {
        throw config_error("imputer.fill_value", "a finite number");
      }
    }
    /// The settings as JSON.
    [[nodiscard]] nlohmann::json to_json() const {
      return {{"feature", feature},
              {"strategy", detail::enum_name(strategy, strategy_names)},
              {"fill_value", fill_value}};
    }
    /// Settings from JSON (missing keys keep their defaults; unknown keys are errors).
    [[nodiscard]] static config from_json(const nlohmann::json& j) {
      detail::config_reader r(j, "imputer");
      config c;
      r.read("feature", c.feature);
      r.read_enum("strategy", c.strategy, strategy_names);
      r.read("fill_value", c.fill_value);
      r.finish();
      c.validate();
      return c;
    }
    friend void to_json(nlohmann::json& j, const config& c) { j = c.to_json(); }
    friend void from_json(const nlohmann::json& j, config& c) { c = config::from_json(j); }
  };

  using input_type = std::optional<double>;
  /// `double`, or `imputed_value` with `missing_indicator::add`.
  using output_type =
      std::conditional_t<Indicator == missing_indicator::add, imputed_value, double>;

  /// An unfitted mean imputer.
  basic_imputer() = default;
  /// An unfitted imputer; throws `config_error` for invalid settings.
  explicit basic_imputer(config c)
      : config_(std::move(c)) {
    config_.validate();
  }

  /// True for `nullopt` and NaN.
  [[nodiscard]] static bool is_missing(const std::optional<double>& x) noexcept {
    return !x.has_value() || std::isnan(*x);
  }

  /// Learns the statistic from the observed values of `values`. Throws `input_error` on an empty
  /// span, on ±inf (naming its row) and when every value is missing.
  void fit(std::span<const std::optional<double>> values) {
    fit_impl(values.size(), [&](std::size_t i) { return values[i]; });
  }
  /// The same for plain doubles, where NaN marks a missing value.
  void fit(std::span<const double> values) {
    fit_impl(values.size(), [&](std::size_t i) { return std::optional<double>(values[i]); });
  }

  /// The observed value, or the statistic when `x` is missing (with the indicator when
  /// `Indicator == add`). Throws `not_fitted_error` before fit, `input_error` on ±inf.
  [[nodiscard]] output_type operator()(std::optional<double> x) const {
    if (!fitted_) [[unlikely]] {
      throw not_fitted_error(std::string(name), config_.feature);
    }
    const bool missing = is_missing(x);
    double v = statistic_;
    if (!missing) {
      detail::require_finite(*x, name, config_.feature, false, 0);
      v = *x;
    }
    if constexpr (Indicator == missing_indicator::add) {
      return imputed_value{v, missing};
    } else {
      return v;
    }
  }

  /// Whether `fit` (or `from_json` of a fitted imputer) has run.
  [[nodiscard]] bool fitted() const noexcept { return fitted_; }
  /// The value that replaces a missing one.
  [[nodiscard]] double statistic() const noexcept { return statistic_; }
  /// How many training values were observed (not missing).
  [[nodiscard]] std::uint64_t observed_in_fit() const noexcept { return observed_; }
  /// How many training values were missing.
  [[nodiscard]] std::uint64_t missing_in_fit() const noexcept { return missing_; }
  /// The settings.
  [[nodiscard]] const config& settings() const noexcept { return config_; }

  /// Settings and the fitted statistic as JSON.
  [[nodiscard]] nlohmann::json to_json() const {
    nlohmann::json j = {{"transform", name},
                        {"missing_indicator", Indicator == missing_indicator::add},
                        {"config", config_.to_json()},
                        {"fitted", fitted_}};
    if (fitted_) {
      j["statistic"] = statistic_;
      j["observed"] = observed_;
      j["missing"] = missing_;
    }
    return j;
  }
  /// An imputer from `to_json`'s output; throws `config_error` naming a missing or bad key, also
  /// when the JSON was saved by an imputer with the other `missing_indicator`.
  [[nodiscard]] static basic_imputer from_json(const nlohmann::json& j) {
    detail::config_reader r(j, name);
    const bool fitted = detail::read_transform_header(r, name);
    bool indicator = false;
    r.require("missing_indicator", indicator);
    if (indicator != (Indicator == missing_indicator::add)) {
      throw config_error(r.field("missing_indicator"),
                         indicator ? "false (load it as imputer_with_indicator)"
                                   : "true (load it as imputer)");
    }
    basic_imputer t(config::from_json(r.at("config")));
    if (fitted) {
      r.require("statistic", t.statistic_);
      r.require("observed", t.observed_);
      r.require("missing", t.missing_);
      t.fitted_ = true;
    }
    r.finish();
    return t;
  }

  /// The transform's name in JSON and in messages.
  static constexpr std::string_view name = "imputer";
  /// The JSON names of `impute_strategy`.
  static constexpr std::array<std::pair<impute_strategy, std::string_view>, 4> strategy_names = {
      {{impute_strategy::mean, "mean"},
       {impute_strategy::median, "median"},
       {impute_strategy::most_frequent, "most_frequent"},
       {impute_strategy::constant, "constant"}}};

private:
  template <class Get>
  void fit_impl(std::size_t n, Get get) {
    if (n == 0) {
      detail::throw_empty_fit(name, config_.feature);
    }
    running_moments moments;
    std::vector<double> observed;
    const bool keep = config_.strategy == impute_strategy::median ||
                      config_.strategy == impute_strategy::most_frequent;
    std::uint64_t missing = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::optional<double> x = get(i);
      if (is_missing(x)) {
        ++missing;
        continue;
      }
      detail::require_finite(*x, name, config_.feature, true, i);
      moments.add(*x);
      if (keep) {
        observed.push_back(*x);
      }
    }
    if (moments.count() == 0) {
      throw input_error(input_position(detail::field_path(name, "fit"), 0, 0, config_.feature),
                        "at least one observed (not missing) training value", "all values missing");
    }
    double s = 0.0;
    switch (config_.strategy) {
    case impute_strategy::mean:
      s = moments.mean();
      break;
    case impute_strategy::median:
      std::sort(observed.begin(), observed.end());
      s = detail::sample_quantile(observed, 0.5);
      break;
    case impute_strategy::most_frequent: {
      std::sort(observed.begin(), observed.end());
      std::size_t best_count = 0;
      for (std::size_t i = 0; i < observed.size();) {
        std::size_t j = i;
        while (j < observed.size() && observed[j] == observed[i]) {
          ++j;
        }
        if (j - i > best_count) { // strictly greater: ties keep the smaller value
          best_count = j - i;
          s = observed[i];
        }
        i = j;
      }
      break;
    }
    case impute_strategy::constant:
      s = config_.fill_value;
      break;
    }
    statistic_ = s;
    observed_ = moments.count();
    missing_ = missing;
    fitted_ = true;
  }

  config config_;
  double statistic_ = 0.0;
  std::uint64_t observed_ = 0;
  std::uint64_t missing_ = 0;
  bool fitted_ = false;
};

/// An imputer whose output is the value alone (`double`).
using imputer = basic_imputer<missing_indicator::none>;
/// An imputer whose output is the value and the missing indicator (`imputed_value`).
using imputer_with_indicator = basic_imputer<missing_indicator::add>;

static_assert(feature_transform<imputer>);
static_assert(feature_transform<imputer_with_indicator>);

} // namespace data
MLSD_END_NAMESPACE
