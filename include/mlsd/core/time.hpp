/// @file
/// Time types of the data pipeline. *Event time* (when something happened) and *known-at time*
/// (when the system learned it) are different types, so a point-in-time join that compares a
/// feature's known-at time with an event's time must say so through `is_known_by`, and code that
/// mixes the two by accident does not compile.
#pragma once

#include <mlsd/core/version.hpp>

#include <chrono>
#include <compare>
#include <cstdint>
#include <limits>

MLSD_BEGIN_NAMESPACE

/// The resolution of every mlsd time: microseconds since the Unix epoch (UTC), in 64 bits
/// (about ±292,000 years).
using time_resolution = std::chrono::microseconds;

/// A time on the Unix clock at microsecond resolution.
using unix_time = std::chrono::sys_time<time_resolution>;

/// A span of time (window lengths, TTLs, attribution windows, delays).
using time_span_us = time_resolution;

/// A point on the Unix clock whose meaning is fixed by `Tag`. Values of the same tag compare and
/// subtract; values of different tags do not mix. A trivially copyable 8-byte value.
template <class Tag>
class tagged_time {
public:
  using tag_type = Tag;
  using duration = time_resolution;

  constexpr tagged_time() noexcept = default;
  constexpr explicit tagged_time(unix_time t) noexcept
      : t_(t) {}

  /// From microseconds / seconds since the Unix epoch.
  [[nodiscard]] static constexpr tagged_time from_micros(std::int64_t us) noexcept {
    return tagged_time(unix_time(duration(us)));
  }
  [[nodiscard]] static constexpr tagged_time from_seconds(std::int64_t s) noexcept {
    return tagged_time(unix_time(std::chrono::seconds(s)));
  }
  /// The earliest and latest representable times (open ends of ranges).
  [[nodiscard]] static constexpr tagged_time min() noexcept {
    return from_micros(std::numeric_limits<std::int64_t>::min());
  }
  [[nodiscard]] static constexpr tagged_time max() noexcept {
    return from_micros(std::numeric_limits<std::int64_t>::max());
  }

  [[nodiscard]] constexpr unix_time time_point() const noexcept { return t_; }
  [[nodiscard]] constexpr std::int64_t micros() const noexcept {
    return t_.time_since_epoch().count();
  }

  friend constexpr auto operator<=>(tagged_time, tagged_time) noexcept = default;
  friend constexpr bool operator==(tagged_time, tagged_time) noexcept = default;

  friend constexpr tagged_time operator+(tagged_time t, duration d) noexcept {
    return tagged_time(t.t_ + d);
  }
  friend constexpr tagged_time operator-(tagged_time t, duration d) noexcept {
    return tagged_time(t.t_ - d);
  }
  friend constexpr duration operator-(tagged_time a, tagged_time b) noexcept { return a.t_ - b.t_; }
  constexpr tagged_time& operator+=(duration d) noexcept {
    t_ += d;
    return *this;
  }

private:
  unix_time t_{};
};

struct event_time_tag {};
struct known_at_time_tag {};

/// When something happened in the world: an impression was shown, a click was made, a purchase
/// was paid. Labels, windows and splits are in event time.
using event_time = tagged_time<event_time_tag>;

/// When a value became available to the system (was written to the feature store, arrived from a
/// batch job or a late stream). Always at or after the event time of the value it describes.
using known_at_time = tagged_time<known_at_time_tag>;

/// True when a value known at `known` may be used for an event at `at`: the one sanctioned
/// comparison between the two kinds of time, the rule that keeps a point-in-time join from
/// reading the future.
[[nodiscard]] constexpr bool is_known_by(known_at_time known, event_time at) noexcept {
  return known.time_point() <= at.time_point();
}

/// The known-at time of a value whose event happened at `at` and took `delay` to arrive.
[[nodiscard]] constexpr known_at_time known_after(event_time at, time_span_us delay) noexcept {
  return known_at_time(at.time_point() + delay);
}

MLSD_END_NAMESPACE
