// Decisions at a threshold (include/mlsd/evaluation/threshold.hpp): the confusion matrix and
// its rates by hand, every undefined rate, merge == add-all, the F1-optimal threshold against an
// exhaustive search (including the radix-sorted path, ties, ±inf and -0/+0), configs.
#include <mlsd/evaluation/threshold.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace ev = mlsd::evaluation;

namespace {

using floats = std::vector<float>;

// The counts of `score >= t` by a plain scan.
ev::confusion_counts scan_counts(const floats& s, const floats& y, float t) {
  ev::confusion_counts c;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool predicted = s[i] >= t;
    const bool positive = y[i] > 0;
    if (predicted && positive) {
      ++c.tp;
    } else if (predicted) {
      ++c.fp;
    } else if (positive) {
      ++c.fn;
    } else {
      ++c.tn;
    }
  }
  return c;
}

// Exhaustive search: every distinct score (ascending, so the first maximum is the lowest
// threshold), F1 compared as exact fractions 2tp / (2tp + fp + fn) in long double cross products
// (exact for these sizes).
ev::threshold_choice exhaustive_best(const floats& s, const floats& y) {
  floats candidates = s;
  for (float& t : candidates) {
    t = t + 0.0f; // -0 is +0
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  ev::threshold_choice best;
  bool found = false;
  for (const float t : candidates) {
    const ev::confusion_counts c = scan_counts(s, y, t);
    const auto num = static_cast<long double>(2 * c.tp);
    const auto den = static_cast<long double>(2 * c.tp + c.fp + c.fn);
    const auto best_num = static_cast<long double>(2 * best.counts.tp);
    const auto best_den =
        static_cast<long double>(2 * best.counts.tp + best.counts.fp + best.counts.fn);
    if (!found || num * best_den > best_num * den) {
      best.threshold = t;
      best.counts = c;
      found = true;
    }
  }
  best.f1 = best.counts.f1();
  return best;
}

} // namespace

TEST_CASE("confusion_matrix: score >= threshold is positive, rates by hand",
          "[evaluation][threshold]") {
  // Threshold 0.4: 0.1 (negative label) tn, 0.4 (negative) fp: the score equal to the threshold
  // is predicted positive, 0.35 (positive) fn, 0.8 (positive) tp.
  const floats s = {0.1f, 0.4f, 0.35f, 0.8f};
  const floats y = {0, 0, 1, 1};
  const ev::confusion_counts c = ev::confusion_matrix_of(s, y, {.threshold = 0.4f});
  CHECK(c == ev::confusion_counts{.tp = 1, .fp = 1, .tn = 1, .fn = 1});
  CHECK(c.precision() == 0.5);
  CHECK(c.recall() == 0.5);
  CHECK(c.f1() == 0.5);
  CHECK(c.accuracy() == 0.5);
  CHECK(c.count() == 4);
  CHECK(c.positives() == 2);
  CHECK(c.predicted_positives() == 2);
  // Threshold 0.3 (default 0.5 below): tp 2, fp 1, tn 1: precision 2/3, recall 1,
  // F1 = 4 / (4 + 1) = 0.8, accuracy 3/4.
  const ev::confusion_counts d = ev::confusion_matrix_of(s, y, {.threshold = 0.3});
  CHECK(d == ev::confusion_counts{.tp = 2, .fp = 1, .tn = 1, .fn = 0});
  CHECK(d.precision() == Approx(2.0 / 3.0).epsilon(1e-15));
  CHECK(d.recall() == 1.0);
  CHECK(d.f1() == Approx(0.8).epsilon(1e-15));
  CHECK(d.accuracy() == 0.75);
  // Default threshold 0.5, margins with -1/+1 labels and infinities.
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(ev::confusion_matrix_of(s, y) == ev::confusion_counts{.tp = 1, .fp = 0, .tn = 2, .fn = 1});
  CHECK(ev::confusion_matrix_of(floats{-inf, inf, 0.0f, -0.0f}, floats{1, -1, 1, -1},
                                {.threshold = 0.0}) ==
        ev::confusion_counts{.tp = 1, .fp = 2, .tn = 0, .fn = 1});
  // JSON of the counts.
  CHECK(nlohmann::json(c) == nlohmann::json::parse(R"({"tp":1,"fp":1,"tn":1,"fn":1})"));
}

TEST_CASE("confusion_counts: every undefined rate throws undefined_metric",
          "[evaluation][threshold]") {
  // No predicted positive, one positive label: precision 0/0, recall 0, F1 0 (defined).
  const ev::confusion_counts none_predicted{.tp = 0, .fp = 0, .tn = 3, .fn = 1};
  try {
    (void)none_predicted.precision();
    FAIL("no exception");
  } catch (const ev::undefined_metric& e) {
    CHECK(e.metric() == "precision");
    CHECK(e.reason() == "no predicted positive (tp + fp = 0)");
  }
  CHECK(none_predicted.recall() == 0.0);
  CHECK(none_predicted.f1() == 0.0);
  CHECK(none_predicted.accuracy() == 0.75);
  // No positive label, one predicted: recall 0/0, precision 0, F1 0.
  const ev::confusion_counts no_positive{.tp = 0, .fp = 1, .tn = 2, .fn = 0};
  CHECK_THROWS_WITH(no_positive.recall(),
                    "mlsd::evaluation::recall is undefined: no positive label (tp + fn = 0)");
  CHECK(no_positive.precision() == 0.0);
  CHECK(no_positive.f1() == 0.0);
  // Only true negatives: precision, recall and F1 are all 0/0.
  const ev::confusion_counts only_tn{.tp = 0, .fp = 0, .tn = 5, .fn = 0};
  CHECK_THROWS_AS(only_tn.precision(), ev::undefined_metric);
  CHECK_THROWS_AS(only_tn.recall(), ev::undefined_metric);
  CHECK_THROWS_WITH(only_tn.f1(), "mlsd::evaluation::f1 is undefined: no positive label and no "
                                  "predicted positive (tp + fp + fn = 0)");
  CHECK(only_tn.accuracy() == 1.0);
  // Nothing at all.
  const ev::confusion_counts empty;
  CHECK_THROWS_WITH(empty.accuracy(), "mlsd::evaluation::accuracy is undefined: no observations");
  CHECK(ev::confusion_matrix().result() == empty); // counts are defined without observations

  // The accumulators of one rate throw the same way.
  ev::precision p({.threshold = 0.9});
  p.add({0.5f, 1});
  CHECK_THROWS_AS(p.result(), ev::undefined_metric);
  ev::recall r;
  r.add({0.7f, 0});
  CHECK_THROWS_AS(r.result(), ev::undefined_metric);
  ev::f1_score f;
  f.add({0.1f, 0});
  CHECK_THROWS_AS(f.result(), ev::undefined_metric);
}

TEST_CASE("precision, recall, f1_score accumulators; merge equals add-all",
          "[evaluation][threshold]") {
  std::mt19937 rng(17);
  std::uniform_int_distribution<int> level(0, 9);
  std::bernoulli_distribution coin(0.4);
  floats s;
  floats y;
  for (int i = 0; i < 400; ++i) {
    s.push_back(static_cast<float>(level(rng)) / 10.0f);
    y.push_back(coin(rng) ? 1.0f : 0.0f);
  }
  const float t = 0.5f;
  const ev::confusion_counts expected = scan_counts(s, y, t);
  ev::confusion_matrix all({.threshold = t});
  ev::precision p({.threshold = t});
  ev::recall r({.threshold = t});
  ev::f1_score f({.threshold = t});
  ev::confusion_matrix merged({.threshold = t});
  ev::confusion_matrix shard({.threshold = t});
  for (std::size_t i = 0; i < s.size(); ++i) {
    all.add({s[i], y[i]});
    p.add({s[i], y[i]});
    r.add({s[i], y[i]});
    f.add({s[i], y[i]});
    shard.add({s[i], y[i]});
    if (i % 97 == 0) {
      merged.merge(shard);
      shard = ev::confusion_matrix({.threshold = t});
    }
  }
  merged.merge(shard);
  CHECK(all.result() == expected);
  CHECK(merged.result() == expected);
  const auto tp = static_cast<double>(expected.tp);
  CHECK(p.result() == tp / static_cast<double>(expected.tp + expected.fp));
  CHECK(r.result() == tp / static_cast<double>(expected.tp + expected.fn));
  CHECK(f.result() == 2 * tp / static_cast<double>(2 * expected.tp + expected.fp + expected.fn));
  CHECK(p.counts() == expected);
  STATIC_REQUIRE(ev::precision::metric == mlsd::offline_metric::precision);
  STATIC_REQUIRE(ev::recall::name == "recall");
  STATIC_REQUIRE(ev::f1_score::metric == mlsd::offline_metric::f1);
  STATIC_REQUIRE(ev::metric_accumulator<ev::confusion_matrix>);
  STATIC_REQUIRE(ev::metric_accumulator<ev::best_threshold>);
}

TEST_CASE("best_threshold: hand-computed choices, ties to the lowest threshold",
          "[evaluation][threshold]") {
  // Positives 0.1, 0.35, 0.8, negative 0.4. F1 = 2tp / (tp + fp + n+): at 0.8, 2/4; at 0.35,
  // 4/6; at 0.1, 6/7: the lowest wins.
  const ev::threshold_choice a =
      ev::best_threshold_of(floats{0.1f, 0.4f, 0.35f, 0.8f}, floats{1, 0, 1, 1});
  CHECK(a.threshold == 0.1f);
  CHECK(a.counts == ev::confusion_counts{.tp = 3, .fp = 1, .tn = 0, .fn = 0});
  CHECK(a.f1 == Approx(6.0 / 7.0).epsilon(1e-15));
  // Positives 0.9, 0.5, negatives 0.6, 0.7: at 0.9 F1 = 2/3, at 0.5 F1 = 4/6 = 2/3: a tie, the
  // lower threshold is chosen.
  const ev::threshold_choice b =
      ev::best_threshold_of(floats{0.9f, 0.5f, 0.6f, 0.7f}, floats{1, 1, 0, 0});
  CHECK(b.threshold == 0.5f);
  CHECK(b.counts == ev::confusion_counts{.tp = 2, .fp = 2, .tn = 0, .fn = 0});
  // A perfect ranking: the lowest positive score, F1 = 1.
  const ev::threshold_choice c =
      ev::best_threshold_of(floats{0.2f, 0.3f, 0.8f, 0.9f}, floats{0, 0, 1, 1});
  CHECK(c.threshold == 0.8f);
  CHECK(c.f1 == 1.0);
  // Infinite scores: +inf alone is best (F1 = 2/3 against 4/7 at -inf).
  const float inf = std::numeric_limits<float>::infinity();
  const ev::threshold_choice d =
      ev::best_threshold_of(floats{inf, -inf, -inf, 1.0f, 2.0f}, floats{1, 1, 0, 0, 0});
  CHECK(d.threshold == inf);
  CHECK(d.counts == ev::confusion_counts{.tp = 1, .fp = 0, .tn = 3, .fn = 1});
  // -0 ties with +0 and is reported as +0.
  const ev::threshold_choice e = ev::best_threshold_of(floats{-0.0f, 0.0f, 1.0f}, floats{1, 1, 0});
  CHECK(e.threshold == 0.0f);
  CHECK(!std::signbit(e.threshold));
  CHECK(e.counts == ev::confusion_counts{.tp = 2, .fp = 1, .tn = 0, .fn = 0});
  // The chosen threshold reproduces its counts through confusion_matrix (same >= rule).
  CHECK(ev::confusion_matrix_of(floats{0.1f, 0.4f, 0.35f, 0.8f}, floats{1, 0, 1, 1},
                                {.threshold = a.threshold}) == a.counts);
}

TEST_CASE("best_threshold equals an exhaustive search on random data, radix path included",
          "[evaluation][threshold]") {
  std::mt19937 rng(23);
  for (const int levels : {1, 2, 7, 60}) {
    for (const std::size_t n : {1u, 2u, 15u, 500u, 12000u}) {
      std::uniform_int_distribution<int> level(0, levels - 1);
      std::uniform_real_distribution<float> u(0.0f, 1.0f);
      floats s;
      floats y;
      for (std::size_t i = 0; i < n; ++i) {
        const float v = (static_cast<float>(level(rng)) - 3.0f) / 4.0f; // negatives and -0/+0 too
        s.push_back(i % 5 == 0 ? -v : v);
        y.push_back(u(rng) < 0.3f + 0.1f * v ? 1.0f : 0.0f);
      }
      y[0] = 1.0f;
      const ev::threshold_choice expected = exhaustive_best(s, y);
      const ev::threshold_choice got = ev::best_threshold_of(s, y);
      INFO("levels " << levels << ", n " << n);
      CHECK(got.threshold == expected.threshold);
      CHECK(got.counts == expected.counts);
      CHECK(got.f1 == expected.f1);
      // merge of two halves equals add-all.
      ev::best_threshold left;
      ev::best_threshold right;
      for (std::size_t i = 0; i < n; ++i) {
        (i < n / 3 ? left : right).add({s[i], y[i]});
      }
      left.merge(right);
      CHECK(left.result().threshold == expected.threshold);
      CHECK(left.result().counts == expected.counts);
    }
  }
}

TEST_CASE("best_threshold: undefined cases and bad input", "[evaluation][threshold]") {
  CHECK_THROWS_WITH(ev::best_threshold().result(),
                    "mlsd::evaluation::best_threshold is undefined: no observations");
  CHECK_THROWS_WITH(
      ev::best_threshold_of(floats{0.2f, 0.9f}, floats{0, 0}),
      "mlsd::evaluation::best_threshold is undefined: no positive among 2 observations: F1 is 0 "
      "at every threshold");
  // Positives only: the lowest score, F1 = 1.
  CHECK(ev::best_threshold_of(floats{0.2f, 0.9f}, floats{1, 1}).threshold == 0.2f);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  try {
    (void)ev::best_threshold_of(floats{0.2f, 0.9f}, floats{1, nan});
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(std::string(e.what()) ==
          "best_threshold: field 'labels[1]': expected a number (not NaN), found 'nan'");
  }
  CHECK_THROWS_AS(ev::confusion_matrix_of(floats{nan}, floats{1}), mlsd::input_error);
  CHECK_THROWS_AS(ev::best_threshold_of(floats{0.1f}, floats{}), std::invalid_argument);
}

TEST_CASE("threshold_config: validation, JSON round trip, merge of different thresholds",
          "[evaluation][threshold]") {
  CHECK_THROWS_AS(ev::confusion_matrix({.threshold = std::numeric_limits<double>::infinity()}),
                  mlsd::config_error);
  CHECK_THROWS_AS(ev::precision({.threshold = std::nan("")}), mlsd::config_error);
  const ev::threshold_config c{.threshold = 0.25};
  const nlohmann::json j = c;
  CHECK(j == nlohmann::json::parse(R"({"threshold": 0.25})"));
  CHECK(j.get<ev::threshold_config>() == c);
  CHECK(nlohmann::json::object().get<ev::threshold_config>().threshold == 0.5);
  try {
    (void)nlohmann::json::parse(R"({"cutoff": 0.3})").get<ev::threshold_config>();
    FAIL("no exception");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "threshold.cutoff");
  }
  ev::confusion_matrix a({.threshold = 0.5});
  try {
    a.merge(ev::confusion_matrix({.threshold = 0.6}));
    FAIL("no exception");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "threshold.threshold");
  }
}
