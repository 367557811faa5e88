/// @file
/// Sparse gather-dot and scatter-update over a weight table: the forward and update steps of
/// logistic regression (and the linear part of FM) on hashed features.
#pragma once

#include <mlsd/core/version.hpp>
#include <mlsd/kernels/arch.hpp>

#include <cstddef>
#include <cstdint>
#include <type_traits>

MLSD_BEGIN_NAMESPACE
namespace kernels {

namespace reference {
/// Scalar reference for `kernels::gather_dot`.
template <class T>
[[nodiscard]] constexpr T gather_dot(const T* weights, const std::uint32_t* indices,
                                     const T* values, std::size_t nnz) noexcept {
  T sum = 0;
  for (std::size_t i = 0; i < nnz; ++i) {
    sum += weights[indices[i]] * values[i];
  }
  return sum;
}
} // namespace reference

/// `sum_i weights[indices[i]] * values[i]`: the score of a sparse example (index/value pairs)
/// against a dense weight table, e.g. logistic regression on hashed features.
///
/// For float, W indices are gathered at once (`vpgatherdd` under AVX2/AVX-512) with four
/// independent accumulators; double uses the scalar loop. Indices may repeat and need no order.
/// Precondition: every index is below the table size, and below 2^31 for the gather.
/// @complexity nnz multiply-adds; nnz random reads from the table.
template <class Arch = default_arch, class T>
[[nodiscard]] inline T gather_dot(const T* weights, const std::uint32_t* indices, const T* values,
                                  std::size_t nnz) noexcept {
  T sum = 0;
  std::size_t i = 0;
  if constexpr (std::is_same_v<T, float> &&
                xsimd::batch<float, Arch>::size == xsimd::batch<std::int32_t, Arch>::size) {
    using batch = xsimd::batch<float, Arch>;
    using index_batch = xsimd::batch<std::int32_t, Arch>;
    constexpr std::size_t w = batch::size;
    const auto* signed_indices = reinterpret_cast<const std::int32_t*>(indices);
    batch acc0(0.0f), acc1(0.0f);
    for (; i + 2 * w <= nnz; i += 2 * w) {
      acc0 = xsimd::fma(batch::gather(weights, index_batch::load_unaligned(signed_indices + i)),
                        batch::load_unaligned(values + i), acc0);
      acc1 = xsimd::fma(batch::gather(weights, index_batch::load_unaligned(signed_indices + i + w)),
                        batch::load_unaligned(values + i + w), acc1);
    }
    for (; i + w <= nnz; i += w) {
      acc0 = xsimd::fma(batch::gather(weights, index_batch::load_unaligned(signed_indices + i)),
                        batch::load_unaligned(values + i), acc0);
    }
    sum = xsimd::hadd(acc0 + acc1);
  }
  for (; i < nnz; ++i) {
    sum += weights[indices[i]] * values[i];
  }
  return sum;
}

/// `weights[indices[i]] += alpha * values[i]` for every i, in order: the SGD step of a sparse
/// linear model (`alpha` = -learning rate × dL/dscore).
///
/// Deliberately a scalar loop: hashed features collide, and a SIMD scatter of a batch holding the
/// same index twice would keep only one of the two updates. Sequential order makes repeated
/// indices accumulate exactly as the reference does.
/// @complexity nnz multiply-adds; nnz random read-modify-writes.
template <class T>
inline void scatter_update(T* weights, const std::uint32_t* indices, const T* values,
                           std::size_t nnz, T alpha) noexcept {
  for (std::size_t i = 0; i < nnz; ++i) {
    weights[indices[i]] += alpha * values[i];
  }
}

} // namespace kernels
MLSD_END_NAMESPACE
