// Random, time and group splits and their leakage checks (include/mlsd/data/split.hpp).
#include <mlsd/data/split.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <set>
#include <string>
#include <vector>

namespace {

using mlsd::event_time;
using mlsd::known_at_time;
using mlsd::data::index_split;
using mlsd::data::leakage_rule;
using namespace std::chrono_literals;

using indices = std::vector<std::size_t>;

event_time sec(std::int64_t s) {
  return event_time::from_seconds(s);
}

std::vector<event_time> seconds(std::initializer_list<std::int64_t> s) {
  std::vector<event_time> out;
  for (const auto x : s) {
    out.push_back(sec(x));
  }
  return out;
}

// Every row exactly once across train, test and excluded.
void check_partition(const index_split& s, std::size_t n) {
  std::vector<std::size_t> all = s.train;
  all.insert(all.end(), s.test.begin(), s.test.end());
  all.insert(all.end(), s.excluded.begin(), s.excluded.end());
  std::sort(all.begin(), all.end());
  std::vector<std::size_t> expected(n);
  std::iota(expected.begin(), expected.end(), std::size_t{0});
  CHECK(all == expected);
  CHECK(std::is_sorted(s.train.begin(), s.train.end()));
  CHECK(std::is_sorted(s.test.begin(), s.test.end()));
}

} // namespace

TEST_CASE("random split: exact sizes, disjoint, deterministic for a seed", "[data][split]") {
  using mlsd::data::random_split;
  const auto s = random_split(10, {0.25, 1});
  CHECK(s.test.size() == 3); // ceil(2.5)
  CHECK(s.train.size() == 7);
  check_partition(s, 10);
  CHECK(mlsd::data::check_split(s, 10).ok());
  CHECK(random_split(10, {0.25, 1}) == s);
  CHECK(random_split(1000, {0.25, 2}).test != random_split(1000, {0.25, 1}).test);
  CHECK(random_split(10000, {0.3, 5}).test.size() == 3000);
  CHECK(random_split(0, {0.3, 5}) == index_split{});
  CHECK(random_split(4, {0.0, 5}).train == indices{0, 1, 2, 3});
  CHECK(random_split(4, {1.0, 5}).test == indices{0, 1, 2, 3});
  CHECK_THROWS_AS(random_split(4, {1.5, 5}), mlsd::config_error);

  // Each row is equally likely to be in the test set: over 2000 seeds, row i is in the test set
  // of n = 10, f = 0.3 about 600 times (binomial sd 20.5; bound 5 sd).
  std::array<int, 10> in_test{};
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    for (const std::size_t i : random_split(10, {0.3, seed}).test) {
      ++in_test[i];
    }
  }
  for (const int c : in_test) {
    CHECK(std::abs(c - 600) <= 103);
  }
}

TEST_CASE("time split: train before the cutoff, test at or after it", "[data][split]") {
  using mlsd::data::time_split;
  using mlsd::data::time_split_config;
  const auto times = seconds({5, 1, 9, 3, 7});
  time_split_config c;
  c.cutoff = sec(5);
  const auto s = time_split(times, c);
  CHECK(s.train == indices{1, 3});
  CHECK(s.test == indices{0, 2, 4});
  CHECK(s.excluded.empty());
  CHECK(mlsd::data::check_time_split(s, times).ok());

  c.gap = 2s; // [3 s, 5 s) is set aside
  const auto gapped = time_split(times, c);
  CHECK(gapped.train == indices{1});
  CHECK(gapped.excluded == indices{3});
  CHECK(gapped.test == indices{0, 2, 4});
  check_partition(gapped, 5);

  // By fraction of the time range: 0 .. 100 s, 80% -> cutoff 80 s.
  const auto decades = seconds({0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100});
  time_split_config f;
  f.train_fraction = 0.8;
  CHECK(mlsd::data::time_split_cutoff(decades, f) == sec(80));
  const auto by_fraction = time_split(decades, f);
  CHECK(by_fraction.train == indices{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(by_fraction.test == indices{8, 9, 10});
  CHECK(time_split({}, f) == index_split{});

  f.gap = -1s;
  CHECK_THROWS_AS(time_split(decades, f), mlsd::config_error);
}

TEST_CASE("group split: a group on one side, stable as the data grows", "[data][split]") {
  using mlsd::data::group_split;
  using mlsd::data::group_split_config;
  const group_split_config c{0.2, 17};
  std::vector<std::uint64_t> groups;
  for (std::uint64_t i = 0; i < 30000; ++i) {
    groups.push_back((i * 7919) % 10000); // 10000 groups of 3 rows, interleaved
  }
  const auto s = group_split(groups, c);
  check_partition(s, groups.size());
  CHECK(mlsd::data::check_group_split(s, groups).ok());

  // The fraction of groups in the test set: binomial(10000, 0.2), sd 40.
  std::set<std::uint64_t> test_groups;
  for (const std::size_t i : s.test) {
    test_groups.insert(groups[i]);
  }
  CHECK(std::abs(static_cast<double>(test_groups.size()) - 2000.0) <= 200.0);

  // Stable: splitting only the first 10000 rows puts each of them on the same side.
  const auto prefix = group_split(std::span<const std::uint64_t>(groups).first(10000), c);
  const auto sides = s.sides(groups.size());
  for (const std::size_t i : prefix.test) {
    CHECK(sides[i] == mlsd::data::split_side::test);
  }
  for (const std::size_t i : prefix.train) {
    CHECK(sides[i] == mlsd::data::split_side::train);
  }

  // The rule itself: XXH3 of the id's 8 little-endian bytes with the seed, top 53 bits < f.
  for (const std::uint64_t g : {0ULL, 1ULL, 42ULL, 0x0123456789abcdefULL}) {
    unsigned char bytes[8];
    for (int b = 0; b < 8; ++b) {
      bytes[b] = static_cast<unsigned char>((g >> (8 * b)) & 0xff);
    }
    const std::uint64_t h = mlsd::data::detail::xxh3_64(bytes, 8, 17);
    CHECK(mlsd::data::group_in_test(g, c) ==
          (static_cast<double>(h >> 11) / 9007199254740992.0 < 0.2));
  }
  // String ids.
  const std::vector<std::string> names{"alice", "bob", "alice", "carol", "bob"};
  const auto by_name = group_split(std::span<const std::string>(names), group_split_config{0.5, 3});
  for (const std::size_t i : by_name.test) {
    CHECK(mlsd::data::group_in_test(std::string_view(names[i]), {0.5, 3}));
  }
  for (const std::size_t i : by_name.train) {
    CHECK_FALSE(mlsd::data::group_in_test(std::string_view(names[i]), {0.5, 3}));
  }
  CHECK(group_split(groups, {0.0, 1}).test.empty());
  CHECK(group_split(groups, {1.0, 1}).train.empty());
}

TEST_CASE("leakage check: planted index leaks are found and counted", "[data][split]") {
  index_split s;
  s.train = {0, 1, 2, 3, 5, 5, 12};
  s.test = {3, 4, 6, 7, 8, 9};
  const auto r = mlsd::data::check_split(s, 10);
  CHECK_FALSE(r.ok());
  REQUIRE(r.violations.size() == 3);
  CHECK(r.find(leakage_rule::duplicate_index)->count == 1);
  CHECK(r.find(leakage_rule::duplicate_index)->first == std::vector<std::uint64_t>{5});
  CHECK(r.find(leakage_rule::index_out_of_range)->first == std::vector<std::uint64_t>{12});
  CHECK(r.find(leakage_rule::index_on_both_sides)->first == std::vector<std::uint64_t>{3});
  CHECK(r.summary() == "duplicate_index: 1 (first: 5); index_out_of_range: 1 (first: 12); "
                       "index_on_both_sides: 1 (first: 3)");

  // Counts are exact, the list stops at keep_first.
  index_split overlap;
  overlap.train = {0, 1, 2, 3, 4, 5, 6, 7};
  overlap.test = {1, 2, 3, 4, 5, 6, 7, 8};
  overlap.excluded = {0};
  const auto many = mlsd::data::check_split(overlap, 9, 3);
  REQUIRE(many.violations.size() == 1);
  CHECK(many.violations[0].rule == leakage_rule::index_on_both_sides);
  CHECK(many.violations[0].count == 8); // rows 0 (train + excluded) and 1 .. 7
  CHECK(many.violations[0].first == std::vector<std::uint64_t>{0, 1, 2});
  CHECK(mlsd::data::check_split(index_split{}, 0).summary() == "no leakage");
}

TEST_CASE("leakage check: a time split with a planted leak", "[data][split]") {
  const auto times = seconds({1, 2, 3, 4, 5, 6});
  index_split s;
  s.train = {0, 1, 2, 4}; // row 4 (5 s) is after the first test time (4 s)
  s.test = {3, 5};
  const auto r = mlsd::data::check_time_split(s, times);
  REQUIRE(r.violations.size() == 2);
  CHECK(r.find(leakage_rule::train_at_or_after_test)->count == 1);
  CHECK(r.find(leakage_rule::train_at_or_after_test)->first == std::vector<std::uint64_t>{4});
  CHECK(r.find(leakage_rule::test_at_or_before_train)->first == std::vector<std::uint64_t>{3});

  // Equal times on both sides also leak (max train < min test is strict).
  index_split tie;
  tie.train = {0, 1};
  tie.test = {2, 3};
  const auto tied = mlsd::data::check_time_split(tie, seconds({1, 4, 4, 5}));
  CHECK(tied.find(leakage_rule::train_at_or_after_test)->first == std::vector<std::uint64_t>{1});
  CHECK(tied.find(leakage_rule::test_at_or_before_train)->first == std::vector<std::uint64_t>{2});

  // A random split of time-ordered rows leaks: the check says how much.
  std::vector<event_time> hours;
  for (int i = 0; i < 100; ++i) {
    hours.push_back(sec(3600 * i));
  }
  const auto random = mlsd::data::random_split(100, {0.2, 9});
  const auto leak = mlsd::data::check_time_split(random, hours);
  CHECK_FALSE(leak.ok());
  // Expected from the split itself: train rows after the first test row.
  const std::size_t first_test = random.test.front();
  const auto expected = static_cast<std::uint64_t>(std::count_if(
      random.train.begin(), random.train.end(), [&](std::size_t i) { return i > first_test; }));
  CHECK(leak.find(leakage_rule::train_at_or_after_test)->count == expected);
}

TEST_CASE("leakage check: a group split with planted leaks", "[data][split]") {
  const std::vector<std::uint64_t> groups{10, 10, 20, 20, 30, 40};
  index_split s;
  s.train = {0, 2, 4};
  s.test = {1, 3, 5};
  const auto r = mlsd::data::check_group_split(s, groups);
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].rule == leakage_rule::group_on_both_sides);
  CHECK(r.violations[0].count == 2);
  CHECK(r.violations[0].first == std::vector<std::uint64_t>{10, 20});
  // A random split of rows with repeated users leaks users; a group split does not.
  std::vector<std::uint64_t> users;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    users.push_back(i % 50);
  }
  CHECK_FALSE(mlsd::data::check_group_split(mlsd::data::random_split(1000, {0.2, 1}), users).ok());
  CHECK(mlsd::data::check_group_split(mlsd::data::group_split(users, {0.2, 1}), users).ok());
}

TEST_CASE("leakage check: training labels decided in the test period", "[data][split]") {
  // Impressions at 0, 1, 2, 3 s with a 2 s attribution window: labels known at 2, 3, 4, 5 s.
  const auto times = seconds({0, 1, 2, 3});
  std::vector<known_at_time> known;
  for (const auto t : times) {
    known.push_back(mlsd::known_after(t, 2s));
  }
  mlsd::data::time_split_config c;
  c.cutoff = sec(3);
  const auto s = mlsd::data::time_split(times, c);
  CHECK(mlsd::data::check_time_split(s, times).ok()); // the times alone look fine...
  const auto r = mlsd::data::check_label_availability(s, times, known);
  REQUIRE(r.violations.size() == 1); // ...but row 2's label is final at 4 s, after the test starts
  CHECK(r.violations[0].rule == leakage_rule::train_label_after_test);
  CHECK(r.violations[0].first == std::vector<std::uint64_t>{2});
  c.gap = 2s; // a gap as long as the window removes it
  const auto gapped = mlsd::data::time_split(times, c);
  CHECK(gapped.excluded == indices{1, 2});
  CHECK(mlsd::data::check_label_availability(gapped, times, known).ok());
  CHECK_THROWS_AS(mlsd::data::check_label_availability(
                      s, times, std::span<const known_at_time>(known).first(2)),
                  mlsd::input_error);
}

TEST_CASE("split configs round-trip through JSON", "[data][split]") {
  const mlsd::data::random_split_config r{0.1, 4};
  CHECK(nlohmann::json(r).get<mlsd::data::random_split_config>() == r);
  const mlsd::data::group_split_config g{0.3, 8};
  CHECK(nlohmann::json(g) == nlohmann::json{{"test_fraction", 0.3}, {"seed", 8}});
  CHECK(nlohmann::json(g).get<mlsd::data::group_split_config>() == g);

  mlsd::data::time_split_config t;
  t.gap = 1h;
  const nlohmann::json tj = t;
  CHECK(tj.at("cutoff_us").is_null());
  CHECK(tj.get<mlsd::data::time_split_config>() == t);
  t.cutoff = sec(1700000000);
  const nlohmann::json tc = t;
  CHECK(tc.at("cutoff_us") == 1700000000000000LL);
  CHECK(tc.get<mlsd::data::time_split_config>() == t);

  try {
    (void)nlohmann::json{{"test_fraction", 2.0}, {"seed", 1}}.get<mlsd::data::group_split_config>();
    FAIL("expected a config_error");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "group_split.test_fraction");
  }
  CHECK_THROWS_AS((nlohmann::json{{"test_fraction", 0.2}}.get<mlsd::data::random_split_config>()),
                  mlsd::config_error);
}
