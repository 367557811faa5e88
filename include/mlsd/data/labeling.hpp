/// @file
/// Labels from feedback: joins impressions with the clicks (or conversions) that follow them inside
/// an attribution window, as a stream with a watermark, so that a label is emitted only once it can
/// no longer change (delayed feedback).
///
/// ```cpp
/// mlsd::data::attribution_labeler labeler({.window = std::chrono::minutes(30)});
/// labeler.add(mlsd::data::impression{.impression_id = 7, .user_id = 1, .ad_id = 2, .time = t0});
/// labeler.add(mlsd::data::outcome{.impression_id = 7, .user_id = 1, .ad_id = 2, .time = t1});
/// for (const auto& ex : labeler.advance_watermark(now)) { ... ex.label, ex.label_known_at ... }
/// std::cout << labeler.report().summary();   // orphans, late outcomes, events behind the
/// watermark
/// ```
///
/// **Attribution rule.** An outcome (a click, or a conversion for a conversion labeler) counts for
/// - the impression with its `impression_id` when it carries one (the id is authoritative: the
///   outcome's user and ad are not compared), otherwise
/// - the latest impression of the same (user, ad) at or before the outcome's time (last touch).
///
/// It is *attributed* when that impression's window `[t, t + window)` contains the outcome's time
/// (half-open, in event time: an outcome exactly `window` after the impression is late, as with
/// the half-open windows of stream processors); it is *late* when it falls at or after the end of
/// the window (counted in `outcomes_after_window`); it is an *orphan* when no impression matches
/// (counted in `orphan_outcomes`). One impression may collect several outcomes; its label is 1 when
/// it has at least one. An impression and an outcome at the same microsecond: the impression comes
/// first, so the outcome counts.
///
/// **Watermark.** `advance_watermark(w)` promises that every event with time `< w` has been added.
/// Events are buffered until the watermark passes them and then processed in event-time order
/// (impressions before outcomes at equal times, then arrival order), so the labels do not depend on
/// how events were interleaved in arrival as long as they arrive before the watermark passes them.
/// An impression's label is final, and emitted, once `w >= t + window`; its `label_known_at` is the
/// end of the window `t + window`, the earliest time at which a system that sees every event on
/// time knows it (a real pipeline learns it at the watermark, which can be later), so that
/// `is_known_by(label_known_at, t2)` says whether the label may be used at time `t2`. An event that
/// arrives with a time before the watermark broke the promise: it is counted
/// (`outcomes_behind_watermark`, `impressions_behind_watermark`), never attributed or labelled.
///
/// **Memory.** An impression is held while its window is open, then, as a small record, for
/// `late_horizon` more so that a late outcome can be told from an orphan (with `late_horizon = 0`
/// late outcomes count as orphans). Events wait in the buffer only while they are ahead of the
/// watermark. Nothing else grows with the stream.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/time.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/random.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

/// An ad (or item) shown to a user: the unit that gets a label.
struct impression {
  std::uint64_t impression_id = 0;
  std::uint64_t user_id = 0;
  std::uint64_t ad_id = 0;
  event_time time{};

  friend bool operator==(const impression&, const impression&) = default;
};

/// Feedback on an impression: a click, or a conversion for a conversion labeler. Carries the
/// impression id when the logging joined it at the source (a click URL usually does), otherwise
/// it is attributed by (user, ad).
struct outcome {
  std::optional<std::uint64_t> impression_id{};
  std::uint64_t user_id = 0;
  std::uint64_t ad_id = 0;
  event_time time{};

  friend bool operator==(const outcome&, const outcome&) = default;
};

/// An impression with its final label.
struct labeled_impression {
  std::uint64_t impression_id = 0;
  std::uint64_t user_id = 0;
  std::uint64_t ad_id = 0;
  /// When the impression was shown (the example's event time, the time its features are read at).
  event_time impression_time{};
  /// 1 when at least one outcome was attributed to the impression, else 0.
  float label = 0.0f;
  /// How many outcomes were attributed (several clicks on one impression count once in `label`).
  std::uint32_t outcomes = 0;
  /// When the label became final: the end of the attribution window, `impression_time + window`.
  known_at_time label_known_at{};

  friend bool operator==(const labeled_impression&, const labeled_impression&) = default;
};

/// The attribution labeler's policy.
struct attribution_config {
  /// Length of the attribution window after an impression; outcomes in `[t, t + window)` count.
  time_span_us window = std::chrono::hours(1);
  /// How long after its window closes an impression is remembered to classify outcomes as late
  /// rather than orphaned: outcomes in `[t + window, t + window + late_horizon)` are late. Memory:
  /// one small record per impression in this span.
  time_span_us late_horizon = std::chrono::hours(1);
  /// How many orphan and late outcomes the report keeps in full (the counts are always exact).
  std::size_t keep_first = 20;

  /// Throws `config_error` naming the field: `window` must be positive, `late_horizon` not
  /// negative.
  void validate() const {
    if (window.count() <= 0) {
      throw config_error("attribution.window", "a positive time span");
    }
    if (late_horizon.count() < 0) {
      throw config_error("attribution.late_horizon", "a time span >= 0");
    }
  }

  friend bool operator==(const attribution_config&, const attribution_config&) = default;
};

/// `{"window_us": ..., "late_horizon_us": ..., "keep_first": ...}`, spans in microseconds.
inline void to_json(nlohmann::json& j, const attribution_config& c) {
  j = nlohmann::json{{"window_us", c.window.count()},
                     {"late_horizon_us", c.late_horizon.count()},
                     {"keep_first", c.keep_first}};
}

/// Reads the form `to_json` writes; every field is required, unknown keys are errors. Throws
/// `config_error` naming a field that is missing, has the wrong type, or fails `validate()`.
inline void from_json(const nlohmann::json& j, attribution_config& c) {
  detail::config_reader r(j, "attribution");
  attribution_config out;
  std::int64_t window_us = 0;
  std::int64_t horizon_us = 0;
  r.require("window_us", window_us);
  r.require("late_horizon_us", horizon_us);
  r.require("keep_first", out.keep_first);
  r.finish();
  out.window = time_span_us(window_us);
  out.late_horizon = time_span_us(horizon_us);
  out.validate();
  c = out;
}

/// What the labeler saw: every event is in exactly one count.
struct attribution_report {
  std::uint64_t impressions = 0;                  ///< impressions accepted for labelling
  std::uint64_t duplicate_impressions = 0;        ///< id already held; not labelled twice
  std::uint64_t impressions_behind_watermark = 0; ///< arrived after the watermark passed them
  std::uint64_t labeled = 0;                      ///< examples emitted (labels final)
  std::uint64_t positives = 0;                    ///< of which with label 1
  std::uint64_t outcomes_attributed = 0;          ///< inside a window
  std::uint64_t outcomes_after_window = 0;        ///< late: matched an impression, after its window
  std::uint64_t orphan_outcomes = 0;              ///< matched no impression
  std::uint64_t outcomes_behind_watermark = 0;    ///< arrived after the watermark passed them
  std::vector<outcome> first_orphans{};           ///< the first `keep_first` orphans
  std::vector<outcome> first_after_window{};      ///< the first `keep_first` late outcomes

  /// Outcomes that were not attributed, for whatever reason.
  [[nodiscard]] std::uint64_t outcomes_not_attributed() const noexcept {
    return outcomes_after_window + orphan_outcomes + outcomes_behind_watermark;
  }

  /// One line, e.g. "labeled 10 impressions (3 positive); outcomes: 4 attributed, 1 after the
  /// window, 2 orphans, 0 behind the watermark; impressions: 0 duplicate, 0 behind the watermark".
  [[nodiscard]] std::string summary() const {
    std::string s = "labeled ";
    s += std::to_string(labeled);
    s += " impressions (";
    s += std::to_string(positives);
    s += " positive); outcomes: ";
    s += std::to_string(outcomes_attributed);
    s += " attributed, ";
    s += std::to_string(outcomes_after_window);
    s += " after the window, ";
    s += std::to_string(orphan_outcomes);
    s += " orphans, ";
    s += std::to_string(outcomes_behind_watermark);
    s += " behind the watermark; impressions: ";
    s += std::to_string(duplicate_impressions);
    s += " duplicate, ";
    s += std::to_string(impressions_behind_watermark);
    s += " behind the watermark";
    return s;
  }
};

namespace detail {
struct attribution_key {
  std::uint64_t user = 0;
  std::uint64_t ad = 0;
  friend bool operator==(const attribution_key&, const attribution_key&) = default;
};
struct attribution_key_hash {
  [[nodiscard]] std::size_t operator()(const attribution_key& k) const noexcept {
    // SplitMix64's finaliser over the pair: cheap, and spreads sequential ids.
    return static_cast<std::size_t>(
        splitmix64::mix(k.user * splitmix64::golden_gamma ^ (k.ad + 0x632be59bd9b4e019ULL)));
  }
};
} // namespace detail

/// Streaming attribution labeler (see the file comment for the rule, the watermark and memory).
///
/// Complexity: O(log b) per event for a buffer of `b` events ahead of the watermark, expected O(1)
/// per attribution. Not thread-safe: one labeler per stream (partition by user to scale out).
class attribution_labeler {
public:
  using config = attribution_config;

  /// Validates `cfg` (throws `config_error`).
  explicit attribution_labeler(config cfg = {})
      : cfg_(cfg) {
    cfg_.validate();
  }

  /// Buffers an impression until the watermark passes it, or counts it in
  /// `impressions_behind_watermark` when the watermark already has.
  void add(const impression& imp) {
    if (imp.time < watermark_) {
      ++report_.impressions_behind_watermark;
      return;
    }
    buffer_.push({imp.time, 0, arrivals_++, imp});
  }

  /// Buffers an outcome until the watermark passes it, or counts it in
  /// `outcomes_behind_watermark` when the watermark already has.
  void add(const outcome& out) {
    if (out.time < watermark_) {
      ++report_.outcomes_behind_watermark;
      return;
    }
    buffer_.push({out.time, 1, arrivals_++, out});
  }

  /// Declares that every event with time `< w` has been added: processes the buffered events
  /// before `w` in event-time order and appends to `examples` every impression whose window closed
  /// (`t + window <= w`), in impression-time order. Returns how many it appended. Throws
  /// `input_error` (field "watermark") when `w` is before the current watermark.
  std::size_t advance_watermark(event_time w, std::vector<labeled_impression>& examples) {
    if (w < watermark_) {
      std::string expected = "a watermark at or after ";
      expected += std::to_string(watermark_.micros());
      expected += " us (watermarks only advance)";
      throw input_error({"attribution_labeler", 0, 0, "watermark"}, std::move(expected),
                        std::to_string(w.micros()));
    }
    watermark_ = w;
    const std::size_t before = examples.size();
    while (!buffer_.empty() && buffer_.top().time < w) {
      const queued ev = buffer_.top();
      buffer_.pop();
      close_through(ev.time, examples);
      if (const auto* imp = std::get_if<impression>(&ev.event)) {
        process(*imp);
      } else {
        process(std::get<outcome>(ev.event));
      }
    }
    close_through(w, examples);
    return examples.size() - before;
  }

  /// As above, returning the newly final examples.
  [[nodiscard]] std::vector<labeled_impression> advance_watermark(event_time w) {
    std::vector<labeled_impression> out;
    advance_watermark(w, out);
    return out;
  }

  /// The current watermark (`event_time::min()` before the first call).
  [[nodiscard]] event_time watermark() const noexcept { return watermark_; }
  /// Impressions whose window is open (labels not final yet).
  [[nodiscard]] std::size_t pending() const noexcept { return live_.size() - closed_; }
  /// Impressions whose window closed, remembered for `late_horizon` to recognise late outcomes.
  [[nodiscard]] std::size_t remembered() const noexcept { return closed_; }
  /// Events added but not yet passed by the watermark.
  [[nodiscard]] std::size_t buffered() const noexcept { return buffer_.size(); }
  [[nodiscard]] const attribution_report& report() const noexcept { return report_; }
  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }

private:
  struct slot {
    impression imp;
    std::uint32_t outcomes = 0;
  };
  struct queued {
    event_time time;
    int kind = 0; // 0 impression, 1 outcome: impressions first at equal times
    std::uint64_t arrival = 0;
    std::variant<impression, outcome> event;
  };
  struct later {
    bool operator()(const queued& a, const queued& b) const noexcept {
      if (a.time != b.time) {
        return a.time > b.time;
      }
      if (a.kind != b.kind) {
        return a.kind > b.kind;
      }
      return a.arrival > b.arrival;
    }
  };

  // Finalises the impressions whose window ends at or before `t` (no event from `t` on can fall
  // inside it) and forgets the remembered ones whose late horizon ends at or before `t`. `live_` is
  // in impression-time order and the window is the same for all, so both ends are prefixes: closed
  // slots sit at the front.
  void close_through(event_time t, std::vector<labeled_impression>& examples) {
    while (closed_ < live_.size() && live_[closed_].imp.time + cfg_.window <= t) {
      const slot& s = live_[closed_];
      labeled_impression ex;
      ex.impression_id = s.imp.impression_id;
      ex.user_id = s.imp.user_id;
      ex.ad_id = s.imp.ad_id;
      ex.impression_time = s.imp.time;
      ex.label = s.outcomes > 0 ? 1.0f : 0.0f;
      ex.outcomes = s.outcomes;
      ex.label_known_at = known_after(s.imp.time, cfg_.window);
      examples.push_back(ex);
      ++report_.labeled;
      report_.positives += s.outcomes > 0 ? 1 : 0;
      ++closed_;
    }
    while (closed_ > 0 && live_.front().imp.time + cfg_.window + cfg_.late_horizon <= t) {
      const slot& s = live_.front();
      if (const auto it = by_id_.find(s.imp.impression_id);
          it != by_id_.end() && it->second == first_seq_) {
        by_id_.erase(it);
      }
      const detail::attribution_key key{s.imp.user_id, s.imp.ad_id};
      if (const auto it = latest_.find(key); it != latest_.end() && it->second == first_seq_) {
        latest_.erase(it);
      }
      live_.pop_front();
      ++first_seq_;
      --closed_;
    }
  }

  void process(const impression& imp) {
    if (by_id_.contains(imp.impression_id)) {
      ++report_.duplicate_impressions;
      return;
    }
    const std::uint64_t seq = first_seq_ + live_.size();
    live_.push_back({imp, 0});
    by_id_.emplace(imp.impression_id, seq);
    latest_[detail::attribution_key{imp.user_id, imp.ad_id}] = seq;
    ++report_.impressions;
  }

  void process(const outcome& out) {
    std::optional<std::uint64_t> seq;
    if (out.impression_id) {
      if (const auto it = by_id_.find(*out.impression_id); it != by_id_.end()) {
        seq = it->second;
      }
    } else if (const auto it = latest_.find(detail::attribution_key{out.user_id, out.ad_id});
               it != latest_.end()) {
      seq = it->second;
    }
    if (!seq) {
      ++report_.orphan_outcomes;
      keep(report_.first_orphans, out);
      return;
    }
    const std::size_t index = static_cast<std::size_t>(*seq - first_seq_);
    if (index < closed_) {
      ++report_.outcomes_after_window;
      keep(report_.first_after_window, out);
      return;
    }
    ++live_[index].outcomes;
    ++report_.outcomes_attributed;
  }

  void keep(std::vector<outcome>& list, const outcome& out) const {
    if (list.size() < cfg_.keep_first) {
      list.push_back(out);
    }
  }

  config cfg_;
  event_time watermark_ = event_time::min();
  std::priority_queue<queued, std::vector<queued>, later> buffer_;
  std::uint64_t arrivals_ = 0;
  std::deque<slot> live_;       // closed (remembered) slots first, then open ones
  std::size_t closed_ = 0;      // how many slots at the front of live_ are closed
  std::uint64_t first_seq_ = 0; // sequence number of live_.front()
  std::unordered_map<std::uint64_t, std::uint64_t> by_id_;
  std::unordered_map<detail::attribution_key, std::uint64_t, detail::attribution_key_hash> latest_;
  attribution_report report_;
};

} // namespace data
MLSD_END_NAMESPACE
