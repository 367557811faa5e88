/// @file
/// The offline side of the feature store: a feature history (every value a feature ever had, with
/// its event time, known-at time and TTL) and the point-in-time (as-of) join that builds training
/// rows from a labelled event log without leaking the future.
///
/// For an event of entity `e` at time `t` and a feature `f`, the join uses the value `v` of
/// `(e, f)` such that
///   1. `is_known_by(v.known_at, t)`: known at or before `t` (inclusive), and
///   2. `t - v.event <= v.ttl`: still live at `t` (inclusive, `timed_value::is_live_at`),
/// taking the latest such `v` by event time (ties: the latest known-at time, then the value added
/// to the history last). These are the rules the online store applies at serving time, so a model
/// sees the same features offline as online. When there is no such value the join says why
/// (`missing_reason`), and counts every reason per feature: nothing is dropped silently.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/time.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/feature_store.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

/// One row of a labelled event log: an entity, when the event happened, and its label (a click,
/// a purchase, a rating). The `time` is the moment the prediction would have been made.
template <class Label>
struct labelled_event {
  entity_key entity;
  event_time time;
  Label label{};
};

/// Why the join found no value for an event and a feature.
enum class missing_reason : std::uint8_t {
  none_yet,         ///< no value of the feature has an event time at or before the event's time
  all_expired,      ///< values were known by the event's time, but none was live (TTL)
  only_known_later, ///< values had happened by the event's time, but none was known yet
};

/// `"none_yet"`, `"all_expired"` or `"only_known_later"`.
[[nodiscard]] constexpr std::string_view to_string(missing_reason r) noexcept {
  switch (r) {
  case missing_reason::none_yet:
    return "none_yet";
  case missing_reason::all_expired:
    return "all_expired";
  case missing_reason::only_known_later:
    return "only_known_later";
  }
  return "unknown";
}

/// The join's answer for one event and one feature: the value used, or why there is none.
template <class T>
struct as_of_value {
  std::optional<timed_value<T>> value;
  /// Meaningful only when `value` is empty.
  missing_reason reason = missing_reason::none_yet;

  [[nodiscard]] bool found() const noexcept { return value.has_value(); }
  friend bool operator==(const as_of_value&, const as_of_value&) = default;
};

/// How many events of a join found a value of one feature, and how many did not, by reason.
/// `found + none_yet + all_expired + only_known_later` is the number of events.
struct as_of_counts {
  std::uint64_t found = 0;
  std::uint64_t none_yet = 0;
  std::uint64_t all_expired = 0;
  std::uint64_t only_known_later = 0;

  friend bool operator==(const as_of_counts&, const as_of_counts&) = default;
};

/// The result of `point_in_time_join`: one row per event, in the order the events were given, and
/// one cell per requested feature, in the order the features were given.
template <class T>
struct as_of_table {
  std::vector<std::string> features;
  std::size_t event_count = 0;
  /// Row-major: the cell of event `i` and feature `j` is `cells[i * features.size() + j]`.
  std::vector<as_of_value<T>> cells;
  /// Per feature (same order as `features`).
  std::vector<as_of_counts> counts;

  /// The cell of event `event` and feature number `feature`.
  [[nodiscard]] const as_of_value<T>& at(std::size_t event, std::size_t feature) const {
    return cells[event * features.size() + feature];
  }
};

/// Every value the features of some entities ever had: the offline store's content, e.g. loaded
/// from the log of all writes to the online store. Rows are kept in the order they were added
/// (which breaks exact ties in the join: the row added last wins). Not thread-safe for `add`;
/// concurrent `const` use (joins) is safe.
template <class T>
class feature_history {
public:
  /// One value of one feature of one entity.
  struct row {
    feature_key key;
    timed_value<T> value;
  };

  feature_history() = default;

  /// Appends a value. Throws `input_error` naming the row (its 1-based number, as `line`) and the
  /// field for a negative TTL or a value known before its event.
  void add(feature_key key, timed_value<T> value) {
    detail::check_times(value, {"feature_history", rows_.size() + 1}, key);
    rows_.push_back({std::move(key), std::move(value)});
  }

  [[nodiscard]] std::size_t size() const noexcept { return rows_.size(); }
  [[nodiscard]] bool empty() const noexcept { return rows_.empty(); }
  [[nodiscard]] std::span<const row> rows() const noexcept { return rows_; }
  void reserve(std::size_t n) { rows_.reserve(n); }

private:
  std::vector<row> rows_;
};

/// True for `labelled_event<Label>`.
template <class E>
inline constexpr bool is_labelled_event_v = false;
template <class Label>
inline constexpr bool is_labelled_event_v<labelled_event<Label>> = true;

/// The point-in-time (as-of) join: for every event of `events` and every feature named in
/// `features`, the value of that feature of the event's entity that was known at the event's time
/// and still live then, the latest by event time (see the file comment for the exact rule and
/// ties), or the reason there is none. Events may come in any order and may share entities and
/// times; the result keeps their order.
///
/// The missing reasons are decided in this order: `all_expired` when some value was known by the
/// event's time (and all of those had expired); otherwise `only_known_later` when some value's
/// event time is at or before the event's time (so it was known only later); otherwise `none_yet`.
///
/// Algorithm: the history's rows are grouped by key and sorted by known-at time, the events are
/// grouped by entity and sorted by time; for each (entity, feature) the events are swept in time
/// order while the values known by then enter a max-heap ordered by (event, known_at, row), whose
/// expired top is popped lazily (a value expired at `t` stays expired at every later time, so each
/// value enters and leaves the heap once). O(m log m + n log n + n·F) for m history rows, n events
/// and F features; O(m + n·F) memory. Safe to run concurrently with other joins on the same
/// history.
template <std::ranges::random_access_range Events, class T>
requires is_labelled_event_v<std::ranges::range_value_t<Events>>
[[nodiscard]] as_of_table<T> point_in_time_join(const Events& events,
                                                const feature_history<T>& history,
                                                std::span<const std::string> features) {
  const std::size_t n = std::ranges::size(events);
  const std::size_t nf = features.size();
  as_of_table<T> table;
  table.features.assign(features.begin(), features.end());
  table.event_count = n;
  table.cells.resize(n * nf);
  table.counts.resize(nf);

  // History: row positions sorted by (key, known_at, row), and each key's range.
  const auto rows = history.rows();
  std::vector<std::size_t> by_key(rows.size());
  std::iota(by_key.begin(), by_key.end(), std::size_t{0});
  std::sort(by_key.begin(), by_key.end(), [&rows](std::size_t a, std::size_t b) {
    if (const auto c = rows[a].key <=> rows[b].key; c != 0) {
      return c < 0;
    }
    if (rows[a].value.known_at != rows[b].value.known_at) {
      return rows[a].value.known_at < rows[b].value.known_at;
    }
    return a < b;
  });
  std::unordered_map<feature_key, std::pair<std::size_t, std::size_t>, feature_key_hash> ranges;
  for (std::size_t i = 0; i < by_key.size();) {
    std::size_t j = i + 1;
    while (j < by_key.size() && rows[by_key[j]].key == rows[by_key[i]].key) {
      ++j;
    }
    ranges.emplace(rows[by_key[i]].key, std::pair{i, j});
    i = j;
  }
  // earliest_event_from[k]: the earliest event time among by_key[k..end of its key's range).
  std::vector<event_time> earliest_event_from(by_key.size());
  for (const auto& [key, range] : ranges) {
    event_time earliest = event_time::max();
    for (std::size_t k = range.second; k-- > range.first;) {
      earliest = std::min(earliest, rows[by_key[k]].value.event);
      earliest_event_from[k] = earliest;
    }
  }

  // Events: positions sorted by (entity, time).
  const auto event_at = [&events](std::size_t i) -> decltype(auto) {
    return std::ranges::begin(events)[static_cast<std::ptrdiff_t>(i)];
  };
  std::vector<std::size_t> by_entity(n);
  std::iota(by_entity.begin(), by_entity.end(), std::size_t{0});
  std::sort(by_entity.begin(), by_entity.end(), [&event_at](std::size_t a, std::size_t b) {
    const auto& ea = event_at(a);
    const auto& eb = event_at(b);
    if (const auto c = ea.entity <=> eb.entity; c != 0) {
      return c < 0;
    }
    return ea.time < eb.time;
  });

  // The newest-first order of the heap: (event, known_at, row position) lexicographically.
  const auto older = [&rows](std::size_t a, std::size_t b) {
    const auto& va = rows[a].value;
    const auto& vb = rows[b].value;
    if (va.event != vb.event) {
      return va.event < vb.event;
    }
    if (va.known_at != vb.known_at) {
      return va.known_at < vb.known_at;
    }
    return a < b;
  };
  std::vector<std::size_t> heap;
  feature_key probe;
  for (std::size_t g = 0; g < n;) {
    std::size_t g_end = g + 1;
    while (g_end < n && event_at(by_entity[g_end]).entity == event_at(by_entity[g]).entity) {
      ++g_end;
    }
    probe.entity = event_at(by_entity[g]).entity;
    for (std::size_t f = 0; f < nf; ++f) {
      probe.feature = features[f];
      as_of_counts& count = table.counts[f];
      const auto found_range = ranges.find(probe);
      if (found_range == ranges.end()) {
        for (std::size_t k = g; k < g_end; ++k) {
          table.cells[by_entity[k] * nf + f] = {std::nullopt, missing_reason::none_yet};
        }
        count.none_yet += g_end - g;
        continue;
      }
      const auto [first, last] = found_range->second;
      std::size_t next = first; // by_key[first, next) have entered the heap: known by now
      heap.clear();
      for (std::size_t k = g; k < g_end; ++k) {
        const event_time t = event_at(by_entity[k]).time;
        while (next < last && is_known_by(rows[by_key[next]].value.known_at, t)) {
          heap.push_back(by_key[next++]);
          std::push_heap(heap.begin(), heap.end(), older);
        }
        while (!heap.empty() && !rows[heap.front()].value.is_live_at(t)) {
          std::pop_heap(heap.begin(), heap.end(), older);
          heap.pop_back();
        }
        as_of_value<T>& cell = table.cells[by_entity[k] * nf + f];
        if (!heap.empty()) {
          cell.value = rows[heap.front()].value;
          ++count.found;
        } else if (next > first) {
          cell.reason = missing_reason::all_expired;
          ++count.all_expired;
        } else if (next < last && earliest_event_from[next] <= t) {
          cell.reason = missing_reason::only_known_later;
          ++count.only_known_later;
        } else {
          cell.reason = missing_reason::none_yet;
          ++count.none_yet;
        }
      }
    }
    g = g_end;
  }
  return table;
}

} // namespace data
MLSD_END_NAMESPACE
