// Windowed real-time features (include/mlsd/data/windowed.hpp): every aggregate checked against a
// brute-force reference that keeps all events, on randomized out-of-order streams, for sliding and
// tumbling windows, both edges and both late-data policies; hand-computed examples; bounded memory;
// eviction; config validation and JSON round trip.
#include <mlsd/data/windowed.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using mlsd::event_time;
using mlsd::known_at_time;
using mlsd::time_span_us;
using mlsd::data::add_result;
using mlsd::data::feature_event;
using mlsd::data::late_data_policy;
using mlsd::data::window_aggregate;
using mlsd::data::window_edge;
using mlsd::data::window_kind;
using mlsd::data::windowed_aggregator;
using mlsd::data::windowed_config;
using mlsd::data::windowed_features;

constexpr std::int64_t minute = 60'000'000;

event_time at_minutes(double m) {
  return event_time::from_micros(static_cast<std::int64_t>(std::llround(m * 60e6)));
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// Windows of the randomized test: two sliding and two tumbling, three bucket widths (1 min is
// shared by "5m" and "10m-t").
windowed_config test_config(late_data_policy policy) {
  windowed_config cfg;
  cfg.windows = {{"5m", window_kind::sliding, 5min, 1min},
                 {"1h", window_kind::sliding, 60min, 5min},
                 {"10m-t", window_kind::tumbling, 10min, 1min},
                 {"1h-t", window_kind::tumbling, 60min, 60min}};
  cfg.allowed_lateness = 2min;
  cfg.late_policy = policy;
  cfg.max_future_skew = 5min;
  cfg.ctr_prior = {2.0, 48.0};
  cfg.track_distinct = true;
  cfg.distinct.exact_threshold = 64;
  cfg.distinct.precision = 10;
  return cfg;
}

// Ring sizes of test_config, by hand: width 1 min: max(5m sliding 5+1, 10m tumbling 2·10) + 2
// lateness buckets = 22; width 5 min: 12+1 + ceil(2/5) = 14; width 60 min: 2·1 + 1 = 3.
const std::map<std::int64_t, std::int64_t> test_ring_sizes = {
    {1 * minute, 22}, {5 * minute, 14}, {60 * minute, 3}};

// The brute-force reference: keeps every applied event of every entity, decides late and future
// events from the rules as documented, and answers a window by scanning all kept events.
struct reference_entity {
  std::optional<std::int64_t> newest;
  std::vector<feature_event> kept;
};

struct reference {
  windowed_config cfg;
  std::map<std::uint64_t, reference_entity> entities;
  std::uint64_t applied = 0, late_applied = 0, late_dropped = 0, future_dropped = 0;

  add_result add(std::uint64_t key, const feature_event& e) {
    const std::int64_t t = e.time.micros();
    if (e.known_at && t - e.known_at->micros() > cfg.max_future_skew.count()) {
      ++future_dropped;
      return add_result::dropped_future;
    }
    reference_entity& ent = entities[key];
    bool late = false;
    if (ent.newest && t < *ent.newest - cfg.allowed_lateness.count()) {
      late = true;
      bool held = cfg.late_policy == late_data_policy::update;
      for (const auto& [width, size] : test_ring_sizes) {
        held = held && floor_div(t, width) >= floor_div(*ent.newest, width) - size + 1;
      }
      if (!held) {
        ++late_dropped;
        return add_result::dropped_late;
      }
    }
    ent.kept.push_back(e);
    ent.newest = std::max(ent.newest.value_or(t), t);
    ++applied;
    late_applied += late ? 1 : 0;
    return late ? add_result::applied_late : add_result::applied;
  }

  // The event-time interval [begin, end) a query reads, from the documented formulas.
  std::pair<std::int64_t, std::int64_t> interval(std::size_t window, std::int64_t t,
                                                 window_edge edge) const {
    const auto& w = cfg.windows[window];
    const std::int64_t width = w.bucket_width.count();
    const std::int64_t length = w.length.count();
    const std::int64_t k = floor_div(t, width);
    const std::int64_t buckets = length / width;
    if (w.kind == window_kind::sliding) {
      return edge == window_edge::partial ? std::pair{(k - buckets + 1) * width, (k + 1) * width}
                                          : std::pair{(k - buckets) * width, k * width};
    }
    const std::int64_t j = floor_div(t, length);
    return edge == window_edge::partial ? std::pair{j * length, (k + 1) * width}
                                        : std::pair{(j - 1) * length, j * length};
  }

  window_aggregate query(std::uint64_t key, std::size_t window, std::int64_t t,
                         window_edge edge) const {
    const auto [begin, end] = interval(window, t, edge);
    window_aggregate out;
    std::set<std::uint64_t> items;
    const auto it = entities.find(key);
    if (it != entities.end()) {
      for (const feature_event& e : it->second.kept) {
        if (e.time.micros() >= begin && e.time.micros() < end) {
          ++out.count;
          out.sum += e.value;
          out.impressions += e.impressions;
          out.clicks += e.clicks;
          if (e.item) {
            items.insert(*e.item);
          }
        }
      }
    }
    out.smoothed_ctr =
        (static_cast<double>(out.clicks) + cfg.ctr_prior.alpha) /
        (static_cast<double>(out.impressions) + cfg.ctr_prior.alpha + cfg.ctr_prior.beta);
    out.distinct = items.size();
    return out;
  }
};

void check_equal(const window_aggregate& got, const window_aggregate& want) {
  CHECK(got.count == want.count);
  CHECK(got.sum == want.sum); // integer values: exact in any order
  CHECK(got.impressions == want.impressions);
  CHECK(got.clicks == want.clicks);
  CHECK(got.smoothed_ctr == want.smoothed_ctr);
  CHECK(got.mean() == want.mean());
  REQUIRE(got.distinct.has_value());
  CHECK(*got.distinct == *want.distinct);
  CHECK(got.distinct_exact); // at most 40 distinct items per entity, threshold 64
}

} // namespace

TEST_CASE("windowed features equal a brute-force reference on out-of-order streams",
          "[data][windowed]") {
  for (const late_data_policy policy : {late_data_policy::update, late_data_policy::drop}) {
    INFO("late policy " << (policy == late_data_policy::update ? "update" : "drop"));
    const windowed_config cfg = test_config(policy);
    windowed_features<std::uint64_t> features(cfg);
    reference ref{cfg, {}};

    const auto rings = features.layout().rings();
    REQUIRE(rings.size() == test_ring_sizes.size());
    for (const auto& ring : rings) {
      CHECK(ring.buckets == test_ring_sizes.at(ring.bucket_width.count()));
    }

    std::mt19937_64 rng(policy == late_data_policy::update ? 11 : 12);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::int64_t clock = 1'700'000'000LL * 1'000'000; // stream time, advancing
    std::uint64_t queries = 0;
    for (int i = 0; i < 30000; ++i) {
      clock += static_cast<std::int64_t>(unit(rng) * 2e6);
      const std::uint64_t key = rng() % 5;
      feature_event e;
      std::int64_t t = clock;
      const double u = unit(rng);
      if (u < 0.2) {
        t -= static_cast<std::int64_t>(unit(rng) * 5 * minute); // out of order, often late
      } else if (u < 0.23) {
        t -= static_cast<std::int64_t>(unit(rng) * 40 * minute); // often out of the ring
      }
      e.time = event_time::from_micros(t);
      const double v = unit(rng);
      if (v < 0.01) {
        e.known_at =
            known_at_time::from_micros(t - static_cast<std::int64_t>(unit(rng) * 10 * minute));
      } else if (v < 0.7) {
        e.known_at = known_at_time::from_micros(t + static_cast<std::int64_t>(unit(rng) * 30e6));
      }
      e.value = static_cast<double>(rng() % 10);
      e.impressions = static_cast<std::uint32_t>(rng() % 3);
      e.clicks = static_cast<std::uint32_t>(rng() % 2);
      if (unit(rng) < 0.8) {
        e.item = rng() % 40;
      }
      const add_result want = ref.add(key, e);
      REQUIRE(features.add(key, e) == want);

      if (i % 97 == 0) {
        const std::uint64_t qkey = rng() % 6; // key 5 never has events
        const windowed_aggregator* agg = features.find(qkey);
        const std::int64_t watermark =
            agg ? agg->watermark().micros() : clock - cfg.allowed_lateness.count();
        for (const std::int64_t qt :
             {watermark, watermark + static_cast<std::int64_t>(unit(rng) * 10 * minute)}) {
          for (std::size_t w = 0; w < cfg.windows.size(); ++w) {
            for (const window_edge edge : {window_edge::partial, window_edge::complete}) {
              INFO("event " << i << ", key " << qkey << ", window " << cfg.windows[w].name
                            << ", edge " << static_cast<int>(edge) << ", t " << qt);
              check_equal(features.query(qkey, w, event_time::from_micros(qt), edge),
                          ref.query(qkey, w, qt, edge));
              ++queries;
            }
          }
        }
      }
    }
    CHECK(queries > 2000);
    const auto& c = features.counters();
    CHECK(c.applied == ref.applied);
    CHECK(c.late_applied == ref.late_applied);
    CHECK(c.late_dropped == ref.late_dropped);
    CHECK(c.future_dropped == ref.future_dropped);
    CHECK(c.total() == 30000);
    // The stream exercised every path.
    CHECK(c.future_dropped > 50);
    CHECK(c.late_dropped > 200);
    if (policy == late_data_policy::update) {
      CHECK(c.late_applied > 500);
    } else {
      CHECK(c.late_applied == 0);
    }
  }
}

TEST_CASE("sliding and tumbling windows on a hand-computed stream", "[data][windowed]") {
  windowed_config cfg;
  cfg.windows = {{"3m", window_kind::sliding, 3min, 1min},
                 {"10m", window_kind::tumbling, 10min, 5min}};
  cfg.allowed_lateness = 0us;
  cfg.ctr_prior = {1.0, 9.0};
  windowed_aggregator agg(cfg);

  // Before any event: empty, mean absent (not NaN), CTR the prior mean 1/10.
  const window_aggregate none = agg.query("3m", at_minutes(0));
  CHECK(none.count == 0);
  CHECK_FALSE(none.mean().has_value());
  CHECK(none.smoothed_ctr == 0.1);
  CHECK_FALSE(none.distinct.has_value()); // not tracked

  // (minute, value, impressions, clicks)
  const double events[][4] = {{0.5, 1, 1, 0}, {1.2, 2, 1, 1},  {2.9, 4, 1, 0},
                              {3.0, 8, 1, 1}, {9.9, 16, 1, 0}, {10.0, 32, 1, 1}};
  for (const auto& ev : events) {
    REQUIRE(agg.add({.time = at_minutes(ev[0]),
                     .value = ev[1],
                     .impressions = static_cast<std::uint32_t>(ev[2]),
                     .clicks = static_cast<std::uint32_t>(ev[3])}) == add_result::applied);
  }
  // Sliding 3m at t = 3:30, partial: buckets 1, 2, 3 = [1:00, 4:00): values 2 + 4 + 8.
  // But the newest event is at 10:00, watermark 10:00: this query is older than the 4-bucket ring.
  CHECK_THROWS_AS(agg.query("3m", at_minutes(3.5)), mlsd::input_error);
  // At t = 10:30: buckets 8, 9, 10 = [8:00, 11:00): 16 + 32.
  window_aggregate a = agg.query("3m", at_minutes(10.5));
  CHECK(a.count == 2);
  CHECK(a.sum == 48);
  CHECK(a.mean() == 24.0);
  CHECK(a.smoothed_ctr == (1.0 + 1.0) / (2.0 + 10.0));
  // Complete edge at 10:30: buckets 7, 8, 9 = [7:00, 10:00): only 16.
  a = agg.query("3m", at_minutes(10.5), window_edge::complete);
  CHECK(a.count == 1);
  CHECK(a.sum == 16);
  // Tumbling 10m at 10:30: current [10:00, 15:00) holds 32; last complete [0:00, 10:00) holds
  // 1 + 2 + 4 + 8 + 16 with 5 impressions and 2 clicks.
  a = agg.query("10m", at_minutes(10.5));
  CHECK(a.count == 1);
  CHECK(a.sum == 32);
  a = agg.query(1, at_minutes(10.5), window_edge::complete);
  CHECK(a.count == 5);
  CHECK(a.sum == 31);
  CHECK(a.impressions == 5);
  CHECK(a.clicks == 2);
  CHECK(a.smoothed_ctr == (2.0 + 1.0) / (5.0 + 10.0));
  // Far in the future every window is empty again.
  CHECK(agg.query("3m", at_minutes(100)).count == 0);
  CHECK(agg.query("10m", at_minutes(100), window_edge::complete).count == 0);
  CHECK_THROWS_AS(agg.query("2m", at_minutes(100)), mlsd::config_error);
  CHECK_THROWS_AS(agg.query(2, at_minutes(100)), mlsd::config_error);
}

TEST_CASE("watermark, late-data policies and future skew, counted exactly", "[data][windowed]") {
  windowed_config cfg;
  cfg.windows = {{"10m", window_kind::sliding, 10min, 1min}}; // ring 11 + 2 = 13 buckets
  cfg.allowed_lateness = 2min;
  cfg.max_future_skew = 1min;

  SECTION("update applies late events still in the ring, drops older ones") {
    cfg.late_policy = late_data_policy::update;
    windowed_aggregator agg(cfg);
    CHECK(agg.add({.time = at_minutes(100)}) == add_result::applied);
    CHECK(agg.watermark() == at_minutes(98));
    CHECK(agg.add({.time = at_minutes(98)}) == add_result::applied);        // at the watermark
    CHECK(agg.add({.time = at_minutes(97.9)}) == add_result::applied_late); // bucket 97
    CHECK(agg.add({.time = at_minutes(88)}) == add_result::applied_late);   // bucket 88 = 100-13+1
    CHECK(agg.add({.time = at_minutes(87.9)}) == add_result::dropped_late); // bucket 87: gone
    CHECK(agg.add({.time = at_minutes(50)}) == add_result::dropped_late);
    const auto& c = agg.counters();
    CHECK(c.applied == 4);
    CHECK(c.late_applied == 2);
    CHECK(c.late_dropped == 2);
    CHECK(c.future_dropped == 0);
    CHECK(agg.newest() == at_minutes(100)); // late events do not move the watermark
    // The partial window at t = 97:00 is [88:00, 98:00): the two late events, at 88:00 and 97:54.
    CHECK(agg.query(0, at_minutes(97)).count == 2);
  }
  SECTION("drop drops every late event") {
    cfg.late_policy = late_data_policy::drop;
    windowed_aggregator agg(cfg);
    CHECK(agg.add({.time = at_minutes(100)}) == add_result::applied);
    CHECK(agg.add({.time = at_minutes(98)}) == add_result::applied);
    CHECK(agg.add({.time = at_minutes(97.9)}) == add_result::dropped_late);
    CHECK(agg.add({.time = at_minutes(101)}) == add_result::applied);
    CHECK(agg.add({.time = at_minutes(98.5)}) == add_result::dropped_late); // watermark now 99
    CHECK(agg.counters().late_dropped == 2);
    CHECK(agg.counters().applied == 3);
    CHECK(agg.query(0, at_minutes(101)).count == 3);
  }
  SECTION("an event too far after its known-at time is dropped and does not move the watermark") {
    windowed_aggregator agg(cfg);
    CHECK(agg.add({.time = at_minutes(100)}) == add_result::applied);
    CHECK(agg.add({.time = at_minutes(1000),
                   .known_at = known_at_time(at_minutes(998).time_point())}) ==
          add_result::dropped_future);
    CHECK(agg.add(
              {.time = at_minutes(101), .known_at = known_at_time(at_minutes(100).time_point())}) ==
          add_result::applied); // exactly max_future_skew ahead: accepted
    CHECK(agg.newest() == at_minutes(101));
    CHECK(agg.counters().future_dropped == 1);
    CHECK(agg.counters().total() == 3);
  }
}

TEST_CASE("distinct counts in windows: exact below the threshold, within 3 standard errors above",
          "[data][windowed]") {
  windowed_config cfg;
  cfg.windows = {{"1h", window_kind::sliding, 60min, 5min}};
  cfg.track_distinct = true;
  cfg.distinct.exact_threshold = 64;
  cfg.distinct.precision = 12;
  windowed_aggregator agg(cfg);
  std::mt19937_64 rng(3);
  std::set<std::uint64_t> truth;
  for (int i = 0; i < 60; ++i) { // 60 events, ≤ 60 distinct: exact
    const std::uint64_t item = rng() % 50;
    truth.insert(item);
    agg.add({.time = at_minutes(i * 0.9), .item = item});
  }
  window_aggregate a = agg.query(0, at_minutes(55));
  CHECK(a.distinct_exact);
  CHECK(a.distinct == truth.size());
  for (int i = 0; i < 300000; ++i) { // many more, all inside [0, 60 min)
    const std::uint64_t item = rng() % 1'000'000;
    truth.insert(item);
    agg.add({.time = at_minutes(55 + 4.9 * i / 300000.0), .item = item});
  }
  a = agg.query(0, at_minutes(59.9));
  CHECK_FALSE(a.distinct_exact);
  const double se = 1.04 / std::sqrt(4096.0);
  const auto n = static_cast<double>(truth.size());
  INFO("estimate " << *a.distinct << ", truth " << n);
  CHECK(std::abs(static_cast<double>(*a.distinct) - n) <= 3 * se * n);
  CHECK(agg.memory_bytes() <= windowed_aggregator::max_memory_bytes(agg.layout()));
}

TEST_CASE("memory per entity stays fixed after millions of events", "[data][windowed]") {
  windowed_config cfg; // default windows: 5 min, 1 h, 1 day
  windowed_aggregator agg(cfg);
  const std::size_t before = agg.memory_bytes();
  CHECK(before == windowed_aggregator::max_memory_bytes(agg.layout()));
  CHECK(agg.layout().total_buckets() == (6 + 1) + (13 + 1) + (25 + 1)); // +1: 1 min lateness
  std::mt19937_64 rng(5);
  std::int64_t t = 0;
  for (int i = 0; i < 2'000'000; ++i) {
    t += static_cast<std::int64_t>(rng() % 200'000); // about 10 events per second, for 2 days
    agg.add({.time = event_time::from_micros(t), .value = 1.0, .impressions = 1});
  }
  CHECK(agg.memory_bytes() == before);
  CHECK(agg.counters().applied == 2'000'000);

  cfg.track_distinct = true;
  cfg.distinct.precision = 8;
  windowed_aggregator with_items(cfg);
  const std::size_t bound = windowed_aggregator::max_memory_bytes(with_items.layout());
  t = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    t += static_cast<std::int64_t>(rng() % 400'000);
    with_items.add({.time = event_time::from_micros(t), .item = rng()});
    if (i % 100'000 == 0) {
      CHECK(with_items.memory_bytes() <= bound);
    }
  }
  CHECK(with_items.memory_bytes() <= bound);
}

TEST_CASE("windowed_features frees idle entities without changing answers", "[data][windowed]") {
  windowed_config cfg;
  cfg.windows = {{"10m", window_kind::sliding, 10min, 1min},
                 {"1h-t", window_kind::tumbling, 60min, 60min}};
  cfg.allowed_lateness = 1min;
  windowed_features<std::string> features(cfg);
  // Idle after: tumbling 2·60 min (longer than sliding 10 + 1 min) + 1 min lateness.
  CHECK(features.layout().idle_after() == 121min);

  features.add("a", {.time = at_minutes(0), .value = 1});
  features.add("b", {.time = at_minutes(100), .value = 2});
  features.add("c", {.time = at_minutes(200), .value = 3});
  CHECK(features.size() == 3);
  const auto answers = [&](const std::string& key, double now) {
    std::vector<std::uint64_t> counts;
    for (std::size_t w = 0; w < 2; ++w) {
      for (const auto edge : {window_edge::partial, window_edge::complete}) {
        for (const double dt : {-1.0, 0.0, 30.0, 90.0}) {
          counts.push_back(features.query(key, w, at_minutes(now + dt), edge).count);
        }
      }
    }
    return counts;
  };
  const auto a_before = answers("a", 221);
  const auto b_before = answers("b", 221);
  // now = 221: "a" (newest 0) is idle since 121; "b" (100) would be at 221 - 121 = 100: idle too;
  // "c" stays.
  CHECK(features.evict_idle(at_minutes(220.99)) == 1); // only "a"
  CHECK(features.evict_idle(at_minutes(221)) == 1);    // then "b"
  CHECK(features.size() == 1);
  CHECK(features.evicted() == 2);
  CHECK(features.find("a") == nullptr);
  CHECK(features.find("c") != nullptr);
  CHECK(answers("a", 221) == a_before);
  CHECK(answers("b", 221) == b_before);
  CHECK(features.counters().applied == 3);                        // kept across evictions
  CHECK(features.query("c", "1h-t", at_minutes(220)).count == 1); // [180, 240) holds 200

  // An event dropped as the first of its entity leaves no state behind.
  CHECK(features.add("d", {.time = at_minutes(500),
                           .known_at = known_at_time(at_minutes(0).time_point())}) ==
        add_result::dropped_future);
  CHECK(features.find("d") == nullptr);
  CHECK(features.counters().future_dropped == 1);

  // Automatic sweeps every 4 adds, at the newest event time seen by the container.
  cfg.idle_sweep_every = 4;
  windowed_features<std::uint64_t> swept(cfg);
  for (std::uint64_t key = 0; key < 3; ++key) {
    swept.add(key, {.time = at_minutes(0)});
  }
  CHECK(swept.size() == 3);
  swept.add(9, {.time = at_minutes(121)}); // fourth add: sweep at 121 frees keys 0, 1, 2
  CHECK(swept.size() == 1);
  CHECK(swept.evicted() == 3);
  CHECK(swept.memory_bytes() == windowed_aggregator::max_memory_bytes(swept.layout()));
}

TEST_CASE("windowed_config validates each field and round-trips through JSON", "[data][windowed]") {
  const auto field_of = [](const windowed_config& c) -> std::string {
    try {
      c.validate();
    } catch (const mlsd::config_error& e) {
      return e.field();
    }
    return "";
  };
  CHECK(field_of(windowed_config{}).empty());
  windowed_config c;
  c.windows[1].length = 61min; // not a multiple of 5 min
  CHECK(field_of(c) == "windows[1].length_us");
  c = {};
  c.windows[2].bucket_width = 0us;
  CHECK(field_of(c) == "windows[2].bucket_width_us");
  c = {};
  c.windows[1].name = "5m";
  CHECK(field_of(c) == "windows[1].name");
  c = {};
  c.windows.clear();
  CHECK(field_of(c) == "windows");
  c = {};
  c.allowed_lateness = -1us;
  CHECK(field_of(c) == "allowed_lateness_us");
  c = {};
  c.ctr_prior.beta = 0;
  CHECK(field_of(c) == "ctr_prior.beta");
  c = {};
  c.distinct.precision = 30;
  CHECK(field_of(c) == "distinct.precision");
  c = {};
  c.windows[0].bucket_width = 1us; // 5 min of 1 µs buckets: too many
  CHECK(field_of(c) == "windows[0].bucket_width_us");
  c.windows[0].bucket_width = 1min;
  CHECK_THROWS_AS(windowed_aggregator(windowed_config{.windows = {}}), mlsd::config_error);

  windowed_config cfg = test_config(late_data_policy::drop);
  cfg.idle_sweep_every = 1000;
  cfg.distinct.seed = 0xfedcba9876543210ULL;
  cfg.ctr_prior = mlsd::data::beta_prior::from_moments(0.02, 0.0001);
  const nlohmann::json j = cfg;
  CHECK(j.at("windows").at(2).at("kind") == "tumbling");
  CHECK(j.at("windows").at(1).at("length_us") == 3'600'000'000LL);
  CHECK(j.at("late_policy") == "drop");
  CHECK(j.get<windowed_config>() == cfg);
  CHECK(nlohmann::json::parse(j.dump()).get<windowed_config>() == cfg);

  nlohmann::json bad = j;
  bad["windows"][1]["length_us"] = 7;
  try {
    (void)bad.get<windowed_config>();
    FAIL("expected a config_error");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "windows[1].length_us");
  }
  bad = j;
  bad["late_policy"] = "keep";
  CHECK_THROWS_AS(bad.get<windowed_config>(), mlsd::config_error);
  bad = j;
  bad["distinct"].erase("precision");
  try {
    (void)bad.get<windowed_config>();
    FAIL("expected a config_error");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "distinct.precision");
  }
  bad = j;
  bad["windows"][0]["lenght_us"] = 1; // a misspelt key is an error, even nested
  try {
    (void)bad.get<windowed_config>();
    FAIL("expected a config_error");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "windows[0].lenght_us");
  }
}

TEST_CASE("beta_prior from moments and the smoothed CTR", "[data][windowed]") {
  // mean 0.02, variance 0.0001: strength 0.02·0.98/0.0001 − 1 = 195, α = 3.9, β = 191.1.
  const auto prior = mlsd::data::beta_prior::from_moments(0.02, 0.0001);
  CHECK(prior.alpha == Approx(3.9));
  CHECK(prior.beta == Approx(191.1));
  CHECK(prior.mean() == Approx(0.02));
  CHECK(prior.smooth(0, 0) == Approx(0.02));
  CHECK(prior.smooth(5, 100) == Approx(8.9 / 295.0));
  CHECK_THROWS_AS(mlsd::data::beta_prior::from_moments(0.02, 0.05), mlsd::config_error);
  CHECK_THROWS_AS(mlsd::data::beta_prior::from_moments(1.0, 0.01), mlsd::config_error);
}
