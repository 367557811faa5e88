/// @file
/// Calibration of predicted probabilities: the reliability curve (mean prediction against the
/// observed positive rate per bin of predictions, DeGroot & Fienberg 1983; Niculescu-Mizil &
/// Caruana 2005) and the expected calibration error (Naeini, Cooper & Hauskrecht 2015; Guo et
/// al. 2017). The calibration ratio, one number over all observations, is in classification.hpp.
///
/// The bins are scikit-learn's `calibration_curve`'s, edge for edge: `uniform` cuts [0, 1] into
/// `bins` equal widths (edges `numpy.linspace(0, 1, bins + 1)`), `quantile` puts the edges at
/// the `k/bins` percentiles of the predictions (`numpy.percentile`, linear interpolation). A
/// prediction equal to an inner edge belongs to the bin *below* it (`numpy.searchsorted`, side
/// left): bins are `(lower, upper]`, except the first, `[lower, upper]`. Empty bins are left out.
///
/// ```cpp
/// namespace ev = mlsd::evaluation;
/// ev::reliability_curve curve({.bins = 10, .strategy = ev::reliability_binning::uniform});
/// for (auto [p, y] : stream) curve.add({p, y});
/// for (const ev::reliability_bin& b : curve.result())
///   std::printf("(%.1f, %.1f] n=%llu predicted %.3f observed %.3f\n", b.lower, b.upper,
///               static_cast<unsigned long long>(b.count), b.mean_prediction, b.observed_rate);
/// const double ece = ev::expected_calibration_error_of(probabilities, labels);
/// ```
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/evaluation/classification.hpp>
#include <mlsd/evaluation/metric.hpp>
#include <mlsd/model/loss.hpp>
#include <mlsd/requirements/requirements.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace evaluation {

/// How the reliability curve cuts [0, 1] into bins.
enum class reliability_binning : std::uint8_t {
  /// `bins` equal widths: O(bins) memory, any number of observations. The usual choice, and
  /// the one a reliability diagram reads naturally; bins in the tails may hold few observations.
  uniform,
  /// Edges at the percentiles of the predictions, so every bin holds about n / bins
  /// observations: better estimates where a CTR model crowds its predictions near the base
  /// rate. Needs every prediction (4 bytes per observation) until `result()`.
  quantile,
};

/// The reliability curve's and the expected calibration error's binning.
struct reliability_config {
  /// Number of bins, from 1 to 1,000,000.
  std::size_t bins = 10;
  /// Uniform widths or quantiles of the predictions.
  reliability_binning strategy = reliability_binning::uniform;

  /// Throws `config_error` naming `reliability.bins` unless 1 <= bins <= 1,000,000.
  void validate() const {
    if (bins < 1 || bins > 1'000'000) {
      throw config_error("reliability.bins", "an integer from 1 to 1000000");
    }
  }
  friend bool operator==(const reliability_config&, const reliability_config&) = default;
};

namespace detail {
inline constexpr std::array<std::pair<reliability_binning, std::string_view>, 2>
    reliability_binning_names = {
        {{reliability_binning::uniform, "uniform"}, {reliability_binning::quantile, "quantile"}}};
} // namespace detail

/// JSON: `{"bins": 10, "strategy": "uniform"}` (or `"quantile"`).
inline void to_json(nlohmann::json& j, const reliability_config& c) {
  j = nlohmann::json{
      {"bins", c.bins},
      {"strategy", data::detail::enum_name(c.strategy, detail::reliability_binning_names)}};
}
/// Reads `to_json`'s form (absent keys keep their defaults; unknown keys are errors); throws
/// `config_error` naming the field.
inline void from_json(const nlohmann::json& j, reliability_config& c) {
  data::detail::config_reader r(j, "reliability");
  reliability_config out;
  r.read("bins", out.bins, std::size_t{1}, std::size_t{1'000'000});
  r.read_enum("strategy", out.strategy, detail::reliability_binning_names);
  r.finish();
  out.validate();
  c = out;
}

/// One non-empty bin of a reliability curve.
struct reliability_bin {
  double lower = 0.0;           ///< the bin's lower edge (excluded, except for the first bin)
  double upper = 0.0;           ///< the bin's upper edge (included)
  std::uint64_t count = 0;      ///< observations in the bin, > 0
  double mean_prediction = 0.0; ///< mean predicted probability in the bin
  double observed_rate = 0.0;   ///< share of positive labels in the bin
  friend bool operator==(const reliability_bin&, const reliability_bin&) = default;
};

/// JSON: `{"lower": 0.1, "upper": 0.2, "count": 42, "mean_prediction": 0.15,
/// "observed_rate": 0.14}`.
inline void to_json(nlohmann::json& j, const reliability_bin& b) {
  j = nlohmann::json{{"lower", b.lower},
                     {"upper", b.upper},
                     {"count", b.count},
                     {"mean_prediction", b.mean_prediction},
                     {"observed_rate", b.observed_rate}};
}

namespace detail {

/// `numpy.linspace(0, 1, bins + 1)[k]`: `k · (1 / bins)`, the last edge exactly 1.
[[nodiscard]] inline double uniform_edge(std::size_t k, std::size_t bins) noexcept {
  return k == bins ? 1.0 : static_cast<double>(k) * (1.0 / static_cast<double>(bins));
}

/// The bin of `p` among `bins` uniform bins: the number of inner edges strictly below `p`
/// (`numpy.searchsorted(edges[1:-1], p)`, side left).
[[nodiscard]] inline std::size_t uniform_bin(double p, std::size_t bins) noexcept {
  std::size_t b = std::min(bins - 1, static_cast<std::size_t>(p * static_cast<double>(bins)));
  while (b > 0 && p <= uniform_edge(b, bins)) {
    --b;
  }
  while (b + 1 < bins && p > uniform_edge(b + 1, bins)) {
    ++b;
  }
  return b;
}

/// Per-bin sums: observations, predictions and positives.
struct bin_sums {
  std::uint64_t count = 0;
  double predicted = 0.0;
  std::uint64_t positives = 0;
};

} // namespace detail

/// The reliability curve: per bin of predicted probability, the number of observations, their
/// mean prediction and their observed positive rate; a calibrated model has
/// `mean_prediction ≈ observed_rate` in every bin. The values of scikit-learn's
/// `calibration_curve(y, p, n_bins=bins, strategy=...)` (`prob_pred`, `prob_true`), with the
/// counts and edges beside them; bins and edges as the file comment says.
///
/// Uniform bins keep three sums per bin (O(bins) memory, O(1) per observation; `merge` adds the
/// sums, equal to adding all up to floating-point rounding of the prediction sums). Quantile
/// bins need the predictions themselves: 4 bytes per observation, positives and negatives apart,
/// sorted in `result()` (O(n log n), a cache as in `roc_auc`; not thread-safe); `merge` appends.
/// Predictions must be probabilities in [0, 1]. Undefined (throws `undefined_metric`) with no
/// observations.
class reliability_curve : public metric_tag {
public:
  using observation_type = scored_label;
  using result_type = std::vector<reliability_bin>;
  using config = reliability_config;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "reliability_curve";

  /// @throws config_error when `cfg` is invalid.
  explicit reliability_curve(config cfg = {})
      : cfg_(cfg) {
    cfg_.validate();
    if (cfg_.strategy == reliability_binning::uniform) {
      sums_.resize(cfg_.bins);
    }
  }

  /// Adds one observation. @throws input_error for a score outside [0, 1] or a NaN label.
  void add(const scored_label& o) {
    detail::check_probability(name, "score", o.score);
    detail::check_not_nan(name, "label", o.label);
    const bool positive = model::is_positive(o.label);
    if (cfg_.strategy == reliability_binning::uniform) {
      detail::bin_sums& b = sums_[detail::uniform_bin(static_cast<double>(o.score), cfg_.bins)];
      ++b.count;
      b.predicted += static_cast<double>(o.score);
      b.positives += positive ? 1 : 0;
    } else {
      (positive ? positives_ : negatives_).push_back(o.score);
      sorted_ = false;
    }
    ++count_;
  }

  /// Adds `other`'s observations (`other` may be `*this`). @throws config_error when the
  /// configurations differ.
  void merge(const reliability_curve& other) {
    detail::check_same_config(cfg_ == other.cfg_, "reliability");
    if (&other == this) {
      const reliability_curve copy = other;
      merge(copy);
      return;
    }
    for (std::size_t b = 0; b < sums_.size(); ++b) {
      sums_[b].count += other.sums_[b].count;
      sums_[b].predicted += other.sums_[b].predicted;
      sums_[b].positives += other.sums_[b].positives;
    }
    positives_.insert(positives_.end(), other.positives_.begin(), other.positives_.end());
    negatives_.insert(negatives_.end(), other.negatives_.begin(), other.negatives_.end());
    sorted_ = sorted_ && other.positives_.empty() && other.negatives_.empty();
    count_ += other.count_;
  }

  /// The non-empty bins, in increasing order of prediction. @throws undefined_metric with no
  /// observations.
  [[nodiscard]] std::vector<reliability_bin> result() const {
    if (count_ == 0) {
      throw undefined_metric(std::string(name), "no observations");
    }
    std::vector<double> edges(cfg_.bins + 1);
    std::vector<detail::bin_sums> quantile_sums;
    const std::vector<detail::bin_sums>* sums = &sums_;
    if (cfg_.strategy == reliability_binning::uniform) {
      for (std::size_t k = 0; k <= cfg_.bins; ++k) {
        edges[k] = detail::uniform_edge(k, cfg_.bins);
      }
    } else {
      quantile_edges(edges);
      quantile_sums = quantile_bins(edges);
      sums = &quantile_sums;
    }
    std::vector<reliability_bin> out;
    for (std::size_t b = 0; b < cfg_.bins; ++b) {
      const detail::bin_sums& s = (*sums)[b];
      if (s.count == 0) {
        continue;
      }
      const double n = static_cast<double>(s.count);
      out.push_back({.lower = edges[b],
                     .upper = edges[b + 1],
                     .count = s.count,
                     .mean_prediction = s.predicted / n,
                     .observed_rate = static_cast<double>(s.positives) / n});
    }
    return out;
  }

  /// Observations added so far.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// The configuration.
  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }

private:
  void sort() const {
    if (!sorted_) {
      std::sort(positives_.begin(), positives_.end());
      std::sort(negatives_.begin(), negatives_.end());
      sorted_ = true;
    }
  }

  // numpy.percentile(p, linspace(0, 1, bins + 1) * 100) with the default linear method, on
  // float32 predictions, operation for operation: the virtual index (n - 1)·q, then
  // a + (b - a)·g, or b - (b - a)·(1 - g) when g >= 1/2 (numpy's `_lerp`), b - a in float.
  // The order statistics are read from the two sorted classes by one merge walk.
  void quantile_edges(std::vector<double>& edges) const {
    sort();
    const std::size_t n = positives_.size() + negatives_.size();
    const std::size_t bins = cfg_.bins;
    std::vector<std::size_t> previous(bins + 1);
    std::vector<double> gamma(bins + 1);
    std::vector<std::size_t> ranks;
    ranks.reserve(2 * (bins + 1));
    for (std::size_t k = 0; k <= bins; ++k) {
      const double q = detail::uniform_edge(k, bins) * 100.0 / 100.0;
      const double virtual_index = static_cast<double>(n - 1) * q;
      if (virtual_index >= static_cast<double>(n - 1)) {
        previous[k] = n - 1;
        gamma[k] = 0.0;
      } else {
        const double floor_index = std::floor(virtual_index);
        previous[k] = static_cast<std::size_t>(floor_index);
        gamma[k] = virtual_index - floor_index;
      }
      ranks.push_back(previous[k]);
      ranks.push_back(std::min(previous[k] + 1, n - 1));
    }
    std::sort(ranks.begin(), ranks.end());
    ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
    std::vector<float> values(ranks.size());
    std::size_t i = 0;
    std::size_t j = 0;
    std::size_t next_rank = 0;
    for (std::size_t rank = 0; next_rank < ranks.size(); ++rank) {
      const bool from_positives =
          j == negatives_.size() || (i < positives_.size() && positives_[i] <= negatives_[j]);
      const float v = from_positives ? positives_[i++] : negatives_[j++];
      if (rank == ranks[next_rank]) {
        values[next_rank++] = v;
      }
    }
    const auto value_at = [&](std::size_t rank) {
      return values[static_cast<std::size_t>(std::lower_bound(ranks.begin(), ranks.end(), rank) -
                                             ranks.begin())];
    };
    for (std::size_t k = 0; k <= bins; ++k) {
      const float a = value_at(previous[k]);
      const float b = value_at(std::min(previous[k] + 1, n - 1));
      const double diff = static_cast<double>(b - a);
      edges[k] = gamma[k] >= 0.5 ? static_cast<double>(b) - diff * (1.0 - gamma[k])
                                 : static_cast<double>(a) + diff * gamma[k];
    }
  }

  // Bin b holds the predictions p with edges[b] < p <= edges[b + 1] (the first bin also p below
  // edges[1]; the last everything above edges[bins - 1]): searchsorted(edges[1:-1], p), side left.
  [[nodiscard]] std::vector<detail::bin_sums>
  quantile_bins(const std::vector<double>& edges) const {
    std::vector<detail::bin_sums> sums(cfg_.bins);
    const auto walk = [&](const std::vector<float>& sorted, bool positive) {
      std::size_t b = 0;
      for (const float p : sorted) {
        while (b + 1 < cfg_.bins && static_cast<double>(p) > edges[b + 1]) {
          ++b;
        }
        ++sums[b].count;
        sums[b].predicted += static_cast<double>(p);
        sums[b].positives += positive ? 1 : 0;
      }
    };
    walk(positives_, true);
    walk(negatives_, false);
    return sums;
  }

  config cfg_;
  std::vector<detail::bin_sums> sums_;   // uniform: one per bin
  mutable std::vector<float> positives_; // quantile: the positives' predictions
  mutable std::vector<float> negatives_; // quantile: the negatives' predictions
  mutable bool sorted_ = true;
  std::uint64_t count_ = 0;
};

/// The expected calibration error over the reliability curve's bins (Naeini, Cooper &
/// Hauskrecht 2015, "Obtaining well calibrated probabilities using Bayesian binning", AAAI; Guo
/// et al. 2017, "On calibration of modern neural networks", ICML):
///
///     ECE = Σ_b (n_b / N) · |mean_prediction_b - observed_rate_b|,
///
/// the mean absolute gap between prediction and outcome rate, weighted by bin size. This is the
/// binary, positive-class form (Naeini et al.): it bins the predicted probability of the positive
/// class. Guo et al. bin the top-label confidence max(p, 1 - p) against the accuracy instead,
/// which for two classes gives a different number; mlsd's is the one that a CTR model's bid
/// depends on. In [0, 1], 0 for a perfectly calibrated binning. It depends on the binning (more
/// bins, more noise; a model can be badly calibrated inside one bin): report it with its config.
/// Memory and complexity as `reliability_curve`. Undefined with no observations.
class expected_calibration_error : public metric_tag {
public:
  using observation_type = scored_label;
  using result_type = double;
  using config = reliability_config;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "expected_calibration_error";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::expected_calibration_error;

  /// @throws config_error when `cfg` is invalid.
  explicit expected_calibration_error(config cfg = {})
      : curve_(cfg) {}

  /// Adds one observation. @throws input_error for a score outside [0, 1] or a NaN label.
  void add(const scored_label& o) {
    try {
      curve_.add(o);
    } catch (const input_error& e) {
      input_position where = e.where();
      where.file = std::string(name);
      throw input_error(std::move(where), e.expected(), e.found());
    }
  }
  /// Adds `other`'s observations. @throws config_error when the configurations differ.
  void merge(const expected_calibration_error& other) { curve_.merge(other.curve_); }

  /// ECE in [0, 1]. @throws undefined_metric with no observations.
  [[nodiscard]] double result() const {
    if (curve_.count() == 0) {
      throw undefined_metric(std::string(name), "no observations");
    }
    double sum = 0.0;
    for (const reliability_bin& b : curve_.result()) {
      sum += static_cast<double>(b.count) * std::abs(b.mean_prediction - b.observed_rate);
    }
    return sum / static_cast<double>(curve_.count());
  }

  /// The curve the error is computed from.
  [[nodiscard]] const reliability_curve& curve() const noexcept { return curve_; }
  /// Observations added so far.
  [[nodiscard]] std::uint64_t count() const noexcept { return curve_.count(); }
  /// The configuration.
  [[nodiscard]] const config& configuration() const noexcept { return curve_.configuration(); }

private:
  reliability_curve curve_;
};

static_assert(metric_accumulator<reliability_curve>);
static_assert(metric_accumulator<expected_calibration_error>);

/// The reliability curve of the probabilities `scores` (see `reliability_curve`).
/// @throws std::invalid_argument when the sizes differ; input_error naming `scores[i]` for a
/// value outside [0, 1] or `labels[i]` for a NaN; undefined_metric when empty; config_error.
[[nodiscard]] inline std::vector<reliability_bin>
reliability_curve_of(std::span<const float> scores, std::span<const float> labels,
                     reliability_config cfg = {}) {
  return detail::accumulate_pairs(reliability_curve(cfg), "reliability_curve_of", scores, "scores",
                                  labels, "labels");
}

/// The expected calibration error of the probabilities `scores` (see
/// `expected_calibration_error`). @throws as `reliability_curve_of`.
[[nodiscard]] inline double expected_calibration_error_of(std::span<const float> scores,
                                                          std::span<const float> labels,
                                                          reliability_config cfg = {}) {
  return detail::accumulate_pairs(expected_calibration_error(cfg), "expected_calibration_error_of",
                                  scores, "scores", labels, "labels");
}

} // namespace evaluation
MLSD_END_NAMESPACE
