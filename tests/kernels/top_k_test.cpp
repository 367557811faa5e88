#include "kernel_cases.hpp"

#include <mlsd/kernels/top_k.hpp>

#include <catch2/catch.hpp>

#include <limits>

namespace {
using mlsd::kernels::scored_id;

// Integer data makes every score exact, so the SIMD kernel and the reference must return the same
// ids in the same order, ties included.
template <class Case>
void check_against_reference(std::size_t n, std::size_t d, std::size_t k, std::mt19937& rng) {
  using T = typename Case::value_type;
  const auto table = mlsd_test::integer_buffer<T>(n * d, rng, -2, 2);
  const auto query = mlsd_test::integer_buffer<T>(d, rng, -2, 2);
  const mlsd::matrix_view<const T> view(table.data(), n, d);
  std::vector<scored_id<T>> got(k), expected(k);
  const std::size_t count =
      mlsd::kernels::top_k<typename Case::arch>(view, query.data(), std::span(got));
  const std::size_t expected_count =
      mlsd::kernels::reference::top_k(view, query.data(), std::span(expected));
  CAPTURE(n, d, k);
  REQUIRE(count == std::min(n, k));
  REQUIRE(count == expected_count);
  for (std::size_t i = 0; i < count; ++i) {
    CAPTURE(i);
    CHECK(got[i] == expected[i]);
  }
}
} // namespace

TEMPLATE_LIST_TEST_CASE("top_k equals the sorted reference for every size, ties by lower id",
                        "[kernels][top_k]", mlsd_test::kernel_cases) {
  std::mt19937 rng(3);
  for (const std::size_t n : mlsd_test::test_sizes<TestType>()) {
    for (const std::size_t d : {std::size_t{1}, std::size_t{3}, TestType::width + 1}) {
      for (const std::size_t k : {std::size_t{1}, std::size_t{2}, std::size_t{10}}) {
        check_against_reference<TestType>(n, d, k, rng);
      }
    }
  }
  // Many ties (values in {-2..2}, d = 2) over a long table, k up to 1000 and beyond n.
  for (const std::size_t k : {std::size_t{1}, std::size_t{100}, std::size_t{1000}}) {
    check_against_reference<TestType>(2000, 2, k, rng);
  }
  check_against_reference<TestType>(500, 8, 1000, rng);
}

TEMPLATE_LIST_TEST_CASE("top_k returns n results when k > n and none when k = 0",
                        "[kernels][top_k]", mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  std::vector<T> table = {1, 0, 0, 1, 1, 1};
  const std::vector<T> query = {1, 2};
  const mlsd::matrix_view<const T> view(table.data(), 3, 2);
  std::vector<scored_id<T>> out(5);
  REQUIRE(mlsd::kernels::top_k<typename TestType::arch>(view, query.data(), std::span(out)) == 3);
  CHECK(out[0] == scored_id<T>{3, 2});
  CHECK(out[1] == scored_id<T>{2, 1});
  CHECK(out[2] == scored_id<T>{1, 0});
  CHECK(mlsd::kernels::top_k<typename TestType::arch>(view, query.data(),
                                                      std::span<scored_id<T>>()) == 0);
}

TEMPLATE_LIST_TEST_CASE("top_k never returns excluded ids or NaN scores", "[kernels][top_k]",
                        mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  std::mt19937 rng(4);
  const std::size_t n = 5 * TestType::width + 3, d = 5, k = 6;
  auto table = mlsd_test::integer_buffer<T>(n * d, rng);
  const auto query = mlsd_test::integer_buffer<T>(d, rng);
  table[7 * d + 2] = std::numeric_limits<T>::quiet_NaN(); // row 7 scores NaN
  const mlsd::matrix_view<const T> view(table.data(), n, d);

  // Exclude the unfiltered top 3 plus some others: the result is the reference minus them.
  std::vector<scored_id<T>> unfiltered(k);
  REQUIRE(mlsd::kernels::top_k<Arch>(view, query.data(), std::span(unfiltered)) == k);
  std::vector<std::size_t> seen = {unfiltered[0].id, unfiltered[1].id, unfiltered[2].id, 0, n - 1};
  std::sort(seen.begin(), seen.end());
  const mlsd::kernels::exclude_sorted_ids filter(seen);

  std::vector<scored_id<T>> got(k), expected(k);
  const std::size_t count = mlsd::kernels::top_k<Arch>(view, query.data(), std::span(got), filter);
  const std::size_t expected_count =
      mlsd::kernels::reference::top_k(view, query.data(), std::span(expected), filter);
  REQUIRE(count == k);
  REQUIRE(expected_count == k);
  for (std::size_t i = 0; i < k; ++i) {
    CHECK(got[i] == expected[i]);
    CHECK_FALSE(std::binary_search(seen.begin(), seen.end(), got[i].id));
    CHECK(got[i].id != 7);
  }

  // Excluding everything (or all rows NaN) returns nothing.
  const auto everything = [](std::size_t) noexcept { return true; };
  CHECK(mlsd::kernels::top_k<Arch>(view, query.data(), std::span(got), everything) == 0);
  std::vector<T> nan_table(n * d, std::numeric_limits<T>::quiet_NaN());
  CHECK(mlsd::kernels::top_k<Arch>(mlsd::matrix_view<const T>(nan_table.data(), n, d), query.data(),
                                   std::span(got)) == 0);
}

TEMPLATE_LIST_TEST_CASE("top_k_batch equals one top_k per query, with per-query filters",
                        "[kernels][top_k]", mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  std::mt19937 rng(5);
  // d = 3 and 64 take the transposed-query blocks (m = 70 spans more than one block); d = 2100
  // is too long for a block and takes the tiled path.
  struct shape {
    std::size_t d, m;
  };
  for (const shape sh : {shape{3, 5}, shape{64, 5}, shape{5, 70}, shape{2100, 3}}) {
    const std::size_t d = sh.d, m = sh.m, k = 9;
    const std::size_t n =
        std::min<std::size_t>(2 * mlsd::kernels::detail::tile_rows<T, TestType::width>(d) + 7, 300);
    const auto table = mlsd_test::integer_buffer<T>(n * d, rng);
    const auto queries = mlsd_test::integer_buffer<T>(m * d, rng);
    const mlsd::matrix_view<const T> view(table.data(), n, d);
    // Query q may not see ids divisible by q + 2.
    const auto filter = [](std::size_t q, std::size_t id) noexcept { return id % (q + 2) == 0; };
    std::vector<scored_id<T>> out(m * k);
    std::vector<std::size_t> counts(m, 99);
    mlsd::kernels::top_k_batch<Arch>(view, mlsd::matrix_view<const T>(queries.data(), m, d),
                                     mlsd::matrix_view<scored_id<T>>(out.data(), m, k),
                                     std::span(counts), filter);
    for (std::size_t q = 0; q < m; ++q) {
      std::vector<scored_id<T>> single(k);
      const auto filter_q = [&](std::size_t id) noexcept { return filter(q, id); };
      const std::size_t count = mlsd::kernels::reference::top_k(view, queries.data() + q * d,
                                                                std::span(single), filter_q);
      CAPTURE(d, q);
      REQUIRE(counts[q] == count);
      for (std::size_t i = 0; i < count; ++i) {
        CHECK(out[q * k + i] == single[i]);
      }
    }
  }
}

TEST_CASE("ranks_before orders by score, then by lower id", "[kernels][top_k]") {
  using mlsd::kernels::ranks_before;
  CHECK(ranks_before(scored_id<float>{2, 9}, scored_id<float>{1, 0}));
  CHECK(ranks_before(scored_id<float>{1, 3}, scored_id<float>{1, 4}));
  CHECK_FALSE(ranks_before(scored_id<float>{1, 4}, scored_id<float>{1, 3}));
  CHECK_FALSE(ranks_before(scored_id<float>{1, 4}, scored_id<float>{1, 4}));
}
