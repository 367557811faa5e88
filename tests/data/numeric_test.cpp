// Numeric feature transforms (include/mlsd/data/numeric.hpp). Expected values are computed by hand
// in the comments, or by a naive reference written here.
#include <mlsd/data/numeric.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace {

using mlsd::data::log1p_transform;
using mlsd::data::min_max_scaler;
using mlsd::data::quantile_bucketizer;
using mlsd::data::running_moments;
using mlsd::data::standard_scaler;

// Saves `t` to text, parses it back and loads it: what a training job hands to a server.
template <class T>
T reload(const T& t) {
  return T::from_json(nlohmann::json::parse(t.to_json().dump()));
}

} // namespace

TEST_CASE("standard_scaler uses the mean and the population standard deviation",
          "[data][numeric]") {
  // Mean 5; squared deviations 9+1+1+1+0+0+4+16 = 32; population variance 32/8 = 4, std 2.
  const std::vector<double> x = {2, 4, 4, 4, 5, 5, 7, 9};
  standard_scaler s(standard_scaler::config{.feature = "age"});
  s.fit(x);
  CHECK(s.mean() == 5.0);
  CHECK(s.std_dev() == 2.0);
  CHECK(s.count() == 8);
  CHECK(s(9.0) == 2.0);
  CHECK(s(2.0) == -1.5);
  CHECK(s(5.0) == 0.0);

  standard_scaler only_scale({.with_mean = false});
  only_scale.fit(x);
  CHECK(only_scale(9.0) == 4.5);
  standard_scaler only_centre({.with_std = false});
  only_centre.fit(x);
  CHECK(only_centre(9.0) == 4.0);
}

TEST_CASE("standard_scaler on a constant column centres without dividing by zero",
          "[data][numeric]") {
  const std::vector<double> x = {3, 3, 3};
  standard_scaler s;
  s.fit(x);
  CHECK(s.std_dev() == 0.0);
  CHECK(s(3.0) == 0.0);
  CHECK(s(5.0) == 2.0);
}

TEST_CASE("Welford's update keeps the variance of 1e9 + small values, the naive formula does not",
          "[data][numeric]") {
  // 1e9 + {4, 7, 13, 16}: mean 1e9 + 10, squared deviations 36 + 9 + 9 + 36 = 90, population
  // variance 90 / 4 = 22.5 (the example of Welford's method in the numerical literature).
  const std::vector<double> x = {1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16};
  running_moments m;
  for (const double v : x) {
    m.add(v);
  }
  CHECK(m.mean() == 1e9 + 10);
  CHECK(m.population_variance() == 22.5);
  CHECK(m.sample_variance() == 30.0);

  // The textbook E[x^2] - E[x]^2 in double: the squares are near 1e18, where doubles are 128
  // apart, so the difference is noise. This is what the scaler must not compute.
  double sum = 0, sum_squares = 0;
  for (const double v : x) {
    sum += v;
    sum_squares += v * v;
  }
  const double naive = sum_squares / 4 - (sum / 4) * (sum / 4);
  CHECK(std::abs(naive - 22.5) > 1.0);

  standard_scaler s;
  s.fit(x);
  CHECK(s.std_dev() == Approx(std::sqrt(22.5)).epsilon(1e-12));
  CHECK(s(1e9 + 16) == Approx(6.0 / std::sqrt(22.5)).epsilon(1e-12));
}

TEST_CASE("Welford's update agrees with a two-pass long double reference on 1e9 + noise",
          "[data][numeric]") {
  std::vector<double> x;
  for (int k = 0; k < 1000; ++k) {
    x.push_back(1e9 + 0.001 * ((k * 7919) % 1000)); // a permutation of 1e9 + 0.000 .. 0.999
  }
  long double mean = 0;
  for (const double v : x) {
    mean += v;
  }
  mean /= static_cast<long double>(x.size());
  long double ss = 0;
  for (const double v : x) {
    ss += (v - mean) * (v - mean);
  }
  const auto reference = static_cast<double>(ss / static_cast<long double>(x.size()));
  running_moments m;
  for (const double v : x) {
    m.add(v);
  }
  CHECK(m.population_variance() == Approx(reference).epsilon(1e-9));
  // Analytically 0.001^2 (1000^2 - 1) / 12 = 0.08333325, up to the representation of the inputs.
  CHECK(m.population_variance() == Approx(0.08333325).epsilon(1e-5));

  // Merging two halves (Chan et al.) gives the same moments as one pass.
  running_moments a, b;
  for (std::size_t i = 0; i < x.size(); ++i) {
    (i < 300 ? a : b).add(x[i]);
  }
  a.merge(b);
  CHECK(a.count() == 1000);
  CHECK(a.mean() == Approx(m.mean()).epsilon(1e-15));
  CHECK(a.population_variance() == Approx(m.population_variance()).epsilon(1e-9));
}

TEST_CASE("min_max_scaler maps the training range and clips on request", "[data][numeric]") {
  const std::vector<double> x = {10, 20, 30};
  min_max_scaler s;
  s.fit(x);
  CHECK(s.min() == 10.0);
  CHECK(s.max() == 30.0);
  CHECK(s(25.0) == 0.75);
  CHECK(s(40.0) == 1.5); // outside the training range, not clipped by default
  CHECK(s(0.0) == -0.5);

  min_max_scaler clipped({.clip = true});
  clipped.fit(x);
  CHECK(clipped(40.0) == 1.0);
  CHECK(clipped(0.0) == 0.0);
  CHECK(clipped(25.0) == 0.75);

  min_max_scaler symmetric({.lower = -1.0, .upper = 1.0});
  symmetric.fit(x);
  CHECK(symmetric(25.0) == 0.5);
  CHECK(symmetric(10.0) == -1.0);

  // A constant column is scaled by 1: its value maps to `lower`.
  min_max_scaler constant;
  constant.fit(std::vector<double>{7, 7});
  CHECK(constant(7.0) == 0.0);
  CHECK(constant(9.0) == 2.0);
}

TEST_CASE("log1p_transform for counts: errors or signed log for negatives", "[data][numeric]") {
  const double e = std::exp(1.0);
  log1p_transform t({.feature = "clicks"});
  // Nothing to learn: applying without fit is the formula itself.
  CHECK(t(0.0) == 0.0);
  CHECK(t(e - 1.0) == Approx(1.0).epsilon(1e-15));
  CHECK(t(99.0) == Approx(std::log(100.0)).epsilon(1e-15));
  CHECK_THROWS_AS(t(-1.0), mlsd::input_error);
  try {
    t.fit(std::vector<double>{1, 2, -3});
    FAIL("a negative count was accepted");
  } catch (const mlsd::input_error& err) {
    CHECK(err.where().field == "clicks");
    CHECK(err.where().line == 3);
    CHECK(err.where().file == "log1p_transform.fit");
  }
  log1p_transform signed_log({.on_negative = mlsd::data::negative_policy::signed_log});
  CHECK(signed_log(-(e - 1.0)) == Approx(-1.0).epsilon(1e-15));
  CHECK(signed_log(e - 1.0) == Approx(1.0).epsilon(1e-15));
  CHECK_THROWS_AS(signed_log(std::numeric_limits<double>::infinity()), mlsd::input_error);
  const auto back = reload(signed_log);
  CHECK(back.settings().on_negative == mlsd::data::negative_policy::signed_log);
  CHECK(back(-3.0) == signed_log(-3.0));
}

TEST_CASE("quantile_bucketizer: 1..100 into 4 buckets of 25", "[data][numeric]") {
  std::vector<double> x;
  for (int i = 1; i <= 100; ++i) {
    x.push_back(i);
  }
  quantile_bucketizer q({.quantiles = quantile_bucketizer::config::evenly_spaced(4)});
  q.fit(x);
  // Type-7 quantiles, h = 99 p: p = 0.25 -> h = 24.75, between x[24] = 25 and x[25] = 26:
  // 25.75; p = 0.5 -> 49.5: 50.5; p = 0.75 -> 74.25: 75.25.
  REQUIRE(q.boundaries().size() == 3);
  CHECK(q.boundaries()[0] == 25.75);
  CHECK(q.boundaries()[1] == 50.5);
  CHECK(q.boundaries()[2] == 75.25);
  CHECK(q.num_buckets() == 4);
  CHECK(q.duplicate_boundaries() == 0);
  std::vector<int> counts(4, 0);
  for (const double v : x) {
    ++counts.at(q(v));
  }
  CHECK(counts == std::vector<int>{25, 25, 25, 25});
  CHECK(q(-1e6) == 0);
  CHECK(q(25.75) == 1); // a value on a boundary goes to the upper bucket
  CHECK(q(1e6) == 3);
}

TEST_CASE("quantile_bucketizer removes duplicate boundaries and one-hot encodes",
          "[data][numeric]") {
  // Sorted: eight 1s, then 2 and 3. h = 9 p: 2.25, 4.5 and 6.75 all fall between two 1s, so the
  // three boundaries are all 1: two duplicates removed, two buckets left.
  const std::vector<double> x = {1, 3, 1, 1, 2, 1, 1, 1, 1, 1};
  quantile_bucketizer q({.quantiles = {0.25, 0.5, 0.75}, .index_offset = 10});
  q.fit(x);
  REQUIRE(q.boundaries().size() == 1);
  CHECK(q.boundaries()[0] == 1.0);
  CHECK(q.duplicate_boundaries() == 2);
  CHECK(q.num_buckets() == 2);
  CHECK(q(0.5) == 0);
  CHECK(q(1.0) == 1);

  mlsd::sparse_row row;
  row.push_back(3, 0.5f);
  q.encode(2.0, row);
  q.encode(0.0, row);
  CHECK(row.indices == std::vector<std::uint32_t>{3, 11, 10});
  CHECK(row.values == std::vector<float>{0.5f, 1.0f, 1.0f});

  quantile_bucketizer median({.quantiles = {0.5}});
  median.fit(std::vector<double>{0, 10});
  CHECK(median.boundaries()[0] == 5.0);
}

TEST_CASE("numeric transforms refuse to apply before fit and to fit on nothing or NaN",
          "[data][numeric]") {
  const std::vector<double> empty;
  standard_scaler s({.feature = "price"});
  CHECK_THROWS_AS(s(1.0), mlsd::not_fitted_error);
  CHECK_THROWS_WITH(s(1.0),
                    Catch::Contains("standard_scaler 'price'") && Catch::Contains("before fit"));
  CHECK_THROWS_AS(s.fit(empty), mlsd::input_error);
  min_max_scaler m;
  CHECK_THROWS_AS(m(1.0), mlsd::not_fitted_error);
  try {
    (void)m(1.0);
    FAIL("an unfitted min_max_scaler was applied");
  } catch (const mlsd::not_fitted_error& err) {
    CHECK(err.transform() == "min_max_scaler");
    CHECK(err.feature().empty());
    CHECK(std::string(err.what()) ==
          "min_max_scaler: apply before fit (fit it on training data or load a fitted one)");
  }
  CHECK_THROWS_AS(m.fit(empty), mlsd::input_error);
  quantile_bucketizer q;
  CHECK_THROWS_AS(q(1.0), mlsd::not_fitted_error);
  CHECK_THROWS_AS(q.fit(empty), mlsd::input_error);
  log1p_transform l;
  CHECK_THROWS_AS(l.fit(empty), mlsd::input_error);

  try {
    s.fit(std::vector<double>{1, 2, std::nan(""), 4});
    FAIL("NaN was accepted");
  } catch (const mlsd::input_error& err) {
    CHECK(err.where().file == "standard_scaler.fit");
    CHECK(err.where().line == 3);
    CHECK(err.where().field == "price");
    CHECK(err.found() == "nan");
  }
  CHECK(!s.fitted()); // a failed fit leaves the scaler as it was
  s.fit(std::vector<double>{1, 3});
  CHECK_THROWS_AS(s(std::numeric_limits<double>::infinity()), mlsd::input_error);
}

TEST_CASE("numeric config validation names the field", "[data][numeric]") {
  try {
    min_max_scaler bad({.lower = 1.0, .upper = 1.0});
    FAIL("upper == lower was accepted");
  } catch (const mlsd::config_error& err) {
    CHECK(err.field() == "min_max_scaler.upper");
  }
  try {
    quantile_bucketizer bad({.quantiles = {0.5, 0.4}});
    FAIL("decreasing quantiles were accepted");
  } catch (const mlsd::config_error& err) {
    CHECK(err.field() == "quantile_bucketizer.quantiles[1]");
  }
  CHECK_THROWS_AS(quantile_bucketizer({.quantiles = {}}), mlsd::config_error);
  CHECK_THROWS_AS(quantile_bucketizer({.quantiles = {1.0}}), mlsd::config_error);
  CHECK_THROWS_AS(quantile_bucketizer::config::evenly_spaced(1), mlsd::config_error);
  CHECK_THROWS_AS(quantile_bucketizer({.quantiles = {0.5}, .index_offset = 0xffffffffu}),
                  mlsd::config_error);

  // From JSON: a typo, a wrong type, a negative integer.
  try {
    (void)min_max_scaler::config::from_json({{"clp", true}});
    FAIL("an unknown key was accepted");
  } catch (const mlsd::config_error& err) {
    CHECK(err.field() == "min_max_scaler.clp");
  }
  try {
    (void)standard_scaler::config::from_json({{"with_mean", "yes"}});
    FAIL("a string was accepted for a bool");
  } catch (const mlsd::config_error& err) {
    CHECK(err.field() == "standard_scaler.with_mean");
  }
  try {
    (void)quantile_bucketizer::config::from_json({{"index_offset", -1}});
    FAIL("a negative offset was accepted");
  } catch (const mlsd::config_error& err) {
    CHECK(err.field() == "quantile_bucketizer.index_offset");
  }
  try {
    (void)log1p_transform::config::from_json({{"on_negative", "abs"}});
    FAIL("an unknown policy was accepted");
  } catch (const mlsd::config_error& err) {
    CHECK(err.field() == "log1p_transform.on_negative");
  }
  // A saved transform of another type.
  standard_scaler s;
  s.fit(std::vector<double>{1, 2});
  try {
    (void)min_max_scaler::from_json(s.to_json());
    FAIL("a standard_scaler was loaded as a min_max_scaler");
  } catch (const mlsd::config_error& err) {
    CHECK(err.field() == "min_max_scaler.transform");
  }
}

TEST_CASE("numeric transforms give identical outputs after a JSON round trip", "[data][numeric]") {
  std::vector<double> x;
  for (int i = 0; i < 200; ++i) {
    x.push_back(std::sin(i * 0.37) * 1000.0 + i * 0.1 + 1e6); // values with full mantissas
  }
  standard_scaler s({.feature = "f"});
  s.fit(x);
  min_max_scaler m({.feature = "f", .lower = -2.0, .upper = 3.0, .clip = true});
  m.fit(x);
  quantile_bucketizer q({.feature = "f", .quantiles = {0.1, 0.33, 0.9}, .index_offset = 7});
  q.fit(x);
  const auto s2 = reload(s);
  const auto m2 = reload(m);
  const auto q2 = reload(q);
  CHECK(s2.to_json() == s.to_json());
  CHECK(m2.to_json() == m.to_json());
  CHECK(q2.to_json() == q.to_json());
  CHECK(s2.settings().feature == "f");
  CHECK(m2.settings().clip);
  CHECK(q2.settings().index_offset == 7);
  for (const double v : x) {
    CHECK(s2(v) == s(v)); // bit for bit: the training and the serving transform are the same
    CHECK(m2(v) == m(v));
    CHECK(q2(v) == q(v));
  }
  // An unfitted transform round-trips as unfitted.
  CHECK(!reload(standard_scaler()).fitted());
  // The config alone through nlohmann's conversions.
  const nlohmann::json j = m.settings();
  const auto c = j.get<min_max_scaler::config>();
  CHECK(c.lower == -2.0);
  CHECK(c.upper == 3.0);
}
