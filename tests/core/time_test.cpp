// Event time and known-at time: distinct types, one sanctioned comparison.
#include <mlsd/core/time.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <type_traits>

namespace {

template <class A, class B>
concept less_comparable = requires(A a, B b) {
  a < b;
};
template <class A, class B>
concept subtractable = requires(A a, B b) {
  a - b;
};

} // namespace

TEST_CASE("event_time and known_at_time do not mix", "[core][time]") {
  using mlsd::event_time;
  using mlsd::known_at_time;
  STATIC_REQUIRE_FALSE(std::is_same_v<event_time, known_at_time>);
  STATIC_REQUIRE_FALSE(std::is_convertible_v<event_time, known_at_time>);
  STATIC_REQUIRE_FALSE(std::is_convertible_v<known_at_time, event_time>);
  STATIC_REQUIRE_FALSE(less_comparable<event_time, known_at_time>);
  STATIC_REQUIRE_FALSE(subtractable<event_time, known_at_time>);
  STATIC_REQUIRE(less_comparable<event_time, event_time>);
  STATIC_REQUIRE(sizeof(event_time) == 8);
  STATIC_REQUIRE(std::is_trivially_copyable_v<known_at_time>);
}

TEST_CASE("tagged times count microseconds since the Unix epoch", "[core][time]") {
  using namespace std::chrono_literals;
  const auto t = mlsd::event_time::from_seconds(1'700'000'000);
  CHECK(t.micros() == 1'700'000'000'000'000);
  CHECK((t + 1500ms).micros() == 1'700'000'001'500'000);
  CHECK((t - 1s) < t);
  CHECK((t + 5min) - t == std::chrono::microseconds(300'000'000));
  auto u = t;
  u += 2us;
  CHECK(u.micros() == t.micros() + 2);
  CHECK(mlsd::event_time::min() < t);
  CHECK(t < mlsd::event_time::max());
  CHECK(mlsd::event_time{} == mlsd::event_time::from_micros(0));
}

TEST_CASE("is_known_by is inclusive at the event time", "[core][time]") {
  using namespace std::chrono_literals;
  const auto e = mlsd::event_time::from_seconds(100);
  CHECK(mlsd::is_known_by(mlsd::known_at_time::from_seconds(99), e));
  CHECK(mlsd::is_known_by(mlsd::known_at_time::from_seconds(100), e));
  CHECK_FALSE(mlsd::is_known_by(mlsd::known_at_time::from_micros(100'000'001), e));
  const auto k = mlsd::known_after(e, 30s);
  CHECK(k.micros() == 130'000'000);
  CHECK_FALSE(mlsd::is_known_by(k, e + 29s));
  CHECK(mlsd::is_known_by(k, e + 30s));
}
