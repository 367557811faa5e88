// Regression metrics (include/mlsd/evaluation/regression.hpp): hand-computed values, merge ==
// add-all, Welford/Chan against a two-pass reference, undefined cases and bad input.
#include <mlsd/evaluation/regression.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace ev = mlsd::evaluation;

namespace {

using floats = std::vector<float>;

struct pairs {
  floats predictions;
  floats targets;
};

pairs random_pairs(std::mt19937& rng, std::size_t n, float offset) {
  std::normal_distribution<float> noise(0.0f, 1.0f);
  pairs d;
  for (std::size_t i = 0; i < n; ++i) {
    const float y = offset + 3.0f * noise(rng);
    d.targets.push_back(y);
    d.predictions.push_back(y + noise(rng));
  }
  return d;
}

// R² by the textbook two-pass formula in long double.
double two_pass_r_squared(const floats& predictions, const floats& targets) {
  long double mean = 0;
  for (const float y : targets) {
    mean += y;
  }
  mean /= static_cast<long double>(targets.size());
  long double sst = 0;
  long double sse = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    sst += (targets[i] - mean) * (targets[i] - mean);
    const long double r = static_cast<long double>(predictions[i]) - targets[i];
    sse += r * r;
  }
  return static_cast<double>(1 - sse / sst);
}

template <class Metric>
void check_merge_equals_add_all(const pairs& d, std::mt19937& rng) {
  Metric all;
  for (std::size_t i = 0; i < d.targets.size(); ++i) {
    all.add({d.predictions[i], d.targets[i]});
  }
  std::uniform_int_distribution<std::size_t> cut(0, d.targets.size());
  std::vector<std::size_t> cuts = {0, cut(rng), cut(rng), cut(rng), d.targets.size()};
  std::sort(cuts.begin(), cuts.end());
  Metric merged;
  for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
    Metric shard; // possibly empty
    for (std::size_t i = cuts[k]; i < cuts[k + 1]; ++i) {
      shard.add({d.predictions[i], d.targets[i]});
    }
    merged.merge(shard);
  }
  CHECK(merged.count() == all.count());
  CHECK(merged.result() == Approx(all.result()).epsilon(1e-12));
}

} // namespace

TEST_CASE("rmse, mae, r_squared: hand-computed values", "[evaluation][regression]") {
  // Errors 0, 0, 2: RMSE sqrt(4/3), MAE 2/3; targets {1, 2, 5} have mean 8/3 and
  // SST = 25/9 + 4/9 + 49/9 = 78/9, so R² = 1 - 4 / (78/9) = 1 - 36/78.
  const floats yhat = {1, 2, 3};
  const floats y = {1, 2, 5};
  CHECK(ev::rmse_of(yhat, y) == Approx(1.1547005383792515).epsilon(1e-15));
  CHECK(ev::mae_of(yhat, y) == Approx(2.0 / 3.0).epsilon(1e-15));
  CHECK(ev::r_squared_of(yhat, y) == Approx(0.5384615384615384).epsilon(1e-14));
  // scikit-learn's examples: y_true [3, -0.5, 2, 7], y_pred [2.5, 0.0, 2, 8]:
  // mean_squared_error 0.375, mean_absolute_error 0.5, r2_score 0.948608137...
  const floats sk_pred = {2.5f, 0.0f, 2.0f, 8.0f};
  const floats sk_true = {3.0f, -0.5f, 2.0f, 7.0f};
  CHECK(ev::rmse_of(sk_pred, sk_true) == Approx(0.6123724356957945).epsilon(1e-15));
  CHECK(ev::mae_of(sk_pred, sk_true) == 0.5);
  CHECK(ev::r_squared_of(sk_pred, sk_true) == Approx(0.9486081370449679).epsilon(1e-14));
  // Perfect predictions; predicting the mean gives R² = 0; worse than the mean is negative.
  CHECK(ev::rmse_of(y, y) == 0.0);
  CHECK(ev::r_squared_of(y, y) == 1.0);
  const float m = 8.0f / 3.0f;
  CHECK(ev::r_squared_of(floats{m, m, m}, y) == Approx(0.0).margin(1e-7));
  CHECK(ev::r_squared_of(floats{5, 2, 1}, y) == Approx(1.0 - 32.0 / (78.0 / 9.0)).epsilon(1e-14));
}

TEST_CASE("r_squared: Welford/Chan against a two-pass reference on large, close targets",
          "[evaluation][regression]") {
  // Targets near 1e6 with unit spread: the naive Σy² - n·ȳ² loses most digits in double here.
  std::mt19937 rng(11);
  const auto d = random_pairs(rng, 5000, 1.0e6f);
  ev::r_squared r2;
  for (std::size_t i = 0; i < d.targets.size(); ++i) {
    r2.add({d.predictions[i], d.targets[i]});
  }
  CHECK(r2.result() == Approx(two_pass_r_squared(d.predictions, d.targets)).epsilon(1e-9));
  // Sharded through Chan's merge.
  ev::r_squared a;
  ev::r_squared b;
  for (std::size_t i = 0; i < d.targets.size(); ++i) {
    (i % 3 == 0 ? a : b).add({d.predictions[i], d.targets[i]});
  }
  a.merge(b);
  CHECK(a.result() == Approx(two_pass_r_squared(d.predictions, d.targets)).epsilon(1e-9));
  CHECK(a.target_mean() == Approx(r2.target_mean()).epsilon(1e-15));
}

TEST_CASE("every regression metric: merge equals add-all on random splits",
          "[evaluation][regression]") {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    const auto d = random_pairs(rng, 200, trial % 2 == 0 ? 0.0f : 500.0f);
    check_merge_equals_add_all<ev::rmse>(d, rng);
    check_merge_equals_add_all<ev::mae>(d, rng);
    check_merge_equals_add_all<ev::r_squared>(d, rng);
  }
  // Merging with itself doubles every observation: the metrics stay.
  ev::r_squared r2;
  r2.add({1, 1});
  r2.add({2, 3});
  r2.add({4, 5});
  const double before = r2.result();
  r2.merge(r2);
  CHECK(r2.count() == 6);
  CHECK(r2.result() == Approx(before).epsilon(1e-15));
}

TEST_CASE("undefined regression metrics throw undefined_metric, never NaN",
          "[evaluation][regression]") {
  const floats none;
  CHECK_THROWS_AS(ev::rmse_of(none, none), ev::undefined_metric);
  CHECK_THROWS_AS(ev::mae_of(none, none), ev::undefined_metric);
  CHECK_THROWS_AS(ev::r_squared_of(none, none), ev::undefined_metric);
  // Constant targets: SST = 0 (also a single observation).
  CHECK_THROWS_WITH(ev::r_squared_of(floats{1, 2, 3}, floats{2, 2, 2}),
                    "mlsd::evaluation::r_squared is undefined: all 3 targets are equal: their "
                    "total sum of squares is 0");
  CHECK_THROWS_AS(ev::r_squared_of(floats{1}, floats{2}), ev::undefined_metric);
  // Merged shards of constant targets, but different constants: defined.
  ev::r_squared a;
  ev::r_squared b;
  a.add({1, 1});
  b.add({1, 3});
  CHECK_THROWS_AS(a.result(), ev::undefined_metric);
  a.merge(b);
  CHECK(a.result() == Approx(1.0 - 4.0 / 2.0).epsilon(1e-15));
}

TEST_CASE("no NaN escapes a regression metric", "[evaluation][regression]") {
  const float big = std::numeric_limits<float>::max();
  const float tiny = std::numeric_limits<float>::denorm_min();
  const floats yhat = {big, -big, tiny, 0.0f, -0.0f};
  const floats y = {-big, big, 0.0f, tiny, big};
  for (const double v : {ev::rmse_of(yhat, y), ev::mae_of(yhat, y), ev::r_squared_of(yhat, y)}) {
    CHECK(std::isfinite(v));
  }
  // Nearly constant targets: SST is tiny but positive, the result is finite.
  CHECK(
      std::isfinite(ev::r_squared_of(floats{big, -big}, floats{1.0f, std::nextafter(1.0f, 2.0f)})));
}

TEST_CASE("bad regression input is an error naming the element", "[evaluation][regression]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(ev::rmse_of(floats{1, 2}, floats{1, 2, 3}),
                    "mlsd::evaluation::rmse_of: 2 predictions but 3 targets");
  CHECK_THROWS_AS(ev::mae_of(floats{1}, floats{}), std::invalid_argument);
  try {
    (void)ev::r_squared_of(floats{1, 2, 3}, floats{1, inf, 3});
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().field == "targets[1]");
    CHECK(std::string(e.what()) ==
          "r_squared: field 'targets[1]': expected a finite number, found 'inf'");
  }
  CHECK_THROWS_WITH(ev::mae_of(floats{nan}, floats{1}),
                    "mae: field 'predictions[0]': expected a finite number, found 'nan'");
  ev::rmse r;
  CHECK_THROWS_AS(r.add({1.0f, -inf}), mlsd::input_error);
  CHECK(r.count() == 0);
}

TEST_CASE("regression metrics model metric_accumulator and name their requirement",
          "[evaluation][regression]") {
  STATIC_REQUIRE(ev::metric_accumulator<ev::rmse>);
  STATIC_REQUIRE(ev::metric_accumulator<ev::mae>);
  STATIC_REQUIRE(ev::metric_accumulator<ev::r_squared>);
  STATIC_REQUIRE(ev::r_squared::metric == mlsd::offline_metric::r2);
}
