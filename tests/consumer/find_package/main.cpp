// Uses an installed mlsd through <mlsd/mlsd.hpp>; built without any -march flag.
#include <mlsd/mlsd.hpp>

#include <cstdio>
#include <cstring>
#include <vector>

#if defined(MLSD_CONSUMER_EXPECT_NO_AVX) && defined(__AVX__)
#error "linking mlsd::mlsd enabled AVX: mlsd must not add -march or -m<isa> flags to consumers"
#endif

int main() {
  if (std::strcmp(mlsd::version_string, MLSD_CONSUMER_EXPECTED_VERSION) != 0) {
    std::fprintf(stderr, "header version %s != package version %s\n", mlsd::version_string,
                 MLSD_CONSUMER_EXPECTED_VERSION);
    return 1;
  }
  std::vector<float> a(37), b(37);
  float expected = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<float>(i);
    b[i] = 0.5f;
    expected += a[i] * b[i];
  }
  const float got = mlsd::kernels::dot(a.data(), b.data(), a.size());
  if (got != expected) {
    std::fprintf(stderr, "dot = %g, expected %g\n", static_cast<double>(got),
                 static_cast<double>(expected));
    return 1;
  }
  std::printf("mlsd %s (%s): dot = %g\n", mlsd::version_string, mlsd::kernels::arch_name(),
              static_cast<double>(got));
  return 0;
}
