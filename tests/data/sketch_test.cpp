// Distinct counting (include/mlsd/data/sketch.hpp): HyperLogLog accuracy within 3 standard errors,
// merge by register max equal to the sketch of the union, the exact-then-sketch counter, bounded
// memory, and the JSON round trip of distinct_config.
#include <mlsd/data/sketch.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <string>

namespace {

using mlsd::data::distinct_config;
using mlsd::data::distinct_counter;
using mlsd::data::hyperloglog;

std::uint64_t hash_of(std::uint64_t item) {
  return mlsd::data::detail::xxh3_64(&item, 8, 0);
}

// |estimate − truth| within 3 relative standard errors 1.04/sqrt(m) (Flajolet et al. 2007).
bool within_three_standard_errors(double estimate, double truth, unsigned precision) {
  const double se = 1.04 / std::sqrt(static_cast<double>(std::uint64_t{1} << precision));
  return std::abs(estimate - truth) <= 3.0 * se * truth;
}

} // namespace

TEST_CASE("hyperloglog estimates within 3 standard errors from tens to a million items",
          "[data][sketch]") {
  for (const unsigned precision : {10u, 12u, 14u}) {
    hyperloglog sketch(precision);
    CHECK(sketch.estimate() == 0.0);
    CHECK(sketch.memory_bytes() == (std::size_t{1} << precision));
    std::uint64_t added = 0;
    for (const std::uint64_t n : {50u, 1000u, 20000u, 300000u, 1000000u}) {
      for (; added < n; ++added) {
        sketch.add_hash(hash_of(added * 7919 + precision));
        sketch.add_hash(hash_of(added * 7919 + precision)); // duplicates do not count
      }
      INFO("precision " << precision << ", " << n << " distinct items, estimate "
                        << sketch.estimate());
      CHECK(within_three_standard_errors(sketch.estimate(), static_cast<double>(n), precision));
    }
    CHECK(sketch.relative_standard_error() ==
          Approx(1.04 / std::sqrt(static_cast<double>(1u << precision))));
  }
}

TEST_CASE("hyperloglog merge by register max equals the sketch of the union", "[data][sketch]") {
  hyperloglog a(10);
  hyperloglog b(10);
  hyperloglog both(10);
  for (std::uint64_t i = 0; i < 30000; ++i) {
    a.add_hash(hash_of(i));
    both.add_hash(hash_of(i));
  }
  for (std::uint64_t i = 20000; i < 50000; ++i) {
    b.add_hash(hash_of(i));
    both.add_hash(hash_of(i));
  }
  CHECK_FALSE(a == both);
  a.merge(b);
  CHECK(a == both);
  CHECK(within_three_standard_errors(a.estimate(), 50000.0, 10));
  CHECK_THROWS_AS(a.merge(hyperloglog(11)), mlsd::config_error);
  CHECK_THROWS_AS(hyperloglog(3), mlsd::config_error);
  CHECK_THROWS_AS(hyperloglog(19), mlsd::config_error);
}

TEST_CASE("distinct_counter is exact up to its threshold, then sketches", "[data][sketch]") {
  distinct_config cfg;
  cfg.exact_threshold = 16;
  cfg.precision = 10;
  distinct_counter c(cfg);
  CHECK(c.is_exact());
  CHECK(c.count() == 0);
  for (int round = 0; round < 3; ++round) { // every item three times: still 16
    for (std::uint64_t i = 0; i < 16; ++i) {
      c.add(i);
    }
  }
  CHECK(c.is_exact());
  CHECK(c.count() == 16);
  CHECK(c.memory_bytes() == 16 * 8);
  c.add(std::uint64_t{16});
  CHECK_FALSE(c.is_exact());
  CHECK(c.memory_bytes() == 1024); // the exact set was freed
  CHECK(c.memory_bytes() <= cfg.max_memory_bytes());

  c.clear();
  CHECK(c.is_exact());
  CHECK(c.count() == 0);
  c.add(std::string_view("user-42"));
  c.add(std::string_view("user-42"));
  c.add(std::string_view("user-43"));
  CHECK(c.count() == 2);
}

TEST_CASE("distinct_counter merge is the counter of the union, exact when small",
          "[data][sketch]") {
  distinct_config cfg;
  cfg.exact_threshold = 10;
  cfg.precision = 12;
  distinct_counter a(cfg);
  distinct_counter b(cfg);
  for (std::uint64_t i = 0; i < 6; ++i) {
    a.add(i);
  }
  for (std::uint64_t i = 3; i < 9; ++i) {
    b.add(i);
  }
  distinct_counter u(cfg);
  u.merge(a);
  u.merge(b);
  CHECK(u.is_exact());
  CHECK(u.count() == 9); // {0..8}

  distinct_counter c(cfg);
  for (std::uint64_t i = 100; i < 105; ++i) {
    c.add(i);
  }
  u.merge(c); // 14 > 10: sketching, and the small-range estimate is close to 14
  CHECK_FALSE(u.is_exact());
  CHECK(u.estimate() == Approx(14.0).margin(1.0));

  // A sketching counter merged into an exact one, on a large stream.
  distinct_counter big(cfg);
  std::set<std::uint64_t> truth;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    const std::uint64_t item = rng() % 150000;
    big.add(item);
    truth.insert(item);
  }
  distinct_counter small(cfg);
  small.add(std::uint64_t{999999999});
  truth.insert(999999999);
  small.merge(big);
  CHECK(within_three_standard_errors(small.estimate(), static_cast<double>(truth.size()), 12));

  distinct_config other = cfg;
  other.seed = 1;
  CHECK_THROWS_AS(small.merge(distinct_counter(other)), mlsd::config_error);
}

TEST_CASE("distinct_config validates and round-trips through JSON", "[data][sketch]") {
  distinct_config cfg;
  cfg.exact_threshold = 100;
  cfg.precision = 14;
  cfg.seed = 0xdeadbeefcafef00dULL;
  const nlohmann::json j = cfg;
  CHECK(j.at("precision") == 14);
  CHECK(j.get<distinct_config>() == cfg);

  distinct_config bad = cfg;
  bad.precision = 3;
  try {
    bad.validate();
    FAIL("expected a config_error");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "distinct.precision");
  }
  CHECK_THROWS_AS(distinct_counter(bad), mlsd::config_error);

  nlohmann::json missing = j;
  missing.erase("seed");
  try {
    (void)missing.get<distinct_config>();
    FAIL("expected a config_error");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "seed");
  }
  nlohmann::json wrong = j;
  wrong["exact_threshold"] = -1;
  try {
    (void)wrong.get<distinct_config>();
    FAIL("expected a config_error");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "exact_threshold");
  }
}
