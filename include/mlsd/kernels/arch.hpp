/// @file
/// Which instruction set the kernels are compiled for.
///
/// The kernels are templates over an xsimd architecture tag `Arch`, defaulting to
/// `mlsd::kernels::default_arch`: the widest instruction set the *consumer's* compiler flags enable
/// (SSE2 with no flags on x86-64, AVX-512 under `-march=native` on a machine that has it). mlsd
/// never adds `-march` to a consumer's build; a service chooses its own target, exactly as it does
/// for Eigen. The choice is made at compile time, so there is no dispatch cost in the inner loops.
#pragma once

#include <mlsd/core/version.hpp>

// g++ 12.2 warns "__Y is used uninitialized" inside its own avx512fintrin.h whenever some
// AVX-512 intrinsics are inlined (GCC bug 105593, fixed in later releases), which breaks -Werror
// builds under -march=native. The warning is attributed to the intrinsic headers, so silencing it
// while they are first parsed removes exactly that false positive and nothing of the user's.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <xsimd/xsimd.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <cstddef>
#include <type_traits>

MLSD_BEGIN_NAMESPACE
namespace kernels {

/// The xsimd architecture the kernels use unless told otherwise.
using default_arch = xsimd::default_arch;

/// True when the int8 kernels use AVX-512 VNNI (`vpdpbusd`, 64 multiply-adds per instruction).
///
/// Decided at compile time from `__AVX512VNNI__` (set by `-mavx512vnni` or `-march=native` on a
/// CPU that has it). Without it the int8 kernels fall back to a portable loop with the same
/// integer result, which the compiler vectorises for whatever instruction set it targets.
#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512F__)
#define MLSD_KERNELS_VNNI 1
inline constexpr bool uses_vnni = true;
#else
#define MLSD_KERNELS_VNNI 0
inline constexpr bool uses_vnni = false;
#endif

namespace detail {

/// `xsimd::haddp` with its documented lane order: lane r of the result is the sum of `rows[r]`.
///
/// xsimd 8.1's AVX-512 float `haddp` returns the sums of rows 0 1 4 5 2 3 6 7 8 9 12 13 10 11 14
/// 15 in lanes 0 … 15 (its other instruction sets and double are in order). That permutation is
/// its own inverse, so feeding the rows in permuted order yields the natural order; the swaps
/// are register renames after inlining. tests/kernels/arch_test.cpp checks the order for every
/// architecture, so a fixed xsimd shows up as a failing test rather than as wrong ids.
template <class T, class Arch>
[[nodiscard]] inline xsimd::batch<T, Arch> haddp(const xsimd::batch<T, Arch>* rows) noexcept {
  constexpr std::size_t w = xsimd::batch<T, Arch>::size;
  if constexpr (std::is_same_v<T, float> && w == 16 && XSIMD_VERSION_MAJOR == 8) {
    xsimd::batch<T, Arch> permuted[16] = {rows[0],  rows[1],  rows[4],  rows[5], rows[2],  rows[3],
                                          rows[6],  rows[7],  rows[8],  rows[9], rows[12], rows[13],
                                          rows[10], rows[11], rows[14], rows[15]};
    return xsimd::haddp(permuted);
  } else {
    return xsimd::haddp(rows);
  }
}

} // namespace detail

/// The name of the instruction set the kernels were compiled for, e.g. "avx512bw", for reports.
[[nodiscard]] constexpr const char* arch_name() noexcept {
  return default_arch::name();
}

} // namespace kernels
MLSD_END_NAMESPACE
