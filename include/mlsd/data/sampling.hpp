/// @file
/// Sampling for imbalanced and implicit-feedback data: negative sampling for (user, item)
/// positives, negative downsampling with the calibration correction that undoes it, class weights,
/// and SMOTE.
///
/// ```cpp
/// // Keep 10% of the negatives of a click log; the config travels with the model as JSON.
/// const mlsd::data::negative_downsampler down({.negative_keep_rate = 0.1, .seed = 7});
/// const auto kept = down.sample(labels);              // kept.rows: indices of the rows to train
/// on nlohmann::json model_meta = {{"downsampling", down.configuration()}}; const double p =
/// down.calibrate(model_score);        // back to the rate of the full traffic
/// ```
///
/// Every random choice is seeded and deterministic: the same config and input give the same
/// output on every platform (the SplitMix64 generator of data/detail/random.hpp, not `<random>`'s
/// distributions, whose algorithms differ between standard libraries).
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/matrix_view.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/random.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

// ---------------------------------------------------------------------------------------------
// Negative sampling for implicit feedback
// ---------------------------------------------------------------------------------------------

/// A (user, item) interaction. Items are indices into a catalogue `[0, catalogue_size)`.
struct user_item {
  std::uint64_t user = 0;
  std::uint32_t item = 0;

  friend bool operator==(const user_item&, const user_item&) = default;
};

/// How negatives are drawn from the catalogue.
enum class negative_distribution {
  uniform,    ///< every item equally likely
  popularity, ///< item `i` with probability proportional to `count_i ^ popularity_exponent`
};

/// The negative sampler's policy.
struct negative_sampling_config {
  /// Negatives drawn for each positive (`k`), with replacement, as in word2vec.
  std::size_t negatives_per_positive = 4;
  negative_distribution distribution = negative_distribution::uniform;
  /// The exponent of the popularity distribution; 0.75 is the unigram^(3/4) of Mikolov et al.
  /// 2013 ("Distributed representations of words and phrases and their compositionality").
  double popularity_exponent = 0.75;
  std::uint64_t seed = 0;
  /// Consecutive draws that hit one of the user's positives before the sampler switches to exact
  /// sampling from the user's complement (O(catalogue)); bounds the time for heavy users.
  std::size_t max_rejections = 64;

  /// Throws `config_error` naming the field.
  void validate() const {
    if (negatives_per_positive == 0) {
      throw config_error("negative_sampling.negatives_per_positive", "an integer >= 1");
    }
    if (!std::isfinite(popularity_exponent) || popularity_exponent < 0.0) {
      throw config_error("negative_sampling.popularity_exponent", "a finite number >= 0");
    }
    if (max_rejections == 0) {
      throw config_error("negative_sampling.max_rejections", "an integer >= 1");
    }
  }
  friend bool operator==(const negative_sampling_config&,
                         const negative_sampling_config&) = default;
};

namespace detail {
inline constexpr std::array<std::pair<negative_distribution, std::string_view>, 2>
    negative_distribution_names = {{{negative_distribution::uniform, "uniform"},
                                    {negative_distribution::popularity, "popularity"}}};
} // namespace detail

/// JSON: `{"negatives_per_positive", "distribution": "uniform"|"popularity",
/// "popularity_exponent", "seed", "max_rejections"}`.
inline void to_json(nlohmann::json& j, const negative_sampling_config& c) {
  j = nlohmann::json{
      {"negatives_per_positive", c.negatives_per_positive},
      {"distribution", detail::enum_name(c.distribution, detail::negative_distribution_names)},
      {"popularity_exponent", c.popularity_exponent},
      {"seed", c.seed},
      {"max_rejections", c.max_rejections}};
}
/// Reads `to_json`'s form; every field is required, unknown keys are errors; throws
/// `config_error` naming the field.
inline void from_json(const nlohmann::json& j, negative_sampling_config& c) {
  detail::config_reader r(j, "negative_sampling");
  negative_sampling_config out;
  r.require("negatives_per_positive", out.negatives_per_positive);
  r.require_enum("distribution", out.distribution, detail::negative_distribution_names);
  r.require("popularity_exponent", out.popularity_exponent);
  r.require("seed", out.seed);
  r.require("max_rejections", out.max_rejections);
  r.finish();
  out.validate();
  c = out;
}

/// What `negative_sampler::sample` drew.
struct negative_samples {
  /// The negatives, `negatives_per_positive` per positive in the order of the positives (fewer
  /// for a positive whose user has no item left, see `shortfall`).
  std::vector<user_item> negatives{};
  /// For each negative, the index of the positive it was drawn for.
  std::vector<std::size_t> positive_index{};
  /// Negatives that could not be drawn because the user's positives cover every item of
  /// non-zero probability.
  std::uint64_t shortfall = 0;
  /// Draws that hit one of the user's positives and were drawn again (a diagnostic).
  std::uint64_t rejected_draws = 0;
};

/// Samples `k` negatives per positive (user, item) from the catalogue, excluding every item the
/// user has a positive for, uniformly or by popularity^0.75 (Mikolov et al. 2013).
///
/// Draws are rejection sampling from the global distribution, which is exact for the distribution
/// restricted to the user's non-positives; after `max_rejections` consecutive rejections the
/// sampler draws from the user's complement directly. Complexity: O(n log n) for n positives to
/// index the users' positives, then O(1) (uniform) or O(log catalogue) (popularity) expected per
/// draw for users with few positives. Const and thread-safe: all state is local to `sample`.
class negative_sampler {
public:
  using config = negative_sampling_config;

  /// A sampler over `catalogue_size` items; the popularity distribution needs counts, so this
  /// constructor requires `distribution == uniform` (else `config_error`).
  negative_sampler(config cfg, std::size_t catalogue_size)
      : cfg_(cfg)
      , size_(catalogue_size) {
    cfg_.validate();
    if (cfg_.distribution != negative_distribution::uniform) {
      throw config_error("negative_sampling.distribution",
                         "\"uniform\" when no item counts are given (popularity needs counts)");
    }
    check_size();
  }

  /// A sampler over the items `0 .. item_counts.size() - 1` with `item_counts[i]` positives each
  /// (the popularity; ignored by the uniform distribution). An item with count 0 is never drawn
  /// by the popularity distribution: add 1 to every count to give cold items a chance.
  negative_sampler(config cfg, std::span<const std::uint64_t> item_counts)
      : cfg_(cfg)
      , size_(item_counts.size()) {
    cfg_.validate();
    check_size();
    if (cfg_.distribution == negative_distribution::popularity) {
      cumulative_.resize(size_);
      double total = 0.0;
      for (std::size_t i = 0; i < size_; ++i) {
        const double w = item_counts[i] == 0 ? 0.0
                                             : std::pow(static_cast<double>(item_counts[i]),
                                                        cfg_.popularity_exponent);
        total += w;
        cumulative_[i] = total;
        if (w > 0.0) {
          last_positive_ = static_cast<std::uint32_t>(i);
        }
      }
      if (!(total > 0.0)) {
        throw input_error({"negative_sampler", 0, 0, "item_counts"},
                          "at least one item with a count > 0 for the popularity distribution",
                          "all counts 0");
      }
    }
  }

  /// The probability that one draw (before excluding the user's positives) returns `item`.
  [[nodiscard]] double probability(std::uint32_t item) const noexcept {
    if (item >= size_) {
      return 0.0;
    }
    if (cumulative_.empty()) {
      return 1.0 / static_cast<double>(size_);
    }
    const double below = item == 0 ? 0.0 : cumulative_[item - 1];
    return (cumulative_[item] - below) / cumulative_.back();
  }

  /// Draws negatives for every positive. Throws `input_error` (field "item", file
  /// "positives[i]") for an item outside the catalogue.
  [[nodiscard]] negative_samples sample(std::span<const user_item> positives) const {
    std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> seen;
    for (std::size_t i = 0; i < positives.size(); ++i) {
      if (positives[i].item >= size_) {
        std::string expected = "an item index < catalogue size ";
        expected += std::to_string(size_);
        throw input_error({detail::indexed_path("positives", i), 0, 0, "item"}, std::move(expected),
                          std::to_string(positives[i].item));
      }
      seen[positives[i].user].push_back(positives[i].item);
    }
    for (auto& [user, items] : seen) {
      std::sort(items.begin(), items.end());
      items.erase(std::unique(items.begin(), items.end()), items.end());
    }
    negative_samples out;
    out.negatives.reserve(positives.size() * cfg_.negatives_per_positive);
    out.positive_index.reserve(positives.size() * cfg_.negatives_per_positive);
    detail::splitmix64 rng(cfg_.seed);
    std::vector<double> complement; // scratch for the exact fallback
    for (std::size_t i = 0; i < positives.size(); ++i) {
      const std::uint64_t user = positives[i].user;
      const std::vector<std::uint32_t>& mine = seen.find(user)->second;
      const auto is_positive = [&mine](std::uint32_t item) {
        return std::binary_search(mine.begin(), mine.end(), item);
      };
      for (std::size_t j = 0; j < cfg_.negatives_per_positive; ++j) {
        bool drawn = false;
        std::uint32_t item = 0;
        for (std::size_t attempt = 0; attempt < cfg_.max_rejections; ++attempt) {
          item = draw(rng);
          if (!is_positive(item)) {
            drawn = true;
            break;
          }
          ++out.rejected_draws;
        }
        if (!drawn && !draw_from_complement(rng, is_positive, complement, item)) {
          out.shortfall += cfg_.negatives_per_positive - j;
          break;
        }
        out.negatives.push_back({user, item});
        out.positive_index.push_back(i);
      }
    }
    return out;
  }

  [[nodiscard]] std::size_t catalogue_size() const noexcept { return size_; }
  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }

private:
  void check_size() const {
    if (size_ == 0 || size_ > std::numeric_limits<std::uint32_t>::max()) {
      throw input_error({"negative_sampler", 0, 0, "catalogue_size"},
                        "a catalogue of 1 to 2^32 - 1 items", std::to_string(size_));
    }
  }

  [[nodiscard]] std::uint32_t draw(detail::splitmix64& rng) const noexcept {
    if (cumulative_.empty()) {
      return static_cast<std::uint32_t>(rng.below(size_));
    }
    const double u = rng.uniform() * cumulative_.back();
    const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
    // u * total can round up to total itself; the last item with weight is then the answer.
    return it == cumulative_.end() ? last_positive_
                                   : static_cast<std::uint32_t>(it - cumulative_.begin());
  }

  // Exact sampling from the items the user has no positive for; false when they have none left.
  template <class IsPositive>
  bool draw_from_complement(detail::splitmix64& rng, const IsPositive& is_positive,
                            std::vector<double>& cumulative, std::uint32_t& item) const {
    cumulative.resize(size_);
    double total = 0.0;
    for (std::uint32_t i = 0; i < size_; ++i) {
      if (!is_positive(i)) {
        total += probability(i);
      }
      cumulative[i] = total;
    }
    if (!(total > 0.0)) {
      return false;
    }
    const double u = rng.uniform() * total;
    auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
    if (it == cumulative.end()) {
      it = std::lower_bound(cumulative.begin(), cumulative.end(), total);
    }
    item = static_cast<std::uint32_t>(it - cumulative.begin());
    return true;
  }

  config cfg_;
  std::size_t size_ = 0;
  std::vector<double> cumulative_; // empty for the uniform distribution
  std::uint32_t last_positive_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Negative downsampling and its calibration correction
// ---------------------------------------------------------------------------------------------

/// The probability on the full traffic of a prediction `p` made by a model trained on data whose
/// negatives were kept with probability `w`: `p' = p / (p + (1 - p) / w)` (He et al. 2014,
/// "Practical lessons from predicting clicks on ads at Facebook", ADKDD). Downsampling
/// multiplies the odds by `1 / w`; this multiplies them back by `w`.
[[nodiscard]] constexpr double calibrate_downsampled(double p, double w) noexcept {
  return p / (p + (1.0 - p) / w);
}

/// Negative downsampling's policy: `negative_keep_rate` is the `w` the model was trained with.
/// Store it with the model (it is JSON) so that serving applies the same correction.
struct downsampling_config {
  /// Probability of keeping a negative, `0 < w <= 1` (1 keeps everything).
  double negative_keep_rate = 1.0;
  std::uint64_t seed = 0;

  /// Throws `config_error` unless `0 < negative_keep_rate <= 1`.
  void validate() const {
    if (!(negative_keep_rate > 0.0 && negative_keep_rate <= 1.0)) {
      throw config_error("downsampling.negative_keep_rate", "a number in (0, 1]");
    }
  }
  friend bool operator==(const downsampling_config&, const downsampling_config&) = default;
};

/// JSON: `{"negative_keep_rate": w, "seed": s}`.
inline void to_json(nlohmann::json& j, const downsampling_config& c) {
  j = nlohmann::json{{"negative_keep_rate", c.negative_keep_rate}, {"seed", c.seed}};
}
/// Reads `to_json`'s form; both fields required, unknown keys are errors; throws `config_error`
/// naming the field.
inline void from_json(const nlohmann::json& j, downsampling_config& c) {
  detail::config_reader r(j, "downsampling");
  downsampling_config out;
  r.require("negative_keep_rate", out.negative_keep_rate);
  r.require("seed", out.seed);
  r.finish();
  out.validate();
  c = out;
}

/// The rows a downsampler kept, and the counts of each kind.
struct downsampled_rows {
  std::vector<std::size_t> rows{}; ///< indices of the kept rows, ascending
  std::uint64_t positives = 0;     ///< all kept
  std::uint64_t negatives_kept = 0;
  std::uint64_t negatives_dropped = 0;
};

/// Keeps every positive and each negative with probability `w`.
///
/// The decision for row `r` is a hash of (seed, r), not a draw from a running generator, so it
/// does not depend on the order rows are processed in, shards agree, and a row re-read keeps the
/// same fate. Const and thread-safe.
class negative_downsampler {
public:
  using config = downsampling_config;

  explicit negative_downsampler(config cfg = {})
      : cfg_(cfg) {
    cfg_.validate();
  }

  /// Whether row `row` is kept (every positive is).
  [[nodiscard]] bool keeps(std::uint64_t row, bool positive) const noexcept {
    return positive || detail::splitmix64::to_unit(detail::splitmix64::hash(cfg_.seed, row)) <
                           cfg_.negative_keep_rate;
  }

  /// Downsamples rows by their labels (positive: `label > 0`, so 0/1 and -1/+1 both work).
  [[nodiscard]] downsampled_rows sample(std::span<const float> labels) const {
    downsampled_rows out;
    for (std::size_t r = 0; r < labels.size(); ++r) {
      const bool positive = labels[r] > 0.0f;
      if (keeps(r, positive)) {
        out.rows.push_back(r);
        out.positives += positive ? 1 : 0;
        out.negatives_kept += positive ? 0 : 1;
      } else {
        ++out.negatives_dropped;
      }
    }
    return out;
  }

  /// `calibrate_downsampled(p, w)`: a prediction of the model trained on the kept rows, corrected
  /// to the full traffic.
  [[nodiscard]] double calibrate(double p) const noexcept {
    return calibrate_downsampled(p, cfg_.negative_keep_rate);
  }

  /// The importance weight `1 / w` of a kept negative: the alternative to `calibrate` (train with
  /// this weight on negatives and the model stays calibrated, at the cost of higher variance).
  [[nodiscard]] double negative_weight() const noexcept { return 1.0 / cfg_.negative_keep_rate; }

  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }

private:
  config cfg_;
};

// ---------------------------------------------------------------------------------------------
// Class weights
// ---------------------------------------------------------------------------------------------

namespace detail {
inline void check_class_labels(std::span<const std::uint32_t> labels, std::size_t n_classes) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= n_classes) {
      std::string expected = "a class in [0, ";
      expected += std::to_string(n_classes);
      expected += ')';
      throw input_error({indexed_path("labels", i), 0, 0, "label"}, std::move(expected),
                        std::to_string(labels[i]));
    }
  }
}
} // namespace detail

/// "Balanced" class weights, `n_samples / (n_classes * count_c)`: scikit-learn's definition
/// (`sklearn.utils.class_weight.compute_class_weight("balanced", ...)`, after King and Zeng 2001,
/// "Logistic regression in rare events data"). Each class then carries the same total weight.
/// Labels are class indices `0 .. n_classes - 1`. Throws `input_error` for a label out of range
/// or a class with no sample (its weight would be infinite). O(n).
[[nodiscard]] inline std::vector<double>
balanced_class_weights(std::span<const std::uint32_t> labels, std::size_t n_classes) {
  if (n_classes == 0) {
    throw input_error({"class_weights", 0, 0, "n_classes"}, "at least 1 class", "0");
  }
  detail::check_class_labels(labels, n_classes);
  std::vector<std::uint64_t> counts(n_classes, 0);
  for (const std::uint32_t c : labels) {
    ++counts[c];
  }
  std::vector<double> weights(n_classes);
  for (std::size_t c = 0; c < n_classes; ++c) {
    if (counts[c] == 0) {
      std::string expected = "at least one sample of class ";
      expected += std::to_string(c);
      throw input_error({"class_weights", 0, 0, "labels"}, std::move(expected), "none");
    }
    weights[c] = static_cast<double>(labels.size()) /
                 (static_cast<double>(n_classes) * static_cast<double>(counts[c]));
  }
  return weights;
}

/// How class weights are chosen.
enum class class_weight_mode {
  balanced, ///< `balanced_class_weights`
  given,    ///< the `weights` listed in the config
};

/// The class-weight policy.
struct class_weight_config {
  class_weight_mode mode = class_weight_mode::balanced;
  /// One weight per class for `given`, each finite and > 0; ignored for `balanced`.
  std::vector<double> weights{};

  /// Throws `config_error` naming the field.
  void validate() const {
    if (mode == class_weight_mode::given) {
      if (weights.empty()) {
        throw config_error("class_weights.weights", "one weight per class for mode \"given\"");
      }
      for (std::size_t c = 0; c < weights.size(); ++c) {
        if (!std::isfinite(weights[c]) || !(weights[c] > 0.0)) {
          throw config_error(detail::indexed_path("class_weights.weights", c),
                             "a finite number > 0");
        }
      }
    }
  }
  friend bool operator==(const class_weight_config&, const class_weight_config&) = default;
};

namespace detail {
inline constexpr std::array<std::pair<class_weight_mode, std::string_view>, 2>
    class_weight_mode_names = {
        {{class_weight_mode::balanced, "balanced"}, {class_weight_mode::given, "given"}}};
} // namespace detail

/// JSON: `{"mode": "balanced"|"given", "weights": [...]}`.
inline void to_json(nlohmann::json& j, const class_weight_config& c) {
  j = nlohmann::json{{"mode", detail::enum_name(c.mode, detail::class_weight_mode_names)},
                     {"weights", c.weights}};
}
/// Reads `to_json`'s form (unknown keys are errors); throws `config_error` naming the field.
inline void from_json(const nlohmann::json& j, class_weight_config& c) {
  detail::config_reader r(j, "class_weights");
  class_weight_config out;
  r.require_enum("mode", out.mode, detail::class_weight_mode_names);
  r.require("weights", out.weights);
  r.finish();
  out.validate();
  c = std::move(out);
}

/// The weight of each class under `cfg`: balanced from `labels`, or the given ones (then their
/// number must be `n_classes`, else `input_error`).
[[nodiscard]] inline std::vector<double> class_weights(const class_weight_config& cfg,
                                                       std::span<const std::uint32_t> labels,
                                                       std::size_t n_classes) {
  cfg.validate();
  if (cfg.mode == class_weight_mode::balanced) {
    return balanced_class_weights(labels, n_classes);
  }
  if (cfg.weights.size() != n_classes) {
    std::string expected = std::to_string(n_classes);
    expected += " weights (one per class)";
    throw input_error({"class_weights", 0, 0, "weights"}, std::move(expected),
                      std::to_string(cfg.weights.size()));
  }
  detail::check_class_labels(labels, n_classes);
  return cfg.weights;
}

/// The weight of every sample: `weights[labels[i]]`. Throws `input_error` for a label without a
/// weight.
[[nodiscard]] inline std::vector<double> sample_weights(std::span<const std::uint32_t> labels,
                                                        std::span<const double> weights) {
  detail::check_class_labels(labels, weights.size());
  std::vector<double> out(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    out[i] = weights[labels[i]];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// SMOTE
// ---------------------------------------------------------------------------------------------

/// SMOTE's policy.
struct smote_config {
  /// Neighbours among which the interpolation partner is chosen (Chawla et al. use 5).
  std::size_t k_neighbours = 5;
  std::uint64_t seed = 0;

  /// Throws `config_error` unless `k_neighbours >= 1`.
  void validate() const {
    if (k_neighbours == 0) {
      throw config_error("smote.k_neighbours", "an integer >= 1");
    }
  }
  friend bool operator==(const smote_config&, const smote_config&) = default;
};

/// JSON: `{"k_neighbours": k, "seed": s}`.
inline void to_json(nlohmann::json& j, const smote_config& c) {
  j = nlohmann::json{{"k_neighbours", c.k_neighbours}, {"seed", c.seed}};
}
/// Reads `to_json`'s form (unknown keys are errors); throws `config_error` naming the field.
inline void from_json(const nlohmann::json& j, smote_config& c) {
  detail::config_reader r(j, "smote");
  smote_config out;
  r.require("k_neighbours", out.k_neighbours);
  r.require("seed", out.seed);
  r.finish();
  out.validate();
  c = out;
}

/// SMOTE's synthetic rows and where each came from: row `i` is
/// `minority[base[i]] + gap[i] * (minority[neighbour[i]] - minority[base[i]])`.
template <class T>
struct smote_rows {
  std::vector<T> rows{}; ///< `count × cols`, row-major
  std::size_t cols = 0;
  std::vector<std::size_t> base{};
  std::vector<std::size_t> neighbour{};
  std::vector<T> gap{}; ///< in [0, 1)

  [[nodiscard]] std::size_t count() const noexcept { return base.size(); }
  [[nodiscard]] matrix_view<const T> view() const noexcept { return {rows.data(), count(), cols}; }
};

/// SMOTE (Chawla, Bowyer, Hall and Kegelmeyer 2002, "SMOTE: synthetic minority over-sampling
/// technique", JAIR 16): `n_synthetic` new minority rows, each on the segment between a minority
/// row (drawn uniformly, as imbalanced-learn does) and one of its `k_neighbours` nearest minority
/// neighbours (Euclidean, exact, ties to the lower index), at a uniform gap in [0, 1).
///
/// For dense numeric features only: interpolating one-hot or hashed features makes rows no real
/// example could have. Throws `input_error` for fewer than 2 minority rows, for
/// `k_neighbours >= ` the number of minority rows (a row's neighbours are the *other* rows), for
/// zero columns and for a non-finite value. Complexity: O(m · d) per distinct base row used
/// (brute-force neighbours, computed once per base row), O(d) per synthetic row.
template <std::floating_point T>
[[nodiscard]] smote_rows<T> smote(const smote_config& cfg, matrix_view<const T> minority,
                                  std::size_t n_synthetic) {
  cfg.validate();
  const std::size_t m = minority.rows();
  const std::size_t d = minority.cols();
  if (m < 2) {
    throw input_error({"smote", 0, 0, "minority"},
                      "at least 2 minority rows (SMOTE interpolates between two)",
                      std::to_string(m));
  }
  if (cfg.k_neighbours >= m) {
    std::string expected = "k_neighbours < the number of minority rows (";
    expected += std::to_string(m);
    expected += "), since a row's neighbours are the other rows";
    throw input_error({"smote", 0, 0, "k_neighbours"}, std::move(expected),
                      std::to_string(cfg.k_neighbours));
  }
  if (d == 0) {
    throw input_error({"smote", 0, 0, "minority"}, "at least 1 feature column", "0");
  }
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < d; ++j) {
      if (!std::isfinite(minority(i, j))) {
        throw input_error({detail::indexed_path("minority", i), 0, j + 1, "value"},
                          "a finite number", std::to_string(minority(i, j)));
      }
    }
  }
  smote_rows<T> out;
  out.cols = d;
  out.rows.resize(n_synthetic * d);
  out.base.resize(n_synthetic);
  out.neighbour.resize(n_synthetic);
  out.gap.resize(n_synthetic);

  std::vector<std::vector<std::size_t>> neighbours(m); // computed on first use
  std::vector<std::pair<double, std::size_t>> dist;
  detail::splitmix64 rng(cfg.seed);
  for (std::size_t s = 0; s < n_synthetic; ++s) {
    const auto b = static_cast<std::size_t>(rng.below(m));
    std::vector<std::size_t>& nn = neighbours[b];
    if (nn.empty()) {
      dist.clear();
      for (std::size_t o = 0; o < m; ++o) {
        if (o == b) {
          continue;
        }
        double d2 = 0.0;
        for (std::size_t j = 0; j < d; ++j) {
          const double diff = static_cast<double>(minority(o, j)) - minority(b, j);
          d2 += diff * diff;
        }
        dist.emplace_back(d2, o);
      }
      std::partial_sort(dist.begin(), dist.begin() + static_cast<std::ptrdiff_t>(cfg.k_neighbours),
                        dist.end());
      for (std::size_t q = 0; q < cfg.k_neighbours; ++q) {
        nn.push_back(dist[q].second);
      }
    }
    const std::size_t n = nn[static_cast<std::size_t>(rng.below(nn.size()))];
    const auto gap = static_cast<T>(rng.uniform());
    // The cast can round a gap just below 1 up to 1 in float; keep it inside [0, 1).
    const T g = gap < T(1) ? gap : std::nextafter(T(1), T(0));
    for (std::size_t j = 0; j < d; ++j) {
      out.rows[s * d + j] = minority(b, j) + g * (minority(n, j) - minority(b, j));
    }
    out.base[s] = b;
    out.neighbour[s] = n;
    out.gap[s] = g;
  }
  return out;
}

} // namespace data
MLSD_END_NAMESPACE
