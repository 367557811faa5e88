/// @file
/// Vectorised logistic sigmoid and log loss, numerically stable for any finite input.
#pragma once

#include <mlsd/core/version.hpp>
#include <mlsd/kernels/arch.hpp>

#include <cmath>
#include <cstddef>

MLSD_BEGIN_NAMESPACE
namespace kernels {

namespace reference {
/// The textbook formula `1 / (1 + exp(-x))`, the yardstick for `kernels::sigmoid`.
template <class T>
[[nodiscard]] inline T sigmoid(T x) noexcept {
  return T(1) / (T(1) + std::exp(-x));
}
/// Log loss of logit `z` for label `y` in [0, 1]: `-y log p - (1-y) log(1-p)`, `p = sigmoid(z)`,
/// in the stable form `max(z, 0) - z y + log1p(exp(-|z|))`.
template <class T>
[[nodiscard]] inline T log_loss(T z, T y) noexcept {
  return std::fmax(z, T(0)) - z * y + std::log1p(std::exp(-std::fabs(z)));
}
} // namespace reference

namespace detail {
/// `exp(-|x|)`, with |x| capped at 1000 and NaN kept out of the exponential (and put back
/// after): beyond 746 the result is 0 in float and double alike, and xsimd's exp converts
/// x·log2(e) to an integer, which for |x| near 1e30, or NaN, is out of range (undefined
/// behaviour, which clang's UBSan reports).
template <class Arch, class T>
[[nodiscard]] inline xsimd::batch<T, Arch> exp_minus_abs(const xsimd::batch<T, Arch>& x) noexcept {
  using batch = xsimd::batch<T, Arch>;
  const batch a = xsimd::abs(x);
  const batch cap(T(1000));
  const batch e = xsimd::exp(-xsimd::select(a <= cap, a, cap)); // NaN compares false: cap
  return xsimd::select(xsimd::isnan(a), a, e);
}
template <class Arch, class T>
[[nodiscard]] inline xsimd::batch<T, Arch> sigmoid(const xsimd::batch<T, Arch>& x) noexcept {
  using batch = xsimd::batch<T, Arch>;
  // exp(-|x|) is in [0, 1], so neither branch overflows: x = ±1e30 gives exactly 1 or 0.
  const batch e = exp_minus_abs(x);
  const batch one(T(1));
  const batch r = one / (one + e);
  return xsimd::select(x >= batch(T(0)), r, e * r);
}
template <class Arch, class T>
[[nodiscard]] inline xsimd::batch<T, Arch> log_loss(const xsimd::batch<T, Arch>& z,
                                                    const xsimd::batch<T, Arch>& y) noexcept {
  using batch = xsimd::batch<T, Arch>;
  return xsimd::max(z, batch(T(0))) - z * y + xsimd::log1p(exp_minus_abs(z));
}
} // namespace detail

/// `out[i] = 1 / (1 + exp(-x[i]))` for `i < n`, computed as `1/(1+e)` or `e/(1+e)` with
/// `e = exp(-|x|)` so that nothing overflows: the result is finite and in [0, 1] for every
/// non-NaN input, including ±inf and |x| up to the largest finite value.
///
/// Relative error against `reference::sigmoid` is at most 1e-6 wherever the result is a normal
/// number (tests/kernels/sigmoid_test.cpp). NaN: `sigmoid(NaN)` is NaN (it propagates, as in the
/// textbook formula), so a diverged model shows up instead of being clipped to 0 or 1.
/// `out` may equal `x` (in place).
template <class Arch = default_arch, class T>
inline void sigmoid(const T* x, T* out, std::size_t n) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t w = batch::size;
  std::size_t i = 0;
  for (; i + w <= n; i += w) {
    detail::sigmoid(batch::load_unaligned(x + i)).store_unaligned(out + i);
  }
  for (; i < n; ++i) {
    const T e = std::exp(-std::fabs(x[i]));
    const T r = T(1) / (T(1) + e);
    out[i] = x[i] >= T(0) ? r : e * r;
  }
}

/// Sum over `i < n` of the log loss of logit `logits[i]` for label `labels[i]` in [0, 1], in the
/// stable form `max(z, 0) - z y + log1p(exp(-|z|))` (no `log(0)`: finite for every finite z, a
/// confident mistake at |z| = 1e30 costs 1e30). Returns the sum, not the mean, so that partial
/// sums merge; divide by n for the average.
///
/// NaN: a NaN logit or label makes the sum NaN, deliberately, so that a diverged model never
/// reports a good loss.
template <class Arch = default_arch, class T>
[[nodiscard]] inline T log_loss_sum(const T* logits, const T* labels, std::size_t n) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t w = batch::size;
  // The loop bounds are computed once (not `i + w <= n`): g++ 12 otherwise "proves" undefined
  // behaviour in the tail for small constant n and warns under -Waggressive-loop-optimizations.
  const std::size_t vector_end = n - n % w;
  batch acc(T(0));
  for (std::size_t i = 0; i < vector_end; i += w) {
    acc += detail::log_loss(batch::load_unaligned(logits + i), batch::load_unaligned(labels + i));
  }
  T sum = xsimd::hadd(acc);
  for (std::size_t i = vector_end; i < n; ++i) {
    sum += reference::log_loss(logits[i], labels[i]);
  }
  return sum;
}

} // namespace kernels
MLSD_END_NAMESPACE
