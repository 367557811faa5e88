// The point-in-time (as-of) join: crafted histories that would leak the future, the inclusive
// boundaries, TTL expiry, several entities, equal timestamps, the missing reasons and their counts,
// and a randomized comparison with a brute-force reference on thousands of events.
#include <mlsd/data/point_in_time.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

using mlsd::event_time;
using mlsd::known_at_time;
using mlsd::time_span_us;
using mlsd::data::as_of_table;
using mlsd::data::entity_key;
using mlsd::data::feature_history;
using mlsd::data::feature_key;
using mlsd::data::labelled_event;
using mlsd::data::missing_reason;
using mlsd::data::timed_value;

constexpr time_span_us seconds(std::int64_t s) {
  return time_span_us(s * 1'000'000);
}
event_time at_s(std::int64_t s) {
  return event_time::from_seconds(s);
}

timed_value<int> value_at(int v, std::int64_t event_s, std::int64_t known_s,
                          time_span_us ttl = mlsd::data::no_expiry) {
  return {v, at_s(event_s), known_at_time::from_seconds(known_s), ttl};
}

const entity_key alice{"user", 1};
const entity_key bob{"user", 2};
const entity_key item_one{"item", 1}; // same id as alice, other kind

labelled_event<int> click(const entity_key& who, std::int64_t t_s, int label = 1) {
  return {who, at_s(t_s), label};
}

// The value the join used for event `i` and feature `f`, or -1 when missing.
template <class T>
int used(const as_of_table<T>& table, std::size_t i, std::size_t f = 0) {
  const auto& cell = table.at(i, f);
  return cell.found() ? cell.value->value : -1;
}

} // namespace

TEST_CASE("point_in_time_join: a value known after the event is not used",
          "[data][point_in_time]") {
  feature_history<int> history;
  // Happened at 10 s, but the batch job delivered it at 20 s.
  history.add({alice, "ctr"}, value_at(7, 10, 20));
  const std::vector<std::string> features{"ctr"};
  const std::vector<labelled_event<int>> events{click(alice, 9),  click(alice, 10),
                                                click(alice, 15), click(alice, 19),
                                                click(alice, 20), click(alice, 21)};
  const auto table = mlsd::data::point_in_time_join(events, history, features);
  REQUIRE(table.event_count == 6);
  CHECK(used(table, 0) == -1);
  CHECK(table.at(0, 0).reason == missing_reason::none_yet); // happened after the event
  CHECK(used(table, 1) == -1);
  CHECK(table.at(1, 0).reason == missing_reason::only_known_later); // the leak the join prevents
  CHECK(used(table, 2) == -1);
  CHECK(table.at(2, 0).reason == missing_reason::only_known_later);
  CHECK(used(table, 3) == -1);
  CHECK(used(table, 4) == 7); // known_at == event time: inclusive, used
  CHECK(used(table, 5) == 7);
  CHECK(table.counts[0] == mlsd::data::as_of_counts{2, 1, 0, 3});
}

TEST_CASE("point_in_time_join: an older value known in time beats a newer one known too late",
          "[data][point_in_time]") {
  feature_history<int> history;
  history.add({alice, "ctr"}, value_at(1, 5, 6));
  history.add({alice, "ctr"}, value_at(2, 10, 30)); // newer event, known late
  const std::vector<std::string> features{"ctr"};
  const std::vector<labelled_event<int>> events{click(alice, 12), click(alice, 30)};
  const auto table = mlsd::data::point_in_time_join(events, history, features);
  CHECK(used(table, 0) == 1);
  CHECK(used(table, 1) == 2);
}

TEST_CASE("point_in_time_join: TTL expiry is inclusive and per value", "[data][point_in_time]") {
  feature_history<int> history;
  history.add({alice, "ctr"}, value_at(1, 10, 10, seconds(5)));
  history.add({bob, "ctr"}, value_at(1, 10, 10, seconds(100))); // long-lived, older
  history.add({bob, "ctr"}, value_at(2, 20, 20, seconds(5)));   // short-lived, newer
  const std::vector<std::string> features{"ctr"};
  const std::vector<labelled_event<int>> events{
      click(alice, 15), click(alice, 16), {alice, at_s(15) + time_span_us(1), 0},
      click(bob, 22),   click(bob, 25),   click(bob, 26),
      click(bob, 110),  click(bob, 111)};
  const auto table = mlsd::data::point_in_time_join(events, history, features);
  CHECK(used(table, 0) == 1); // 15 - 10 == ttl: live
  CHECK(used(table, 1) == -1);
  CHECK(table.at(1, 0).reason == missing_reason::all_expired);
  CHECK(used(table, 2) == -1); // one microsecond past the TTL
  CHECK(used(table, 3) == 2);
  CHECK(used(table, 4) == 2); // 25 - 20 == ttl
  CHECK(used(table, 5) == 1); // the newer value expired, the older long-lived one has not
  CHECK(used(table, 6) == 1); // 110 - 10 == 100
  CHECK(used(table, 7) == -1);
  CHECK(table.at(7, 0).reason == missing_reason::all_expired);
}

TEST_CASE("point_in_time_join: entities, kinds and features do not mix", "[data][point_in_time]") {
  feature_history<int> history;
  history.add({alice, "ctr"}, value_at(11, 1, 1));
  history.add({alice, "age"}, value_at(30, 1, 1));
  history.add({bob, "ctr"}, value_at(22, 1, 1));
  history.add({item_one, "ctr"}, value_at(99, 1, 1)); // same id as alice, different kind
  const std::vector<std::string> features{"ctr", "age", "unknown_feature"};
  // Given out of order: the result follows the input order.
  const std::vector<labelled_event<int>> events{click(bob, 5), click(item_one, 5), click(alice, 5),
                                                click({"user", 3}, 5)};
  const auto table = mlsd::data::point_in_time_join(events, history, features);
  REQUIRE(table.features == features);
  CHECK(used(table, 0, 0) == 22);
  CHECK(used(table, 0, 1) == -1);
  CHECK(used(table, 1, 0) == 99);
  CHECK(used(table, 2, 0) == 11);
  CHECK(used(table, 2, 1) == 30);
  CHECK(used(table, 3, 0) == -1);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(table.at(i, 2).reason == missing_reason::none_yet);
  }
  CHECK(table.counts[0] == mlsd::data::as_of_counts{3, 1, 0, 0});
  CHECK(table.counts[1] == mlsd::data::as_of_counts{1, 3, 0, 0});
  CHECK(table.counts[2] == mlsd::data::as_of_counts{0, 4, 0, 0});
}

TEST_CASE("point_in_time_join: equal timestamps", "[data][point_in_time]") {
  feature_history<int> history;
  // Same event time: the one known later wins once both are known.
  history.add({alice, "ctr"}, value_at(1, 10, 12));
  history.add({alice, "ctr"}, value_at(2, 10, 11));
  // Same event and known-at times: the one added last wins.
  history.add({bob, "ctr"}, value_at(3, 10, 10));
  history.add({bob, "ctr"}, value_at(4, 10, 10));
  const std::vector<std::string> features{"ctr"};
  const std::vector<labelled_event<int>> events{click(alice, 11), click(alice, 12),
                                                click(alice, 12, 0), click(bob, 10)};
  const auto table = mlsd::data::point_in_time_join(events, history, features);
  CHECK(used(table, 0) == 2); // only the value known at 11 is known
  CHECK(used(table, 1) == 1);
  CHECK(used(table, 2) == 1); // two events at the same time get the same value
  CHECK(used(table, 3) == 4);
  // The cell carries the times of the value used.
  CHECK(table.at(1, 0).value->known_at == known_at_time::from_seconds(12));
}

TEST_CASE("point_in_time_join: empty inputs", "[data][point_in_time]") {
  feature_history<int> history;
  const std::vector<std::string> features{"ctr"};
  const std::vector<labelled_event<int>> none;
  const auto empty = mlsd::data::point_in_time_join(none, history, features);
  CHECK(empty.event_count == 0);
  CHECK(empty.cells.empty());
  CHECK(empty.counts[0] == mlsd::data::as_of_counts{});
  const std::vector<labelled_event<int>> one{click(alice, 1)};
  const auto no_history = mlsd::data::point_in_time_join(one, history, features);
  CHECK(no_history.at(0, 0).reason == missing_reason::none_yet);
  const auto no_features = mlsd::data::point_in_time_join(one, history, {});
  CHECK(no_features.cells.empty());
}

TEST_CASE("feature_history: inconsistent rows are input errors naming the row",
          "[data][point_in_time]") {
  feature_history<int> history;
  history.add({alice, "ctr"}, value_at(1, 10, 10));
  try {
    history.add({alice, "ctr"}, value_at(2, 10, 9));
    FAIL("expected input_error");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().line == 2);
    CHECK(e.where().field == "known_at");
    CHECK(std::string(e.what()).find("user:1:ctr") != std::string::npos);
  }
  try {
    history.add({bob, "ctr"}, value_at(2, 10, 10, time_span_us(-5)));
    FAIL("expected input_error");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().line == 2);
    CHECK(e.where().field == "ttl");
  }
  CHECK(history.size() == 1);
  CHECK(mlsd::data::to_string(missing_reason::only_known_later) == "only_known_later");
}

namespace {

// The join by definition: for every event and feature, scan every row. O(n·m).
as_of_table<int> brute_force_join(const std::vector<labelled_event<int>>& events,
                                  const feature_history<int>& history,
                                  const std::vector<std::string>& features) {
  as_of_table<int> table;
  table.features = features;
  table.event_count = events.size();
  table.counts.resize(features.size());
  const auto rows = history.rows();
  for (const auto& e : events) {
    for (std::size_t f = 0; f < features.size(); ++f) {
      std::optional<std::size_t> best;
      bool any_known = false;
      bool any_happened = false;
      for (std::size_t r = 0; r < rows.size(); ++r) {
        const auto& row = rows[r];
        if (!(row.key.entity == e.entity && row.key.feature == features[f])) {
          continue;
        }
        const auto& v = row.value;
        const std::int64_t t = e.time.micros();
        any_happened = any_happened || v.event.micros() <= t;
        if (v.known_at.micros() > t) {
          continue;
        }
        any_known = true;
        if (v.ttl != mlsd::data::no_expiry && t - v.event.micros() > v.ttl.count()) {
          continue;
        }
        if (!best) {
          best = r;
          continue;
        }
        const auto& b = rows[*best].value;
        // Later event, then later known_at, then later row (>= with rows in increasing order).
        if (v.event > b.event || (v.event == b.event && v.known_at >= b.known_at)) {
          best = r;
        }
      }
      mlsd::data::as_of_value<int> cell;
      if (best) {
        cell.value = rows[*best].value;
        ++table.counts[f].found;
      } else if (any_known) {
        cell.reason = missing_reason::all_expired;
        ++table.counts[f].all_expired;
      } else if (any_happened) {
        cell.reason = missing_reason::only_known_later;
        ++table.counts[f].only_known_later;
      } else {
        ++table.counts[f].none_yet;
      }
      table.cells.push_back(cell);
    }
  }
  return table;
}

} // namespace

TEST_CASE("point_in_time_join: equals the brute-force join on random histories",
          "[data][point_in_time][randomized]") {
  std::mt19937_64 rng(20240611);
  const std::vector<std::string> kinds{"user", "ad"};
  const std::vector<std::string> features{"ctr", "spend", "never_written"};
  const auto pick = [&rng](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  for (int trial = 0; trial < 4; ++trial) {
    CAPTURE(trial);
    feature_history<int> history;
    // Times in a small range (0..200 s) so that equal timestamps are frequent.
    const int row_count = 3000;
    for (int r = 0; r < row_count; ++r) {
      const entity_key who{kinds[static_cast<std::size_t>(pick(0, 1))],
                           static_cast<std::uint64_t>(pick(0, 6))};
      const std::int64_t event = pick(0, 200);
      const std::int64_t delay = pick(0, 3) == 0 ? 0 : pick(0, 40);
      const std::int64_t ttl_pick = pick(0, 4);
      const time_span_us ttl = ttl_pick == 0   ? mlsd::data::no_expiry
                               : ttl_pick == 1 ? time_span_us(0)
                                               : seconds(pick(0, 60));
      history.add({who, features[static_cast<std::size_t>(pick(0, 1))]},
                  value_at(r, event, event + delay, ttl));
    }
    std::vector<labelled_event<int>> events;
    for (int i = 0; i < 4000; ++i) {
      const entity_key who{kinds[static_cast<std::size_t>(pick(0, 1))],
                           static_cast<std::uint64_t>(pick(0, 7))}; // id 7 has no history
      events.push_back({who, at_s(pick(-10, 260)) + time_span_us(pick(0, 2) == 0 ? 1 : 0),
                        static_cast<int>(pick(0, 1))});
    }
    const auto fast = mlsd::data::point_in_time_join(events, history, features);
    const auto slow = brute_force_join(events, history, features);
    REQUIRE(fast.cells.size() == slow.cells.size());
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < fast.cells.size(); ++i) {
      if (!(fast.cells[i] == slow.cells[i])) {
        ++mismatches;
      }
    }
    CHECK(mismatches == 0);
    CHECK(fast.counts == slow.counts);
    // The trial exercises every outcome.
    const auto& c = fast.counts[0];
    CHECK(c.found > 0);
    CHECK(c.none_yet > 0);
    CHECK(c.all_expired > 0);
    CHECK(c.only_known_later > 0);
    CHECK(fast.counts[2].none_yet == events.size());
  }
}
