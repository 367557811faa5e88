#include "kernel_cases.hpp"

#include <mlsd/kernels/arch.hpp>

#include <catch2/catch.hpp>

TEMPLATE_LIST_TEST_CASE("haddp returns the sum of row r in lane r", "[kernels][arch]",
                        mlsd_test::kernel_cases) {
  using T = typename TestType::value_type;
  using batch = xsimd::batch<T, typename TestType::arch>;
  constexpr std::size_t w = batch::size;
  batch rows[w];
  for (std::size_t r = 0; r < w; ++r) {
    alignas(64) T x[w];
    for (std::size_t j = 0; j < w; ++j) {
      x[j] = static_cast<T>(100 * r + j); // row r sums to 100 r w + w(w-1)/2
    }
    rows[r] = batch::load_aligned(x);
  }
  alignas(64) T sums[w];
  mlsd::kernels::detail::haddp(rows).store_aligned(sums);
  for (std::size_t r = 0; r < w; ++r) {
    CAPTURE(r);
    CHECK(sums[r] == static_cast<T>(100 * r * w + w * (w - 1) / 2));
  }
}

TEST_CASE("the kernels report the architecture they were compiled for", "[kernels][arch]") {
  CHECK(std::string(mlsd::kernels::arch_name()) == mlsd::kernels::default_arch::name());
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
  CHECK(mlsd::kernels::uses_vnni);
#else
  CHECK_FALSE(mlsd::kernels::uses_vnni);
#endif
}
