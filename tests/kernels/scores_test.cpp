#include "kernel_cases.hpp"

#include <mlsd/kernels/scores.hpp>

#include <catch2/catch.hpp>

#include <cmath>

TEMPLATE_LIST_TEST_CASE("scores matches the reference for every row count and dimension",
                        "[kernels][scores]", mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  std::mt19937 rng(1);
  for (const std::size_t d : mlsd_test::test_sizes<TestType>()) {
    for (const std::size_t n : mlsd_test::test_sizes<TestType>()) {
      // A row stride larger than d checks that padding is never read.
      const std::size_t stride = d + 3;
      auto table = mlsd_test::random_buffer<T>(n * stride, rng);
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = d; j < stride; ++j) {
          table[i * stride + j] = std::numeric_limits<T>::quiet_NaN();
        }
      }
      const auto query = mlsd_test::random_buffer<T>(d, rng);
      const mlsd::matrix_view<const T> view(table.data(), n, d, stride);
      mlsd_test::unaligned_buffer<T> got(n), expected(n);
      mlsd::kernels::scores<Arch>(view, query.data(), got.data());
      mlsd::kernels::reference::scores(view, query.data(), expected.data());
      for (std::size_t i = 0; i < n; ++i) {
        CAPTURE(d, n, i);
        CHECK(std::abs(got[i] - expected[i]) <= mlsd_test::dot_tolerance(d, static_cast<T>(d)));
      }
    }
  }
}

TEMPLATE_LIST_TEST_CASE("scores_batch equals one scores call per query", "[kernels][scores]",
                        mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  std::mt19937 rng(2);
  // Enough rows to span several L1 tiles, plus a ragged tail.
  for (const std::size_t d : {std::size_t{1}, std::size_t{17}, std::size_t{64}}) {
    const std::size_t n = 3 * mlsd::kernels::detail::tile_rows<T, TestType::width>(d) + 5;
    const std::size_t m = 7;
    const auto table = mlsd_test::integer_buffer<T>(n * d, rng);
    const auto queries = mlsd_test::integer_buffer<T>(m * d, rng);
    std::vector<T> out(m * n, T(-1));
    mlsd::kernels::scores_batch<Arch>(mlsd::matrix_view<const T>(table.data(), n, d),
                                      mlsd::matrix_view<const T>(queries.data(), m, d),
                                      mlsd::matrix_view<T>(out.data(), m, n));
    std::vector<T> single(n);
    for (std::size_t q = 0; q < m; ++q) {
      mlsd::kernels::reference::scores(mlsd::matrix_view<const T>(table.data(), n, d),
                                       queries.data() + q * d, single.data());
      for (std::size_t i = 0; i < n; ++i) {
        CAPTURE(d, q, i);
        REQUIRE(out[q * n + i] == single[i]);
      }
    }
  }
}
