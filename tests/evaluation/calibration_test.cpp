// Calibration (include/mlsd/evaluation/calibration.hpp): reliability curves against values
// scikit-learn 1.2.1's calibration_curve printed (uniform and quantile, predictions on edges),
// ECE by hand, a straightforward reference on random data, merge == add-all, undefined cases,
// bad input and configs.
#include <mlsd/evaluation/calibration.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace ev = mlsd::evaluation;

namespace {

using floats = std::vector<float>;
using doubles = std::vector<double>;

doubles rates(const std::vector<ev::reliability_bin>& bins) {
  doubles out;
  for (const auto& b : bins) {
    out.push_back(b.observed_rate);
  }
  return out;
}
doubles means(const std::vector<ev::reliability_bin>& bins) {
  doubles out;
  for (const auto& b : bins) {
    out.push_back(b.mean_prediction);
  }
  return out;
}
std::vector<std::uint64_t> counts(const std::vector<ev::reliability_bin>& bins) {
  std::vector<std::uint64_t> out;
  for (const auto& b : bins) {
    out.push_back(b.count);
  }
  return out;
}
void check_close(const doubles& got, const doubles& expected) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i] == Approx(expected[i]).epsilon(1e-7));
  }
}

// A straightforward reliability curve: uniform bins by comparing with every edge
// k · (1 / bins) (numpy.linspace), the bin of p being the number of inner edges < p.
std::vector<ev::reliability_bin> naive_uniform(const floats& p, const floats& y, std::size_t bins) {
  std::vector<std::uint64_t> n(bins);
  std::vector<long double> sum(bins);
  std::vector<std::uint64_t> pos(bins);
  for (std::size_t i = 0; i < p.size(); ++i) {
    std::size_t b = 0;
    for (std::size_t k = 1; k < bins; ++k) {
      b += static_cast<double>(k) * (1.0 / static_cast<double>(bins)) < static_cast<double>(p[i])
               ? 1
               : 0;
    }
    ++n[b];
    sum[b] += p[i];
    pos[b] += y[i] > 0 ? 1 : 0;
  }
  std::vector<ev::reliability_bin> out;
  for (std::size_t b = 0; b < bins; ++b) {
    if (n[b] > 0) {
      out.push_back({.lower = 0,
                     .upper = 0,
                     .count = n[b],
                     .mean_prediction = static_cast<double>(sum[b] / n[b]),
                     .observed_rate = static_cast<double>(pos[b]) / static_cast<double>(n[b])});
    }
  }
  return out;
}

} // namespace

TEST_CASE("reliability_curve, uniform: scikit-learn's example and edge values",
          "[evaluation][calibration]") {
  // calibration_curve's docstring example, n_bins=3: prob_true [0, 0.5, 1], prob_pred
  // [0.2, 0.525, 0.85]; 0.4 and 0.65 share the middle bin (1/3, 2/3].
  const floats y = {0, 0, 0, 0, 1, 1, 1, 1, 1};
  const floats p = {0.1f, 0.2f, 0.3f, 0.4f, 0.65f, 0.7f, 0.8f, 0.9f, 1.0f};
  const auto three = ev::reliability_curve_of(p, y, {.bins = 3});
  check_close(rates(three), {0.0, 0.5, 1.0});
  check_close(means(three), {0.2, 0.525, 0.85});
  CHECK(counts(three) == std::vector<std::uint64_t>{3, 2, 4});
  CHECK(three[0].lower == 0.0);
  CHECK(three[0].upper == 1.0 / 3.0);
  CHECK(three[2].upper == 1.0);
  // n_bins=4 (scikit-learn: prob_true [0, 0, 1, 1], prob_pred [0.15, 0.35, 0.675, 0.9]).
  const auto four = ev::reliability_curve_of(p, y, {.bins = 4});
  check_close(rates(four), {0.0, 0.0, 1.0, 1.0});
  check_close(means(four), {0.15, 0.35, 0.675, 0.9});

  // A prediction on an inner edge belongs to the bin below: 0.25 and 0.5 are exact floats.
  // Bins of 4: [0, .25] gets 0 and .25; (.25, .5] gets .5; (.75, 1] gets 1; (.5, .75] gets .75.
  const auto edges = ev::reliability_curve_of(floats{0.0f, 0.25f, 0.5f, 0.75f, 1.0f},
                                              floats{0, 1, 1, 0, 1}, {.bins = 4});
  REQUIRE(edges.size() == 4);
  CHECK(counts(edges) == std::vector<std::uint64_t>{2, 1, 1, 1});
  CHECK(edges[0].observed_rate == 0.5);
  CHECK(edges[1].lower == 0.25);
  CHECK(edges[1].mean_prediction == 0.5);
  CHECK(edges[2].mean_prediction == 0.75);
  CHECK(edges[3].mean_prediction == 1.0);
  // 0.1f is slightly above the double 0.1, so it falls in (0.1, 0.2] (as in scikit-learn, which
  // compares the float32 value with the float64 edge).
  const auto tenth = ev::reliability_curve_of(floats{0.1f}, floats{1}, {.bins = 10});
  REQUIRE(tenth.size() == 1);
  CHECK(tenth[0].lower == 0.1);
  // One bin: everything together.
  const auto one = ev::reliability_curve_of(p, y, {.bins = 1});
  REQUIRE(one.size() == 1);
  CHECK(one[0].count == 9);
  CHECK(one[0].observed_rate == Approx(5.0 / 9.0).epsilon(1e-15));
}

TEST_CASE("reliability_curve, quantile: scikit-learn's bins, ties on edges",
          "[evaluation][calibration]") {
  const ev::reliability_config q3{.bins = 3, .strategy = ev::reliability_binning::quantile};
  const floats y = {0, 0, 0, 0, 1, 1, 1, 1, 1};
  const floats p = {0.1f, 0.2f, 0.3f, 0.4f, 0.65f, 0.7f, 0.8f, 0.9f, 1.0f};
  // scikit-learn: edges [0.1, 0.36666667, 0.73333333, 1], prob_true [0, 2/3, 1],
  // prob_pred [0.2, 0.58333332, 0.9].
  const auto a = ev::reliability_curve_of(p, y, q3);
  check_close(rates(a), {0.0, 2.0 / 3.0, 1.0});
  check_close(means(a), {0.2, 0.58333332, 0.9});
  REQUIRE(a.size() == 3);
  CHECK(a[0].lower == Approx(0.1).epsilon(1e-7));
  CHECK(a[0].upper == Approx(0.36666667).epsilon(1e-7));
  CHECK(a[2].upper == Approx(1.0).epsilon(1e-7));
  // n_bins=4: edges [0.1, 0.3, 0.65, 0.8, 1], where 0.3, 0.65 and 0.8 are predictions that sit
  // on an edge and go to the bin below: prob_true [0, 0.5, 1, 1],
  // prob_pred [0.2, 0.525, 0.75, 0.95].
  const auto b = ev::reliability_curve_of(p, y, {.bins = 4, .strategy = q3.strategy});
  check_close(rates(b), {0.0, 0.5, 1.0, 1.0});
  check_close(means(b), {0.2, 0.525, 0.75, 0.95});
  CHECK(counts(b) == std::vector<std::uint64_t>{3, 2, 2, 2});

  // Repeated predictions; printed by scikit-learn for n_bins 2, 3 and 5 (empty bins left out).
  // With 3 bins the 2/3 edge is (n - 1)·q = 9 · 0.666... = 5.999999999999999, just below the
  // prediction 0.7, which therefore goes up: the float arithmetic of numpy is reproduced.
  const floats p2 = {0.2f, 0.2f, 0.2f, 0.5f, 0.5f, 0.7f, 0.9f, 0.9f, 1.0f, 0.0f};
  const floats y2 = {0, 1, 0, 1, 1, 0, 1, 1, 1, 0};
  const auto c2 = ev::reliability_curve_of(p2, y2, {.bins = 2, .strategy = q3.strategy});
  check_close(rates(c2), {0.5, 0.75});
  check_close(means(c2), {0.2666666681567828, 0.8749999850988388});
  const auto c3 = ev::reliability_curve_of(p2, y2, q3);
  check_close(rates(c3), {0.25, 1.0, 0.75});
  check_close(means(c3), {0.15000000223517418, 0.5, 0.8749999850988388});
  const auto c5 = ev::reliability_curve_of(p2, y2, {.bins = 5, .strategy = q3.strategy});
  check_close(rates(c5), {0.25, 1.0, 2.0 / 3.0, 1.0});
  check_close(means(c5), {0.15000000223517418, 0.5, 0.8333333134651184, 1.0});
}

TEST_CASE("expected_calibration_error: by hand and against the curve",
          "[evaluation][calibration]") {
  // From the 3-bin curve above: (3·|0.2 - 0| + 2·|0.525 - 0.5| + 4·|0.85 - 1|) / 9 = 1.25 / 9.
  const floats y = {0, 0, 0, 0, 1, 1, 1, 1, 1};
  const floats p = {0.1f, 0.2f, 0.3f, 0.4f, 0.65f, 0.7f, 0.8f, 0.9f, 1.0f};
  CHECK(ev::expected_calibration_error_of(p, y, {.bins = 3}) == Approx(1.25 / 9.0).epsilon(1e-7));
  // Perfectly calibrated bins: ECE 0. One bin: |mean prediction - rate| over everything.
  CHECK(ev::expected_calibration_error_of(floats{0.5f, 0.5f}, floats{1, 0}) == 0.0);
  // Mean prediction 5.05 / 9 against the rate 5 / 9.
  CHECK(ev::expected_calibration_error_of(p, y, {.bins = 1}) == Approx(0.05 / 9.0).epsilon(1e-5));
  CHECK(ev::expected_calibration_error_of(floats{0.9f, 0.9f}, floats{0, 0}, {.bins = 1}) ==
        Approx(0.9).epsilon(1e-7));
  ev::expected_calibration_error e({.bins = 4, .strategy = ev::reliability_binning::quantile});
  for (std::size_t i = 0; i < p.size(); ++i) {
    e.add({p[i], y[i]});
  }
  double expected = 0;
  for (const auto& b : e.curve().result()) {
    expected += static_cast<double>(b.count) * std::abs(b.mean_prediction - b.observed_rate);
  }
  CHECK(e.result() == Approx(expected / 9.0).epsilon(1e-15));
  CHECK(e.count() == 9);
  STATIC_REQUIRE(ev::expected_calibration_error::metric ==
                 mlsd::offline_metric::expected_calibration_error);
  STATIC_REQUIRE(ev::metric_accumulator<ev::reliability_curve>);
}

TEST_CASE("reliability_curve: random data against a straightforward reference; merge",
          "[evaluation][calibration]") {
  std::mt19937 rng(8);
  std::uniform_int_distribution<int> level(0, 40);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (const std::size_t bins : {1u, 3u, 10u, 40u, 100u}) {
    floats p;
    floats y;
    for (int i = 0; i < 2000; ++i) {
      // Half on a grid of 1/40 (many predictions on edges), half anywhere in [0, 1].
      const float v = i % 2 == 0 ? static_cast<float>(level(rng)) / 40.0f : u(rng);
      p.push_back(v);
      y.push_back(u(rng) < v ? 1.0f : 0.0f);
    }
    INFO("bins " << bins);
    const auto got = ev::reliability_curve_of(p, y, {.bins = bins});
    const auto expected = naive_uniform(p, y, bins);
    CHECK(counts(got) == counts(expected));
    check_close(means(got), means(expected));
    CHECK(rates(got) == rates(expected));

    for (const auto strategy :
         {ev::reliability_binning::uniform, ev::reliability_binning::quantile}) {
      const ev::reliability_config cfg{.bins = bins, .strategy = strategy};
      ev::reliability_curve all(cfg);
      ev::reliability_curve merged(cfg);
      ev::reliability_curve shard(cfg);
      for (std::size_t i = 0; i < p.size(); ++i) {
        all.add({p[i], y[i]});
        shard.add({p[i], y[i]});
        if (i % 613 == 0) {
          merged.merge(shard);
          shard = ev::reliability_curve(cfg);
        }
      }
      merged.merge(shard);
      const auto a = all.result();
      const auto m = merged.result();
      CHECK(counts(a) == counts(m));
      CHECK(rates(a) == rates(m));
      check_close(means(a), means(m));
      std::uint64_t total = 0;
      for (const auto& b : a) {
        total += b.count;
        CHECK(b.lower <= b.mean_prediction);
        CHECK(b.mean_prediction <= b.upper);
      }
      CHECK(total == p.size());
    }
  }
  // Merging with itself doubles every count; rates and means stay.
  ev::reliability_curve q({.bins = 2, .strategy = ev::reliability_binning::quantile});
  q.add({0.2f, 1});
  q.add({0.8f, 0});
  q.merge(q);
  CHECK(q.count() == 4);
  CHECK(counts(q.result()) == std::vector<std::uint64_t>{2, 2});
}

TEST_CASE("calibration: undefined cases, bad input, configs", "[evaluation][calibration]") {
  CHECK_THROWS_WITH(ev::reliability_curve().result(),
                    "mlsd::evaluation::reliability_curve is undefined: no observations");
  CHECK_THROWS_AS(ev::expected_calibration_error_of(floats{}, floats{}), ev::undefined_metric);
  CHECK_THROWS_AS(
      ev::reliability_curve({.bins = 3, .strategy = ev::reliability_binning::quantile}).result(),
      ev::undefined_metric);
  // One class is fine: the rates are 0 (or 1).
  CHECK(ev::expected_calibration_error_of(floats{0.25f}, floats{0}) == 0.25);
  // Predictions must be probabilities.
  try {
    (void)ev::reliability_curve_of(floats{0.5f, 1.5f}, floats{1, 0});
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(std::string(e.what()) ==
          "reliability_curve: field 'scores[1]': expected a probability in [0, 1], found '1.5'");
  }
  ev::expected_calibration_error e;
  try {
    e.add({-0.5f, 1});
    FAIL("no exception");
  } catch (const mlsd::input_error& err) {
    CHECK(std::string(err.what()) ==
          "expected_calibration_error: field 'score': expected a probability in [0, 1], found "
          "'-0.5'");
  }
  CHECK(e.count() == 0);
  CHECK_THROWS_AS(ev::reliability_curve_of(floats{0.5f}, floats{std::nanf("")}), mlsd::input_error);

  CHECK_THROWS_AS(ev::reliability_curve({.bins = 0}), mlsd::config_error);
  CHECK_THROWS_AS(ev::expected_calibration_error({.bins = 2'000'000}), mlsd::config_error);
  const ev::reliability_config c{.bins = 20, .strategy = ev::reliability_binning::quantile};
  const nlohmann::json j = c;
  CHECK(j == nlohmann::json::parse(R"({"bins": 20, "strategy": "quantile"})"));
  CHECK(j.get<ev::reliability_config>() == c);
  CHECK(nlohmann::json::object().get<ev::reliability_config>() == ev::reliability_config{});
  try {
    (void)nlohmann::json::parse(R"({"strategy": "equal"})").get<ev::reliability_config>();
    FAIL("no exception");
  } catch (const mlsd::config_error& err) {
    CHECK(err.field() == "reliability.strategy");
  }
  CHECK_THROWS_AS(nlohmann::json::parse(R"({"bins": 0})").get<ev::reliability_config>(),
                  mlsd::config_error);
  ev::reliability_curve a({.bins = 10});
  CHECK_THROWS_AS(a.merge(ev::reliability_curve({.bins = 5})), mlsd::config_error);
  // A bin as JSON.
  const ev::reliability_bin b{
      .lower = 0, .upper = 0.5, .count = 2, .mean_prediction = 0.25, .observed_rate = 0.5};
  CHECK(nlohmann::json(b) ==
        nlohmann::json::parse(R"({"lower":0.0,"upper":0.5,"count":2,"mean_prediction":0.25,
                                 "observed_rate":0.5})"));
}
