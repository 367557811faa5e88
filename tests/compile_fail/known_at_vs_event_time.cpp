// compile_fail test: comparing a feature value's known-at time with an event's time directly must
// not compile. `known_at_time` and `event_time` are different types (core/time.hpp); the one
// sanctioned comparison is `mlsd::is_known_by(known_at, event_time)`, whose name says which way
// the rule goes (known at or before the event). A hand-written `v.known_at <= e.time` would
// compile with plain integer or time_point timestamps, and the opposite comparison (`>=`, the
// classic leak) would compile just as well. The comparison is where the build stops: no
// `operator<=` takes a known_at_time and an event_time.
//
// Built twice (tests/compile_fail/CMakeLists.txt): with MLSD_COMPILE_FAIL_CONTROL defined, the
// filter calls `mlsd::is_known_by` and the file compiles; without it, it compares the two times
// with `<=` and the build must fail.
#include <mlsd/core/time.hpp>
#include <mlsd/data/feature_store.hpp>

#include <optional>
#include <span>

namespace ad_click {

/// The latest of `history` (a feature's values, oldest first) that may be used for an impression
/// shown at `shown`: the filter at the heart of a point-in-time join.
std::optional<float> usable_ctr(std::span<const mlsd::data::timed_value<float>> history,
                                mlsd::event_time shown) {
  std::optional<float> latest;
  for (const auto& v : history) {
#ifdef MLSD_COMPILE_FAIL_CONTROL
    const bool known = mlsd::is_known_by(v.known_at, shown);
#else
    const bool known = v.known_at <= shown; // compile_fail: error here
#endif
    if (known && v.is_live_at(shown)) {
      latest = v.value;
    }
  }
  return latest;
}

} // namespace ad_click
