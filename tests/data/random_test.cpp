#include <mlsd/data/detail/random.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>

namespace {

using mlsd::data::detail::splitmix64;

// below(n) as defined: draws until one is at least 2^64 mod n, then reduces it modulo n.
std::uint64_t below_by_definition(splitmix64& rng, std::uint64_t n) {
  const std::uint64_t threshold = (0 - n) % n;
  for (;;) {
    const std::uint64_t r = rng.next();
    if (r >= threshold) {
      return r % n;
    }
  }
}

// How many raw draws `calls` calls of below(n) consume from a generator seeded with `seed`.
std::size_t draws_consumed(std::uint64_t seed, std::uint64_t n, int calls) {
  splitmix64 rng(seed);
  for (int i = 0; i < calls; ++i) {
    (void)rng.below(n);
  }
  const std::uint64_t following = rng.next();
  splitmix64 raw(seed);
  std::size_t draws = 0;
  while (raw.next() != following) {
    ++draws;
  }
  return draws;
}

} // namespace

TEST_CASE("splitmix64::below draws exactly as rejection below 2^64 mod n", "[data][random]") {
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  // Small n (no draw is ever rejected), n just past a power of two, and n above 2^63, where
  // about half of the draws fall below n and many of those below the threshold 2^64 mod n.
  const std::uint64_t sizes[] = {1,
                                 2,
                                 3,
                                 7,
                                 1000,
                                 (std::uint64_t{1} << 32) + 1,
                                 std::uint64_t{1} << 63,
                                 (std::uint64_t{1} << 63) + 5,
                                 max / 3 * 2,
                                 max - 1,
                                 max};
  for (const std::uint64_t n : sizes) {
    CAPTURE(n);
    splitmix64 a(n ^ 0x1234), b(n ^ 0x1234);
    for (int i = 0; i < 4000; ++i) {
      const std::uint64_t got = a.below(n);
      REQUIRE(got == below_by_definition(b, n));
      REQUIRE(got < n);
    }
    // Both consumed the same raw draws.
    CHECK(a.next() == b.next());
  }
}

TEST_CASE("splitmix64::below rejects the draws below 2^64 mod n", "[data][random]") {
  // n = 2^63 + 5: 2^64 mod n = 2^63 - 5, so just under half of the raw draws are rejected and a
  // call consumes about two of them; for small n, exactly one.
  const std::size_t large = draws_consumed(99, (std::uint64_t{1} << 63) + 5, 1000);
  CHECK(large > 1700);
  CHECK(large < 2300);
  CHECK(draws_consumed(99, 1000, 1000) == 1000);
}
