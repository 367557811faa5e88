// The hashing trick and feature crosses (include/mlsd/data/hashing.hpp). Every expected bucket is
// computed here from xxHash's own XXH3_64bits_withSeed, independently of the library's wrapper.
#include <mlsd/data/hashing.hpp>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

using mlsd::data::feature_hasher;
using mlsd::data::feature_hasher_config;

static_assert(mlsd::data::feature_transform<feature_hasher>);

std::uint64_t xxh(std::string_view bytes, std::uint64_t seed) {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

// The documented mapping, written out naively: the field name's hash seeds the value's hash.
std::uint64_t ref_field_hash(std::string_view field, std::string_view value, std::uint64_t seed) {
  return xxh(value, xxh(field, seed));
}

// A cross: a chain from the tag "mlsd.cross" through the field names, then through the values.
std::uint64_t ref_cross_hash(const std::vector<std::string_view>& fields,
                             const std::vector<std::string_view>& values, std::uint64_t seed) {
  std::uint64_t h = xxh("mlsd.cross", seed);
  for (const auto f : fields) {
    h = xxh(f, h);
  }
  for (const auto v : values) {
    h = xxh(v, h);
  }
  return h;
}

std::uint64_t ref_id_hash(std::uint64_t id, std::uint64_t seed) {
  unsigned char le[8];
  for (int i = 0; i < 8; ++i) {
    le[i] = static_cast<unsigned char>((id >> (8 * i)) & 0xff);
  }
  return XXH3_64bits_withSeed(le, 8, seed);
}

// "prefix" followed by i (built with +=: GCC 12's -Wrestrict misfires on "literal" + string).
std::string numbered(std::string_view prefix, long long i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

std::uint32_t low_bits(std::uint64_t h, unsigned bits) {
  return static_cast<std::uint32_t>(bits == 64 ? h : h & ((std::uint64_t{1} << bits) - 1));
}

feature_hasher_config three_fields(std::uint32_t bits, std::uint64_t seed) {
  feature_hasher_config c;
  c.bits = bits;
  c.seed = seed;
  c.fields = {"country", "device", "language"};
  return c;
}

// The field name of the config_error thrown by `f`, or "<no error>".
template <class F>
std::string config_error_field(F&& f) {
  try {
    f();
  } catch (const mlsd::config_error& e) {
    return e.field();
  }
  return "<no error>";
}

} // namespace

TEST_CASE("hashed buckets are XXH3 of the value seeded by XXH3 of the field name",
          "[data][hashing]") {
  const feature_hasher h(three_fields(18, 42));
  const std::array<std::string_view, 3> row = {"US", "mobile", "en"};
  const auto out = h(row);
  REQUIRE(out.nnz() == 3);
  CHECK(out.indices[0] == low_bits(ref_field_hash("country", "US", 42), 18));
  CHECK(out.indices[1] == low_bits(ref_field_hash("device", "mobile", 42), 18));
  CHECK(out.indices[2] == low_bits(ref_field_hash("language", "en", 42), 18));
  CHECK(out.values == std::vector<float>{1.0f, 1.0f, 1.0f});
  CHECK(out.fields.empty());
  CHECK(out.label == 0.0f);
  CHECK(h.dimension() == (std::uint64_t{1} << 18));
  CHECK(h.bucket(0, "US") == out.indices[0]);
  CHECK(h.hash(2, "en") == ref_field_hash("language", "en", 42));
}

TEST_CASE("hashed buckets are frozen: models trained on them stay valid", "[data][hashing]") {
  // Computed once with the shared libxxhash 0.8.1 (not the inline copy), bits = 20, seed = 0. A
  // change here silently invalidates every saved hashed model.
  feature_hasher_config c;
  c.fields = {"country", "device"};
  c.crosses = {{"country", "device"}};
  const feature_hasher h(c);
  const std::array<std::string_view, 2> row = {"US", "mobile"};
  const auto out = h(row);
  CHECK(out.indices == std::vector<std::uint32_t>{539201, 336397, 390808});
  CHECK(h.hash(0, "US") == 0xbf2d1aba7c283a41ull);
}

TEST_CASE("each field is a namespace: the same value in two fields is two features",
          "[data][hashing]") {
  const feature_hasher h(three_fields(32, 7));
  const std::array<std::string_view, 3> row = {"US", "US", "US"};
  const auto out = h(row);
  REQUIRE(out.nnz() == 3);
  CHECK(out.indices[0] == low_bits(ref_field_hash("country", "US", 7), 32));
  CHECK(out.indices[2] == low_bits(ref_field_hash("language", "US", 7), 32));
  CHECK(out.indices[0] != out.indices[1]);
  CHECK(out.indices[0] != out.indices[2]);
  CHECK(out.indices[1] != out.indices[2]);
  // Without namespaces the three would be one bucket: the plain hash of "US".
  CHECK(out.indices[0] != low_bits(xxh("US", 7), 32));
}

TEST_CASE("feature crosses hash their fields' values together in their own namespace",
          "[data][hashing][cross]") {
  auto c = three_fields(24, 3);
  c.crosses = {{"country", "device"}, {"device", "country"}, {"country", "device", "language"}};
  const feature_hasher h(c);
  const std::array<std::string_view, 3> row = {"US", "mobile", "en"};
  const auto out = h(row);
  REQUIRE(out.nnz() == 6);
  CHECK(out.indices[3] == low_bits(ref_cross_hash({"country", "device"}, {"US", "mobile"}, 3), 24));
  CHECK(out.indices[4] == low_bits(ref_cross_hash({"device", "country"}, {"mobile", "US"}, 3), 24));
  CHECK(out.indices[5] ==
        low_bits(ref_cross_hash({"country", "device", "language"}, {"US", "mobile", "en"}, 3), 24));
  // A cross is not any of its members, and the order of the fields makes a different cross.
  CHECK(out.indices[3] != out.indices[0]);
  CHECK(out.indices[3] != out.indices[1]);
  CHECK(out.indices[3] != out.indices[4]);
  CHECK(h.field_count() == 6);

  SECTION("values are chained one by one: (a, bc) and (ab, c) are different crosses") {
    auto c2 = c;
    c2.crosses = {{"country", "device"}};
    const feature_hasher h2(c2);
    const std::array<std::string_view, 3> r1 = {"a", "bc", "x"};
    const std::array<std::string_view, 3> r2 = {"ab", "c", "x"};
    CHECK(h2(r1).indices[3] != h2(r2).indices[3]);
  }
  SECTION("a cross with a missing member is skipped, and counted") {
    const std::array<std::string_view, 3> missing_device = {"US", "", "en"};
    mlsd::sparse_row out2;
    CHECK(h.encode(missing_device, out2) == 4); // device, and the three crosses that use it
    CHECK(out2.indices == std::vector<std::uint32_t>{out.indices[0], out.indices[2]});
  }
}

TEST_CASE("missing values are skipped, or hashed as the configured token",
          "[data][hashing][missing]") {
  const std::array<std::string_view, 3> row = {"US", "", "en"};
  SECTION("skipped by default") {
    const feature_hasher h(three_fields(20, 0));
    const auto out = h(row);
    CHECK(out.nnz() == 2);
    mlsd::sparse_row again;
    CHECK(h.encode(row, again) == 1);
  }
  SECTION("a missing token is a feature of its own, per field") {
    auto c = three_fields(20, 0);
    c.missing_token = "<missing>";
    c.crosses = {{"country", "device"}};
    const feature_hasher h(c);
    mlsd::sparse_row out;
    CHECK(h.encode(row, out) == 0);
    REQUIRE(out.nnz() == 4);
    CHECK(out.indices[1] == low_bits(ref_field_hash("device", "<missing>", 0), 20));
    CHECK(out.indices[3] ==
          low_bits(ref_cross_hash({"country", "device"}, {"US", "<missing>"}, 0), 20));
  }
}

TEST_CASE("every bucket is below 2^b and the top bit is used, for b = 1 to 32", "[data][hashing]") {
  std::vector<std::string> values;
  for (int i = 0; i < 2000; ++i) {
    values.push_back(numbered("value-", i));
  }
  for (std::uint32_t bits = 1; bits <= 32; ++bits) {
    feature_hasher_config c;
    c.bits = bits;
    c.fields = {"f"};
    const feature_hasher h(c);
    const std::uint64_t m = std::uint64_t{1} << bits;
    std::uint64_t max_bucket = 0;
    bool all_in_range = true;
    bool all_exact = true;
    for (const auto& v : values) {
      const std::uint32_t b = h.bucket(0, v);
      all_in_range = all_in_range && b < m;
      all_exact = all_exact && b == ref_field_hash("f", v, 0) % m;
      max_bucket = std::max<std::uint64_t>(max_bucket, b);
    }
    INFO("bits = " << bits);
    CHECK(all_in_range);
    CHECK(all_exact);
    CHECK(h.dimension() == m);
    // 2000 uniform values all below 2^(b-1) has probability 2^-2000: the top bit is reached.
    CHECK(max_bucket >= m / 2);
  }
}

TEST_CASE("the collision rate of 2^b buckets matches 1 - (1 - 1/m)^(n-1)",
          "[data][hashing][statistics]") {
  // The fraction of n distinct values that share their bucket with another value has expectation
  // 1 - (1 - 1/m)^(n-1) under a uniform hash. Its standard deviation is below sqrt(p(1-p)/n) times
  // a small factor; the tolerance is more than five of those, so a hash that uses too few bits or
  // clusters values fails, and a good one passes.
  struct setting {
    std::uint32_t bits;
    int n;
    double tolerance;
  };
  for (const setting s :
       {setting{12, 4000, 0.03}, setting{16, 30000, 0.015}, setting{20, 300000, 0.005}}) {
    feature_hasher_config c;
    c.bits = s.bits;
    c.seed = 2024;
    c.fields = {"user_id"};
    const feature_hasher h(c);
    std::unordered_map<std::uint32_t, int> load;
    std::vector<std::uint32_t> buckets;
    buckets.reserve(static_cast<std::size_t>(s.n));
    for (int i = 0; i < s.n; ++i) {
      const std::string v = numbered("u", i);
      buckets.push_back(h.bucket(0, v));
      ++load[buckets.back()];
    }
    int colliding = 0;
    for (const auto b : buckets) {
      colliding += load[b] > 1 ? 1 : 0;
    }
    const double m = std::ldexp(1.0, static_cast<int>(s.bits));
    const double expected = 1.0 - std::pow(1.0 - 1.0 / m, s.n - 1);
    const double observed = static_cast<double>(colliding) / s.n;
    INFO("bits = " << s.bits << ", n = " << s.n << ": expected " << expected << ", observed "
                   << observed);
    CHECK(std::abs(observed - expected) < s.tolerance);
  }
}

TEST_CASE("the sign hash gives +1 or -1 from bit 63 of the hash, balanced",
          "[data][hashing][sign]") {
  auto c = three_fields(16, 11);
  c.sign_hash = true;
  const feature_hasher h(c);
  int negative = 0;
  const int n = 20000;
  bool exact = true;
  for (int i = 0; i < n; ++i) {
    const std::string v = std::to_string(i);
    const std::array<std::string_view, 3> row = {v, "d", "l"};
    const auto out = h(row);
    const std::uint64_t ref = ref_field_hash("country", v, 11);
    const float want = (ref >> 63) != 0 ? -1.0f : 1.0f;
    exact = exact && out.values[0] == want && out.indices[0] == low_bits(ref, 16);
    negative += out.values[0] < 0 ? 1 : 0;
  }
  CHECK(exact);
  // Binomial(20000, 1/2): standard deviation 0.0035 of the fraction.
  CHECK(std::abs(negative / double(n) - 0.5) < 0.02);
}

TEST_CASE("integer ids hash their 8 little-endian bytes, without text", "[data][hashing][ids]") {
  feature_hasher_config c;
  c.bits = 22;
  c.seed = 5;
  c.fields = {"user_id", "item_id"};
  c.crosses = {{"user_id", "item_id"}};
  const feature_hasher h(c);
  const std::array<std::uint64_t, 2> ids = {7, 0x0123456789abcdefull};
  mlsd::sparse_row out;
  h.encode_ids(ids, out);
  REQUIRE(out.nnz() == 3);
  const std::uint64_t user_seed = xxh("user_id", 5);
  const std::uint64_t item_seed = xxh("item_id", 5);
  CHECK(out.indices[0] == low_bits(ref_id_hash(7, user_seed), 22));
  CHECK(out.indices[1] == low_bits(ref_id_hash(0x0123456789abcdefull, item_seed), 22));
  std::uint64_t cross = xxh("item_id", xxh("user_id", xxh("mlsd.cross", 5)));
  cross = ref_id_hash(0x0123456789abcdefull, ref_id_hash(7, cross));
  CHECK(out.indices[2] == low_bits(cross, 22));
  CHECK(h.bucket(0, std::uint64_t{7}) == out.indices[0]);
  // The id 7 and the text "7" are different features.
  CHECK(h.bucket(0, std::uint64_t{7}) != h.bucket(0, std::string_view("7")));
}

TEST_CASE("field ids for FFM: fields by position, then crosses", "[data][hashing][ffm]") {
  auto c = three_fields(20, 0);
  c.crosses = {{"country", "language"}};
  c.output_fields = true;
  const feature_hasher h(c);
  const std::array<std::string_view, 3> row = {"FR", "", "fr"};
  const auto out = h(row);
  CHECK(out.fields == std::vector<std::uint32_t>{0, 2, 3});
  CHECK(out.indices.size() == 3);
  CHECK(out.indices[2] == low_bits(ref_cross_hash({"country", "language"}, {"FR", "fr"}, 0), 20));
}

TEST_CASE("encode appends to a reused row without reallocating", "[data][hashing]") {
  auto c = three_fields(20, 0);
  c.crosses = {{"country", "device"}};
  const feature_hasher h(c);
  const std::array<std::string_view, 3> row = {"US", "mobile", "en"};
  mlsd::sparse_row out;
  out.label = 1.0f;
  h.encode(row, out);
  h.encode(row, out); // appends: the first four entries are kept
  REQUIRE(out.nnz() == 8);
  CHECK(out.label == 1.0f);
  CHECK(std::equal(out.indices.begin(), out.indices.begin() + 4, out.indices.begin() + 4));
  const auto* data = out.indices.data();
  for (int i = 0; i < 100; ++i) {
    out.clear();
    h.encode(row, out);
  }
  CHECK(out.indices.data() == data);
  CHECK(out.nnz() == 4);
}

TEST_CASE("rows of the wrong width are input errors; fit counts missing values",
          "[data][hashing][fit]") {
  feature_hasher h(three_fields(20, 0));
  const std::array<std::string_view, 2> short_row = {"US", "mobile"};
  CHECK_THROWS_AS(h(short_row), mlsd::input_error);

  const std::array<std::string_view, 3> a = {"US", "", "en"};
  const std::array<std::string_view, 3> b = {"", "", "de"};
  std::vector<std::span<const std::string_view>> rows = {a, b};
  const auto report = h.fit(rows);
  CHECK(report.rows == 2);
  CHECK(report.missing == std::vector<std::uint64_t>{1, 2, 0});

  rows.push_back(short_row);
  try {
    (void)h.fit(rows);
    FAIL("fit accepted a row of 2 values");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().line == 3);
    CHECK(e.found() == "2 values");
    CHECK(e.expected() == "3 values, one per field (country, device, language)");
  }
}

TEST_CASE("a hasher saved to JSON and loaded maps every input identically",
          "[data][hashing][json]") {
  auto c = three_fields(19, 123456789012345ull);
  c.crosses = {{"country", "device"}, {"device", "country", "language"}};
  c.sign_hash = true;
  c.output_fields = true;
  c.missing_token = std::string(1, '?'); // = "?" trips g++ 12's false -Wrestrict at -O3
  const feature_hasher trained(c);
  const std::string saved = trained.to_json().dump();
  const feature_hasher served = feature_hasher::from_json(nlohmann::json::parse(saved));
  CHECK(served == trained);
  CHECK(served.configuration() == c);
  for (int i = 0; i < 500; ++i) {
    const std::string country = numbered("c", i % 37);
    const std::string device = i % 5 == 0 ? "" : numbered("d", i % 7);
    const std::string language = numbered("l", i);
    const std::array<std::string_view, 3> row = {country, device, language};
    const auto x = trained(row);
    const auto y = served(row);
    REQUIRE(x.indices == y.indices);
    REQUIRE(x.values == y.values);
    REQUIRE(x.fields == y.fields);
  }
}

TEST_CASE("a config written with another seed or bits gives a different mapping",
          "[data][hashing][json]") {
  const feature_hasher original(three_fields(20, 1));
  nlohmann::json j = original.to_json();
  SECTION("another seed") {
    j["config"]["seed"] = 2;
  }
  SECTION("another number of bits") {
    j["config"]["bits"] = 21;
  }
  const feature_hasher other = feature_hasher::from_json(j);
  CHECK_FALSE(other == original);
  int differ = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string v = numbered("v", i);
    differ += original.bucket(0, v) != other.bucket(0, v) ? 1 : 0;
  }
  // A different seed agrees by chance on 1 in 2^20 values; one more bit agrees on half of them.
  if (j["config"]["seed"] == 2) {
    CHECK(differ >= 995);
  } else {
    CHECK(differ > 400);
    CHECK(differ < 600);
  }
}

TEST_CASE("config errors name the field", "[data][hashing][config]") {
  const auto make = [](feature_hasher_config c) { return [c] { (void)feature_hasher(c); }; };
  auto c = three_fields(20, 0);
  c.bits = 0;
  CHECK(config_error_field(make(c)) == "feature_hasher.bits");
  c.bits = 33;
  CHECK(config_error_field(make(c)) == "feature_hasher.bits");
  c = three_fields(20, 0);
  c.fields = {};
  CHECK(config_error_field(make(c)) == "feature_hasher.fields");
  c.fields = {"a", "b", "a"};
  CHECK(config_error_field(make(c)) == "feature_hasher.fields[2]");
  c.fields = {"a", ""};
  CHECK(config_error_field(make(c)) == "feature_hasher.fields[1]");
  c = three_fields(20, 0);
  c.crosses = {{"country", "devise"}};
  CHECK(config_error_field(make(c)) == "feature_hasher.crosses[0][1]");
  c.crosses = {{"country", "device"}, {"language"}};
  CHECK(config_error_field(make(c)) == "feature_hasher.crosses[1]");
  c.crosses = {{"country", "country"}};
  CHECK(config_error_field(make(c)) == "feature_hasher.crosses[0][1]");
  c.crosses = {{"country", "device"}, {"country", "device"}};
  CHECK(config_error_field(make(c)) == "feature_hasher.crosses[1]");
  c.crosses = {{"country", "device"}, {"device", "country"}};
  CHECK(config_error_field(make(c)) == "<no error>");

  const nlohmann::json good = feature_hasher(three_fields(20, 0)).to_json();
  const auto load = [](nlohmann::json j) { return [j] { (void)feature_hasher::from_json(j); }; };
  auto j = good;
  j["config"]["bits"] = "20";
  CHECK(config_error_field(load(j)) == "feature_hasher.bits");
  j = good;
  j["config"]["bits"] = 40;
  CHECK(config_error_field(load(j)) == "feature_hasher.bits");
  j = good;
  j["config"]["bitz"] = 20;
  CHECK(config_error_field(load(j)) == "feature_hasher.bitz");
  j = good;
  j["config"]["fields"][1] = 3;
  CHECK(config_error_field(load(j)) == "feature_hasher.fields[1]");
  j = good;
  j["config"].erase("fields");
  CHECK(config_error_field(load(j)) == "feature_hasher.fields");
  j = good;
  j["config"]["crosses"] = nlohmann::json::array({nlohmann::json::array({"country", 1})});
  CHECK(config_error_field(load(j)) == "feature_hasher.crosses[0][1]");
  j = good;
  j["transform"] = "vocabulary";
  CHECK(config_error_field(load(j)) == "feature_hasher.transform");
  j = good;
  j["config"].erase("seed"); // an absent key takes its default
  CHECK(feature_hasher::from_json(j) == feature_hasher(three_fields(20, 0)));
}
