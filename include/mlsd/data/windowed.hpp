/// @file
/// Real-time windowed features: per-entity, event-time aggregates (count, sum, mean, smoothed CTR,
/// distinct count) over sliding and tumbling windows, kept in a fixed ring of time buckets so that
/// memory per entity is O(buckets) whatever the event rate; a watermark with a stated late-data
/// policy; and a keyed container that frees idle entities. See docs/realtime-features.md.
///
/// ```
/// mlsd::data::windowed_config cfg;                      // 5 min, 1 h, 1 day sliding windows
/// mlsd::data::windowed_features<std::uint64_t> ads(cfg);
/// ads.add(ad_id, {.time = t, .impressions = 1});
/// ads.add(ad_id, {.time = t2, .clicks = 1});
/// const auto a = ads.query(ad_id, "1h", now);           // a.count, a.smoothed_ctr, a.mean()
/// ```
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/time.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/sketch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

/// The shape of a window. Both are aligned to the Unix epoch (in UTC, no time zones) through
/// their buckets: bucket `k` of width `w` holds event times in `[k·w, (k+1)·w)`.
enum class window_kind {
  sliding,  ///< the last `length / bucket_width` buckets, ending with the bucket of the query time
  tumbling, ///< the epoch-aligned window `[j·length, (j+1)·length)` that holds the query time
};

/// Which end of a window a query reads (see `windowed_aggregator::query` for the exact ranges).
enum class window_edge {
  /// Up to the end of the bucket that holds the query time: the freshest answer, which also
  /// counts events of that bucket later than the query time if they have arrived.
  partial,
  /// Only whole buckets (sliding) or the whole previous window (tumbling) that end at or before
  /// the start of the bucket (tumbling: window) holding the query time: never reads an event
  /// later than the query time, so it is safe for point-in-time training features.
  complete,
};

/// What happens to an event older than the watermark (the newest event time minus the allowed
/// lateness).
enum class late_data_policy {
  update, ///< apply it if its bucket is still in every ring, else drop it; both are counted
  drop,   ///< drop it and count it
};

/// The outcome of adding one event.
enum class add_result {
  applied,        ///< at or after the watermark: applied
  applied_late,   ///< older than the watermark, applied (policy `update`, bucket still held)
  dropped_late,   ///< older than the watermark and dropped (policy `drop`, or out of the ring)
  dropped_future, ///< event time more than `max_future_skew` after its known-at time: dropped
};

/// One window of a feature: a name (`"5m"`), a kind, a length and the width of its buckets. The
/// length must be a multiple of the bucket width; windows with the same bucket width share one
/// ring of buckets.
struct window_spec {
  std::string name;
  window_kind kind = window_kind::sliding;
  time_span_us length{};
  time_span_us bucket_width{};

  friend bool operator==(const window_spec&, const window_spec&) = default;
};

/// A Beta(α, β) prior on a click-through rate, for the smoothed CTR
/// `(clicks + α) / (impressions + α + β)`: the posterior mean under a Beta prior and binomial
/// clicks, which shrinks the CTR of an entity with few impressions towards the prior mean
/// `α / (α + β)` (empirical Bayes: Casella 1985, "An introduction to empirical Bayes data
/// analysis"; for CTRs: Wang, Li, Cui, Zhang, Mao 2011, "Click-through rate estimation for rare
/// events in online advertising"). The default, Beta(1, 99), is a 1% prior mean worth 100
/// impressions; fit yours with `from_moments`.
struct beta_prior {
  double alpha = 1.0;
  double beta = 99.0;

  /// The prior mean `α / (α + β)`, the smoothed CTR of an entity without impressions.
  [[nodiscard]] double mean() const noexcept { return alpha / (alpha + beta); }

  /// `(clicks + α) / (impressions + α + β)`.
  [[nodiscard]] double smooth(std::uint64_t clicks, std::uint64_t impressions) const noexcept {
    return (static_cast<double>(clicks) + alpha) /
           (static_cast<double>(impressions) + alpha + beta);
  }

  /// The Beta prior with the given mean and variance (method of moments over the CTRs of a
  /// population of entities): `α = mean·s`, `β = (1 − mean)·s` with
  /// `s = mean·(1 − mean) / variance − 1`. Throws `config_error` unless `0 < mean < 1` and
  /// `0 < variance < mean·(1 − mean)`.
  [[nodiscard]] static beta_prior from_moments(double mean, double variance) {
    if (!(mean > 0.0 && mean < 1.0)) {
      throw config_error("ctr_prior.mean", "a number strictly between 0 and 1");
    }
    if (!(variance > 0.0 && variance < mean * (1.0 - mean))) {
      throw config_error("ctr_prior.variance", "a number strictly between 0 and mean·(1 − mean)");
    }
    const double strength = mean * (1.0 - mean) / variance - 1.0;
    return {mean * strength, (1.0 - mean) * strength};
  }

  friend bool operator==(const beta_prior&, const beta_prior&) = default;
};

namespace detail {
inline std::vector<window_spec> default_windows() {
  using std::chrono::hours;
  using std::chrono::minutes;
  return {{"5m", window_kind::sliding, minutes(5), minutes(1)},
          {"1h", window_kind::sliding, hours(1), minutes(5)},
          {"1d", window_kind::sliding, hours(24), hours(1)}};
}
} // namespace detail

/// The configuration of a windowed feature: its windows, the watermark and late-data policy, the
/// future-skew guard, the CTR prior, distinct counting and idle-entity sweeping.
struct windowed_config {
  /// The windows, queried by index or name. Default: sliding 5 min (1 min buckets), 1 h (5 min
  /// buckets) and 1 day (1 h buckets).
  std::vector<window_spec> windows = detail::default_windows();
  /// The watermark is the newest event time seen minus this; older events are late.
  time_span_us allowed_lateness = std::chrono::minutes(1);
  /// What happens to late events.
  late_data_policy late_policy = late_data_policy::update;
  /// An event whose event time is more than this after its known-at time (the arrival time the
  /// caller gives) is dropped and counted: such a clock error would otherwise move the watermark
  /// into the future and make every later event late.
  time_span_us max_future_skew = std::chrono::minutes(5);
  /// The prior of the smoothed CTR.
  beta_prior ctr_prior{};
  /// Whether buckets count distinct items (`feature_event::item`); costs up to
  /// `distinct.max_memory_bytes()` per bucket.
  bool track_distinct = false;
  distinct_config distinct{};
  /// `windowed_features` frees idle entities every this many `add` calls (0: only when
  /// `evict_idle` is called).
  std::uint64_t idle_sweep_every = 0;

  /// Largest number of buckets in one ring (window buckets plus lateness buckets).
  static constexpr std::int64_t max_ring_buckets = std::int64_t{1} << 20;

  /// Throws `config_error` naming the first invalid field (e.g. `windows[1].length_us`).
  void validate() const;

  friend bool operator==(const windowed_config&, const windowed_config&) = default;
};

/// One event of an entity. `count` counts every applied event, `sum` adds `value`, CTR uses
/// `impressions` and `clicks` (an impression event and a later click event are two events), and
/// the distinct count counts `item` when present.
struct feature_event {
  event_time time{};
  /// When the event arrived; when given, an event time more than `max_future_skew` after it is
  /// rejected. Without it, no future check is made.
  std::optional<known_at_time> known_at{};
  double value = 0.0;
  std::uint32_t impressions = 0;
  std::uint32_t clicks = 0;
  std::optional<std::uint64_t> item{};
};

/// The aggregates of one window at one query time.
struct window_aggregate {
  std::uint64_t count = 0; ///< events
  double sum = 0.0;        ///< sum of `value`
  std::uint64_t impressions = 0;
  std::uint64_t clicks = 0;
  /// `(clicks + α) / (impressions + α + β)`; the prior mean for an empty window.
  double smoothed_ctr = 0.0;
  /// Distinct items (exact or estimated); `std::nullopt` when the feature does not track them.
  std::optional<std::uint64_t> distinct{};
  /// True when `distinct` is exact (the window holds at most `exact_threshold` distinct items).
  bool distinct_exact = false;

  /// `sum / count`, or `std::nullopt` for an empty window (never NaN).
  [[nodiscard]] std::optional<double> mean() const noexcept {
    if (count == 0) {
      return std::nullopt;
    }
    return sum / static_cast<double>(count);
  }
};

/// Counts of what happened to the events given to an aggregator or a container. Nothing is
/// dropped silently: `applied + late_dropped + future_dropped` is every event added.
struct windowed_counters {
  std::uint64_t applied = 0;        ///< applied, on time or late
  std::uint64_t late_applied = 0;   ///< of `applied`, those older than the watermark
  std::uint64_t late_dropped = 0;   ///< older than the watermark and dropped
  std::uint64_t future_dropped = 0; ///< too far after their known-at time, dropped

  /// Counts one outcome.
  void count(add_result r) noexcept {
    switch (r) {
    case add_result::applied:
      ++applied;
      break;
    case add_result::applied_late:
      ++applied;
      ++late_applied;
      break;
    case add_result::dropped_late:
      ++late_dropped;
      break;
    case add_result::dropped_future:
      ++future_dropped;
      break;
    }
  }
  /// Every event added.
  [[nodiscard]] std::uint64_t total() const noexcept {
    return applied + late_dropped + future_dropped;
  }

  friend bool operator==(const windowed_counters&, const windowed_counters&) = default;
};

/// One ring of buckets shared by the windows of the same bucket width.
struct bucket_ring_info {
  time_span_us bucket_width{};
  /// Buckets in the ring: the most any of its windows reads (sliding: length/width + 1 for the
  /// `complete` edge; tumbling: 2·length/width for the previous window) plus
  /// `ceil(allowed_lateness / width)`, so that every query at or after the watermark finds its
  /// buckets.
  std::uint32_t buckets = 0;
};

namespace detail {

[[nodiscard]] constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  if ((a % b != 0) && (a < 0)) {
    --q;
  }
  return q;
}

[[nodiscard]] constexpr std::int64_t floor_mod(std::int64_t a, std::int64_t b) noexcept {
  return a - floor_div(a, b) * b;
}

[[nodiscard]] constexpr std::int64_t saturating_sub(std::int64_t a, std::int64_t b) noexcept {
  // b >= 0 here (spans are validated non-negative).
  return a < std::numeric_limits<std::int64_t>::min() + b ? std::numeric_limits<std::int64_t>::min()
                                                          : a - b;
}

inline constexpr std::array<std::pair<window_kind, std::string_view>, 2> window_kind_names = {
    {{window_kind::sliding, "sliding"}, {window_kind::tumbling, "tumbling"}}};
inline constexpr std::array<std::pair<late_data_policy, std::string_view>, 2>
    late_data_policy_names = {
        {{late_data_policy::update, "update"}, {late_data_policy::drop, "drop"}}};

} // namespace detail

inline void windowed_config::validate() const {
  if (windows.empty()) {
    throw config_error("windows", "at least one window");
  }
  if (allowed_lateness.count() < 0) {
    throw config_error("allowed_lateness_us", "a non-negative span");
  }
  if (max_future_skew.count() < 0) {
    throw config_error("max_future_skew_us", "a non-negative span");
  }
  for (std::size_t i = 0; i < windows.size(); ++i) {
    const window_spec& w = windows[i];
    if (w.name.empty()) {
      throw config_error(detail::field_path(detail::indexed_path("windows", i), "name"),
                         "a non-empty name");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (windows[j].name == w.name) {
        throw config_error(detail::field_path(detail::indexed_path("windows", i), "name"),
                           "a name no other window has");
      }
    }
    const std::int64_t width = w.bucket_width.count();
    const std::int64_t length = w.length.count();
    if (width <= 0) {
      throw config_error(detail::field_path(detail::indexed_path("windows", i), "bucket_width_us"),
                         "a positive span");
    }
    if (length <= 0 || length % width != 0) {
      throw config_error(detail::field_path(detail::indexed_path("windows", i), "length_us"),
                         "a positive multiple of bucket_width_us");
    }
    const std::int64_t buckets = length / width;
    const std::int64_t lateness_buckets =
        allowed_lateness.count() / width + (allowed_lateness.count() % width != 0 ? 1 : 0);
    if (buckets > max_ring_buckets / 2 || lateness_buckets > max_ring_buckets / 2) {
      throw config_error(detail::field_path(detail::indexed_path("windows", i), "bucket_width_us"),
                         "at most 2^19 buckets per window and per allowed lateness");
    }
  }
  if (!(ctr_prior.alpha > 0.0 && std::isfinite(ctr_prior.alpha))) {
    throw config_error("ctr_prior.alpha", "a positive finite number");
  }
  if (!(ctr_prior.beta > 0.0 && std::isfinite(ctr_prior.beta))) {
    throw config_error("ctr_prior.beta", "a positive finite number");
  }
  distinct.validate();
}

/// A validated `windowed_config` with its derived ring layout, shared (read-only) by the
/// aggregators of every entity of a feature so that each entity stores only its buckets.
class windowed_layout {
public:
  /// Validates `cfg` (throws `config_error` naming the field) and lays out its rings.
  explicit windowed_layout(windowed_config cfg)
      : cfg_(std::move(cfg)) {
    cfg_.validate();
    const std::int64_t lateness = cfg_.allowed_lateness.count();
    for (const window_spec& w : cfg_.windows) {
      const std::int64_t width = w.bucket_width.count();
      const std::int64_t buckets = w.length.count() / width;
      const std::int64_t need = w.kind == window_kind::sliding ? buckets + 1 : 2 * buckets;
      const std::int64_t lateness_buckets = lateness / width + (lateness % width != 0 ? 1 : 0);
      const auto ring_size = static_cast<std::uint32_t>(need + lateness_buckets);
      std::size_t r = 0;
      while (r < rings_.size() && rings_[r].bucket_width != w.bucket_width) {
        ++r;
      }
      if (r == rings_.size()) {
        rings_.push_back({w.bucket_width, ring_size});
      } else {
        rings_[r].buckets = std::max(rings_[r].buckets, ring_size);
      }
      windows_.push_back({static_cast<std::uint32_t>(r), buckets});
      lifetime_ = std::max(lifetime_, need * width);
    }
    for (const bucket_ring_info& r : rings_) {
      offsets_.push_back(total_buckets_);
      total_buckets_ += r.buckets;
    }
  }

  [[nodiscard]] const windowed_config& config() const noexcept { return cfg_; }
  /// The rings, one per distinct bucket width, in order of first use by `config().windows`.
  [[nodiscard]] std::span<const bucket_ring_info> rings() const noexcept { return rings_; }
  /// The ring of window `window`.
  [[nodiscard]] std::size_t ring_of(std::size_t window) const noexcept {
    return windows_[window].ring;
  }
  /// Buckets per entity, over all rings.
  [[nodiscard]] std::size_t total_buckets() const noexcept { return total_buckets_; }
  /// The index of the window called `name`; throws `config_error` when there is none.
  [[nodiscard]] std::size_t window_index(std::string_view name) const {
    for (std::size_t i = 0; i < cfg_.windows.size(); ++i) {
      if (cfg_.windows[i].name == name) {
        return i;
      }
    }
    std::string field = "windows";
    std::string expected = "a window named '";
    expected += name;
    expected += '\'';
    throw config_error(field, expected);
  }
  /// How long after its newest event an entity's state can still change a query at or after the
  /// watermark: the longest span any window reads (sliding: length + one bucket; tumbling: two
  /// lengths) plus the allowed lateness. `windowed_features` frees entities idle for that long.
  [[nodiscard]] time_span_us idle_after() const noexcept {
    return time_span_us(lifetime_) + cfg_.allowed_lateness;
  }

private:
  friend class windowed_aggregator;
  struct window_info {
    std::uint32_t ring;
    std::int64_t buckets; // length / bucket_width
  };

  windowed_config cfg_;
  std::vector<bucket_ring_info> rings_;
  std::vector<std::size_t> offsets_;
  std::vector<window_info> windows_;
  std::size_t total_buckets_ = 0;
  std::int64_t lifetime_ = 0;
};

/// The windowed aggregates of one entity: for each ring, a fixed array of buckets indexed by
/// `bucket number mod ring size`, each bucket tagged with its number so that a stale slot reads
/// as empty. Adding an event is O(rings) (plus the distinct counter's insert); a query is
/// O(buckets of the window) (plus merging distinct counters). Memory is fixed at construction:
/// `layout.total_buckets()` buckets, plus at most `distinct.max_memory_bytes()` per bucket when
/// distinct counting is on, whatever the number of events.
///
/// Not thread-safe: one writer; concurrent `const` queries are safe only without a writer.
class windowed_aggregator {
public:
  /// An empty aggregator for `cfg` (validated: throws `config_error` naming the field).
  explicit windowed_aggregator(windowed_config cfg = {})
      : windowed_aggregator(std::make_shared<const windowed_layout>(std::move(cfg))) {}

  /// An empty aggregator sharing `layout` with others (what `windowed_features` does).
  explicit windowed_aggregator(std::shared_ptr<const windowed_layout> layout)
      : layout_(std::move(layout))
      , buckets_(layout_->total_buckets()) {
    if (layout_->config().track_distinct) {
      distinct_.assign(layout_->total_buckets(), distinct_counter(layout_->config().distinct));
    }
  }

  /// Adds one event and says what happened to it (also counted in `counters()`):
  /// 1. `known_at` given and `time − known_at > max_future_skew`: `dropped_future`;
  /// 2. `time < watermark()`: policy `drop` gives `dropped_late`; policy `update` applies it
  ///    (`applied_late`) when its bucket is still in every ring, i.e. its bucket number is at least
  ///    `newest bucket − ring size + 1` in each ring, else `dropped_late`;
  /// 3. otherwise `applied`, and the newest event time (hence the watermark) moves forward.
  add_result add(const feature_event& e) {
    const add_result r = classify(e);
    counters_.count(r);
    if (r == add_result::applied || r == add_result::applied_late) {
      apply(e);
    }
    return r;
  }

  /// The aggregates of window `window` (an index into `config().windows`) at event time `t`.
  /// With bucket width `w`, `B = length / w` and `k = floor(t / w)`, the window reads the event
  /// times (all bounds epoch-aligned, upper bound excluded):
  /// - sliding, `partial`:  `[(k − B + 1)·w, (k + 1)·w)`, the B buckets ending with t's bucket;
  /// - sliding, `complete`: `[(k − B)·w, k·w)`, the B whole buckets before t's bucket;
  /// - tumbling, `partial`: `[j·length, (k + 1)·w)` with `j = floor(t / length)`;
  /// - tumbling, `complete`: `[(j − 1)·length, j·length)`, the previous whole window.
  /// Any query at or after `watermark()` finds all its buckets; an older one whose buckets have
  /// left the ring throws `input_error` (field `t`). An aggregator without events reads empty.
  [[nodiscard]] window_aggregate query(std::size_t window, event_time t,
                                       window_edge edge = window_edge::partial) const {
    const windowed_config& cfg = layout_->config();
    if (window >= cfg.windows.size()) {
      std::string expected = "a window index below ";
      expected += std::to_string(cfg.windows.size());
      throw config_error("window", expected);
    }
    const auto& info = layout_->windows_[window];
    const bucket_ring_info& ring = layout_->rings_[info.ring];
    const std::int64_t width = ring.bucket_width.count();
    const std::int64_t k = detail::floor_div(t.micros(), width);
    std::int64_t lo = 0;
    std::int64_t hi = 0;
    if (cfg.windows[window].kind == window_kind::sliding) {
      hi = edge == window_edge::partial ? k : k - 1;
      lo = hi - info.buckets + 1;
    } else {
      const std::int64_t first = detail::floor_div(k, info.buckets) * info.buckets;
      lo = edge == window_edge::partial ? first : first - info.buckets;
      hi = edge == window_edge::partial ? k : first - 1;
    }
    window_aggregate out;
    if (cfg.track_distinct) {
      out.distinct = 0;
      out.distinct_exact = true;
    }
    out.smoothed_ctr = cfg.ctr_prior.mean();
    if (!newest_) {
      return out;
    }
    const std::int64_t newest_bucket = detail::floor_div(newest_->micros(), width);
    const std::int64_t oldest_held = newest_bucket - ring.buckets + 1;
    if (lo < oldest_held) {
      std::string expected = "a query time whose window is still in the ring (at or after the "
                             "watermark, ";
      expected += std::to_string(watermark().micros());
      expected += " us)";
      throw input_error(input_position("windowed_aggregator::query", 0, 0, "t"), expected,
                        std::to_string(t.micros()));
    }
    hi = std::min(hi, newest_bucket); // nothing is stored after the newest bucket
    const std::size_t offset = layout_->offsets_[info.ring];
    std::optional<distinct_counter> distinct;
    if (cfg.track_distinct) {
      distinct.emplace(cfg.distinct);
    }
    for (std::int64_t b = lo; b <= hi; ++b) {
      const std::size_t slot =
          offset + static_cast<std::size_t>(detail::floor_mod(b, ring.buckets));
      const bucket& s = buckets_[slot];
      if (s.number != b) {
        continue;
      }
      out.count += s.count;
      out.sum += s.sum;
      out.impressions += s.impressions;
      out.clicks += s.clicks;
      if (distinct) {
        distinct->merge(distinct_[slot]);
      }
    }
    out.smoothed_ctr = cfg.ctr_prior.smooth(out.clicks, out.impressions);
    if (distinct) {
      out.distinct = distinct->count();
      out.distinct_exact = distinct->is_exact();
    }
    return out;
  }

  /// The aggregates of the window called `name`; throws `config_error` when there is none.
  [[nodiscard]] window_aggregate query(std::string_view name, event_time t,
                                       window_edge edge = window_edge::partial) const {
    return query(layout_->window_index(name), t, edge);
  }

  /// The newest applied event time, `std::nullopt` before the first event.
  [[nodiscard]] std::optional<event_time> newest() const noexcept { return newest_; }
  /// The newest applied event time minus the allowed lateness (`event_time::min()` before the
  /// first event): events older than this are late.
  [[nodiscard]] event_time watermark() const noexcept {
    if (!newest_) {
      return event_time::min();
    }
    return event_time::from_micros(
        detail::saturating_sub(newest_->micros(), layout_->config().allowed_lateness.count()));
  }
  /// What happened to the events added so far.
  [[nodiscard]] const windowed_counters& counters() const noexcept { return counters_; }
  [[nodiscard]] const windowed_layout& layout() const noexcept { return *layout_; }
  [[nodiscard]] const windowed_config& config() const noexcept { return layout_->config(); }

  /// Bytes held by this entity (the object, its buckets and their distinct counters; the shared
  /// layout is not counted). Fixed at construction without distinct counting, and never above
  /// `max_memory_bytes(layout())` with it.
  [[nodiscard]] std::size_t memory_bytes() const noexcept {
    std::size_t bytes = sizeof(*this) + buckets_.capacity() * sizeof(bucket) +
                        distinct_.capacity() * sizeof(distinct_counter);
    for (const distinct_counter& d : distinct_) {
      bytes += d.memory_bytes();
    }
    return bytes;
  }

  /// The most bytes one entity can hold under `layout`, whatever the number of events.
  [[nodiscard]] static std::size_t max_memory_bytes(const windowed_layout& layout) noexcept {
    std::size_t per_bucket = sizeof(bucket);
    if (layout.config().track_distinct) {
      per_bucket += sizeof(distinct_counter) + layout.config().distinct.max_memory_bytes();
    }
    return sizeof(windowed_aggregator) + layout.total_buckets() * per_bucket;
  }

private:
  struct bucket {
    std::int64_t number = std::numeric_limits<std::int64_t>::min(); // floor(time / width)
    std::uint64_t count = 0;
    double sum = 0.0;
    std::uint64_t impressions = 0;
    std::uint64_t clicks = 0;
  };

  [[nodiscard]] add_result classify(const feature_event& e) const noexcept {
    const windowed_config& cfg = layout_->config();
    if (e.known_at) {
      const std::int64_t t = e.time.micros();
      const std::int64_t known = e.known_at->micros();
      // Unsigned difference: exact for t > known whatever the magnitudes.
      if (t > known && static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(known) >
                           static_cast<std::uint64_t>(cfg.max_future_skew.count())) {
        return add_result::dropped_future;
      }
    }
    if (!newest_ || e.time >= watermark()) {
      return add_result::applied;
    }
    if (cfg.late_policy == late_data_policy::drop) {
      return add_result::dropped_late;
    }
    for (const bucket_ring_info& ring : layout_->rings_) {
      const std::int64_t width = ring.bucket_width.count();
      const std::int64_t b = detail::floor_div(e.time.micros(), width);
      if (b < detail::floor_div(newest_->micros(), width) - ring.buckets + 1) {
        return add_result::dropped_late;
      }
    }
    return add_result::applied_late;
  }

  void apply(const feature_event& e) {
    const windowed_config& cfg = layout_->config();
    if (!newest_ || e.time > *newest_) {
      newest_ = e.time;
    }
    std::optional<std::uint64_t> hash;
    if (cfg.track_distinct && e.item) {
      const std::uint64_t item = *e.item;
      hash = detail::xxh3_64(&item, sizeof item, cfg.distinct.seed);
    }
    for (std::size_t r = 0; r < layout_->rings_.size(); ++r) {
      const bucket_ring_info& ring = layout_->rings_[r];
      const std::int64_t b = detail::floor_div(e.time.micros(), ring.bucket_width.count());
      const std::size_t slot =
          layout_->offsets_[r] + static_cast<std::size_t>(detail::floor_mod(b, ring.buckets));
      bucket& s = buckets_[slot];
      if (s.number != b) {
        // The slot holds an older bucket that has left the ring: reuse it.
        s = bucket{};
        s.number = b;
        if (cfg.track_distinct) {
          distinct_[slot].clear();
        }
      }
      ++s.count;
      s.sum += e.value;
      s.impressions += e.impressions;
      s.clicks += e.clicks;
      if (hash) {
        distinct_[slot].add_hash(*hash);
      }
    }
  }

  std::shared_ptr<const windowed_layout> layout_;
  std::vector<bucket> buckets_;
  std::vector<distinct_counter> distinct_; // parallel to buckets_, empty without distinct counting
  std::optional<event_time> newest_;
  windowed_counters counters_;
};

/// Windowed aggregates for many entities: a hash map from entity key to `windowed_aggregator`,
/// all sharing one layout. Memory is bounded by the active entities: an entity whose newest event
/// is at least `layout().idle_after()` older than `now` is freed by `evict_idle(now)` (and every
/// `idle_sweep_every` adds, with `now` the newest event time seen by the container); eviction
/// never changes the answer of a query at or after `now − allowed_lateness`, since every window
/// of such a query starts after the evicted entity's newest event.
///
/// Thread-safety: single writer. For several writer threads, shard by key (e.g. `hash(key) % N`)
/// into N containers, each behind its own `std::mutex`; an entity's events then stay ordered
/// within its shard. Concurrent `const` calls are safe only while nobody writes.
template <class Key = std::uint64_t, class Hash = std::hash<Key>,
          class KeyEqual = std::equal_to<Key>>
class windowed_features {
public:
  using key_type = Key;

  /// An empty container for `cfg` (validated: throws `config_error` naming the field).
  explicit windowed_features(windowed_config cfg = {})
      : layout_(std::make_shared<const windowed_layout>(std::move(cfg))) {}

  /// Adds `e` to entity `key` (created on its first applied event); see
  /// `windowed_aggregator::add`. Expected O(rings) plus, every `idle_sweep_every` calls, a sweep.
  add_result add(const Key& key, const feature_event& e) {
    auto it = entities_.find(key);
    if (it == entities_.end()) {
      it = entities_.emplace(key, windowed_aggregator(layout_)).first;
    }
    const add_result r = it->second.add(e);
    counters_.count(r);
    if (!it->second.newest()) {
      entities_.erase(it); // its first event was dropped: keep no state for it
    }
    if ((r == add_result::applied || r == add_result::applied_late) &&
        (!newest_ || e.time > *newest_)) {
      newest_ = e.time;
    }
    const std::uint64_t every = layout_->config().idle_sweep_every;
    if (every != 0 && ++adds_since_sweep_ >= every) {
      adds_since_sweep_ = 0;
      if (newest_) {
        (void)evict_idle(*newest_);
      }
    }
    return r;
  }

  /// Entity `key`'s aggregates of window `window` at `t` (see `windowed_aggregator::query`);
  /// an unknown or evicted entity reads as an empty window.
  [[nodiscard]] window_aggregate query(const Key& key, std::size_t window, event_time t,
                                       window_edge edge = window_edge::partial) const {
    const auto it = entities_.find(key);
    if (it == entities_.end()) {
      return empty_.query(window, t, edge);
    }
    return it->second.query(window, t, edge);
  }
  /// As above, for the window called `name`.
  [[nodiscard]] window_aggregate query(const Key& key, std::string_view name, event_time t,
                                       window_edge edge = window_edge::partial) const {
    return query(key, layout_->window_index(name), t, edge);
  }

  /// Frees every entity whose newest event time is at or before `now − layout().idle_after()`;
  /// returns how many. O(entities).
  std::size_t evict_idle(event_time now) {
    const std::int64_t horizon =
        detail::saturating_sub(now.micros(), layout_->idle_after().count());
    const std::size_t removed = std::erase_if(entities_, [horizon](const auto& entry) {
      const auto newest = entry.second.newest();
      return !newest || newest->micros() <= horizon;
    });
    evicted_ += removed;
    return removed;
  }

  /// The entity's aggregator, or `nullptr` when it has none (never seen, or evicted).
  [[nodiscard]] const windowed_aggregator* find(const Key& key) const {
    const auto it = entities_.find(key);
    return it == entities_.end() ? nullptr : &it->second;
  }
  /// Entities held.
  [[nodiscard]] std::size_t size() const noexcept { return entities_.size(); }
  /// Entities freed so far.
  [[nodiscard]] std::uint64_t evicted() const noexcept { return evicted_; }
  /// What happened to every event added (kept across evictions).
  [[nodiscard]] const windowed_counters& counters() const noexcept { return counters_; }
  /// The newest applied event time over all entities.
  [[nodiscard]] std::optional<event_time> newest() const noexcept { return newest_; }
  [[nodiscard]] const windowed_layout& layout() const noexcept { return *layout_; }
  /// Bytes held by the entities' aggregators (not counting the hash map's own nodes).
  [[nodiscard]] std::size_t memory_bytes() const noexcept {
    std::size_t bytes = 0;
    for (const auto& entry : entities_) {
      bytes += entry.second.memory_bytes();
    }
    return bytes;
  }

private:
  std::shared_ptr<const windowed_layout> layout_;
  std::unordered_map<Key, windowed_aggregator, Hash, KeyEqual> entities_;
  windowed_aggregator empty_{layout_};
  windowed_counters counters_;
  std::optional<event_time> newest_;
  std::uint64_t adds_since_sweep_ = 0;
  std::uint64_t evicted_ = 0;
};

namespace detail {

// Reads a `windowed_config` (every field required, unknown keys rejected) and validates it.
template <class Json>
[[nodiscard]] windowed_config read_windowed_config(const Json& j) {
  config_reader r(j, "");
  windowed_config c;
  const Json& windows = r.at("windows");
  if (!windows.is_array()) {
    throw config_error("windows", expected_found("an array of windows", windows));
  }
  c.windows.clear();
  for (std::size_t i = 0; i < windows.size(); ++i) {
    config_reader w(windows[i], indexed_path("windows", i));
    window_spec spec;
    std::int64_t length_us = 0;
    std::int64_t bucket_width_us = 0;
    w.require("name", spec.name);
    w.require_enum("kind", spec.kind, window_kind_names);
    w.require("length_us", length_us);
    w.require("bucket_width_us", bucket_width_us);
    w.finish();
    spec.length = time_span_us(length_us);
    spec.bucket_width = time_span_us(bucket_width_us);
    c.windows.push_back(std::move(spec));
  }
  std::int64_t lateness_us = 0;
  std::int64_t skew_us = 0;
  r.require("allowed_lateness_us", lateness_us);
  r.require_enum("late_policy", c.late_policy, late_data_policy_names);
  r.require("max_future_skew_us", skew_us);
  config_reader prior(r.at("ctr_prior"), "ctr_prior");
  prior.require("alpha", c.ctr_prior.alpha);
  prior.require("beta", c.ctr_prior.beta);
  prior.finish();
  r.require("track_distinct", c.track_distinct);
  c.distinct = read_distinct_config(r.at("distinct"), "distinct");
  r.require("idle_sweep_every", c.idle_sweep_every);
  r.finish();
  c.allowed_lateness = time_span_us(lateness_us);
  c.max_future_skew = time_span_us(skew_us);
  c.validate();
  return c;
}

} // namespace detail

/// `windowed_config` as JSON: spans as integer microseconds (`*_us`), enums by name, e.g.
/// `{"windows": [{"name": "5m", "kind": "sliding", "length_us": 300000000, "bucket_width_us":
/// 60000000}], "allowed_lateness_us": 60000000, "late_policy": "update", ...}`.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void to_json(Json& j, const windowed_config& c) {
  Json windows = Json::array();
  for (const window_spec& w : c.windows) {
    windows.push_back(Json{{"name", w.name},
                           {"kind", detail::enum_name(w.kind, detail::window_kind_names)},
                           {"length_us", w.length.count()},
                           {"bucket_width_us", w.bucket_width.count()}});
  }
  Json distinct = c.distinct;
  j = Json{{"windows", std::move(windows)},
           {"allowed_lateness_us", c.allowed_lateness.count()},
           {"late_policy", detail::enum_name(c.late_policy, detail::late_data_policy_names)},
           {"max_future_skew_us", c.max_future_skew.count()},
           {"ctr_prior", Json{{"alpha", c.ctr_prior.alpha}, {"beta", c.ctr_prior.beta}}},
           {"track_distinct", c.track_distinct},
           {"distinct", std::move(distinct)},
           {"idle_sweep_every", c.idle_sweep_every}};
}

/// Reads a `windowed_config` (every field required, unknown keys are errors) and validates it.
/// Throws `config_error` naming the field, e.g. `windows[0].length_us` or `distinct.precision`.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void from_json(const Json& j, windowed_config& c) {
  c = detail::read_windowed_config(j);
}

} // namespace data
MLSD_END_NAMESPACE
