// Categorical vocabularies (include/mlsd/data/vocabulary.hpp): expected indices are worked out by
// hand from the counts of the training rows below; OOV buckets from xxHash's own XXH3.
#include <mlsd/data/vocabulary.hpp>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

using mlsd::data::vocabulary;
using mlsd::data::vocabulary_config;

static_assert(mlsd::data::feature_transform<vocabulary>);

using row2 = std::array<std::string_view, 2>;

// color: red 3, blue 3, green 2, black 1 (and one missing); size: M 5, S 2, L 1, XL 1 (and one
// missing).
const std::vector<row2> training = {
    {"red", "M"},  {"blue", "S"}, {"red", "M"},   {"green", "L"}, {"blue", "M"},
    {"blue", "S"}, {"red", "XL"}, {"green", "M"}, {"black", ""},  {"", "M"},
};

std::vector<std::span<const std::string_view>> spans(const std::vector<row2>& rows) {
  return {rows.begin(), rows.end()};
}

vocabulary_config color_size() {
  vocabulary_config c;
  c.fields = {"color", "size"};
  return c;
}

vocabulary fitted(vocabulary_config c) {
  vocabulary v(std::move(c));
  (void)v.fit(spans(training));
  return v;
}

std::uint64_t xxh(std::string_view bytes, std::uint64_t seed) {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

std::string numbered(std::string_view prefix, long long i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

template <class F>
std::string config_error_field(F&& f) {
  try {
    f();
  } catch (const mlsd::config_error& e) {
    return e.field();
  }
  return "<no error>";
}

template <class F>
std::string input_error_field(F&& f) {
  try {
    f();
  } catch (const mlsd::input_error& e) {
    return e.where().field;
  }
  return "<no error>";
}

} // namespace

TEST_CASE("vocabulary orders values by count, then by value; min_count sends rare ones to OOV",
          "[data][vocabulary]") {
  auto c = color_size();
  c.min_count = 2;
  vocabulary v(c);
  const auto report = v.fit(spans(training));

  // Ties (red 3, blue 3) are broken by the value: blue before red.
  CHECK(std::vector<std::string>(v.values(0).begin(), v.values(0).end()) ==
        std::vector<std::string>{"blue", "red", "green"});
  CHECK(std::vector<std::uint64_t>(v.counts(0).begin(), v.counts(0).end()) ==
        std::vector<std::uint64_t>{3, 3, 2});
  CHECK(std::vector<std::string>(v.values(1).begin(), v.values(1).end()) ==
        std::vector<std::string>{"M", "S"});

  // color block: [0] OOV, [1] blue, [2] red, [3] green; size block from 4: [4] OOV, [5] M, [6] S.
  CHECK(v.offset(0) == 0);
  CHECK(v.offset(1) == 4);
  CHECK(v.dimension() == 7);
  CHECK(v.index(0, "blue") == 1);
  CHECK(v.index(0, "red") == 2);
  CHECK(v.index(0, "green") == 3);
  CHECK(v.index(0, "black") == 0); // seen once: below min_count
  CHECK(v.index(1, "M") == 5);
  CHECK(v.index(1, "S") == 6);
  CHECK(v.index(1, "XL") == 4);
  CHECK(v.contains(0, "green"));
  CHECK_FALSE(v.contains(0, "black"));

  REQUIRE(report.fields.size() == 2);
  CHECK(report.rows == 10);
  CHECK(report.fields[0].distinct == 4);
  CHECK(report.fields[0].kept == 3);
  CHECK(report.fields[0].oov_values == 1);
  CHECK(report.fields[0].oov_occurrences == 1);
  CHECK(report.fields[0].missing == 1);
  CHECK(report.fields[1].distinct == 4);
  CHECK(report.fields[1].kept == 2);
  CHECK(report.fields[1].oov_values == 2);
  CHECK(report.fields[1].oov_occurrences == 2);
  CHECK(report.fields[1].missing == 1);

  const row2 row = {"red", "S"};
  const auto out = v(row);
  CHECK(out.indices == std::vector<std::uint32_t>{2, 6});
  CHECK(out.values == std::vector<float>{1.0f, 1.0f});
  CHECK(out.fields.empty());
}

TEST_CASE("vocabulary max_size keeps the most frequent values", "[data][vocabulary]") {
  auto c = color_size();
  c.max_size = 2;
  vocabulary v(c);
  const auto report = v.fit(spans(training));
  CHECK(std::vector<std::string>(v.values(0).begin(), v.values(0).end()) ==
        std::vector<std::string>{"blue", "red"});
  // size: M 5, S 2, then L and XL tie at 1 and are both cut.
  CHECK(std::vector<std::string>(v.values(1).begin(), v.values(1).end()) ==
        std::vector<std::string>{"M", "S"});
  CHECK(report.fields[0].kept == 2);
  CHECK(report.fields[0].oov_values == 2);      // green, black
  CHECK(report.fields[0].oov_occurrences == 3); // green 2 + black 1
  CHECK(v.index(0, "green") == 0);
  CHECK(v.dimension() == 6);

  SECTION("max_size 3 cuts a tie by the value order") {
    c.max_size = 3;
    const vocabulary v3 = fitted(c);
    // size: M, S, then L before XL.
    CHECK(std::vector<std::string>(v3.values(1).begin(), v3.values(1).end()) ==
          std::vector<std::string>{"M", "S", "L"});
  }
}

TEST_CASE("vocabulary: unseen values go to OOV buckets and never throw", "[data][vocabulary]") {
  SECTION("one OOV index per field") {
    const vocabulary v = fitted(color_size());
    const row2 row = {"ultraviolet", "XXXL"};
    const auto out = v(row);
    CHECK(out.indices == std::vector<std::uint32_t>{v.offset(0), v.offset(1)});
    CHECK(out.indices == std::vector<std::uint32_t>{0, 5}); // 1 OOV + 4 colors, then size
  }
  SECTION("several OOV buckets, by XXH3 of the value seeded by XXH3 of the field name") {
    auto c = color_size();
    c.oov_buckets = 3;
    c.seed = 99;
    c.min_count = 2;
    const vocabulary v = fitted(c);
    CHECK(v.offset(1) == 3 + 3);
    CHECK(v.dimension() == 6 + 3 + 2);
    CHECK(v.index(0, "blue") == 3);
    bool exact = true;
    std::array<int, 3> used{};
    for (int i = 0; i < 300; ++i) {
      const std::string value = numbered("unseen-", i);
      const auto bucket = xxh(value, xxh("color", 99)) % 3;
      exact = exact && v.index(0, value) == bucket;
      exact = exact && v.index(1, value) == 6 + xxh(value, xxh("size", 99)) % 3;
      ++used[bucket];
    }
    CHECK(exact);
    CHECK(used[0] > 0);
    CHECK(used[1] > 0);
    CHECK(used[2] > 0);
    CHECK(v.index(0, "black") == xxh("black", xxh("color", 99)) % 3);
  }
  SECTION("before fit, every value is OOV") {
    const vocabulary v(color_size());
    const row2 row = {"red", "M"};
    CHECK(v(row).indices == std::vector<std::uint32_t>{0, 1});
    CHECK(v.dimension() == 2);
  }
}

TEST_CASE("vocabulary fields own disjoint index blocks", "[data][vocabulary]") {
  vocabulary_config c;
  c.fields = {"a", "b", "c"};
  vocabulary v(c);
  using row3 = std::array<std::string_view, 3>;
  const std::vector<row3> rows = {{"x", "x", "x"}, {"y", "x", "z"}};
  (void)v.fit(std::vector<std::span<const std::string_view>>(rows.begin(), rows.end()));
  // a: [0] OOV, [1] x, [2] y; b: [3] OOV, [4] x; c: [5] OOV, [6] x, [7] z.
  CHECK(v.offset(1) == 3);
  CHECK(v.offset(2) == 5);
  CHECK(v.dimension() == 8);
  const row3 row = {"x", "x", "x"};
  CHECK(v(row).indices == std::vector<std::uint32_t>{1, 4, 6});
  for (std::size_t f = 0; f < 3; ++f) {
    for (const std::string_view value : {"x", "y", "z", "w"}) {
      const auto i = v.index(f, value);
      CHECK(i >= v.offset(f));
      CHECK(i < (f + 1 < 3 ? v.offset(f + 1) : v.dimension()));
    }
  }
}

TEST_CASE("vocabulary missing values: skipped, or a token with an index of its own",
          "[data][vocabulary][missing]") {
  SECTION("skipped and counted") {
    const vocabulary v = fitted(color_size());
    const row2 row = {"", "M"};
    mlsd::sparse_row out;
    CHECK(v.encode(row, out) == 1);
    CHECK(out.indices == std::vector<std::uint32_t>{v.index(1, "M")});
  }
  SECTION("a missing token") {
    auto c = color_size();
    c.missing_token = "<na>";
    const vocabulary v = fitted(c);
    // color: red 3, blue 3, green 2, <na> 1, black 1 -> blue, red, green, <na>, black.
    CHECK(std::vector<std::string>(v.values(0).begin(), v.values(0).end()) ==
          std::vector<std::string>{"blue", "red", "green", "<na>", "black"});
    const row2 row = {"", ""};
    mlsd::sparse_row out;
    CHECK(v.encode(row, out) == 0);
    CHECK(out.indices == std::vector<std::uint32_t>{4, v.index(1, "<na>")});
  }
}

TEST_CASE("vocabulary outputs field ids for FFM", "[data][vocabulary][ffm]") {
  auto c = color_size();
  c.output_fields = true;
  const vocabulary v = fitted(c);
  const row2 row = {"green", "S"};
  const auto out = v(row);
  CHECK(out.fields == std::vector<std::uint32_t>{0, 1});
  CHECK(out.indices == std::vector<std::uint32_t>{v.index(0, "green"), v.index(1, "S")});
}

TEST_CASE("a vocabulary saved to JSON and loaded keeps the exact mapping",
          "[data][vocabulary][json]") {
  auto c = color_size();
  c.min_count = 1;
  c.oov_buckets = 4;
  c.seed = 7;
  c.missing_token = std::string(1, '?'); // = "?" trips g++ 12's false -Wrestrict at -O3
  c.output_fields = true;
  const vocabulary trained = fitted(c);
  const std::string saved = trained.to_json().dump();
  const vocabulary served = vocabulary::from_json(nlohmann::json::parse(saved));
  CHECK(served == trained);
  CHECK(served.to_json() == trained.to_json());
  CHECK(served.dimension() == trained.dimension());
  std::vector<row2> inputs = training;
  inputs.push_back({"mauve", "XXS"});
  inputs.push_back({"", ""});
  for (int i = 0; i < 100; ++i) {
    inputs.push_back({i % 2 == 0 ? "red" : "teal", "S"});
  }
  std::vector<std::string> unseen;
  for (int i = 0; i < 100; ++i) {
    unseen.push_back(numbered("new-", i));
  }
  for (const auto& u : unseen) {
    inputs.push_back({u, u});
  }
  for (const auto& row : inputs) {
    const auto x = trained(row);
    const auto y = served(row);
    REQUIRE(x.indices == y.indices);
    REQUIRE(x.fields == y.fields);
    REQUIRE(x.values == y.values);
  }
  // The mapping is the list order in the JSON, not a re-sort: swapping two values swaps indices.
  nlohmann::json j = trained.to_json();
  std::swap(j["vocabularies"][0]["values"][0], j["vocabularies"][0]["values"][1]);
  const vocabulary swapped = vocabulary::from_json(j);
  CHECK(swapped.index(0, "red") == trained.index(0, "blue"));
  CHECK(swapped.index(0, "blue") == trained.index(0, "red"));
  CHECK_FALSE(swapped == trained);
}

TEST_CASE("fit replaces the earlier vocabulary", "[data][vocabulary]") {
  vocabulary v(color_size());
  (void)v.fit(spans(training));
  const std::vector<row2> other = {{"teal", "S"}};
  (void)v.fit(spans(other));
  CHECK(v.size(0) == 1);
  CHECK(v.index(0, "teal") == 1);
  CHECK(v.index(0, "red") == 0);
}

TEST_CASE("vocabulary errors name the field, the row or the JSON path",
          "[data][vocabulary][config]") {
  const auto make = [](vocabulary_config c) { return [c] { (void)vocabulary(c); }; };
  auto c = color_size();
  c.min_count = 0;
  CHECK(config_error_field(make(c)) == "vocabulary.min_count");
  c = color_size();
  c.oov_buckets = 0;
  CHECK(config_error_field(make(c)) == "vocabulary.oov_buckets");
  c = color_size();
  c.fields = {"color", "color"};
  CHECK(config_error_field(make(c)) == "vocabulary.fields[1]");
  c.fields = {};
  CHECK(config_error_field(make(c)) == "vocabulary.fields");

  vocabulary v = fitted(color_size());
  const std::array<std::string_view, 3> wide = {"red", "M", "x"};
  CHECK_THROWS_AS(v(wide), mlsd::input_error);
  std::vector<std::span<const std::string_view>> rows = spans(training);
  rows.insert(rows.begin() + 1, wide);
  try {
    (void)v.fit(rows);
    FAIL("fit accepted a row of 3 values");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().line == 2);
    CHECK(e.found() == "3 values");
  }
  CHECK(v.size(0) == 4); // a failed fit leaves the vocabulary as it was

  const nlohmann::json good = v.to_json();
  const auto load = [](nlohmann::json j) { return [j] { (void)vocabulary::from_json(j); }; };
  auto j = good;
  j["config"]["min_count"] = -1;
  CHECK(config_error_field(load(j)) == "vocabulary.min_count");
  j = good;
  j["config"]["max_sise"] = 3;
  CHECK(config_error_field(load(j)) == "vocabulary.max_sise");
  j = good;
  j["transform"] = "feature_hasher";
  CHECK(config_error_field(load(j)) == "vocabulary.transform");
  j = good;
  j["vocabularies"][1]["values"][2] = "M"; // "M" is already values[0]
  CHECK(input_error_field(load(j)) == "vocabularies[1].values[2]");
  j = good;
  j["vocabularies"][0]["values"][1] = "";
  CHECK(input_error_field(load(j)) == "vocabularies[0].values[1]");
  j = good;
  j["vocabularies"][0]["counts"][3] = "many";
  CHECK(input_error_field(load(j)) == "vocabularies[0].counts[3]");
  j = good;
  j["vocabularies"][1]["field"] = "colour";
  CHECK(input_error_field(load(j)) == "vocabularies[1]");
  j = good;
  j["vocabularies"].erase(1);
  CHECK(input_error_field(load(j)) == "vocabularies");
  j = good;
  j["config"]["max_size"] = 2;
  CHECK(input_error_field(load(j)) == "vocabularies[0]");
}
