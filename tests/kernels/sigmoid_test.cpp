#include "kernel_cases.hpp"

#include <mlsd/kernels/sigmoid.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

TEMPLATE_LIST_TEST_CASE("sigmoid is within 1e-6 relative error of 1/(1+exp(-x))",
                        "[kernels][sigmoid]", mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  // The sweep covers every x whose sigmoid is a normal number of type T.
  const T limit = std::is_same_v<T, float> ? T(87) : T(708);
  const std::size_t n = 20001;
  mlsd_test::unaligned_buffer<T> x(n), out(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = -limit + T(2) * limit * static_cast<T>(i) / static_cast<T>(n - 1);
  }
  mlsd::kernels::sigmoid<Arch>(x.data(), out.data(), n);
  T worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    // The formula evaluated in long double is the yardstick; in T it would itself be off by an ulp.
    const long double exact = mlsd::kernels::reference::sigmoid(static_cast<long double>(x[i]));
    worst = std::max(worst, static_cast<T>(std::fabs((out[i] - exact) / exact)));
  }
  CHECK(worst <= T(1e-6));
  // Sizes around the batch width exercise the scalar tail.
  for (const std::size_t m : mlsd_test::test_sizes<TestType>()) {
    mlsd_test::unaligned_buffer<T> y(m), z(m);
    for (std::size_t i = 0; i < m; ++i) {
      y[i] = T(0.37) * static_cast<T>(i) - T(3);
    }
    mlsd::kernels::sigmoid<Arch>(y.data(), z.data(), m);
    for (std::size_t i = 0; i < m; ++i) {
      CHECK(z[i] == Approx(mlsd::kernels::reference::sigmoid(y[i])).epsilon(1e-6));
    }
  }
}

TEMPLATE_LIST_TEST_CASE("sigmoid is finite at the extremes and propagates NaN",
                        "[kernels][sigmoid]", mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  constexpr T inf = std::numeric_limits<T>::infinity();
  const std::vector<T> x = {T(1e30),
                            T(-1e30),
                            inf,
                            -inf,
                            std::numeric_limits<T>::max(),
                            std::numeric_limits<T>::lowest(),
                            T(0),
                            std::numeric_limits<T>::quiet_NaN()};
  // Repeat to fill a whole batch as well as the scalar tail.
  std::vector<T> in;
  for (int r = 0; r < 4; ++r) {
    in.insert(in.end(), x.begin(), x.end());
  }
  std::vector<T> out(in.size());
  mlsd::kernels::sigmoid<Arch>(in.data(), out.data(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    CAPTURE(i, in[i]);
    if (std::isnan(in[i])) {
      CHECK(std::isnan(out[i]));
    } else if (in[i] > 0) {
      CHECK(out[i] == T(1));
    } else if (in[i] < 0) {
      CHECK(out[i] == T(0));
    } else {
      CHECK(out[i] == T(0.5));
    }
  }
}

TEMPLATE_LIST_TEST_CASE("log_loss_sum matches the stable formula and stays finite",
                        "[kernels][sigmoid]", mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using Arch = typename TestType::arch;
  std::mt19937 rng(41);
  for (const std::size_t n : mlsd_test::test_sizes<TestType>()) {
    const auto z = mlsd_test::random_buffer<T>(n, rng, T(-20), T(20));
    const auto y = mlsd_test::integer_buffer<T>(n, rng, 0, 1);
    long double expected = 0;
    for (std::size_t i = 0; i < n; ++i) {
      // The textbook -y log p - (1-y) log(1-p), in long double.
      const long double p = mlsd::kernels::reference::sigmoid(static_cast<long double>(z[i]));
      expected += -y[i] * std::log(p) - (1 - y[i]) * std::log1p(-p);
    }
    CAPTURE(n);
    CHECK(mlsd::kernels::log_loss_sum<Arch>(z.data(), y.data(), n) ==
          Approx(static_cast<double>(expected)).epsilon(1e-5).margin(1e-5));
  }
  // Confident and right costs 0; confident and wrong costs |z|; all finite at |z| = 1e30.
  const std::vector<T> z = {T(1e30), T(-1e30), T(1e30), T(-1e30)};
  const std::vector<T> y = {T(1), T(0), T(0), T(1)};
  CHECK(mlsd::kernels::log_loss_sum<Arch>(z.data(), y.data(), 2) == T(0));
  CHECK(mlsd::kernels::log_loss_sum<Arch>(z.data() + 2, y.data() + 2, 2) == T(2e30));
  std::vector<T> many_z(4 * TestType::width, T(1e30)), many_y(4 * TestType::width, T(0));
  CHECK(std::isfinite(
      mlsd::kernels::log_loss_sum<Arch>(many_z.data(), many_y.data(), many_z.size())));
  // NaN makes the sum NaN.
  many_z[TestType::width + 1] = std::numeric_limits<T>::quiet_NaN();
  CHECK(std::isnan(mlsd::kernels::log_loss_sum<Arch>(many_z.data(), many_y.data(), many_z.size())));
}
