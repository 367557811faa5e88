/// @file
/// Threshold curves of binary classifiers: ROC, precision–recall, cumulative gain and lift, one
/// point per distinct score threshold, plus `downsample` to draw a curve of millions of points
/// with a few hundred without changing its shape.
///
/// Every curve sorts the scores once (O(n log n) time, O(n) memory) and walks them from the
/// highest score down. Observations with equal scores form one point (a tie moves the curve
/// diagonally, as scikit-learn draws it), so the trapezoidal area under the ROC curve is exactly
/// the tie-aware ROC-AUC. Labels follow model/loss.hpp (`> 0` is positive). A NaN score or label
/// throws `input_error` naming `scores[i]` or `labels[i]`; a curve with no value on the data (an
/// ROC curve without a negative, any curve without a positive) throws `undefined_metric`.
///
/// ```cpp
/// namespace ev = mlsd::evaluation;
/// const std::vector<ev::curve_point> roc = ev::roc_curve_of(scores, labels);
/// const double auc = ev::trapezoidal_area(roc);           // == ev::roc_auc_of(scores, labels)
/// const auto few = ev::downsample(roc, 200);               // for an SVG figure
/// ```
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/evaluation/metric.hpp>
#include <mlsd/model/loss.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <queue>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace evaluation {

/// One point of a threshold curve: its coordinates and the score threshold that produces it
/// (an observation is predicted positive when `score >= threshold`). The first point of every
/// curve has `threshold = +infinity` (nothing predicted positive).
struct curve_point {
  double x = 0.0;
  double y = 0.0;
  double threshold = 0.0;
  friend bool operator==(const curve_point&, const curve_point&) = default;
};

namespace detail {

/// Cumulative counts at each distinct threshold, from the highest score down: predicting
/// positive every observation with `score >= thresholds[k]` yields `true_positives[k]` and
/// `false_positives[k]`.
struct threshold_counts {
  std::vector<double> thresholds;
  std::vector<std::uint64_t> true_positives;
  std::vector<std::uint64_t> false_positives;
  std::uint64_t positives = 0;
  std::uint64_t negatives = 0;
};

/// Checks the inputs of the curve helper `helper` and counts, per distinct score, the positives
/// and negatives at or above it. O(n log n).
[[nodiscard]] inline threshold_counts count_by_threshold(std::string_view helper,
                                                         std::span<const float> scores,
                                                         std::span<const float> labels) {
  check_same_size(helper, "scores", scores.size(), "labels", labels.size());
  std::vector<std::pair<float, bool>> sorted;
  sorted.reserve(scores.size());
  for (std::size_t i = 0; i < scores.size(); ++i) {
    for (const auto& [value, field] : {std::pair{scores[i], "scores["}, {labels[i], "labels["}}) {
      if (std::isnan(value)) {
        std::string where = field;
        where += std::to_string(i);
        where += ']';
        throw input_error(input_position(std::string(helper), 0, 0, where), "a number (not NaN)",
                          number_text(value));
      }
    }
    sorted.emplace_back(scores[i], model::is_positive(labels[i]));
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  threshold_counts out;
  for (std::size_t i = 0; i < sorted.size();) {
    const float s = sorted[i].first;
    for (; i < sorted.size() && sorted[i].first == s; ++i) {
      (sorted[i].second ? out.positives : out.negatives) += 1;
    }
    out.thresholds.push_back(static_cast<double>(s));
    out.true_positives.push_back(out.positives);
    out.false_positives.push_back(out.negatives);
  }
  return out;
}

/// Throws `undefined_metric` for `curve` unless the data had a positive (and, when
/// `needs_negative`, a negative).
inline void check_classes(std::string_view curve, const threshold_counts& c, bool needs_negative) {
  if (c.positives + c.negatives == 0) {
    throw undefined_metric(std::string(curve), "no observations");
  }
  if (c.positives == 0 || (needs_negative && c.negatives == 0)) {
    std::string reason = "only one class (";
    reason += std::to_string(c.positives);
    reason += " positives, ";
    reason += std::to_string(c.negatives);
    reason += " negatives)";
    throw undefined_metric(std::string(curve), reason);
  }
}

inline constexpr double plus_infinity = std::numeric_limits<double>::infinity();

} // namespace detail

/// The ROC curve (Fawcett 2006, "An introduction to ROC analysis", Pattern Recognition Letters
/// 27): `x` = false positive rate `FP/N`, `y` = true positive rate `TP/P` at each distinct score,
/// from the highest score down, after a first point `(0, 0)` at threshold `+infinity`. The same
/// points as scikit-learn's `roc_curve(labels, scores, drop_intermediate=False)`, whose first
/// threshold is `+inf` since version 1.3 (`max(score) + 1` before). `x` and `y` never decrease
/// and the last point is `(1, 1)`. O(n log n).
/// @throws std::invalid_argument when the sizes differ; input_error naming `scores[i]` or
/// `labels[i]` for a NaN; undefined_metric when empty or one class only.
[[nodiscard]] inline std::vector<curve_point> roc_curve_of(std::span<const float> scores,
                                                           std::span<const float> labels) {
  const detail::threshold_counts c = detail::count_by_threshold("roc_curve_of", scores, labels);
  detail::check_classes("roc_curve", c, true);
  const double p = static_cast<double>(c.positives);
  const double n = static_cast<double>(c.negatives);
  std::vector<curve_point> out;
  out.reserve(c.thresholds.size() + 1);
  out.push_back({0.0, 0.0, detail::plus_infinity});
  for (std::size_t k = 0; k < c.thresholds.size(); ++k) {
    out.push_back({static_cast<double>(c.false_positives[k]) / n,
                   static_cast<double>(c.true_positives[k]) / p, c.thresholds[k]});
  }
  return out;
}

/// The precision–recall curve (Davis & Goadrich 2006, "The relationship between precision-recall
/// and ROC curves", ICML): `x` = recall `TP/P`, `y` = precision `TP/(TP+FP)` at each distinct
/// score, from the highest score down (recall never decreases), after a first point `(0, 1)` at
/// threshold `+infinity`. These are scikit-learn's `precision_recall_curve(labels, scores)`
/// points in reverse order: scikit-learn lists thresholds increasing and appends `(recall 0,
/// precision 1)` without a threshold at the end; here that point comes first. Precision is
/// defined at every point because each distinct threshold predicts at least one observation
/// positive. O(n log n).
/// @throws std::invalid_argument when the sizes differ; input_error for a NaN; undefined_metric
/// when empty or without a positive (recall is undefined).
[[nodiscard]] inline std::vector<curve_point>
precision_recall_curve_of(std::span<const float> scores, std::span<const float> labels) {
  const detail::threshold_counts c =
      detail::count_by_threshold("precision_recall_curve_of", scores, labels);
  detail::check_classes("precision_recall_curve", c, false);
  const double p = static_cast<double>(c.positives);
  std::vector<curve_point> out;
  out.reserve(c.thresholds.size() + 1);
  out.push_back({0.0, 1.0, detail::plus_infinity});
  for (std::size_t k = 0; k < c.thresholds.size(); ++k) {
    const double tp = static_cast<double>(c.true_positives[k]);
    const double predicted = tp + static_cast<double>(c.false_positives[k]);
    out.push_back({tp / p, tp / predicted, c.thresholds[k]});
  }
  return out;
}

/// The cumulative gain curve (Linoff & Berry 2011, "Data Mining Techniques", ch. 5): `x` = the
/// share of the population targeted, highest scores first, `y` = the share of all positives
/// found there, `TP/P`, at each distinct score, after a first point `(0, 0)` at threshold
/// `+infinity`; ends at `(1, 1)`. A random ordering follows the diagonal; the perfect one rises
/// to 1 at `x = P/n`. O(n log n).
/// @throws std::invalid_argument when the sizes differ; input_error for a NaN; undefined_metric
/// when empty or without a positive.
[[nodiscard]] inline std::vector<curve_point>
cumulative_gain_curve_of(std::span<const float> scores, std::span<const float> labels) {
  const detail::threshold_counts c =
      detail::count_by_threshold("cumulative_gain_curve_of", scores, labels);
  detail::check_classes("cumulative_gain_curve", c, false);
  const double p = static_cast<double>(c.positives);
  const double total = static_cast<double>(c.positives + c.negatives);
  std::vector<curve_point> out;
  out.reserve(c.thresholds.size() + 1);
  out.push_back({0.0, 0.0, detail::plus_infinity});
  for (std::size_t k = 0; k < c.thresholds.size(); ++k) {
    const double tp = static_cast<double>(c.true_positives[k]);
    const double targeted = tp + static_cast<double>(c.false_positives[k]);
    out.push_back({targeted / total, tp / p, c.thresholds[k]});
  }
  return out;
}

/// The lift curve (Linoff & Berry 2011): `x` = the share of the population targeted, highest
/// scores first, `y` = the positive rate among the targeted over the overall positive rate,
/// `(TP/(TP+FP)) / (P/n)`, i.e. the gain divided by `x`. One point per distinct score and no
/// point at `x = 0`, where lift is 0/0: the first point is the top score's group. Ends at
/// `(1, 1)`; a random ordering stays near 1. O(n log n).
/// @throws std::invalid_argument when the sizes differ; input_error for a NaN; undefined_metric
/// when empty or without a positive.
[[nodiscard]] inline std::vector<curve_point> lift_curve_of(std::span<const float> scores,
                                                            std::span<const float> labels) {
  const detail::threshold_counts c = detail::count_by_threshold("lift_curve_of", scores, labels);
  detail::check_classes("lift_curve", c, false);
  const double p = static_cast<double>(c.positives);
  const double total = static_cast<double>(c.positives + c.negatives);
  std::vector<curve_point> out;
  out.reserve(c.thresholds.size());
  for (std::size_t k = 0; k < c.thresholds.size(); ++k) {
    const double tp = static_cast<double>(c.true_positives[k]);
    const double targeted = tp + static_cast<double>(c.false_positives[k]);
    out.push_back({targeted / total, (tp / targeted) / (p / total), c.thresholds[k]});
  }
  return out;
}

/// The area under a curve by the trapezoidal rule, `Σ (x_k - x_{k-1}) (y_k + y_{k-1}) / 2`. On
/// `roc_curve_of`'s points it is the tie-aware ROC-AUC (a tie group is one diagonal segment,
/// which counts its pairs 1/2), equal to `roc_auc_of` up to rounding. Do not use it on a
/// precision–recall curve: linear interpolation between PR points is optimistic (Davis &
/// Goadrich 2006); use `step_area`. O(n). Returns 0 for fewer than two points.
[[nodiscard]] inline double trapezoidal_area(std::span<const curve_point> curve) noexcept {
  double area = 0.0;
  for (std::size_t k = 1; k < curve.size(); ++k) {
    area += (curve[k].x - curve[k - 1].x) * (curve[k].y + curve[k - 1].y) * 0.5;
  }
  return area;
}

/// The area under a curve as a right step function, `Σ (x_k - x_{k-1}) y_k`. On
/// `precision_recall_curve_of`'s points it is average precision as scikit-learn's
/// `average_precision_score` defines it, `AP = Σ (R_k - R_{k-1}) P_k`. O(n). Returns 0 for fewer
/// than two points.
[[nodiscard]] inline double step_area(std::span<const curve_point> curve) noexcept {
  double area = 0.0;
  for (std::size_t k = 1; k < curve.size(); ++k) {
    area += (curve[k].x - curve[k - 1].x) * curve[k].y;
  }
  return area;
}

/// At most `max_points` of `curve`'s points, chosen to keep its shape for a figure: the first and
/// last points always stay, and points are removed one at a time, the one whose removal changes
/// the drawn line least first: the point forming the smallest triangle with its two remaining
/// neighbours (Visvalingam & Whyatt 1993, "Line generalisation by repeated elimination of
/// points", The Cartographic Journal 30(1)), measured after scaling both axes to the curve's
/// bounding box so that neither axis dominates. Corners (where the curve turns) form large
/// triangles and stay; points on straight runs (a long tie, a flat stretch) go first.
///
/// The result is a subsequence of `curve` in its order, so a curve whose `x` or `y` never
/// decreases keeps that property. Ties between equal areas go to the earlier point, so the
/// output is deterministic. O(n log n) time, O(n) memory. Returns `curve` unchanged when it has
/// at most `max_points` points.
/// @throws std::invalid_argument when `max_points < 2`, or when a coordinate is not finite.
[[nodiscard]] inline std::vector<curve_point> downsample(std::span<const curve_point> curve,
                                                         std::size_t max_points) {
  if (max_points < 2) {
    throw std::invalid_argument(
        "mlsd::evaluation::downsample: max_points must be at least 2 (the end points)");
  }
  double x_min = 0.0;
  double x_max = 0.0;
  double y_min = 0.0;
  double y_max = 0.0;
  for (std::size_t k = 0; k < curve.size(); ++k) {
    const curve_point& c = curve[k];
    if (!std::isfinite(c.x) || !std::isfinite(c.y)) {
      std::string what = "mlsd::evaluation::downsample: point ";
      what += std::to_string(k);
      what += " has a coordinate that is not finite";
      throw std::invalid_argument(what);
    }
    x_min = k == 0 ? c.x : std::min(x_min, c.x);
    x_max = k == 0 ? c.x : std::max(x_max, c.x);
    y_min = k == 0 ? c.y : std::min(y_min, c.y);
    y_max = k == 0 ? c.y : std::max(y_max, c.y);
  }
  if (curve.size() <= max_points) {
    return {curve.begin(), curve.end()};
  }
  const double sx = x_max > x_min ? 1.0 / (x_max - x_min) : 1.0;
  const double sy = y_max > y_min ? 1.0 / (y_max - y_min) : 1.0;
  const std::size_t n = curve.size();
  constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::vector<std::size_t> prev(n);
  std::vector<std::size_t> next(n);
  std::vector<double> area(n, 0.0);
  std::vector<bool> removed(n, false);
  for (std::size_t k = 0; k < n; ++k) {
    prev[k] = k == 0 ? none : k - 1;
    next[k] = k + 1 == n ? none : k + 1;
  }
  const auto triangle = [&](std::size_t k) {
    const curve_point& a = curve[prev[k]];
    const curve_point& b = curve[k];
    const curve_point& c = curve[next[k]];
    return 0.5 * std::abs(((b.x - a.x) * sx) * ((c.y - a.y) * sy) -
                          ((c.x - a.x) * sx) * ((b.y - a.y) * sy));
  };
  using entry = std::pair<double, std::size_t>; // (area, index): smallest area, then earliest
  std::priority_queue<entry, std::vector<entry>, std::greater<>> heap;
  for (std::size_t k = 1; k + 1 < n; ++k) {
    area[k] = triangle(k);
    heap.emplace(area[k], k);
  }
  std::size_t remaining = n;
  while (remaining > max_points) {
    const auto [a, k] = heap.top();
    heap.pop();
    if (removed[k] || a != area[k]) {
      continue; // a stale entry: the point was removed or its area changed since
    }
    removed[k] = true;
    --remaining;
    const std::size_t p = prev[k];
    const std::size_t q = next[k];
    next[p] = q;
    prev[q] = p;
    // A neighbour's new triangle is never smaller than the removed one (Visvalingam & Whyatt's
    // rule), so that removing it later cannot count as a smaller change than this one.
    for (const std::size_t m : {p, q}) {
      if (prev[m] != none && next[m] != none) {
        area[m] = std::max(triangle(m), a);
        heap.emplace(area[m], m);
      }
    }
  }
  std::vector<curve_point> out;
  out.reserve(max_points);
  for (std::size_t k = 0; k != none; k = next[k]) {
    out.push_back(curve[k]);
  }
  return out;
}

} // namespace evaluation
MLSD_END_NAMESPACE
