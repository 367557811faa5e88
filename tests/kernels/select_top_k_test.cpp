// select_top_k: the best k of a score array (include/mlsd/kernels/top_k.hpp).
#include "kernel_cases.hpp"

#include <mlsd/kernels/top_k.hpp>

#include <catch2/catch.hpp>

#include <limits>
#include <span>
#include <vector>

using mlsd::kernels::scored_id;

TEMPLATE_LIST_TEST_CASE("select_top_k equals the sorted reference, ties by lower id",
                        "[kernels][top_k]", mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  std::mt19937 rng(11);
  for (const std::size_t n : mlsd_test::test_sizes<TestType>()) {
    // Small integers: many ties.
    const auto scores = mlsd_test::integer_buffer<T>(n, rng, -2, 2);
    const std::span<const T> view(scores.data(), n);
    for (const std::size_t k : {std::size_t{0}, std::size_t{1}, std::size_t{3}, n + 2}) {
      CAPTURE(n, k);
      std::vector<scored_id<T>> got(k), expected(k);
      const std::size_t count = mlsd::kernels::select_top_k<Arch>(view, std::span(got));
      REQUIRE(count == mlsd::kernels::reference::select_top_k(view, std::span(expected)));
      REQUIRE(count == std::min(k, n));
      for (std::size_t i = 0; i < count; ++i) {
        CHECK(got[i] == expected[i]);
      }
    }
  }
}

TEMPLATE_LIST_TEST_CASE("select_top_k skips NaN scores and excluded ids", "[kernels][top_k]",
                        mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  std::mt19937 rng(12);
  const std::size_t n = 4 * TestType::width + 3;
  auto scores = mlsd_test::random_buffer<T>(n, rng);
  scores[1] = std::numeric_limits<T>::quiet_NaN();
  scores[n - 1] = std::numeric_limits<T>::quiet_NaN();
  scores[2] = T(5); // the best, then excluded
  const std::vector<std::size_t> excluded_ids = {2, 4};
  const mlsd::kernels::exclude_sorted_ids filter(excluded_ids);
  const std::span<const T> view(scores.data(), n);
  std::vector<scored_id<T>> got(n), expected(n);
  const std::size_t count = mlsd::kernels::select_top_k<Arch>(view, std::span(got), filter);
  REQUIRE(count == n - 4);
  REQUIRE(mlsd::kernels::reference::select_top_k(view, std::span(expected), filter) == count);
  for (std::size_t i = 0; i < count; ++i) {
    CHECK(got[i] == expected[i]);
    CHECK(got[i].id != 2);
    CHECK(got[i].score == got[i].score);
  }
}
