// The embedding bag encoder (include/mlsd/model/embedding_bag.hpp).
#include <mlsd/model/embedding_bag.hpp>

#include <catch2/catch.hpp>

#include <vector>

TEST_CASE("embedding_bag averages the rows of its ids, modulo the row count",
          "[model][embedding]") {
  const std::vector<float> table = {1,  2,   // row 0
                                    3,  4,   // row 1
                                    10, 20}; // row 2
  mlsd::model::embedding_bag encode(mlsd::matrix_view<const float>(table.data(), 3, 2));
  CHECK(encode.dim() == 2);
  const std::vector<std::uint64_t> ids = {0, 1, 5}; // 5 % 3 = row 2
  const auto e = encode(ids);
  REQUIRE(e.size() == 2);
  CHECK(e[0] == Approx((1 + 3 + 10) / 3.0));
  CHECK(e[1] == Approx((2 + 4 + 20) / 3.0));
  // An empty bag is the zero vector, also after a non-empty one (the buffer is reset).
  const auto zero = encode(std::span<const std::uint64_t>{});
  CHECK(zero[0] == 0.0f);
  CHECK(zero[1] == 0.0f);
  CHECK_THROWS_AS(mlsd::model::embedding_bag(mlsd::matrix_view<const float>()),
                  std::invalid_argument);
}
