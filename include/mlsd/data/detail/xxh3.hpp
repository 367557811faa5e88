/// @file
/// XXH3 (xxHash 0.8, Collet) for feature hashing, compiled inline: `XXH_INLINE_ALL` gives every
/// xxHash symbol internal linkage and a private prefix, so nothing is linked and a program that
/// also links libxxhash sees no clash.
#pragma once

#include <mlsd/core/version.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#define MLSD_DEFINED_XXH_INLINE_ALL
#endif
// xxHash's AVX-512 code path inlines intrinsics that make g++ 12.2 warn "__Y may be used
// uninitialized" inside its own avx512fintrin.h under -march=native (GCC bug 105593; the same
// false positive mlsd/kernels/arch.hpp silences for xsimd). The warning is attributed to the
// intrinsic headers, so silencing it while they are first parsed hides nothing of the user's.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <xxhash.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#ifdef MLSD_DEFINED_XXH_INLINE_ALL
#undef XXH_INLINE_ALL
#undef MLSD_DEFINED_XXH_INLINE_ALL
#endif

MLSD_BEGIN_NAMESPACE
namespace data::detail {

/// 64-bit XXH3 of `size` bytes at `data` with `seed`. Stable across platforms and versions of
/// xxHash from 0.8.0 on (the XXH3 output was frozen in 0.8.0), so hashed models stay valid.
[[nodiscard]] inline std::uint64_t xxh3_64(const void* data, std::size_t size,
                                           std::uint64_t seed) noexcept {
  return XXH3_64bits_withSeed(data, size, seed);
}

[[nodiscard]] inline std::uint64_t xxh3_64(std::string_view text, std::uint64_t seed) noexcept {
  return XXH3_64bits_withSeed(text.data(), text.size(), seed);
}

} // namespace data::detail
MLSD_END_NAMESPACE
