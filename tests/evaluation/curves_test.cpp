// Threshold curves (include/mlsd/evaluation/curves.hpp): scikit-learn's points on a small data set
// with ties, hand-computed gain and lift, agreement with a naive O(n²) reference and with
// roc_auc_of / average_precision_of on random data, downsample's shape keeping, bad input.
#include <mlsd/evaluation/classification.hpp>
#include <mlsd/evaluation/curves.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace ev = mlsd::evaluation;

namespace {

using floats = std::vector<float>;
constexpr double inf = std::numeric_limits<double>::infinity();

// 12 observations, 5 positives, scores on multiples of 1/8 (exact in float and double) with ties
// at 0.875 (two positives), 0.625 and 0.5 (a positive and a negative each) and 0.25.
const floats labels12 = {1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0};
const floats scores12 = {0.875f, 0.25f,  0.5f,  0.875f, 0.5f,  0.125f,
                         0.625f, 0.625f, 0.25f, 0.375f, 0.75f, 0.0f};

// scikit-learn 1.2.1 (Debian bookworm's python3-sklearn) on that data:
//
//   import numpy as np
//   from sklearn.metrics import (roc_curve, precision_recall_curve, average_precision_score,
//                                roc_auc_score)
//   y = np.array([1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0])
//   s = np.array([0.875, 0.25, 0.5, 0.875, 0.5, 0.125, 0.625, 0.625, 0.25, 0.375, 0.75, 0.0])
//   fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
//   p, r, t = precision_recall_curve(y, s)
//   print(fpr.tolist(), tpr.tolist(), thr.tolist(), p.tolist(), r.tolist(), t.tolist())
//   print(average_precision_score(y, s), roc_auc_score(y, s))
const std::vector<double> sk_fpr = {0.0,
                                    0.0,
                                    0.14285714285714285,
                                    0.2857142857142857,
                                    0.42857142857142855,
                                    0.42857142857142855,
                                    0.7142857142857143,
                                    0.8571428571428571,
                                    1.0};
const std::vector<double> sk_tpr = {0.0, 0.4, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0, 1.0};
// scikit-learn 1.2 writes max + 1 = 1.875 for the first threshold; mlsd (and scikit-learn from
// 1.3) writes +inf.
const std::vector<double> sk_roc_thresholds = {1.875, 0.875, 0.75,  0.625, 0.5,
                                               0.375, 0.25,  0.125, 0.0};
// precision_recall_curve, in scikit-learn's order (thresholds increasing, then the point
// (recall 0, precision 1) without a threshold).
const std::vector<double> sk_precision = {0.4166666666666667,
                                          0.45454545454545453,
                                          0.5,
                                          0.625,
                                          0.5714285714285714,
                                          0.6,
                                          0.6666666666666666,
                                          1.0,
                                          1.0};
const std::vector<double> sk_recall = {1.0, 1.0, 1.0, 1.0, 0.8, 0.6, 0.4, 0.4, 0.0};
const std::vector<double> sk_pr_thresholds = {0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875};
constexpr double sk_average_precision = 0.7592857142857143;
constexpr double sk_roc_auc = 0.8;

// Points of a curve by brute force: for each distinct score t (descending), count the
// observations with score >= t. Returns (targeted, true positives) per threshold.
struct naive_counts {
  std::vector<double> thresholds;
  std::vector<double> targeted;
  std::vector<double> tp;
  double positives = 0;
  double negatives = 0;
};
naive_counts naive(const floats& scores, const floats& labels) {
  naive_counts c;
  std::set<float, std::greater<>> distinct(scores.begin(), scores.end());
  for (const float y : labels) {
    (y > 0 ? c.positives : c.negatives) += 1;
  }
  for (const float t : distinct) {
    double targeted = 0;
    double tp = 0;
    for (std::size_t i = 0; i < scores.size(); ++i) {
      if (scores[i] >= t) {
        targeted += 1;
        tp += labels[i] > 0 ? 1 : 0;
      }
    }
    c.thresholds.push_back(t);
    c.targeted.push_back(targeted);
    c.tp.push_back(tp);
  }
  return c;
}

void random_scores(std::mt19937& rng, std::size_t n, int levels, floats& scores, floats& labels) {
  std::uniform_int_distribution<int> level(0, levels - 1);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  scores.clear();
  labels.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const float s = static_cast<float>(level(rng)) / static_cast<float>(levels);
    scores.push_back(s);
    labels.push_back(u(rng) < 0.15f + 0.7f * s ? 1.0f : 0.0f);
  }
}

} // namespace

TEST_CASE("roc_curve_of gives scikit-learn's roc_curve points", "[evaluation][curves]") {
  const std::vector<ev::curve_point> roc = ev::roc_curve_of(scores12, labels12);
  REQUIRE(roc.size() == sk_fpr.size());
  CHECK(roc.front().threshold == inf);
  for (std::size_t k = 0; k < roc.size(); ++k) {
    CAPTURE(k);
    CHECK(roc[k].x == Approx(sk_fpr[k]).margin(1e-15));
    CHECK(roc[k].y == Approx(sk_tpr[k]).margin(1e-15));
    if (k > 0) {
      CHECK(roc[k].threshold == sk_roc_thresholds[k]);
    }
  }
  CHECK(ev::trapezoidal_area(roc) == Approx(sk_roc_auc).margin(1e-12));
  CHECK(ev::trapezoidal_area(roc) == Approx(ev::roc_auc_of(scores12, labels12)).margin(1e-12));
}

TEST_CASE("precision_recall_curve_of gives scikit-learn's points in reverse order",
          "[evaluation][curves]") {
  const std::vector<ev::curve_point> pr = ev::precision_recall_curve_of(scores12, labels12);
  REQUIRE(pr.size() == sk_precision.size());
  const std::size_t last = pr.size() - 1;
  CHECK(pr.front() == ev::curve_point{0.0, 1.0, inf});
  for (std::size_t k = 0; k < pr.size(); ++k) {
    CAPTURE(k);
    CHECK(pr[k].x == Approx(sk_recall[last - k]).margin(1e-15));
    CHECK(pr[k].y == Approx(sk_precision[last - k]).margin(1e-15));
    if (k > 0) {
      CHECK(pr[k].threshold == sk_pr_thresholds[last - k]);
    }
  }
  CHECK(ev::step_area(pr) == Approx(sk_average_precision).margin(1e-12));
}

TEST_CASE("cumulative gain and lift curves, computed by hand", "[evaluation][curves]") {
  // Groups from the top score down (targeted, positives found): 0.875 (2, 2), 0.75 (3, 2),
  // 0.625 (5, 3), 0.5 (7, 4), 0.375 (8, 5), 0.25 (10, 5), 0.125 (11, 5), 0 (12, 5); n = 12,
  // P = 5, so gain = (targeted / 12, found / 5) and lift = (found / targeted) / (5 / 12).
  const std::vector<double> targeted = {2, 3, 5, 7, 8, 10, 11, 12};
  const std::vector<double> found = {2, 2, 3, 4, 5, 5, 5, 5};
  const std::vector<double> lift_hand = {2.4, 1.6, 1.44, 48.0 / 35.0, 1.5, 1.2, 12.0 / 11.0, 1.0};
  const std::vector<ev::curve_point> gain = ev::cumulative_gain_curve_of(scores12, labels12);
  const std::vector<ev::curve_point> lift = ev::lift_curve_of(scores12, labels12);
  REQUIRE(gain.size() == 9);
  REQUIRE(lift.size() == 8);
  CHECK(gain.front() == ev::curve_point{0.0, 0.0, inf});
  for (std::size_t k = 0; k < 8; ++k) {
    CAPTURE(k);
    CHECK(gain[k + 1].x == Approx(targeted[k] / 12.0).margin(1e-15));
    CHECK(gain[k + 1].y == Approx(found[k] / 5.0).margin(1e-15));
    CHECK(gain[k + 1].threshold == sk_roc_thresholds[k + 1]);
    CHECK(lift[k].x == Approx(targeted[k] / 12.0).margin(1e-15));
    CHECK(lift[k].y == Approx(lift_hand[k]).epsilon(1e-14));
    CHECK(lift[k].threshold == gain[k + 1].threshold);
  }
}

TEST_CASE("curves agree with brute force and with the exact metrics on random data",
          "[evaluation][curves]") {
  std::mt19937 rng(7);
  floats scores;
  floats labels;
  for (const int levels : {2, 7, 50, 100000}) {
    random_scores(rng, 301, levels, scores, labels);
    CAPTURE(levels);
    const naive_counts c = naive(scores, labels);
    const auto roc = ev::roc_curve_of(scores, labels);
    const auto pr = ev::precision_recall_curve_of(scores, labels);
    const auto gain = ev::cumulative_gain_curve_of(scores, labels);
    const auto lift = ev::lift_curve_of(scores, labels);
    REQUIRE(roc.size() == c.thresholds.size() + 1);
    REQUIRE(pr.size() == roc.size());
    REQUIRE(gain.size() == roc.size());
    REQUIRE(lift.size() == c.thresholds.size());
    for (std::size_t k = 0; k < c.thresholds.size(); ++k) {
      const double fp = c.targeted[k] - c.tp[k];
      CHECK(roc[k + 1].threshold == c.thresholds[k]);
      CHECK(roc[k + 1].x == fp / c.negatives);
      CHECK(roc[k + 1].y == c.tp[k] / c.positives);
      CHECK(pr[k + 1].x == c.tp[k] / c.positives);
      CHECK(pr[k + 1].y == c.tp[k] / c.targeted[k]);
      CHECK(gain[k + 1].x == c.targeted[k] / static_cast<double>(scores.size()));
      CHECK(lift[k].y ==
            Approx((c.tp[k] / c.targeted[k]) / (c.positives / static_cast<double>(scores.size()))));
    }
    CHECK(roc.back().x == 1.0);
    CHECK(roc.back().y == 1.0);
    CHECK(ev::trapezoidal_area(roc) == Approx(ev::roc_auc_of(scores, labels)).margin(1e-12));
    CHECK(ev::step_area(pr) == Approx(ev::average_precision_of(scores, labels)).margin(1e-12));
  }
}

TEST_CASE("curves: infinite scores order, labels > 0 are positive", "[evaluation][curves]") {
  const float finf = std::numeric_limits<float>::infinity();
  const floats scores = {finf, -finf, 0.5f};
  const floats labels = {2.0f, -1.0f, -1.0f};
  const auto roc = ev::roc_curve_of(scores, labels);
  REQUIRE(roc.size() == 4);
  CHECK(roc[1] == ev::curve_point{0.0, 1.0, inf});
  CHECK(roc[2] == ev::curve_point{0.5, 1.0, 0.5});
  CHECK(roc[3] == ev::curve_point{1.0, 1.0, -inf});
}

TEST_CASE("curves: undefined cases and bad input", "[evaluation][curves]") {
  const floats none;
  const floats ones = {1, 1};
  const floats zeros = {0, 0};
  const floats two = {0.2f, 0.4f};
  CHECK_THROWS_AS(ev::roc_curve_of(none, none), ev::undefined_metric);
  CHECK_THROWS_WITH(ev::roc_curve_of(two, ones), Catch::Contains("only one class (2 positives"));
  CHECK_THROWS_AS(ev::roc_curve_of(two, zeros), ev::undefined_metric);
  // Without a negative, precision, gain and lift are defined; without a positive they are not.
  CHECK(ev::precision_recall_curve_of(two, ones).back() == ev::curve_point{1.0, 1.0, 0.2f});
  CHECK(ev::lift_curve_of(two, ones).back().y == 1.0);
  CHECK_THROWS_AS(ev::precision_recall_curve_of(two, zeros), ev::undefined_metric);
  CHECK_THROWS_AS(ev::cumulative_gain_curve_of(two, zeros), ev::undefined_metric);
  CHECK_THROWS_AS(ev::lift_curve_of(none, none), ev::undefined_metric);

  const floats with_nan = {0.1f, std::nanf(""), 0.3f};
  const floats labels3 = {0, 1, 0};
  try {
    (void)ev::roc_curve_of(with_nan, labels3);
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().field == "scores[1]");
    CHECK(e.where().file == "roc_curve_of");
  }
  const floats nan_label = {0, 1, std::nanf("")};
  CHECK_THROWS_WITH(ev::lift_curve_of(two, {}), Catch::Contains("2 scores but 0 labels"));
  try {
    (void)ev::cumulative_gain_curve_of(labels3, nan_label);
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().field == "labels[2]");
  }
}

TEST_CASE("downsample keeps the corners and drops straight runs", "[evaluation][curves]") {
  // Three collinear points then a corner: with 3 points left, the two inner collinear points go.
  const std::vector<ev::curve_point> line = {{0, 0, 5}, {1, 1, 4}, {2, 2, 3}, {3, 3, 2}, {4, 0, 1}};
  const auto kept = ev::downsample(line, 3);
  REQUIRE(kept.size() == 3);
  CHECK(kept[0] == line[0]);
  CHECK(kept[1] == line[3]);
  CHECK(kept[2] == line[4]);
  CHECK(ev::downsample(line, 2) == std::vector<ev::curve_point>{line[0], line[4]});
  CHECK(ev::downsample(line, 5) == line);
  CHECK(ev::downsample(line, 100) == line);
  CHECK(ev::downsample(std::vector<ev::curve_point>{}, 2).empty());

  CHECK_THROWS_AS(ev::downsample(line, 1), std::invalid_argument);
  std::vector<ev::curve_point> bad = line;
  bad[2].y = std::nan("");
  CHECK_THROWS_WITH(ev::downsample(bad, 3), Catch::Contains("point 2"));
}

TEST_CASE("downsample keeps the end points, the order and the monotonicity of a large curve",
          "[evaluation][curves]") {
  std::mt19937 rng(11);
  floats scores;
  floats labels;
  random_scores(rng, 20000, 100000, scores, labels);
  const auto roc = ev::roc_curve_of(scores, labels);
  REQUIRE(roc.size() > 5000);
  for (const std::size_t max_points :
       {std::size_t{2}, std::size_t{3}, std::size_t{50}, std::size_t{200}, roc.size() - 1}) {
    CAPTURE(max_points);
    const auto few = ev::downsample(roc, max_points);
    REQUIRE(few.size() == max_points);
    CHECK(few.front() == roc.front());
    CHECK(few.back() == roc.back());
    // A subsequence: every kept point is one of the curve's, in the curve's order.
    std::size_t at = 0;
    for (const ev::curve_point& p : few) {
      while (at < roc.size() && !(roc[at] == p)) {
        ++at;
      }
      REQUIRE(at < roc.size());
      ++at;
    }
    for (std::size_t k = 1; k < few.size(); ++k) {
      CHECK(few[k].x >= few[k - 1].x);
      CHECK(few[k].y >= few[k - 1].y);
    }
    if (max_points >= 50) {
      // The shape stays: the area moves by less than 1% of the chance area.
      CHECK(ev::trapezoidal_area(few) == Approx(ev::trapezoidal_area(roc)).margin(0.005));
    }
  }
  // Deterministic: the same input gives the same points.
  CHECK(ev::downsample(roc, 77) == ev::downsample(roc, 77));
}
