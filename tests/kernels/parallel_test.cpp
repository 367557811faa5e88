#include "kernel_cases.hpp"

#include <mlsd/kernels/parallel.hpp>

#include <catch2/catch.hpp>

namespace {
using mlsd::kernels::scored_id;
}

TEST_CASE("split_rows makes ranges that start at multiples of 64 and cover every row",
          "[kernels][parallel]") {
  for (const std::size_t n :
       {std::size_t{0}, std::size_t{1}, std::size_t{64}, std::size_t{65}, std::size_t{1000}}) {
    for (const std::size_t threads :
         {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{16}}) {
      const auto bounds = mlsd::kernels::detail::split_rows(n, threads);
      CAPTURE(n, threads);
      REQUIRE(bounds.size() >= 2);
      CHECK(bounds.front() == 0);
      CHECK(bounds.back() == n);
      CHECK(bounds.size() - 1 <= threads);
      for (std::size_t p = 0; p + 1 < bounds.size(); ++p) {
        CHECK(bounds[p] % 64 == 0);
        CHECK(bounds[p] <= bounds[p + 1]);
      }
    }
  }
}

TEMPLATE_LIST_TEST_CASE("top_k_parallel returns exactly the single-threaded result",
                        "[kernels][parallel]", mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  std::mt19937 rng(51);
  for (const std::size_t n :
       {std::size_t{0}, std::size_t{5}, std::size_t{130}, std::size_t{1000}}) {
    const std::size_t d = 19;
    // Real-valued data: equality holds because each row is scored by the same instructions.
    const auto table = mlsd_test::random_buffer<T>(n * d, rng);
    const auto query = mlsd_test::random_buffer<T>(d, rng);
    const mlsd::matrix_view<const T> view(table.data(), n, d);
    const auto odd = [](std::size_t id) noexcept { return id % 2 == 1; };
    for (const std::size_t k : {std::size_t{1}, std::size_t{10}, std::size_t{2000}}) {
      std::vector<scored_id<T>> serial(k), serial_odd(k);
      const std::size_t expected =
          mlsd::kernels::top_k<Arch>(view, query.data(), std::span(serial));
      const std::size_t expected_odd =
          mlsd::kernels::top_k<Arch>(view, query.data(), std::span(serial_odd), odd);
      for (const std::size_t threads :
           {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}}) {
        std::vector<scored_id<T>> got(k);
        CAPTURE(n, k, threads);
        REQUIRE(mlsd::kernels::top_k_parallel<Arch>(view, query.data(), std::span(got), threads) ==
                expected);
        CHECK(std::equal(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(expected),
                         serial.begin()));
        REQUIRE(mlsd::kernels::top_k_parallel<Arch>(view, query.data(), std::span(got), threads,
                                                    odd) == expected_odd);
        CHECK(std::equal(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(expected_odd),
                         serial_odd.begin()));
      }
    }
  }
}

TEMPLATE_LIST_TEST_CASE("top_k_batch_parallel returns exactly the single-threaded result",
                        "[kernels][parallel]", mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  std::mt19937 rng(52);
  const std::size_t n = 777, d = 24, m = 9, k = 12;
  const auto table = mlsd_test::random_buffer<T>(n * d, rng);
  const auto queries = mlsd_test::random_buffer<T>(m * d, rng);
  const mlsd::matrix_view<const T> view(table.data(), n, d);
  const mlsd::matrix_view<const T> qview(queries.data(), m, d);
  const auto filter = [](std::size_t q, std::size_t id) noexcept { return (id + q) % 5 == 0; };
  std::vector<scored_id<T>> serial(m * k);
  std::vector<std::size_t> serial_counts(m);
  mlsd::kernels::top_k_batch<Arch>(view, qview,
                                   mlsd::matrix_view<scored_id<T>>(serial.data(), m, k),
                                   std::span(serial_counts), filter);
  for (const std::size_t threads : {std::size_t{1}, std::size_t{2}, std::size_t{5}}) {
    std::vector<scored_id<T>> got(m * k);
    std::vector<std::size_t> counts(m);
    mlsd::kernels::top_k_batch_parallel<Arch>(view, qview,
                                              mlsd::matrix_view<scored_id<T>>(got.data(), m, k),
                                              std::span(counts), threads, filter);
    CAPTURE(threads);
    CHECK(counts == serial_counts);
    CHECK(got == serial);
  }
}
