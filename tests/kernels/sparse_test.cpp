#include "kernel_cases.hpp"

#include <mlsd/kernels/sparse.hpp>

#include <catch2/catch.hpp>

#include <cmath>

TEMPLATE_LIST_TEST_CASE("gather_dot agrees with the reference, repeated indices included",
                        "[kernels][sparse]", mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  std::mt19937 rng(21);
  const std::size_t table_size = 1000;
  const auto weights = mlsd_test::random_buffer<T>(table_size, rng);
  std::uniform_int_distribution<std::uint32_t> pick(0, 19); // few distinct indices: many repeats
  for (const std::size_t nnz : mlsd_test::test_sizes<TestType>()) {
    mlsd_test::unaligned_buffer<std::uint32_t> indices(nnz);
    for (std::size_t i = 0; i < nnz; ++i) {
      indices[i] = pick(rng) * 50 + 7;
    }
    const auto values = mlsd_test::random_buffer<T>(nnz, rng);
    T magnitude = 0;
    for (std::size_t i = 0; i < nnz; ++i) {
      magnitude += std::abs(weights[indices[i]] * values[i]);
    }
    CAPTURE(nnz);
    CHECK(std::abs(
              mlsd::kernels::gather_dot<Arch>(weights.data(), indices.data(), values.data(), nnz) -
              mlsd::kernels::reference::gather_dot(weights.data(), indices.data(), values.data(),
                                                   nnz)) <=
          mlsd_test::dot_tolerance(nnz, magnitude));
  }
}

TEMPLATE_LIST_TEST_CASE("scatter_update adds every update, also for repeated indices",
                        "[kernels][sparse]", mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  std::mt19937 rng(22);
  for (const std::size_t nnz : mlsd_test::test_sizes<TestType>()) {
    auto weights = mlsd_test::integer_buffer<T>(16, rng);
    std::vector<T> expected(weights.data(), weights.data() + 16);
    mlsd_test::unaligned_buffer<std::uint32_t> indices(nnz);
    const auto values = mlsd_test::integer_buffer<T>(nnz, rng);
    for (std::size_t i = 0; i < nnz; ++i) {
      indices[i] = static_cast<std::uint32_t>(i % 3); // indices 0, 1, 2 repeat
      expected[indices[i]] += T(2) * values[i];
    }
    mlsd::kernels::scatter_update(weights.data(), indices.data(), values.data(), nnz, T(2));
    for (std::size_t j = 0; j < 16; ++j) {
      CAPTURE(nnz, j);
      CHECK(weights[j] == expected[j]);
    }
  }
}
