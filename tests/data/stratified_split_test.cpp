// The stratified split (include/mlsd/data/split.hpp): class shares, determinism, apportionment.
#include <mlsd/data/split.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

using mlsd::data::stratified_split;
using mlsd::data::stratified_split_config;

namespace {

std::size_t count_label(const std::vector<std::size_t>& rows, const std::vector<float>& labels,
                        float label) {
  std::size_t n = 0;
  for (const std::size_t r : rows) {
    n += labels[r] == label ? 1 : 0;
  }
  return n;
}

} // namespace

TEST_CASE("stratified_split keeps each class's share on both sides", "[data][split]") {
  // 5,574 rows of which 747 positive, as in the SMS spam collection.
  std::vector<float> labels(5574, 0.0f);
  for (std::size_t i = 0; i < labels.size(); i += 7) {
    if (std::count(labels.begin(), labels.end(), 1.0f) < 747) {
      labels[i] = 1.0f;
    }
  }
  REQUIRE(std::count(labels.begin(), labels.end(), 1.0f) == 747);
  const auto split = stratified_split(labels, {.test_fraction = 0.2, .seed = 3});
  // ceil(0.2 * 5574) = 1115 test rows; shares 1115 * 747 / 5574 = 149.43 and 965.57: the
  // larger remainder (0.57) rounds the negatives up.
  CHECK(split.test.size() == 1115);
  CHECK(split.train.size() == 5574 - 1115);
  CHECK(count_label(split.test, labels, 1.0f) == 149);
  CHECK(count_label(split.test, labels, 0.0f) == 966);
  CHECK(split.excluded.empty());
  CHECK(mlsd::data::check_split(split, labels.size()).ok());
  CHECK(std::is_sorted(split.test.begin(), split.test.end()));
  CHECK(std::is_sorted(split.train.begin(), split.train.end()));

  CHECK(split == stratified_split(labels, {.test_fraction = 0.2, .seed = 3}));
  CHECK(split != stratified_split(labels, {.test_fraction = 0.2, .seed = 4}));
}

TEST_CASE("stratified_split apportions by largest remainder", "[data][split]") {
  // Classes of 5, 3 and 2 rows, 10 rows, 40%: 4 test rows; exact shares 2, 1.2, 0.8 ->
  // floors 2, 1, 0 and the one left goes to the largest remainder (0.8: the class of 2 rows).
  const std::vector<std::uint64_t> classes = {7, 7, 7, 7, 7, 1, 1, 1, 9, 9};
  const auto split = stratified_split(classes, {.test_fraction = 0.4, .seed = 1});
  REQUIRE(split.test.size() == 4);
  std::size_t c7 = 0, c1 = 0, c9 = 0;
  for (const std::size_t r : split.test) {
    c7 += classes[r] == 7 ? 1 : 0;
    c1 += classes[r] == 1 ? 1 : 0;
    c9 += classes[r] == 9 ? 1 : 0;
  }
  CHECK(c7 == 2);
  CHECK(c1 == 1);
  CHECK(c9 == 1);

  // Ties in the remainder go to the smaller class label: classes of 1 row each, 50% of 4.
  const std::vector<std::uint64_t> singles = {4, 3, 2, 1};
  const auto half = stratified_split(singles, {.test_fraction = 0.5, .seed = 0});
  CHECK(half.test == std::vector<std::size_t>{2, 3}); // classes 2 and 1
}

TEST_CASE("stratified_split edge cases and config", "[data][split]") {
  const std::vector<float> labels = {1, -1, 1, -1};
  CHECK(stratified_split(labels, {.test_fraction = 0.0}).test.empty());
  CHECK(stratified_split(labels, {.test_fraction = 1.0}).train.empty());
  CHECK(stratified_split(std::span<const float>{}, {}).test.empty());
  CHECK_THROWS_AS(stratified_split(labels, {.test_fraction = 1.5}), mlsd::config_error);
  const std::vector<float> nan = {1, std::numeric_limits<float>::quiet_NaN()};
  try {
    (void)stratified_split(nan, {});
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.found() == "NaN at row 1");
  }

  const stratified_split_config c{.test_fraction = 0.25, .seed = 9};
  const nlohmann::json j = c;
  CHECK(j == nlohmann::json::parse(R"({"test_fraction": 0.25, "seed": 9})"));
  CHECK(j.get<stratified_split_config>() == c);
  CHECK_THROWS_AS(nlohmann::json::parse(R"({"test_fraction": 0.25, "seed": 9, "x": 1})")
                      .get<stratified_split_config>(),
                  mlsd::config_error);
}
