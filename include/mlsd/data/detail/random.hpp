/// @file
/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA
/// 2014), the one generator and 64-bit mixer of data/: sampling and splits draw from it, the
/// feature store and the labeler hash keys with its finaliser. Our own, not `<random>`'s
/// distributions, whose algorithms differ between standard libraries: the same seed gives the
/// same draws on every platform.
#pragma once

#include <mlsd/core/version.hpp>

#include <cstdint>

MLSD_BEGIN_NAMESPACE
namespace data::detail {

/// SplitMix64: 64 bits of state, passes BigCrush, and its output function doubles as a hash of a
/// (seed, index) pair for decisions that must not depend on processing order. Not thread-safe
/// (one generator per thread); the static functions are pure.
class splitmix64 {
public:
  /// The increment of the state, 2^64 / φ rounded to odd (the "golden gamma").
  static constexpr std::uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;

  explicit splitmix64(std::uint64_t seed) noexcept
      : state_(seed) {}

  /// The finaliser: a bijection of 64-bit words whose output bits all depend on every input bit
  /// (so that the bits a hash map or a shard index uses are well spread).
  [[nodiscard]] static constexpr std::uint64_t mix(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// A hash of (seed, index), uniform over 64 bits.
  [[nodiscard]] static constexpr std::uint64_t hash(std::uint64_t seed,
                                                    std::uint64_t index) noexcept {
    return mix(mix(seed + golden_gamma) ^ (index * golden_gamma));
  }
  /// The top 53 bits of `bits` as a double in [0, 1).
  [[nodiscard]] static constexpr double to_unit(std::uint64_t bits) noexcept {
    return static_cast<double>(bits >> 11) * 0x1.0p-53;
  }

  /// The next 64 random bits.
  std::uint64_t next() noexcept {
    state_ += golden_gamma;
    return mix(state_);
  }
  /// Uniform in [0, 1).
  double uniform() noexcept { return to_unit(next()); }
  /// Uniform in [0, n) without modulo bias (rejection below 2^64 mod n). Precondition: n > 0.
  /// The threshold 2^64 mod n is below n, so a draw of n or more is accepted without computing
  /// it: one 64-bit division per call instead of two (for small n nearly always), same draws.
  std::uint64_t below(std::uint64_t n) noexcept {
    for (;;) {
      const std::uint64_t r = next();
      if (r >= n || r >= (0 - n) % n) {
        return r % n;
      }
    }
  }

private:
  std::uint64_t state_;
};

} // namespace data::detail
MLSD_END_NAMESPACE
