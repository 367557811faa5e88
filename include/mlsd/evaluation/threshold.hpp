/// @file
/// Decisions at a threshold: the confusion matrix of `score >= threshold` against the labels,
/// precision, recall, F1 and accuracy derived from it, and the threshold that maximises F1.
///
/// A score at or above the threshold is predicted positive (`score >= threshold`), the rule of
/// scikit-learn's `precision_recall_curve`, so that the confusion matrix at a score `t` is the
/// point of the precision–recall curve at `t`. Note that
/// `evaluation::accuracy` (classification.hpp) decides `score > threshold`, like
/// `LogisticRegression.predict`: the two differ only for scores exactly at the threshold.
///
/// ```cpp
/// namespace ev = mlsd::evaluation;
/// ev::confusion_matrix cm({.threshold = 0.3});
/// for (auto [p, y] : stream) cm.add({p, y});
/// const ev::confusion_counts c = cm.result();     // c.tp, c.fp, c.tn, c.fn
/// const double f1 = c.f1();                       // throws undefined_metric when 0/0
/// const ev::threshold_choice best = ev::best_threshold_of(scores, labels);
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

/// The four counts of a binary decision rule against the labels, and the rates derived from them.
/// A rate whose denominator is 0 has no value and throws `undefined_metric` (scikit-learn warns
/// and returns its `zero_division` value, 0 by default; mlsd does not invent one):
///
/// | rate        | formula                      | undefined when                            |
/// | ----------- | ---------------------------- | ----------------------------------------- |
/// | `precision` | tp / (tp + fp)               | no predicted positive (tp + fp = 0)       |
/// | `recall`    | tp / (tp + fn)               | no positive label (tp + fn = 0)           |
/// | `f1`        | 2·tp / (2·tp + fp + fn)      | tp + fp + fn = 0 (only true negatives)    |
/// | `accuracy`  | (tp + tn) / n                | no observations                           |
///
/// F1 is the harmonic mean of precision and recall (van Rijsbergen 1979), written with counts
/// so that it is 0, not undefined, when one of them is undefined and the other is 0.
struct confusion_counts {
  std::uint64_t tp = 0; ///< positive label, predicted positive
  std::uint64_t fp = 0; ///< negative label, predicted positive
  std::uint64_t tn = 0; ///< negative label, predicted negative
  std::uint64_t fn = 0; ///< positive label, predicted negative

  /// All observations, tp + fp + tn + fn.
  [[nodiscard]] std::uint64_t count() const noexcept { return tp + fp + tn + fn; }
  /// Observations with a positive label, tp + fn.
  [[nodiscard]] std::uint64_t positives() const noexcept { return tp + fn; }
  /// Observations predicted positive, tp + fp.
  [[nodiscard]] std::uint64_t predicted_positives() const noexcept { return tp + fp; }

  /// tp / (tp + fp). @throws undefined_metric with no predicted positive.
  [[nodiscard]] double precision() const {
    if (tp + fp == 0) {
      throw undefined_metric("precision", "no predicted positive (tp + fp = 0)");
    }
    return static_cast<double>(tp) / static_cast<double>(tp + fp);
  }
  /// tp / (tp + fn). @throws undefined_metric with no positive label.
  [[nodiscard]] double recall() const {
    if (tp + fn == 0) {
      throw undefined_metric("recall", "no positive label (tp + fn = 0)");
    }
    return static_cast<double>(tp) / static_cast<double>(tp + fn);
  }
  /// 2·tp / (2·tp + fp + fn). @throws undefined_metric when tp + fp + fn = 0.
  [[nodiscard]] double f1() const {
    if (tp + fp + fn == 0) {
      throw undefined_metric("f1",
                             "no positive label and no predicted positive (tp + fp + fn = 0)");
    }
    return 2.0 * static_cast<double>(tp) / static_cast<double>(2 * tp + fp + fn);
  }
  /// (tp + tn) / n. @throws undefined_metric with no observations.
  [[nodiscard]] double accuracy() const {
    if (count() == 0) {
      throw undefined_metric("accuracy", "no observations");
    }
    return static_cast<double>(tp + tn) / static_cast<double>(count());
  }

  friend bool operator==(const confusion_counts&, const confusion_counts&) = default;
};

/// JSON: `{"tp": 3, "fp": 1, "tn": 5, "fn": 0}`.
inline void to_json(nlohmann::json& j, const confusion_counts& c) {
  j = nlohmann::json{{"tp", c.tp}, {"fp", c.fp}, {"tn", c.tn}, {"fn", c.fn}};
}

/// Where a decision rule cuts scores: predicted positive when `score >= threshold`.
struct threshold_config {
  /// Decision threshold, any finite number (0.5 for probabilities, 0 for margins).
  double threshold = 0.5;

  /// Throws `config_error` naming `threshold.threshold` unless it is finite.
  void validate() const {
    if (!std::isfinite(threshold)) {
      throw config_error("threshold.threshold", "a finite number");
    }
  }
  friend bool operator==(const threshold_config&, const threshold_config&) = default;
};

/// JSON: `{"threshold": t}`.
inline void to_json(nlohmann::json& j, const threshold_config& c) {
  j = nlohmann::json{{"threshold", c.threshold}};
}
/// Reads `to_json`'s form (absent `threshold` keeps the default; unknown keys are errors); throws
/// `config_error` naming the field.
inline void from_json(const nlohmann::json& j, threshold_config& c) {
  data::detail::config_reader r(j, "threshold");
  threshold_config out;
  r.read("threshold", out.threshold);
  r.finish();
  out.validate();
  c = out;
}

/// The confusion matrix of the decisions `score >= threshold` against the labels (`> 0`
/// positive). Four integer counts: O(1) per observation and memory, `merge` adds the counts
/// exactly. Scores may be any non-NaN float (±inf included). `result()` is defined even with no
/// observations (all counts 0); the rates derived from it throw where they are 0/0.
class confusion_matrix : public metric_tag {
public:
  using observation_type = scored_label;
  using result_type = confusion_counts;
  using config = threshold_config;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "confusion_matrix";

  /// @throws config_error when `cfg` is invalid.
  explicit confusion_matrix(config cfg = {})
      : cfg_(cfg) {
    cfg_.validate();
  }

  /// Adds one observation. @throws input_error when the score or the label is NaN.
  void add(const scored_label& o) {
    detail::check_not_nan(name, "score", o.score);
    detail::check_not_nan(name, "label", o.label);
    const bool predicted = static_cast<double>(o.score) >= cfg_.threshold;
    const bool positive = model::is_positive(o.label);
    ++(predicted ? (positive ? counts_.tp : counts_.fp) : (positive ? counts_.fn : counts_.tn));
  }

  /// Adds `other`'s counts. @throws config_error when the thresholds differ.
  void merge(const confusion_matrix& other) {
    detail::check_same_config(cfg_ == other.cfg_, "threshold.threshold");
    counts_.tp += other.counts_.tp;
    counts_.fp += other.counts_.fp;
    counts_.tn += other.counts_.tn;
    counts_.fn += other.counts_.fn;
  }

  /// The counts so far (all 0 before the first observation).
  [[nodiscard]] confusion_counts result() const noexcept { return counts_; }

  /// The configuration.
  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }

private:
  config cfg_;
  confusion_counts counts_;
};

namespace detail {

/// One rate of a confusion matrix as a metric accumulator (`precision`, `recall`, `f1_score`).
template <offline_metric Rate>
class confusion_rate : public metric_tag {
public:
  using observation_type = scored_label;
  using result_type = double;
  using config = threshold_config;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = Rate == offline_metric::precision ? "precision"
                                           : Rate == offline_metric::recall  ? "recall"
                                                                             : "f1";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = Rate;

  /// @throws config_error when `cfg` is invalid.
  explicit confusion_rate(config cfg = {})
      : counts_(cfg) {}

  /// Adds one observation. @throws input_error when the score or the label is NaN.
  void add(const scored_label& o) { counts_.add(o); }
  /// Adds `other`'s counts. @throws config_error when the thresholds differ.
  void merge(const confusion_rate& other) { counts_.merge(other.counts_); }

  /// The rate (see `confusion_counts`). @throws undefined_metric where it is 0/0.
  [[nodiscard]] double result() const {
    const confusion_counts c = counts_.result();
    if constexpr (Rate == offline_metric::precision) {
      return c.precision();
    } else if constexpr (Rate == offline_metric::recall) {
      return c.recall();
    } else {
      return c.f1();
    }
  }

  /// The confusion matrix behind the rate.
  [[nodiscard]] confusion_counts counts() const noexcept { return counts_.result(); }
  /// The configuration.
  [[nodiscard]] const config& configuration() const noexcept { return counts_.configuration(); }

private:
  confusion_matrix counts_;
};

} // namespace detail

/// Precision tp / (tp + fp) of `score >= threshold`. @throws undefined_metric from `result()`
/// with no predicted positive.
using precision = detail::confusion_rate<offline_metric::precision>;
/// Recall tp / (tp + fn) of `score >= threshold`. @throws undefined_metric from `result()` with
/// no positive label.
using recall = detail::confusion_rate<offline_metric::recall>;
/// F1 = 2·tp / (2·tp + fp + fn) of `score >= threshold`. @throws undefined_metric from
/// `result()` when tp + fp + fn = 0.
using f1_score = detail::confusion_rate<offline_metric::f1>;

/// The threshold `best_threshold` chose and the decisions there.
struct threshold_choice {
  /// The chosen threshold: one of the observed scores (-0 reported as +0); the decisions are
  /// `score >= threshold`.
  float threshold = 0.0f;
  /// The confusion matrix at `threshold`.
  confusion_counts counts;
  /// F1 at `threshold`, the maximum over every observed score.
  double f1 = 0.0;
};

namespace detail {
/// Whether a/b < c/d for b, d > 0, exactly (128-bit cross products: counts up to 2^64).
[[nodiscard]] inline bool fraction_less(std::uint64_t a, std::uint64_t b, std::uint64_t c,
                                        std::uint64_t d) noexcept {
#if defined(__SIZEOF_INT128__)
  __extension__ using u128 = unsigned __int128;
  return static_cast<u128>(a) * d < static_cast<u128>(c) * b;
#else
  return static_cast<long double>(a) * static_cast<long double>(d) <
         static_cast<long double>(c) * static_cast<long double>(b);
#endif
}
} // namespace detail

/// The threshold that maximises F1, exact: every distinct observed score `t` is a candidate (the
/// decisions `score >= t`), F1 = 2·tp / (2·tp + fp + fn) is compared as an exact fraction, and
/// the best is returned with its confusion matrix. Among thresholds with the same F1 the lowest
/// wins (more recall for the same F1; the first maximum over ascending thresholds, as
/// `numpy.argmax` over a threshold grid would pick). Only scores of positives can be optimal, since
/// lowering the threshold onto a negative's score adds a false positive and nothing else.
///
/// Keeps every score as `roc_auc` does (4 bytes per observation) and sorts in `result()`:
/// O(n log n), O(n) with the radix sort from 4096 scores per class; `merge` appends. Not
/// thread-safe (the sort is a cache, as in `roc_auc`). Undefined (throws `undefined_metric`)
/// with no observations or no positive (F1 is then 0 at every threshold: nothing to choose).
///
/// Choosing a threshold on the data it is then evaluated on overstates F1; choose it on a
/// validation split and report the confusion matrix of the test split at that threshold.
class best_threshold : public metric_tag {
public:
  using observation_type = scored_label;
  using result_type = threshold_choice;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "best_threshold";

  /// Adds one observation. @throws input_error when the score or the label is NaN.
  void add(const scored_label& o) {
    detail::check_not_nan(name, "score", o.score);
    detail::check_not_nan(name, "label", o.label);
    scores_.add(o.score, model::is_positive(o.label));
  }

  /// Adds every observation of `other` (which may be `*this`).
  void merge(const best_threshold& other) { scores_.merge(other.scores_); }

  /// The F1-optimal threshold. @throws undefined_metric with no observations or no positive.
  [[nodiscard]] threshold_choice result() const {
    const std::uint64_t n_pos = scores_.positive_keys().size();
    const std::uint64_t n_neg = scores_.negative_keys().size();
    if (n_pos + n_neg == 0) {
      throw undefined_metric(std::string(name), "no observations");
    }
    if (n_pos == 0) {
      std::string reason = "no positive among ";
      reason += std::to_string(n_neg);
      reason += " observations: F1 is 0 at every threshold";
      throw undefined_metric(std::string(name), reason);
    }
    scores_.sort();
    const std::vector<std::uint32_t>& pos = scores_.positive_keys();
    const std::vector<std::uint32_t>& neg = scores_.negative_keys();
    // Distinct positive scores from the highest down; F1 = 2tp / (tp + fp + n+).
    std::uint32_t best_key = 0;
    std::uint64_t best_tp = 0;
    std::uint64_t best_fp = 0;
    bool found = false;
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
      const std::uint64_t tp = pos.size() - begin;
      const std::uint64_t fp = neg.size() - first_neg;
      // `>=`: a later (lower) threshold with the same F1 replaces the earlier one.
      if (!found ||
          !detail::fraction_less(tp, tp + fp + n_pos, best_tp, best_tp + best_fp + n_pos)) {
        best_key = s;
        best_tp = tp;
        best_fp = fp;
        found = true;
      }
      end = begin;
    }
    threshold_choice out;
    out.threshold = detail::key_score(best_key);
    out.counts = confusion_counts{
        .tp = best_tp, .fp = best_fp, .tn = n_neg - best_fp, .fn = n_pos - best_tp};
    out.f1 = out.counts.f1();
    return out;
  }

  /// Observations added so far.
  [[nodiscard]] std::uint64_t count() const noexcept {
    return scores_.positive_keys().size() + scores_.negative_keys().size();
  }
  /// Reserves memory for that many more positives and negatives (an optimisation only).
  void reserve(std::size_t n_positives, std::size_t n_negatives) {
    scores_.reserve(n_positives, n_negatives);
  }

private:
  detail::scores_by_class scores_;
};

static_assert(metric_accumulator<confusion_matrix>);
static_assert(metric_accumulator<precision>);
static_assert(metric_accumulator<recall>);
static_assert(metric_accumulator<f1_score>);
static_assert(metric_accumulator<best_threshold>);

/// The confusion matrix of `score >= cfg.threshold` over `(scores, labels)`. O(n).
/// @throws std::invalid_argument when the sizes differ; input_error naming `scores[i]` or
/// `labels[i]` for a NaN; config_error for a bad `cfg`.
[[nodiscard]] inline confusion_counts confusion_matrix_of(std::span<const float> scores,
                                                          std::span<const float> labels,
                                                          threshold_config cfg = {}) {
  return detail::accumulate_pairs(confusion_matrix(cfg), "confusion_matrix_of", scores, "scores",
                                  labels, "labels");
}

/// The F1-optimal threshold over `(scores, labels)` (see `best_threshold`). O(n log n).
/// @throws std::invalid_argument when the sizes differ; input_error for a NaN; undefined_metric
/// when empty or without a positive.
[[nodiscard]] inline threshold_choice best_threshold_of(std::span<const float> scores,
                                                        std::span<const float> labels) {
  best_threshold m;
  std::size_t positives = 0;
  for (const float y : labels) {
    positives += model::is_positive(y) ? 1 : 0;
  }
  m.reserve(positives, labels.size() - positives);
  return detail::accumulate_pairs(std::move(m), "best_threshold_of", scores, "scores", labels,
                                  "labels");
}

} // namespace evaluation
MLSD_END_NAMESPACE
