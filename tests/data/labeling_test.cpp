// Attribution labels with delayed feedback (include/mlsd/data/labeling.hpp).
#include <mlsd/data/labeling.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <vector>

namespace {

using mlsd::event_time;
using mlsd::known_at_time;
using mlsd::data::attribution_config;
using mlsd::data::attribution_labeler;
using mlsd::data::impression;
using mlsd::data::labeled_impression;
using mlsd::data::outcome;
using namespace std::chrono_literals;

event_time sec(std::int64_t s) {
  return event_time::from_seconds(s);
}
event_time us(std::int64_t u) {
  return event_time::from_micros(u);
}

// Window 10 s, late horizon 10 s.
attribution_config ten_seconds() {
  attribution_config c;
  c.window = 10s;
  c.late_horizon = 10s;
  return c;
}

outcome click_on(std::uint64_t id, event_time t) {
  return {id, 0, 0, t};
}
outcome click_by(std::uint64_t user, std::uint64_t ad, event_time t) {
  return {std::nullopt, user, ad, t};
}

} // namespace

TEST_CASE("a label is final only when the watermark passes the end of its window",
          "[data][labeling]") {
  attribution_labeler lab(ten_seconds());
  lab.add(impression{1, 7, 8, sec(0)});
  lab.add(click_on(1, sec(5)));
  CHECK(lab.advance_watermark(sec(5)).empty()); // the click at 5 s is not passed yet
  CHECK(lab.report().outcomes_attributed == 0);
  CHECK(lab.advance_watermark(sec(10) - 1us).empty()); // window [0, 10 s) still open
  CHECK(lab.report().outcomes_attributed == 1);
  CHECK(lab.pending() == 1);
  const auto out = lab.advance_watermark(sec(10));
  REQUIRE(out.size() == 1);
  CHECK(out[0] == labeled_impression{1, 7, 8, sec(0), 1.0f, 1, known_at_time::from_seconds(10)});
  CHECK(lab.pending() == 0);
  CHECK(lab.remembered() == 1);
  CHECK(lab.report().labeled == 1);
  CHECK(lab.report().positives == 1);
  CHECK(mlsd::is_known_by(out[0].label_known_at, sec(10)));
  CHECK_FALSE(mlsd::is_known_by(out[0].label_known_at, sec(10) - 1us));
}

TEST_CASE("the window is half-open: t is in it, t + window is not", "[data][labeling]") {
  attribution_labeler lab(ten_seconds());
  lab.add(impression{1, 1, 1, sec(0)});
  lab.add(click_on(1, sec(10) - 1us)); // last microsecond inside
  lab.add(impression{2, 1, 1, sec(100)});
  lab.add(click_on(2, sec(110))); // exactly at the end: late
  const auto out = lab.advance_watermark(sec(200));
  REQUIRE(out.size() == 2);
  CHECK(out[0].impression_id == 1);
  CHECK(out[0].label == 1.0f);
  CHECK(out[1].impression_id == 2);
  CHECK(out[1].label == 0.0f);
  CHECK(out[1].outcomes == 0);
  CHECK(lab.report().outcomes_attributed == 1);
  CHECK(lab.report().outcomes_after_window == 1);
  REQUIRE(lab.report().first_after_window.size() == 1);
  CHECK(lab.report().first_after_window[0] == click_on(2, sec(110)));
  CHECK(lab.report().orphan_outcomes == 0);
}

TEST_CASE("late within the horizon, orphan after it", "[data][labeling]") {
  attribution_labeler lab(ten_seconds());
  lab.add(impression{3, 1, 1, sec(0)});
  lab.add(click_on(3, sec(20) - 1us)); // in [10 s, 20 s): late
  lab.add(click_on(3, sec(20)));       // impression forgotten at 20 s: orphan
  lab.add(click_by(1, 1, sec(15)));    // by (user, ad): late too
  const auto out = lab.advance_watermark(sec(30));
  REQUIRE(out.size() == 1);
  CHECK(out[0].label == 0.0f);
  CHECK(lab.report().outcomes_after_window == 2);
  CHECK(lab.report().orphan_outcomes == 1);
  REQUIRE(lab.report().first_orphans.size() == 1);
  CHECK(lab.report().first_orphans[0] == click_on(3, sec(20)));
  CHECK(lab.remembered() == 0);

  // With no late horizon, a late outcome is an orphan.
  attribution_config c = ten_seconds();
  c.late_horizon = 0s;
  attribution_labeler strict(c);
  strict.add(impression{3, 1, 1, sec(0)});
  strict.add(click_on(3, sec(10)));
  CHECK(strict.advance_watermark(sec(30)).size() == 1);
  CHECK(strict.report().outcomes_after_window == 0);
  CHECK(strict.report().orphan_outcomes == 1);
}

TEST_CASE("orphans are counted and kept", "[data][labeling]") {
  attribution_config c = ten_seconds();
  c.keep_first = 2;
  attribution_labeler lab(c);
  lab.add(impression{1, 1, 1, sec(10)});
  lab.add(click_on(99, sec(11)));   // unknown id
  lab.add(click_by(9, 9, sec(12))); // no impression of (9, 9)
  lab.add(click_by(1, 2, sec(13))); // user 1 saw ad 1, not ad 2
  lab.add(click_on(1, sec(5)));     // before its impression
  const auto out = lab.advance_watermark(sec(100));
  REQUIRE(out.size() == 1);
  CHECK(out[0].label == 0.0f);
  CHECK(lab.report().orphan_outcomes == 4);
  CHECK(lab.report().outcomes_not_attributed() == 4);
  // Kept in event-time order, at most keep_first.
  REQUIRE(lab.report().first_orphans.size() == 2);
  CHECK(lab.report().first_orphans[0] == click_on(1, sec(5)));
  CHECK(lab.report().first_orphans[1] == click_on(99, sec(11)));
}

TEST_CASE("two impressions and one click: the id decides, else the latest impression",
          "[data][labeling]") {
  const auto run = [](const outcome& click) {
    attribution_labeler lab(ten_seconds());
    lab.add(impression{1, 1, 1, sec(0)});
    lab.add(impression{2, 1, 1, sec(5)});
    lab.add(click);
    return lab.advance_watermark(sec(100));
  };
  const auto by_pair = run(click_by(1, 1, sec(8)));
  REQUIRE(by_pair.size() == 2);
  CHECK(by_pair[0].impression_id == 1);
  CHECK(by_pair[0].label == 0.0f);
  CHECK(by_pair[1].impression_id == 2);
  CHECK(by_pair[1].label == 1.0f);

  const auto by_id = run(click_on(1, sec(8)));
  REQUIRE(by_id.size() == 2);
  CHECK(by_id[0].label == 1.0f);
  CHECK(by_id[1].label == 0.0f);

  // The id is authoritative even when user and ad differ.
  const auto id_wins = run(outcome{2, 5, 5, sec(8)});
  CHECK(id_wins[1].label == 1.0f);
}

TEST_CASE("several outcomes on one impression count once in the label", "[data][labeling]") {
  attribution_labeler lab(ten_seconds());
  lab.add(impression{1, 1, 1, sec(0)});
  lab.add(click_on(1, sec(1)));
  lab.add(click_by(1, 1, sec(2)));
  const auto out = lab.advance_watermark(sec(10));
  REQUIRE(out.size() == 1);
  CHECK(out[0].label == 1.0f);
  CHECK(out[0].outcomes == 2);
  CHECK(lab.report().outcomes_attributed == 2);
  CHECK(lab.report().positives == 1);
}

TEST_CASE("arrival order ahead of the watermark does not matter", "[data][labeling]") {
  attribution_labeler lab(ten_seconds());
  lab.add(click_on(1, sec(3)));         // arrives before its impression
  lab.add(impression{2, 1, 1, sec(4)}); // arrives before the earlier impression
  lab.add(impression{1, 1, 1, sec(2)}); //
  lab.add(click_by(5, 5, sec(7)));      // same microsecond as its impression,
  lab.add(impression{3, 5, 5, sec(7)}); // which arrives later: impression first
  CHECK(lab.buffered() == 5);
  const auto out = lab.advance_watermark(sec(60));
  CHECK(lab.buffered() == 0);
  REQUIRE(out.size() == 3);
  // Emitted in impression-time order.
  CHECK(out[0].impression_id == 1);
  CHECK(out[0].label == 1.0f);
  CHECK(out[1].impression_id == 2);
  CHECK(out[1].label == 0.0f);
  CHECK(out[2].impression_id == 3);
  CHECK(out[2].label == 1.0f);
  CHECK(lab.report().orphan_outcomes == 0);
}

TEST_CASE("events behind the watermark are counted, not labelled", "[data][labeling]") {
  attribution_labeler lab(ten_seconds());
  lab.add(impression{1, 1, 1, sec(45)});
  CHECK(lab.advance_watermark(sec(50)).empty());
  lab.add(click_on(1, sec(49)));         // happened in the window, arrived too late
  lab.add(impression{2, 1, 1, sec(49)}); // broke the watermark's promise
  lab.add(click_on(1, sec(50)));         // exactly at the watermark: accepted
  CHECK(lab.buffered() == 1);
  const auto out = lab.advance_watermark(sec(55));
  REQUIRE(out.size() == 1);
  CHECK(out[0].impression_id == 1);
  CHECK(out[0].outcomes == 1);
  CHECK(lab.report().outcomes_behind_watermark == 1);
  CHECK(lab.report().impressions_behind_watermark == 1);
  CHECK(lab.report().impressions == 1);
  CHECK(lab.report().summary() ==
        "labeled 1 impressions (1 positive); outcomes: 1 attributed, 0 after the window, 0 "
        "orphans, 1 behind the watermark; impressions: 0 duplicate, 1 behind the watermark");
}

TEST_CASE("watermarks only advance", "[data][labeling]") {
  attribution_labeler lab(ten_seconds());
  CHECK(lab.watermark() == event_time::min());
  CHECK(lab.advance_watermark(sec(10)).empty());
  CHECK(lab.advance_watermark(sec(10)).empty()); // the same watermark again is fine
  try {
    (void)lab.advance_watermark(sec(9));
    FAIL("expected an input_error");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().field == "watermark");
    CHECK(e.found() == "9000000");
  }
}

TEST_CASE("a duplicate impression id is counted and labelled once", "[data][labeling]") {
  attribution_labeler lab(ten_seconds());
  lab.add(impression{1, 1, 1, sec(0)});
  lab.add(impression{1, 2, 2, sec(1)});
  const auto out = lab.advance_watermark(sec(20));
  REQUIRE(out.size() == 1);
  CHECK(out[0].user_id == 1);
  CHECK(lab.report().duplicate_impressions == 1);
}

TEST_CASE("memory holds open windows and the late horizon only", "[data][labeling]") {
  attribution_labeler lab(ten_seconds());
  for (int i = 0; i < 100; ++i) {
    lab.add(impression{static_cast<std::uint64_t>(i), 1, 1, sec(i)});
  }
  std::vector<labeled_impression> out;
  CHECK(lab.advance_watermark(sec(50), out) == 41); // impressions 0..40 have closed
  CHECK(lab.pending() == 9);                        // 41..49 open (50.. still buffered)
  CHECK(lab.remembered() == 10);                    // 31..40 within the late horizon
  CHECK(lab.buffered() == 50);
  CHECK(lab.advance_watermark(sec(1000), out) == 59);
  CHECK(lab.pending() == 0);
  CHECK(lab.remembered() == 0);
  CHECK(out.size() == 100);
}

TEST_CASE("attribution config: validation and JSON", "[data][labeling]") {
  attribution_config c;
  c.window = 0s;
  CHECK_THROWS_AS(attribution_labeler(c), mlsd::config_error);
  c.window = 1s;
  c.late_horizon = -1s;
  try {
    attribution_labeler lab(c);
    FAIL("expected a config_error");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "attribution.late_horizon");
  }

  attribution_config d;
  d.window = 30min;
  d.late_horizon = 2h;
  d.keep_first = 3;
  const nlohmann::json j = d;
  CHECK(j == nlohmann::json{
                 {"window_us", 1800000000}, {"late_horizon_us", 7200000000}, {"keep_first", 3}});
  CHECK(j.get<attribution_config>() == d);
  // Written by hand: small literals are signed integers in nlohmann_json.
  const auto by_hand = nlohmann::json{
      {"window_us", 1000},
      {"late_horizon_us", 0},
      {"keep_first", 5}}.get<attribution_config>();
  CHECK(by_hand.window == 1ms);
  CHECK(by_hand.keep_first == 5);

  nlohmann::json missing = j;
  missing.erase("window_us");
  try {
    (void)missing.get<attribution_config>();
    FAIL("expected a config_error");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "attribution.window_us");
  }
  nlohmann::json bad = j;
  bad["window_us"] = -5;
  CHECK_THROWS_AS(bad.get<attribution_config>(), mlsd::config_error);
  bad["window_us"] = "30m";
  CHECK_THROWS_AS(bad.get<attribution_config>(), mlsd::config_error);
}

namespace {

struct timeline_event {
  bool is_impression = false;
  impression imp;
  outcome out;
  event_time time() const { return is_impression ? imp.time : out.time; }
};

// The rule applied to the whole timeline at once.
struct reference_result {
  std::map<std::uint64_t, std::uint32_t> outcomes; // per impression id
  std::uint64_t attributed = 0, late = 0, orphans = 0;
};

reference_result reference_labels(const std::vector<impression>& imps,
                                  const std::vector<outcome>& outs, std::int64_t window_us,
                                  std::int64_t horizon_us) {
  reference_result r;
  for (const auto& i : imps) {
    r.outcomes[i.impression_id] = 0;
  }
  for (const auto& o : outs) {
    const impression* match = nullptr;
    for (const auto& i : imps) { // imps are in processing order: later entries win ties
      if (i.time > o.time) {
        continue;
      }
      if (o.impression_id ? i.impression_id == *o.impression_id
                          : (i.user_id == o.user_id && i.ad_id == o.ad_id)) {
        if (match == nullptr || i.time >= match->time) {
          match = &i;
        }
      }
    }
    const std::int64_t age = match ? (o.time - match->time).count() : 0;
    if (match == nullptr || age >= window_us + horizon_us) {
      ++r.orphans;
    } else if (age >= window_us) {
      ++r.late;
    } else {
      ++r.attributed;
      ++r.outcomes[match->impression_id];
    }
  }
  return r;
}

} // namespace

TEST_CASE("random timelines agree with a whole-timeline reference", "[data][labeling]") {
  std::mt19937_64 gen(20240611);
  for (int trial = 0; trial < 30; ++trial) {
    const std::int64_t window_us = 1 + static_cast<std::int64_t>(gen() % 50);
    const std::int64_t horizon_us = static_cast<std::int64_t>(gen() % 30);
    std::vector<timeline_event> events;
    std::uint64_t next_id = 1;
    for (int e = 0; e < 400; ++e) {
      timeline_event ev;
      const auto t = us(static_cast<std::int64_t>(gen() % 1000));
      const auto user = gen() % 4;
      const auto ad = gen() % 3;
      if (gen() % 2 == 0) {
        ev.is_impression = true;
        ev.imp = {next_id++, user, ad, t};
      } else {
        ev.out.user_id = user;
        ev.out.ad_id = ad;
        ev.out.time = t;
        if (gen() % 3 == 0 && next_id > 1) {
          ev.out.impression_id = 1 + gen() % (next_id - 1);
        }
      }
      events.push_back(ev);
    }
    // Processing order: by time, impressions first, then arrival; arrival is shuffled within
    // chunks, and the watermark moves to the first time of the next chunk.
    std::stable_sort(events.begin(), events.end(),
                     [](const auto& a, const auto& b) { return a.time() < b.time(); });
    std::vector<std::size_t> chunk_starts{0};
    while (chunk_starts.back() < events.size()) {
      std::size_t next = std::min(events.size(), chunk_starts.back() + 1 + gen() % 40);
      while (next < events.size() && events[next].time() == events[next - 1].time()) {
        ++next;
      }
      chunk_starts.push_back(next);
    }
    attribution_config c;
    c.window = mlsd::time_span_us(window_us);
    c.late_horizon = mlsd::time_span_us(horizon_us);
    attribution_labeler lab(c);
    std::vector<labeled_impression> out;
    std::vector<impression> imps_in_order;
    std::vector<outcome> outs;
    for (std::size_t k = 0; k + 1 < chunk_starts.size(); ++k) {
      std::vector<timeline_event> chunk(events.begin() + static_cast<long>(chunk_starts[k]),
                                        events.begin() + static_cast<long>(chunk_starts[k + 1]));
      std::shuffle(chunk.begin(), chunk.end(), gen);
      for (const auto& ev : chunk) {
        if (ev.is_impression) {
          lab.add(ev.imp);
        } else {
          lab.add(ev.out);
        }
      }
      // The labeler's processing order within equal times is arrival order: mirror it.
      std::stable_sort(chunk.begin(), chunk.end(),
                       [](const auto& a, const auto& b) { return a.time() < b.time(); });
      for (const auto& ev : chunk) {
        if (ev.is_impression) {
          imps_in_order.push_back(ev.imp);
        } else {
          outs.push_back(ev.out);
        }
      }
      const event_time w = chunk_starts[k + 1] < events.size() ? events[chunk_starts[k + 1]].time()
                                                               : event_time::max();
      lab.advance_watermark(w, out);
    }
    const auto ref = reference_labels(imps_in_order, outs, window_us, horizon_us);
    INFO("trial " << trial << ", window " << window_us << " us, horizon " << horizon_us << " us");
    REQUIRE(out.size() == ref.outcomes.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      CHECK(out[i].outcomes == ref.outcomes.at(out[i].impression_id));
      CHECK(out[i].label == (out[i].outcomes > 0 ? 1.0f : 0.0f));
      CHECK(out[i].label_known_at.micros() == out[i].impression_time.micros() + window_us);
      if (i > 0) {
        CHECK(out[i - 1].impression_time <= out[i].impression_time);
      }
    }
    CHECK(lab.report().outcomes_attributed == ref.attributed);
    CHECK(lab.report().outcomes_after_window == ref.late);
    CHECK(lab.report().orphan_outcomes == ref.orphans);
    CHECK(lab.report().outcomes_attributed + lab.report().outcomes_not_attributed() == outs.size());
  }
}
