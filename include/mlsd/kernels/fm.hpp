/// @file
/// The factorization-machine second-order term and its gradient (Rendle 2010).
#pragma once

#include <mlsd/core/matrix_view.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/kernels/arch.hpp>

#include <cstddef>
#include <cstdint>

MLSD_BEGIN_NAMESPACE
namespace kernels {

namespace reference {
/// The FM pairwise term by its definition, `sum_{i<j} <v_a(i), v_a(j)> x_i x_j` with
/// `a(i) = indices[i]`: O(k·nnz²), independent of the identity the kernel uses.
template <class T>
[[nodiscard]] constexpr T fm_pairwise(matrix_view<const T> factors, const std::uint32_t* indices,
                                      const T* values, std::size_t nnz) noexcept {
  T total = 0;
  for (std::size_t i = 0; i < nnz; ++i) {
    for (std::size_t j = i + 1; j < nnz; ++j) {
      T inner = 0;
      for (std::size_t f = 0; f < factors.cols(); ++f) {
        inner += factors(indices[i], f) * factors(indices[j], f);
      }
      total += inner * values[i] * values[j];
    }
  }
  return total;
}
} // namespace reference

/// The FM second-order term of one sparse example in O(k·nnz) (Rendle 2010, eq. 5):
/// `sum_{i<j} <v_i, v_j> x_i x_j = 1/2 sum_f [(sum_i v_if x_i)^2 - sum_i v_if^2 x_i^2]`,
/// where `v_i = factors.row(indices[i])` (k = `factors.cols()` factors) and `x_i = values[i]`.
///
/// Vectorised over the k factors. Writes `sum[f] = sum_i v_if x_i` (k elements), which
/// `fm_pairwise_gradient` needs; the forward and backward passes share it.
/// @complexity 3·k·nnz flops; nnz rows of k factors read.
template <class Arch = default_arch, class T>
[[nodiscard]] inline T fm_pairwise(matrix_view<const T> factors, const std::uint32_t* indices,
                                   const T* values, std::size_t nnz, T* sum) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t w = batch::size;
  const std::size_t k = factors.cols();
  batch total(T(0));
  std::size_t f = 0;
  for (; f + w <= k; f += w) {
    batch s(T(0)), squares(T(0));
    for (std::size_t i = 0; i < nnz; ++i) {
      const batch xv = batch::load_unaligned(factors.row(indices[i]).data() + f) * values[i];
      s += xv;
      squares = xsimd::fma(xv, xv, squares);
    }
    s.store_unaligned(sum + f);
    total = xsimd::fma(s, s, total) - squares;
  }
  T result = xsimd::hadd(total);
  for (; f < k; ++f) {
    T s = 0, squares = 0;
    for (std::size_t i = 0; i < nnz; ++i) {
      const T xv = factors(indices[i], f) * values[i];
      s += xv;
      squares += xv * xv;
    }
    sum[f] = s;
    result += s * s - squares;
  }
  return result / 2;
}

/// Gradient of `fm_pairwise` with respect to each example's factors:
/// `grad(i, f) = x_i (sum_f - v_if x_i)` for `i < nnz`, `f < k` (Rendle 2010, eq. 8).
/// @param sum the `k` values written by `fm_pairwise` for the same example.
/// @param grad `nnz × k`; row i is the gradient for `factors.row(indices[i])` (repeated indices
///   get one row each: their updates add up).
/// @complexity 2·k·nnz flops.
template <class Arch = default_arch, class T>
inline void fm_pairwise_gradient(matrix_view<const T> factors, const std::uint32_t* indices,
                                 const T* values, std::size_t nnz, const T* sum,
                                 matrix_view<T> grad) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t w = batch::size;
  const std::size_t k = factors.cols();
  for (std::size_t i = 0; i < nnz; ++i) {
    const T x = values[i];
    const T* v = factors.row(indices[i]).data();
    T* g = grad.row(i).data();
    std::size_t f = 0;
    for (; f + w <= k; f += w) {
      const batch vf = batch::load_unaligned(v + f);
      (batch(x) * xsimd::fnma(vf, batch(x), batch::load_unaligned(sum + f))).store_unaligned(g + f);
    }
    for (; f < k; ++f) {
      g[f] = x * (sum[f] - v[f] * x);
    }
  }
}

} // namespace kernels
MLSD_END_NAMESPACE
