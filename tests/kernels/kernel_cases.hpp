// Shared fixtures of the kernel tests: the (value type, architecture) pairs this build can run,
// and buffers deliberately misaligned by one element.
#pragma once

// mlsd first: it includes xsimd with the g++ 12 intrinsics false positive silenced (arch.hpp).
#include <mlsd/kernels/arch.hpp>

#include <cstddef>
#include <cstdint>
#include <random>
#include <tuple>
#include <vector>

namespace mlsd_test {

template <class T, class Arch>
struct kernel_case {
  using value_type = T;
  using arch = Arch;
  static constexpr std::size_t width = xsimd::batch<T, Arch>::size;
};

// Every architecture the compiler flags enable, so that one -march=native build tests the SSE2,
// AVX2 and AVX-512 code paths, and a portable build tests SSE2.
using kernel_cases =
    std::tuple<kernel_case<float, xsimd::sse2>, kernel_case<double, xsimd::sse2>
#if XSIMD_WITH_FMA3_AVX2
               ,
               kernel_case<float, xsimd::fma3<xsimd::avx2>>,
               kernel_case<double, xsimd::fma3<xsimd::avx2>>
#endif
#if XSIMD_WITH_AVX512BW
               ,
               kernel_case<float, xsimd::avx512bw>, kernel_case<double, xsimd::avx512bw>
#endif
               >;

// Sizes every kernel is tested at: 0 to 3 × batch width + 1.
template <class Case>
std::vector<std::size_t> test_sizes() {
  std::vector<std::size_t> sizes;
  for (std::size_t n = 0; n <= 3 * Case::width + 1; ++n) {
    sizes.push_back(n);
  }
  return sizes;
}

// `size` elements starting one element past an aligned allocation, so no SIMD load is aligned.
template <class T>
class unaligned_buffer {
public:
  explicit unaligned_buffer(std::size_t size)
      : storage_(size + 1) {}
  [[nodiscard]] T* data() noexcept { return storage_.data() + 1; }
  [[nodiscard]] const T* data() const noexcept { return storage_.data() + 1; }
  [[nodiscard]] std::size_t size() const noexcept { return storage_.size() - 1; }
  T& operator[](std::size_t i) noexcept { return data()[i]; }
  const T& operator[](std::size_t i) const noexcept { return data()[i]; }

private:
  std::vector<T, xsimd::aligned_allocator<T, 64>> storage_;
};

template <class T>
unaligned_buffer<T> random_buffer(std::size_t n, std::mt19937& rng, T lo = T(-1), T hi = T(1)) {
  unaligned_buffer<T> b(n);
  std::uniform_real_distribution<T> dist(lo, hi);
  for (std::size_t i = 0; i < n; ++i) {
    b[i] = dist(rng);
  }
  return b;
}

// Small integers: every dot product of them is exact in float and double, so SIMD and scalar
// results must agree bit for bit, ties included.
template <class T>
unaligned_buffer<T> integer_buffer(std::size_t n, std::mt19937& rng, int lo = -3, int hi = 3) {
  unaligned_buffer<T> b(n);
  std::uniform_int_distribution<int> dist(lo, hi);
  for (std::size_t i = 0; i < n; ++i) {
    b[i] = static_cast<T>(dist(rng));
  }
  return b;
}

// Rounding bound for a sum of n products with absolute sum `magnitude`.
template <class T>
T dot_tolerance(std::size_t n, T magnitude) {
  return T(2) * static_cast<T>(n + 1) * std::numeric_limits<T>::epsilon() * magnitude +
         std::numeric_limits<T>::min();
}

} // namespace mlsd_test
