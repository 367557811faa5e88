// Missing-value policies (include/mlsd/data/missing.hpp). Expected statistics are computed by hand
// in the comments.
#include <mlsd/data/missing.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <optional>
#include <vector>

namespace {

using mlsd::data::impute_strategy;
using mlsd::data::imputed_value;
using mlsd::data::imputer;
using mlsd::data::imputer_with_indicator;

const std::optional<double> missing = std::nullopt;
const double not_a_number = std::numeric_limits<double>::quiet_NaN();

template <class T>
T reload(const T& t) {
  return T::from_json(nlohmann::json::parse(t.to_json().dump()));
}

} // namespace

TEST_CASE("imputer learns the mean of the observed values; nullopt and NaN are missing",
          "[data][missing]") {
  // Observed 1, 3, 8: mean 4. Two missing (nullopt and NaN).
  const std::vector<std::optional<double>> x = {1.0, missing, 3.0, not_a_number, 8.0};
  imputer fill({.feature = "income"});
  fill.fit(x);
  CHECK(fill.statistic() == 4.0);
  CHECK(fill.observed_in_fit() == 3);
  CHECK(fill.missing_in_fit() == 2);
  CHECK(fill(missing) == 4.0);
  CHECK(fill(not_a_number) == 4.0);
  CHECK(fill(2.5) == 2.5);
  CHECK(fill(0.0) == 0.0);

  // The same column as plain doubles, NaN marking the missing ones.
  imputer from_doubles;
  from_doubles.fit(std::vector<double>{1.0, not_a_number, 3.0, not_a_number, 8.0});
  CHECK(from_doubles.statistic() == 4.0);
  CHECK(from_doubles.missing_in_fit() == 2);
}

TEST_CASE("imputer median, most frequent and constant", "[data][missing]") {
  // Observed 5, 1, 3, 9 -> sorted 1 3 5 9, median (3 + 5) / 2 = 4.
  imputer median({.strategy = impute_strategy::median});
  median.fit(std::vector<std::optional<double>>{5.0, 1.0, missing, 3.0, 9.0});
  CHECK(median.statistic() == 4.0);
  // Odd count: 1 3 5 -> 3; the outlier 1e9 does not move it.
  median.fit(std::vector<std::optional<double>>{5.0, 1e9, 3.0});
  CHECK(median.statistic() == 5.0);

  // 2 and 3 both appear twice: the tie goes to the smaller value.
  imputer mode({.strategy = impute_strategy::most_frequent});
  mode.fit(std::vector<std::optional<double>>{2.0, 3.0, 3.0, 2.0, missing, 7.0});
  CHECK(mode.statistic() == 2.0);
  mode.fit(std::vector<std::optional<double>>{7.0, 1.0, 7.0, missing, missing});
  CHECK(mode.statistic() == 7.0);
  CHECK(mode.missing_in_fit() == 2);

  imputer constant({.strategy = impute_strategy::constant, .fill_value = -1.0});
  constant.fit(std::vector<std::optional<double>>{5.0, missing});
  CHECK(constant.statistic() == -1.0);
  CHECK(constant(missing) == -1.0);
  CHECK(constant(5.0) == 5.0);
}

TEST_CASE("imputer_with_indicator outputs the value and whether it was missing",
          "[data][missing]") {
  imputer_with_indicator fill({.strategy = impute_strategy::median});
  fill.fit(std::vector<std::optional<double>>{1.0, 2.0, 10.0, missing});
  CHECK(fill(missing) == imputed_value{2.0, true});
  CHECK(fill(not_a_number) == imputed_value{2.0, true});
  CHECK(fill(7.0) == imputed_value{7.0, false});
  // A real value equal to the statistic is not flagged.
  CHECK(fill(2.0) == imputed_value{2.0, false});
}

TEST_CASE("imputer errors name the feature and the transform", "[data][missing]") {
  imputer fill({.feature = "income"});
  CHECK_THROWS_AS(fill(1.0), mlsd::not_fitted_error);
  CHECK_THROWS_AS(fill.fit(std::vector<std::optional<double>>{}), mlsd::input_error);
  try {
    fill.fit(std::vector<std::optional<double>>{missing, not_a_number, missing});
    FAIL("an all-missing column was accepted");
  } catch (const mlsd::input_error& err) {
    CHECK(err.where().field == "income");
    CHECK(err.where().file == "imputer.fit");
    CHECK_THAT(err.what(), Catch::Contains("income") && Catch::Contains("imputer") &&
                               Catch::Contains("all values missing"));
  }
  CHECK(!fill.fitted());
  try {
    fill.fit(
        std::vector<std::optional<double>>{1.0, missing, -std::numeric_limits<double>::infinity()});
    FAIL("-inf was accepted");
  } catch (const mlsd::input_error& err) {
    CHECK(err.where().line == 3);
    CHECK(err.found() == "-inf");
  }
  fill.fit(std::vector<std::optional<double>>{1.0});
  CHECK_THROWS_AS(fill(std::numeric_limits<double>::infinity()), mlsd::input_error);

  try {
    imputer bad({.strategy = impute_strategy::constant,
                 .fill_value = std::numeric_limits<double>::infinity()});
    FAIL("an infinite fill value was accepted");
  } catch (const mlsd::config_error& err) {
    CHECK(err.field() == "imputer.fill_value");
  }
  try {
    (void)imputer::config::from_json({{"strategy", "avg"}});
    FAIL("an unknown strategy was accepted");
  } catch (const mlsd::config_error& err) {
    CHECK(err.field() == "imputer.strategy");
    CHECK_THAT(err.what(), Catch::Contains("most_frequent"));
  }
}

TEST_CASE("imputer JSON round trip gives identical outputs", "[data][missing]") {
  imputer_with_indicator fill({.feature = "age", .strategy = impute_strategy::mean});
  fill.fit(std::vector<std::optional<double>>{0.1, 0.2, missing, 0.4}); // mean 0.7/3, inexact
  const auto back = reload(fill);
  CHECK(back.to_json() == fill.to_json());
  CHECK(back.statistic() == fill.statistic());
  CHECK(back.missing_in_fit() == 1);
  CHECK(back(missing) == fill(missing));
  CHECK(back(0.3) == fill(0.3));
  // The indicator changes the output type: loading across the two is an error.
  try {
    (void)imputer::from_json(fill.to_json());
    FAIL("an imputer_with_indicator was loaded as an imputer");
  } catch (const mlsd::config_error& err) {
    CHECK(err.field() == "imputer.missing_indicator");
  }
}

TEST_CASE("an imputer composes with a numeric transform into one pipeline", "[data][missing]") {
  const std::vector<std::optional<double>> x = {2.0, missing, 6.0};
  imputer fill;
  fill.fit(x); // mean 4
  mlsd::data::standard_scaler scale;
  std::vector<double> filled;
  for (const auto& v : x) {
    filled.push_back(fill(v));
  }
  scale.fit(filled); // 2, 4, 6: mean 4, population std sqrt(8/3)
  const auto pipeline = fill | scale;
  CHECK(pipeline(missing) == 0.0);
  CHECK(pipeline(6.0) == Approx(2.0 / std::sqrt(8.0 / 3.0)).epsilon(1e-15));
}
