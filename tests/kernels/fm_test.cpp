#include "kernel_cases.hpp"

#include <mlsd/kernels/fm.hpp>

#include <catch2/catch.hpp>

#include <cmath>

namespace {
template <class T>
struct fm_example {
  mlsd_test::unaligned_buffer<T> factors;
  std::vector<std::uint32_t> indices;
  mlsd_test::unaligned_buffer<T> values;
};

template <class T>
fm_example<T> make_example(std::size_t rows, std::size_t k, std::size_t nnz, std::mt19937& rng) {
  fm_example<T> e{mlsd_test::random_buffer<T>(rows * k, rng),
                  {},
                  mlsd_test::random_buffer<T>(nnz, rng, T(-2), T(2))};
  std::uniform_int_distribution<std::uint32_t> pick(0, static_cast<std::uint32_t>(rows - 1));
  for (std::size_t i = 0; i < nnz; ++i) {
    e.indices.push_back(pick(rng));
  }
  return e;
}
} // namespace

TEMPLATE_LIST_TEST_CASE("fm_pairwise equals the O(k nnz^2) definition for every k", "[kernels][fm]",
                        mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  std::mt19937 rng(31);
  const std::size_t rows = 40;
  for (const std::size_t k : mlsd_test::test_sizes<TestType>()) {
    for (const std::size_t nnz :
         {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{13}}) {
      auto e = make_example<T>(rows, k, nnz, rng);
      const mlsd::matrix_view<const T> factors(e.factors.data(), rows, k);
      std::vector<T> sum(k + 1, T(-7));
      const T got = mlsd::kernels::fm_pairwise<Arch>(factors, e.indices.data(), e.values.data(),
                                                     nnz, sum.data());
      const T expected =
          mlsd::kernels::reference::fm_pairwise(factors, e.indices.data(), e.values.data(), nnz);
      CAPTURE(k, nnz);
      CHECK(std::abs(got - expected) <=
            T(64) * std::numeric_limits<T>::epsilon() * static_cast<T>(nnz * nnz * (k + 1)));
      for (std::size_t f = 0; f < k; ++f) {
        T s = 0;
        for (std::size_t i = 0; i < nnz; ++i) {
          s += factors(e.indices[i], f) * e.values[i];
        }
        CHECK(std::abs(sum[f] - s) <= mlsd_test::dot_tolerance(nnz, T(2) * static_cast<T>(nnz)));
      }
      CHECK(sum[k] == T(-7)); // nothing written past k
    }
  }
}

TEMPLATE_LIST_TEST_CASE("fm_pairwise_gradient matches the formula and a finite difference",
                        "[kernels][fm]", mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  std::mt19937 rng(32);
  const std::size_t rows = 30, nnz = 6;
  for (const std::size_t k : mlsd_test::test_sizes<TestType>()) {
    auto e = make_example<T>(rows, k, nnz, rng);
    for (std::size_t i = 0; i < nnz; ++i) {
      e.indices[i] = static_cast<std::uint32_t>(3 * i); // distinct rows: d/dv is per example row
    }
    const mlsd::matrix_view<const T> factors(e.factors.data(), rows, k);
    std::vector<T> sum(k);
    (void)mlsd::kernels::fm_pairwise<Arch>(factors, e.indices.data(), e.values.data(), nnz,
                                           sum.data());
    std::vector<T> grad(nnz * k);
    mlsd::kernels::fm_pairwise_gradient<Arch>(factors, e.indices.data(), e.values.data(), nnz,
                                              sum.data(),
                                              mlsd::matrix_view<T>(grad.data(), nnz, k));
    for (std::size_t i = 0; i < nnz; ++i) {
      for (std::size_t f = 0; f < k; ++f) {
        const T x = e.values[i];
        CAPTURE(k, i, f);
        CHECK(grad[i * k + f] ==
              Approx(x * (sum[f] - factors(e.indices[i], f) * x)).margin(1e-5).epsilon(1e-5));
        // The pairwise term is quadratic in v_if, so a central difference is exact up to rounding.
        T& v = e.factors[e.indices[i] * k + f];
        const T h = T(1) / T(64), saved = v;
        v = saved + h;
        const T up =
            mlsd::kernels::reference::fm_pairwise(factors, e.indices.data(), e.values.data(), nnz);
        v = saved - h;
        const T down =
            mlsd::kernels::reference::fm_pairwise(factors, e.indices.data(), e.values.data(), nnz);
        v = saved;
        CHECK(grad[i * k + f] == Approx((up - down) / (2 * h)).margin(1e-3).epsilon(1e-3));
      }
    }
  }
}
