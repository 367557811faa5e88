/// @file
/// Dense dot product and sum.
#pragma once

#include <mlsd/core/version.hpp>
#include <mlsd/kernels/arch.hpp>

#include <cstddef>

MLSD_BEGIN_NAMESPACE
namespace kernels {

namespace reference {
/// Scalar reference for `kernels::dot`: `sum_i a[i] * b[i]`, summed left to right.
template <class T>
[[nodiscard]] constexpr T dot(const T* a, const T* b, std::size_t n) noexcept {
  T sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sum += a[i] * b[i];
  }
  return sum;
}
} // namespace reference

/// Dot product `sum_i a[i] * b[i]` of two arrays of `n` elements.
///
/// Four independent accumulators hide the FMA latency; the sum order therefore differs from the
/// scalar reference and results agree to rounding, not bit for bit. Pointers need no alignment.
/// @tparam Arch xsimd architecture (default: the widest the compiler flags enable).
/// @complexity n multiply-adds; reads 2n elements once.
template <class Arch = default_arch, class T>
[[nodiscard]] inline T dot(const T* a, const T* b, std::size_t n) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t w = batch::size;
  batch acc0(T(0)), acc1(T(0)), acc2(T(0)), acc3(T(0));
  std::size_t i = 0;
  for (; i + 4 * w <= n; i += 4 * w) {
    acc0 = xsimd::fma(batch::load_unaligned(a + i), batch::load_unaligned(b + i), acc0);
    acc1 = xsimd::fma(batch::load_unaligned(a + i + w), batch::load_unaligned(b + i + w), acc1);
    acc2 = xsimd::fma(batch::load_unaligned(a + i + 2 * w), batch::load_unaligned(b + i + 2 * w),
                      acc2);
    acc3 = xsimd::fma(batch::load_unaligned(a + i + 3 * w), batch::load_unaligned(b + i + 3 * w),
                      acc3);
  }
  for (; i + w <= n; i += w) {
    acc0 = xsimd::fma(batch::load_unaligned(a + i), batch::load_unaligned(b + i), acc0);
  }
  T sum = xsimd::hadd((acc0 + acc1) + (acc2 + acc3));
  for (; i < n; ++i) {
    sum += a[i] * b[i];
  }
  return sum;
}

namespace reference {
/// Scalar reference for `kernels::sum`.
template <class T>
[[nodiscard]] constexpr T sum(const T* a, std::size_t n) noexcept {
  T total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    total += a[i];
  }
  return total;
}
} // namespace reference

/// Sum of `n` elements, with four independent accumulators.
///
/// Besides being a reduction, it is the *memory-bandwidth floor* of the scans: it reads every byte
/// once with as little work per byte as possible, so `sum` over an embedding table takes as long
/// as any exact scan of it must (bench/mips_bench `floor`, examples/kernels_demo).
/// @complexity n additions; reads n elements once.
template <class Arch = default_arch, class T>
[[nodiscard]] inline T sum(const T* a, std::size_t n) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t w = batch::size;
  // Loop bounds computed once, as in log_loss_sum: g++ 12 misdiagnoses `i + w <= n` tails for
  // small constant n under -Waggressive-loop-optimizations.
  const std::size_t unrolled_end = n - n % (4 * w), vector_end = n - n % w;
  batch acc0(T(0)), acc1(T(0)), acc2(T(0)), acc3(T(0));
  for (std::size_t i = 0; i < unrolled_end; i += 4 * w) {
    acc0 += batch::load_unaligned(a + i);
    acc1 += batch::load_unaligned(a + i + w);
    acc2 += batch::load_unaligned(a + i + 2 * w);
    acc3 += batch::load_unaligned(a + i + 3 * w);
  }
  for (std::size_t i = unrolled_end; i < vector_end; i += w) {
    acc0 += batch::load_unaligned(a + i);
  }
  T total = xsimd::hadd((acc0 + acc1) + (acc2 + acc3));
  for (std::size_t i = vector_end; i < n; ++i) {
    total += a[i];
  }
  return total;
}

} // namespace kernels
MLSD_END_NAMESPACE
