/// @file
/// Software prefetch that the compiler keeps.
///
/// `__builtin_prefetch` alone is not enough in a function that does nothing else, such as a
/// model's `prefetch(row)`: GCC's interprocedural analysis counts the builtin as free of side
/// effects, finds the function "pure", and deletes every call to it, since a pure function whose
/// result is unused does nothing (g++ 12 at -O2 did so to `factorization_machine::prefetch` and
/// the FFM's). An empty `volatile` assembly statement that takes the address is a side effect no
/// compiler may drop, so the function stays impure and the prefetch instruction stays. It costs
/// nothing: it emits no instruction, and the address is in a register anyway.
#pragma once

#include <mlsd/core/version.hpp>

MLSD_BEGIN_NAMESPACE
namespace detail {

/// Asks the cache for the line holding `p`, to be read (`Write == false`) or written
/// (`Write == true`: `prefetchw` where the CPU has it, which fetches the line exclusive, so a later
/// store needs no second request). A hint: no effect on results, valid for any address.
template <bool Write = false>
[[gnu::always_inline]] inline void prefetch(const void* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, Write ? 1 : 0, 3);
  __asm__ volatile("" : : "r"(p));
#else
  (void)p;
#endif
}

} // namespace detail
MLSD_END_NAMESPACE
