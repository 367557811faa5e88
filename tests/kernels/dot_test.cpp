#include "kernel_cases.hpp"

#include <mlsd/kernels/dot.hpp>

#include <catch2/catch.hpp>

#include <cmath>

TEMPLATE_LIST_TEST_CASE("dot agrees with the scalar reference at every size, unaligned",
                        "[kernels][dot]", mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  std::mt19937 rng(42);
  for (const std::size_t n : mlsd_test::test_sizes<TestType>()) {
    const auto a = mlsd_test::random_buffer<T>(n, rng);
    const auto b = mlsd_test::random_buffer<T>(n, rng);
    T magnitude = 0;
    for (std::size_t i = 0; i < n; ++i) {
      magnitude += std::abs(a[i] * b[i]);
    }
    const T expected = mlsd::kernels::reference::dot(a.data(), b.data(), n);
    const T got = mlsd::kernels::dot<Arch>(a.data(), b.data(), n);
    CAPTURE(n);
    CHECK(std::abs(got - expected) <= mlsd_test::dot_tolerance(n, magnitude));
  }
}

TEMPLATE_LIST_TEST_CASE("dot is exact on integer data and zero for n = 0", "[kernels][dot]",
                        mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  std::mt19937 rng(7);
  for (const std::size_t n :
       {std::size_t{0}, std::size_t{1}, 4 * TestType::width + 3, std::size_t{1000}}) {
    const auto a = mlsd_test::integer_buffer<T>(n, rng);
    const auto b = mlsd_test::integer_buffer<T>(n, rng);
    CAPTURE(n);
    CHECK(mlsd::kernels::dot<Arch>(a.data(), b.data(), n) ==
          mlsd::kernels::reference::dot(a.data(), b.data(), n));
  }
}

TEMPLATE_LIST_TEST_CASE("sum agrees with the scalar reference at every size, unaligned",
                        "[kernels][dot]", mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  std::mt19937 rng(43);
  for (const std::size_t n : mlsd_test::test_sizes<TestType>()) {
    const auto a = mlsd_test::integer_buffer<T>(n, rng);
    CAPTURE(n);
    // Integer values: every partial sum is exact, so the orders of summation agree exactly.
    CHECK(mlsd::kernels::sum<Arch>(a.data(), n) == mlsd::kernels::reference::sum(a.data(), n));
  }
  const auto b = mlsd_test::random_buffer<T>(1000, rng);
  CHECK(std::abs(mlsd::kernels::sum<Arch>(b.data(), 1000) -
                 mlsd::kernels::reference::sum(b.data(), 1000)) <=
        mlsd_test::dot_tolerance(1000, T(1000)));
}
