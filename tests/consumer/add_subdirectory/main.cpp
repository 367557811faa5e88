// Uses mlsd added with add_subdirectory, through <mlsd/mlsd.hpp>; built without any -march flag.
#include <mlsd/mlsd.hpp>

#include <array>
#include <cstdio>
#include <span>

#if defined(MLSD_CONSUMER_EXPECT_NO_AVX) && defined(__AVX__)
#error "linking mlsd::mlsd enabled AVX: mlsd must not add -march or -m<isa> flags to consumers"
#endif

int main() {
  // Three items in two dimensions; the query prefers the second coordinate.
  const std::array<float, 6> items = {1.0f, 0.0f, 0.0f, 1.0f, 0.5f, 0.5f};
  const std::array<float, 2> query = {0.1f, 1.0f};
  const mlsd::matrix_view<const float> table(items.data(), 3, 2);
  std::array<mlsd::kernels::scored_id<float>, 2> best{};
  const std::size_t found =
      mlsd::kernels::top_k(table, query.data(), std::span<mlsd::kernels::scored_id<float>>(best));
  if (found != 2 || best[0].id != 1 || best[1].id != 2) {
    std::fprintf(stderr, "top_k returned %zu results, ids %zu %zu; expected 2, ids 1 2\n", found,
                 best[0].id, best[1].id);
    return 1;
  }
  std::printf("mlsd %s (%s): top-2 = %zu, %zu\n", mlsd::version_string, mlsd::kernels::arch_name(),
              best[0].id, best[1].id);
  return 0;
}
