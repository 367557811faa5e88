/// @file
/// Offline metrics of binary classifiers (click, fraud, harmful content): ROC-AUC (exact),
/// average precision (PR-AUC), log loss, accuracy, Brier score, normalized entropy and the
/// calibration ratio. Precision, recall, F1 and the confusion matrix at a threshold are in
/// threshold.hpp; reliability curves and the expected calibration error in calibration.hpp.
///
/// Each metric is an `evaluation::metric_accumulator`: `add({score, label})` one observation at a
/// time (a stream, a shard, a slice), `merge` accumulators of other shards, read `result()`.
/// Labels follow model/loss.hpp: a label `> 0` is positive, anything else negative, so {0, 1}
/// and {-1, +1} labels both work. Sums are kept in double whatever the input type. A metric that
/// has no value on what it saw (no observations, one class only) throws `undefined_metric` from
/// `result()`; a NaN observation, or a score outside [0, 1] where a probability is required,
/// throws `input_error` from `add`. No result is ever NaN.
///
/// ```cpp
/// namespace ev = mlsd::evaluation;
/// const double auc = ev::roc_auc_of(scores, labels);       // std::span<const float> each
/// ev::log_loss loss;                                        // or accumulate a stream
/// for (auto [p, y] : stream) loss.add({p, y});
/// const double mean_log_loss = loss.result();
/// ```
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/evaluation/metric.hpp>
#include <mlsd/model/loss.hpp>
#include <mlsd/requirements/requirements.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace evaluation {

/// One observation of a binary classifier: its score (a probability for the metrics that need
/// one, any orderable number for ROC-AUC and accuracy) and the true label (`> 0` positive).
struct scored_label {
  float score = 0.0f;
  float label = 0.0f;
};

namespace detail {
/// "only one class (3 positives, 0 negatives)".
[[nodiscard]] inline std::string one_class_reason(std::uint64_t positives,
                                                  std::uint64_t negatives) {
  std::string out = "only one class (";
  out += std::to_string(positives);
  out += " positives, ";
  out += std::to_string(negatives);
  out += " negatives)";
  return out;
}
} // namespace detail

// ---------------------------------------------------------------------------------------------
// Sorting scores: order-preserving integer keys and an LSD radix sort
// ---------------------------------------------------------------------------------------------

namespace detail {

/// The key of a non-NaN score: an unsigned integer whose order is the scores' order, with -0 and
/// +0 mapped to one key (they compare equal as floats, so they must tie). A non-negative float's
/// bits get the sign bit set; a negative float's bits are inverted (larger magnitude, smaller
/// key). -inf maps to 0x007FFFFF and +inf to 0xFF800000, so infinities order like any score.
[[nodiscard]] constexpr std::uint32_t order_key(float score) noexcept {
  std::uint32_t bits = std::bit_cast<std::uint32_t>(score);
  if (bits == 0x80000000u) { // -0 is +0
    bits = 0;
  }
  return (bits & 0x80000000u) != 0 ? ~bits : (bits | 0x80000000u);
}

/// The score of a key (`order_key`'s inverse; -0 comes back as +0).
[[nodiscard]] constexpr float key_score(std::uint32_t key) noexcept {
  return std::bit_cast<float>((key & 0x80000000u) != 0 ? (key & 0x7FFFFFFFu) : ~key);
}

/// Below this many keys `sort_keys` calls `std::sort`; from it on, `radix_sort_keys`.
inline constexpr std::size_t radix_sort_min_size = 4096;

/// Sorts `keys` ascending with a least-significant-digit radix sort: three passes of 11 bits
/// (Knuth, TAOCP vol. 3, §5.2.5), the three histograms counted in one read of the input, a pass
/// skipped when every key has the same digit there (constant or few-valued scores). O(n) time,
/// one scratch array of n keys. Stable, though stability does not matter for bare keys.
inline void radix_sort_keys(std::vector<std::uint32_t>& keys) {
  constexpr unsigned digit_bits = 11;
  constexpr std::uint32_t digit_mask = (1u << digit_bits) - 1;
  constexpr std::size_t radix = std::size_t{1} << digit_bits;
  const std::size_t n = keys.size();
  if (n < 2) {
    return;
  }
  std::vector<std::array<std::size_t, radix>> counts(3);
  for (auto& c : counts) {
    c.fill(0);
  }
  for (const std::uint32_t k : keys) {
    ++counts[0][k & digit_mask];
    ++counts[1][(k >> digit_bits) & digit_mask];
    ++counts[2][k >> (2 * digit_bits)];
  }
  const auto scratch = std::make_unique_for_overwrite<std::uint32_t[]>(n);
  std::uint32_t* from = keys.data();
  std::uint32_t* to = scratch.get();
  for (unsigned pass = 0; pass < 3; ++pass) {
    auto& c = counts[pass];
    const unsigned shift = pass * digit_bits;
    if (c[(from[0] >> shift) & digit_mask] == n) {
      continue; // one digit value: this pass would copy the keys unchanged
    }
    std::size_t offset = 0;
    for (std::size_t& slot : c) {
      const std::size_t here = slot;
      slot = offset;
      offset += here;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t k = from[i];
      to[c[(k >> shift) & digit_mask]++] = k;
    }
    std::swap(from, to);
  }
  if (from != keys.data()) {
    std::copy(from, from + n, keys.data());
  }
}

/// Sorts `keys` ascending: `std::sort` for small inputs, `radix_sort_keys` from
/// `radix_sort_min_size` keys on. Both give the same sequence (keys are plain integers).
inline void sort_keys(std::vector<std::uint32_t>& keys) {
  if (keys.size() < radix_sort_min_size) {
    std::sort(keys.begin(), keys.end());
  } else {
    radix_sort_keys(keys);
  }
}

/// The scores of the positives and of the negatives, stored as `order_key`s (4 bytes each) and
/// sorted on demand: what the exact rank metrics (ROC-AUC, average precision, the F1-optimal
/// threshold) keep. `sort()` is const and caches: the first call after an `add` sorts in place.
class scores_by_class {
public:
  /// Stores `score` (not NaN: the caller checks) under its class.
  void add(float score, bool positive) {
    (positive ? positives_ : negatives_).push_back(order_key(score));
    sorted_ = false;
  }
  /// Appends `other`'s scores (`other` may be `*this`).
  void merge(const scores_by_class& other) {
    if (&other == this) {
      const scores_by_class copy = other;
      merge(copy);
      return;
    }
    positives_.insert(positives_.end(), other.positives_.begin(), other.positives_.end());
    negatives_.insert(negatives_.end(), other.negatives_.begin(), other.negatives_.end());
    sorted_ = sorted_ && other.positives_.empty() && other.negatives_.empty();
  }
  /// Sorts both key arrays ascending, once.
  void sort() const {
    if (!sorted_) {
      sort_keys(positives_);
      sort_keys(negatives_);
      sorted_ = true;
    }
  }
  /// The positives' keys (ascending after `sort()`).
  [[nodiscard]] const std::vector<std::uint32_t>& positive_keys() const noexcept {
    return positives_;
  }
  /// The negatives' keys (ascending after `sort()`).
  [[nodiscard]] const std::vector<std::uint32_t>& negative_keys() const noexcept {
    return negatives_;
  }
  /// Reserves room for that many more scores of each class.
  void reserve(std::size_t n_positives, std::size_t n_negatives) {
    positives_.reserve(positives_.size() + n_positives);
    negatives_.reserve(negatives_.size() + n_negatives);
  }

private:
  mutable std::vector<std::uint32_t> positives_;
  mutable std::vector<std::uint32_t> negatives_;
  mutable bool sorted_ = true;
};

/// Throws `undefined_metric` for `metric` when either class is empty.
inline void require_both_classes(std::string_view metric, std::uint64_t positives,
                                 std::uint64_t negatives) {
  if (positives == 0 || negatives == 0) {
    throw undefined_metric(std::string(metric), positives == 0 && negatives == 0
                                                    ? std::string("no observations")
                                                    : one_class_reason(positives, negatives));
  }
}

} // namespace detail

// ---------------------------------------------------------------------------------------------
// ROC-AUC
// ---------------------------------------------------------------------------------------------

/// The area under the ROC curve, exact: the probability that a random positive scores higher than
/// a random negative, a tie counting 1/2. This is the Mann–Whitney statistic divided by
/// `n+ · n-` (Hanley & McNeil 1982, "The meaning and use of the area under a receiver operating
/// characteristic (ROC) curve"), the value scikit-learn's `roc_auc_score` returns:
///
///     AUC = (#{(i, j): s_i > s_j} + 1/2 · #{(i, j): s_i = s_j}) / (n+ · n-),
///     i over the positives, j over the negatives.
///
/// It keeps every score (4 bytes per observation, as an order-preserving integer key, positives
/// and negatives apart) and sorts once, in `result()`: `std::sort` below 4096 scores per class,
/// an O(n) three-pass radix sort above (`detail::radix_sort_keys`, which needs a scratch array of
/// the larger class's size while it runs), then one linear pass. `add` is O(1) amortised,
/// `merge` appends. Scores may be any non-NaN float (margins, probabilities, ±inf); only their
/// order matters, and -0 ties with +0. The pair count is an exact integer (exact up to about
/// 4·10^18 pairs), so the result is the exact ratio rounded once.
///
/// `result()` is `const` but sorts the stored scores in place the first time it runs (a cache,
/// so that a second call is O(n) and the memory is not doubled by a sorted copy): like every
/// accumulator it is not thread-safe, even for concurrent `result()` calls on one object.
/// Undefined (throws `undefined_metric`) with no observations or one class only.
class roc_auc : public metric_tag {
public:
  using observation_type = scored_label;
  using result_type = double;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "roc_auc";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::roc_auc;

  /// Adds one observation. @throws input_error when the score or the label is NaN.
  void add(const scored_label& o) {
    detail::check_not_nan(name, "score", o.score);
    detail::check_not_nan(name, "label", o.label);
    scores_.add(o.score, model::is_positive(o.label));
  }

  /// Adds every observation of `other` (which may be `*this`).
  void merge(const roc_auc& other) { scores_.merge(other.scores_); }

  /// The exact AUC in [0, 1]. @throws undefined_metric with no observations or one class only.
  [[nodiscard]] double result() const {
    detail::require_both_classes(name, positives(), negatives());
    scores_.sort();
    const std::vector<std::uint32_t>& pos = scores_.positive_keys();
    const std::vector<std::uint32_t>& neg = scores_.negative_keys();
    // One pass over both sorted lists. For each group of g equal positive scores s, `below`
    // negatives score < s and `not_above - below` score == s; the group wins g·below pairs and
    // ties g·(not_above - below). Twice the Mann–Whitney U stays an integer.
    std::uint64_t twice_u = 0;
    std::size_t below = 0;
    std::size_t not_above = 0;
    const std::size_t n_neg = neg.size();
    for (std::size_t i = 0; i < pos.size();) {
      const std::uint32_t s = pos[i];
      std::size_t j = i + 1;
      while (j < pos.size() && pos[j] == s) {
        ++j;
      }
      below = std::max(below, not_above);
      while (below < n_neg && neg[below] < s) {
        ++below;
      }
      not_above = below;
      while (not_above < n_neg && neg[not_above] == s) {
        ++not_above;
      }
      const std::uint64_t g = j - i;
      twice_u += g * (2 * static_cast<std::uint64_t>(below) + (not_above - below));
      i = j;
    }
    return static_cast<double>(twice_u) /
           (2.0 * static_cast<double>(pos.size()) * static_cast<double>(n_neg));
  }

  /// Observations added so far.
  [[nodiscard]] std::uint64_t count() const noexcept { return positives() + negatives(); }
  /// Positive observations added so far.
  [[nodiscard]] std::uint64_t positives() const noexcept { return scores_.positive_keys().size(); }
  /// Negative observations added so far.
  [[nodiscard]] std::uint64_t negatives() const noexcept { return scores_.negative_keys().size(); }
  /// Reserves memory for that many more positives and negatives (an optimisation only).
  void reserve(std::size_t n_positives, std::size_t n_negatives) {
    scores_.reserve(n_positives, n_negatives);
  }

private:
  detail::scores_by_class scores_;
};

// ---------------------------------------------------------------------------------------------
// Average precision (PR-AUC)
// ---------------------------------------------------------------------------------------------

/// Average precision, the area under the precision–recall curve as a step function, exactly
/// scikit-learn's `average_precision_score` (no interpolation; Manning, Raghavan & Schütze 2008,
/// "Introduction to Information Retrieval", §8.4):
///
///     AP = Σ_n (R_n - R_{n-1}) · P_n,
///
/// n over the distinct scores t taken as thresholds from the highest down (predicted positive:
/// `s >= t`, so equal scores enter together and a tie is never split), `P_n` and `R_n` the
/// precision `tp / (tp + fp)` and recall `tp / n+` at that threshold, `R_0 = 0`. Only thresholds
/// where a positive enters add a term: AP = (1/n+) Σ over the distinct positive scores t of
/// `#{positives = t} · tp(t) / (tp(t) + fp(t))`. In (0, 1]; 1 when every positive outranks every
/// negative. Its base line is the positive rate `n+ / n` (a random ranking), not 1/2 as for AUC,
/// which is why it is the metric of choice for rare positives (Davis & Goadrich 2006).
///
/// Storage, `add`, `merge` and sorting as `roc_auc` (4 bytes per observation, O(n) radix sort
/// from 4096 scores per class); the sum is compensated (Neumaier 1974), so the result is within a
/// few ulps of the exact sum. Scores may be any non-NaN float; -0 ties with +0.
///
/// Undefined (throws `undefined_metric`) with no observations or no positive: recall is 0/0.
/// scikit-learn 1.2 warns and returns 0 there (older versions returned NaN). With positives only,
/// AP is 1 (precision is 1 at every threshold), as in scikit-learn.
class average_precision : public metric_tag {
public:
  using observation_type = scored_label;
  using result_type = double;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "average_precision";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::pr_auc;

  /// Adds one observation. @throws input_error when the score or the label is NaN.
  void add(const scored_label& o) {
    detail::check_not_nan(name, "score", o.score);
    detail::check_not_nan(name, "label", o.label);
    scores_.add(o.score, model::is_positive(o.label));
  }

  /// Adds every observation of `other` (which may be `*this`).
  void merge(const average_precision& other) { scores_.merge(other.scores_); }

  /// AP in (0, 1]. @throws undefined_metric with no observations or no positive.
  [[nodiscard]] double result() const {
    if (count() == 0) {
      throw undefined_metric(std::string(name), "no observations");
    }
    if (positives() == 0) {
      std::string reason = "no positive among ";
      reason += std::to_string(count());
      reason += " observations: recall is 0/0";
      throw undefined_metric(std::string(name), reason);
    }
    scores_.sort();
    const std::vector<std::uint32_t>& pos = scores_.positive_keys();
    const std::vector<std::uint32_t>& neg = scores_.negative_keys();
    // Walk the distinct positive scores from the highest down; `first_neg` is the first negative
    // scoring >= the current score, so fp = n- - first_neg.
    double sum = 0.0;
    double compensation = 0.0;
    std::size_t first_neg = neg.size();
    std::size_t end = pos.size();
    while (end > 0) {
      const std::uint32_t s = pos[end - 1];
      std::size_t begin = end - 1;
      while (begin > 0 && pos[begin - 1] == s) {
        --begin;
      }
      while (first_neg > 0 && neg[first_neg - 1] >= s) {
        --first_neg;
      }
      const double tp = static_cast<double>(pos.size() - begin);
      const double fp = static_cast<double>(neg.size() - first_neg);
      const double term = static_cast<double>(end - begin) * (tp / (tp + fp));
      const double t = sum + term; // Neumaier's compensated sum
      compensation += std::abs(sum) >= std::abs(term) ? (sum - t) + term : (term - t) + sum;
      sum = t;
      end = begin;
    }
    return (sum + compensation) / static_cast<double>(pos.size());
  }

  /// Observations added so far.
  [[nodiscard]] std::uint64_t count() const noexcept { return positives() + negatives(); }
  /// Positive observations added so far.
  [[nodiscard]] std::uint64_t positives() const noexcept { return scores_.positive_keys().size(); }
  /// Negative observations added so far.
  [[nodiscard]] std::uint64_t negatives() const noexcept { return scores_.negative_keys().size(); }
  /// Reserves memory for that many more positives and negatives (an optimisation only).
  void reserve(std::size_t n_positives, std::size_t n_negatives) {
    scores_.reserve(n_positives, n_negatives);
  }

private:
  detail::scores_by_class scores_;
};

// ---------------------------------------------------------------------------------------------
// Log loss and normalized entropy
// ---------------------------------------------------------------------------------------------

/// How log loss (and normalized entropy) clip probabilities: `p` becomes
/// `min(max(p, epsilon), 1 - epsilon)` before the logarithm, so that a confident mistake costs
/// `-log(epsilon)` instead of infinity.
///
/// The default is scikit-learn's convention since version 1.2 (`eps="auto"`,
/// `np.finfo(y_pred.dtype).eps`) for float32 predictions: `std::numeric_limits<float>::epsilon()`
/// = 2^-23 ≈ 1.19e-7, the spacing of floats just below 1, so `1 - epsilon` is the largest float
/// probability below 1 and the worst loss is 23·ln 2 ≈ 15.94. Set `1e-15` to match scikit-learn
/// before 1.2 on float64 predictions.
struct log_loss_config {
  /// Clipping bound, in `[2^-52, 0.5)`: below 2^-52 (about 2.2e-16), `1 - epsilon` may round to
  /// 1 in double precision and a confident mistake would cost infinity again.
  double epsilon = static_cast<double>(std::numeric_limits<float>::epsilon());

  /// Throws `config_error` naming `log_loss.epsilon` unless `2^-52 <= epsilon < 0.5`.
  void validate() const {
    if (!(epsilon >= std::numeric_limits<double>::epsilon() && epsilon < 0.5)) {
      throw config_error("log_loss.epsilon", "a number in [2^-52, 0.5)");
    }
  }
  friend bool operator==(const log_loss_config&, const log_loss_config&) = default;
};

/// JSON: `{"epsilon": e}`.
inline void to_json(nlohmann::json& j, const log_loss_config& c) {
  j = nlohmann::json{{"epsilon", c.epsilon}};
}
/// Reads `to_json`'s form (absent `epsilon` keeps the default; unknown keys are errors); throws
/// `config_error` naming the field.
inline void from_json(const nlohmann::json& j, log_loss_config& c) {
  data::detail::config_reader r(j, "log_loss");
  log_loss_config out;
  r.read("epsilon", out.epsilon);
  r.finish();
  out.validate();
  c = out;
}

namespace detail {
/// `-log(p)` for a positive, `-log(1 - p)` for a negative, `p` clipped to `[eps, 1 - eps]`.
[[nodiscard]] inline double clipped_log_loss(float score, bool positive, double eps) noexcept {
  const double p = std::clamp(static_cast<double>(score), eps, 1.0 - eps);
  return positive ? -std::log(p) : -std::log1p(-p);
}

/// Throws `config_error` naming `field` when two accumulators of a merge were configured apart.
inline void check_same_config(bool same, const char* field) {
  if (!same) {
    throw config_error(field, "the same value in both accumulators of a merge");
  }
}
} // namespace detail

/// Mean log loss (cross-entropy) of probabilities: `-(1/n) Σ [y log p + (1 - y) log(1 - p)]`,
/// natural logarithm, `y` the label as 0 or 1, `p` clipped as `log_loss_config` says (Bishop
/// 2006, "Pattern Recognition and Machine Learning", §4.3.2). The loss logistic models minimise,
/// so it judges the probabilities themselves, not only their order.
///
/// Scores must be probabilities in [0, 1] (`input_error` otherwise: a logit passed by mistake
/// would be silently clipped). O(1) per observation. Undefined with no observations.
class log_loss : public metric_tag {
public:
  using observation_type = scored_label;
  using result_type = double;
  using config = log_loss_config;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "log_loss";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::log_loss;

  /// @throws config_error when `cfg` is invalid.
  explicit log_loss(config cfg = {})
      : cfg_(cfg) {
    cfg_.validate();
  }

  /// Adds one observation. @throws input_error for a score outside [0, 1] or a NaN label.
  void add(const scored_label& o) {
    detail::check_probability(name, "score", o.score);
    detail::check_not_nan(name, "label", o.label);
    sum_ += detail::clipped_log_loss(o.score, model::is_positive(o.label), cfg_.epsilon);
    ++count_;
  }

  /// Adds `other`'s observations. @throws config_error when the epsilons differ.
  void merge(const log_loss& other) {
    detail::check_same_config(cfg_ == other.cfg_, "log_loss.epsilon");
    sum_ += other.sum_;
    count_ += other.count_;
  }

  /// The mean log loss, in [0, -log(epsilon)]. @throws undefined_metric with no observations.
  [[nodiscard]] double result() const {
    if (count_ == 0) {
      throw undefined_metric(std::string(name), "no observations");
    }
    return sum_ / static_cast<double>(count_);
  }

  /// Observations added so far.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// The configuration.
  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }

private:
  config cfg_;
  double sum_ = 0.0;
  std::uint64_t count_ = 0;
};

/// Normalized entropy (He et al. 2014, "Practical lessons from predicting clicks on ads at
/// Facebook", ADKDD): the mean log loss divided by the entropy of the observed positive rate `r`,
///
///     NE = log_loss / H(r),   H(r) = -(r log r + (1 - r) log(1 - r)),
///
/// i.e. the log loss relative to the model that predicts the base rate for everyone. NE = 1 is
/// no better than the base rate, lower is better; unlike raw log loss it does not move when the
/// click-through rate does, so it compares across days, markets and sampling rates.
///
/// Scores must be probabilities; clipping as `log_loss_config`. O(1) per observation. Undefined
/// with no observations or one class only (`H(r) = 0`).
class normalized_entropy : public metric_tag {
public:
  using observation_type = scored_label;
  using result_type = double;
  using config = log_loss_config;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "normalized_entropy";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::normalized_entropy;

  /// @throws config_error when `cfg` is invalid.
  explicit normalized_entropy(config cfg = {})
      : cfg_(cfg) {
    cfg_.validate();
  }

  /// Adds one observation. @throws input_error for a score outside [0, 1] or a NaN label.
  void add(const scored_label& o) {
    detail::check_probability(name, "score", o.score);
    detail::check_not_nan(name, "label", o.label);
    const bool positive = model::is_positive(o.label);
    sum_ += detail::clipped_log_loss(o.score, positive, cfg_.epsilon);
    positives_ += positive ? 1 : 0;
    ++count_;
  }

  /// Adds `other`'s observations. @throws config_error when the epsilons differ.
  void merge(const normalized_entropy& other) {
    detail::check_same_config(cfg_ == other.cfg_, "log_loss.epsilon");
    sum_ += other.sum_;
    positives_ += other.positives_;
    count_ += other.count_;
  }

  /// NE, positive and finite. @throws undefined_metric with no observations or one class only.
  [[nodiscard]] double result() const {
    if (count_ == 0) {
      throw undefined_metric(std::string(name), "no observations");
    }
    if (positives_ == 0 || positives_ == count_) {
      throw undefined_metric(std::string(name),
                             detail::one_class_reason(positives_, count_ - positives_) +
                                 ": the entropy of the positive rate is 0");
    }
    const double n = static_cast<double>(count_);
    const double r = static_cast<double>(positives_) / n;
    const double entropy = -(r * std::log(r) + (1.0 - r) * std::log1p(-r));
    return (sum_ / n) / entropy;
  }

  /// Observations added so far.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// Positive observations added so far.
  [[nodiscard]] std::uint64_t positives() const noexcept { return positives_; }
  /// The configuration.
  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }

private:
  config cfg_;
  double sum_ = 0.0;
  std::uint64_t positives_ = 0;
  std::uint64_t count_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Accuracy
// ---------------------------------------------------------------------------------------------

/// Where accuracy cuts scores into decisions: positive when `score >= threshold`, the one rule of
/// every threshold metric in mlsd (`confusion_matrix`, `best_threshold`, the points of
/// `precision_recall_curve_of`, as scikit-learn's `precision_recall_curve`). scikit-learn's
/// `LogisticRegression.predict` decides `p > 1/2` instead; the two differ only for a score exactly
/// at the threshold. Use 0 for margins (logits, SVM scores).
struct accuracy_config {
  /// Decision threshold, any finite number.
  double threshold = 0.5;

  /// Throws `config_error` naming `accuracy.threshold` unless it is finite.
  void validate() const {
    if (!std::isfinite(threshold)) {
      throw config_error("accuracy.threshold", "a finite number");
    }
  }
  friend bool operator==(const accuracy_config&, const accuracy_config&) = default;
};

/// JSON: `{"threshold": t}`.
inline void to_json(nlohmann::json& j, const accuracy_config& c) {
  j = nlohmann::json{{"threshold", c.threshold}};
}
/// Reads `to_json`'s form (absent `threshold` keeps the default; unknown keys are errors); throws
/// `config_error` naming the field.
inline void from_json(const nlohmann::json& j, accuracy_config& c) {
  data::detail::config_reader r(j, "accuracy");
  accuracy_config out;
  r.read("threshold", out.threshold);
  r.finish();
  out.validate();
  c = out;
}

/// The share of observations whose decision (`score >= threshold`) equals the label:
/// `(1/n) Σ [ (s_i >= t) == (y_i > 0) ]`. Misleading on imbalanced data (99.9% for "never fraud"),
/// which is why click and fraud models report ROC-AUC, log loss or NE beside it.
/// Scores may be any non-NaN float. O(1) per observation. Undefined with no observations.
class accuracy : public metric_tag {
public:
  using observation_type = scored_label;
  using result_type = double;
  using config = accuracy_config;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "accuracy";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::accuracy;

  /// @throws config_error when `cfg` is invalid.
  explicit accuracy(config cfg = {})
      : cfg_(cfg) {
    cfg_.validate();
  }

  /// Adds one observation. @throws input_error when the score or the label is NaN.
  void add(const scored_label& o) {
    detail::check_not_nan(name, "score", o.score);
    detail::check_not_nan(name, "label", o.label);
    const bool decision = static_cast<double>(o.score) >= cfg_.threshold;
    correct_ += decision == model::is_positive(o.label) ? 1 : 0;
    ++count_;
  }

  /// Adds `other`'s observations. @throws config_error when the thresholds differ.
  void merge(const accuracy& other) {
    detail::check_same_config(cfg_ == other.cfg_, "accuracy.threshold");
    correct_ += other.correct_;
    count_ += other.count_;
  }

  /// The share of correct decisions, in [0, 1]. @throws undefined_metric with no observations.
  [[nodiscard]] double result() const {
    if (count_ == 0) {
      throw undefined_metric(std::string(name), "no observations");
    }
    return static_cast<double>(correct_) / static_cast<double>(count_);
  }

  /// Observations added so far.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// Correct decisions so far.
  [[nodiscard]] std::uint64_t correct() const noexcept { return correct_; }
  /// The configuration.
  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }

private:
  config cfg_;
  std::uint64_t correct_ = 0;
  std::uint64_t count_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Brier score and calibration ratio
// ---------------------------------------------------------------------------------------------

/// The Brier score (Brier 1950, "Verification of forecasts expressed in terms of probability"):
/// the mean squared error of probabilities, `(1/n) Σ (p_i - y_i)^2`, `y` as 0 or 1. In [0, 1],
/// lower is better; a proper scoring rule like log loss, but bounded, so one confident mistake
/// costs at most 1. Scores must be probabilities. O(1) per observation. Undefined with no
/// observations.
class brier_score : public metric_tag {
public:
  using observation_type = scored_label;
  using result_type = double;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "brier_score";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::brier_score;

  /// Adds one observation. @throws input_error for a score outside [0, 1] or a NaN label.
  void add(const scored_label& o) {
    detail::check_probability(name, "score", o.score);
    detail::check_not_nan(name, "label", o.label);
    const double r = static_cast<double>(o.score) - (model::is_positive(o.label) ? 1.0 : 0.0);
    sum_ += r * r;
    ++count_;
  }

  /// Adds `other`'s observations.
  void merge(const brier_score& other) {
    sum_ += other.sum_;
    count_ += other.count_;
  }

  /// The mean squared error, in [0, 1]. @throws undefined_metric with no observations.
  [[nodiscard]] double result() const {
    if (count_ == 0) {
      throw undefined_metric(std::string(name), "no observations");
    }
    return sum_ / static_cast<double>(count_);
  }

  /// Observations added so far.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }

private:
  double sum_ = 0.0;
  std::uint64_t count_ = 0;
};

/// The calibration ratio (He et al. 2014): the mean prediction over the observed positive rate,
/// `(Σ p_i) / (Σ y_i)`, `y` as 0 or 1. 1 is calibrated; 1.1 means the model predicts 10% more
/// clicks than happened, which an ad auction turns into 10% overbidding. A ratio near 1 says
/// nothing about ranking (predicting the base rate for everyone gives exactly 1): read it beside
/// AUC or NE. Scores must be probabilities. O(1) per observation. Undefined with no
/// observations or no positive (the rate is 0).
class calibration_ratio : public metric_tag {
public:
  using observation_type = scored_label;
  using result_type = double;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "calibration_ratio";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::calibration_ratio;

  /// Adds one observation. @throws input_error for a score outside [0, 1] or a NaN label.
  void add(const scored_label& o) {
    detail::check_probability(name, "score", o.score);
    detail::check_not_nan(name, "label", o.label);
    sum_predicted_ += static_cast<double>(o.score);
    positives_ += model::is_positive(o.label) ? 1 : 0;
    ++count_;
  }

  /// Adds `other`'s observations.
  void merge(const calibration_ratio& other) {
    sum_predicted_ += other.sum_predicted_;
    positives_ += other.positives_;
    count_ += other.count_;
  }

  /// The ratio, in [0, n / positives]. @throws undefined_metric with no observations or no
  /// positive.
  [[nodiscard]] double result() const {
    if (count_ == 0) {
      throw undefined_metric(std::string(name), "no observations");
    }
    if (positives_ == 0) {
      std::string reason = "no positive among ";
      reason += std::to_string(count_);
      reason += " observations: the observed positive rate is 0";
      throw undefined_metric(std::string(name), reason);
    }
    return sum_predicted_ / static_cast<double>(positives_);
  }

  /// Observations added so far.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// Positive observations added so far.
  [[nodiscard]] std::uint64_t positives() const noexcept { return positives_; }
  /// The sum of the predicted probabilities (the expected number of positives).
  [[nodiscard]] double predicted_positives() const noexcept { return sum_predicted_; }

private:
  double sum_predicted_ = 0.0;
  std::uint64_t positives_ = 0;
  std::uint64_t count_ = 0;
};

static_assert(metric_accumulator<roc_auc>);
static_assert(metric_accumulator<average_precision>);
static_assert(metric_accumulator<log_loss>);
static_assert(metric_accumulator<normalized_entropy>);
static_assert(metric_accumulator<accuracy>);
static_assert(metric_accumulator<brier_score>);
static_assert(metric_accumulator<calibration_ratio>);

// ---------------------------------------------------------------------------------------------
// One-call helpers
// ---------------------------------------------------------------------------------------------

/// Exact ROC-AUC of `scores` against `labels` (see `roc_auc`). O(n log n).
/// @throws std::invalid_argument when the sizes differ; input_error naming `scores[i]` or
/// `labels[i]` for a NaN; undefined_metric when empty or one class only.
[[nodiscard]] inline double roc_auc_of(std::span<const float> scores,
                                       std::span<const float> labels) {
  roc_auc m;
  std::size_t positives = 0;
  for (const float y : labels) {
    positives += model::is_positive(y) ? 1 : 0;
  }
  m.reserve(positives, labels.size() - positives);
  return detail::accumulate_pairs(std::move(m), "roc_auc_of", scores, "scores", labels, "labels");
}

/// Average precision of `scores` against `labels` (see `average_precision`), scikit-learn's
/// `average_precision_score`. O(n log n), O(n) from 4096 scores per class.
/// @throws std::invalid_argument when the sizes differ; input_error naming `scores[i]` or
/// `labels[i]` for a NaN; undefined_metric when empty or without a positive.
[[nodiscard]] inline double average_precision_of(std::span<const float> scores,
                                                 std::span<const float> labels) {
  average_precision m;
  std::size_t positives = 0;
  for (const float y : labels) {
    positives += model::is_positive(y) ? 1 : 0;
  }
  m.reserve(positives, labels.size() - positives);
  return detail::accumulate_pairs(std::move(m), "average_precision_of", scores, "scores", labels,
                                  "labels");
}

/// Mean log loss of the probabilities `scores` (see `log_loss`). O(n).
/// @throws std::invalid_argument when the sizes differ; input_error for a score outside [0, 1]
/// or a NaN label; undefined_metric when empty; config_error for a bad `cfg`.
[[nodiscard]] inline double log_loss_of(std::span<const float> scores,
                                        std::span<const float> labels, log_loss_config cfg = {}) {
  return detail::accumulate_pairs(log_loss(cfg), "log_loss_of", scores, "scores", labels, "labels");
}

/// Normalized entropy of the probabilities `scores` (see `normalized_entropy`). O(n).
/// @throws as `log_loss_of`, and undefined_metric for one class only.
[[nodiscard]] inline double normalized_entropy_of(std::span<const float> scores,
                                                  std::span<const float> labels,
                                                  log_loss_config cfg = {}) {
  return detail::accumulate_pairs(normalized_entropy(cfg), "normalized_entropy_of", scores,
                                  "scores", labels, "labels");
}

/// Accuracy of the decisions `score >= cfg.threshold` (see `accuracy`). O(n).
/// @throws std::invalid_argument when the sizes differ; input_error for a NaN; undefined_metric
/// when empty; config_error for a bad `cfg`.
[[nodiscard]] inline double accuracy_of(std::span<const float> scores,
                                        std::span<const float> labels, accuracy_config cfg = {}) {
  return detail::accumulate_pairs(accuracy(cfg), "accuracy_of", scores, "scores", labels, "labels");
}

/// Brier score of the probabilities `scores` (see `brier_score`). O(n).
/// @throws std::invalid_argument when the sizes differ; input_error for a score outside [0, 1]
/// or a NaN label; undefined_metric when empty.
[[nodiscard]] inline double brier_score_of(std::span<const float> scores,
                                           std::span<const float> labels) {
  return detail::accumulate_pairs(brier_score(), "brier_score_of", scores, "scores", labels,
                                  "labels");
}

/// Calibration ratio of the probabilities `scores` (see `calibration_ratio`). O(n).
/// @throws as `brier_score_of`, and undefined_metric when no label is positive.
[[nodiscard]] inline double calibration_ratio_of(std::span<const float> scores,
                                                 std::span<const float> labels) {
  return detail::accumulate_pairs(calibration_ratio(), "calibration_ratio_of", scores, "scores",
                                  labels, "labels");
}

} // namespace evaluation
MLSD_END_NAMESPACE
