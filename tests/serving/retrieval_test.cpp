// Retrieval stages (include/mlsd/serving/retrieval.hpp): each equals the kernels' scalar
// references, and they compose into retrieve -> show pipelines.
#include <mlsd/serving/retrieval.hpp>

#include <catch2/catch.hpp>

#include <numeric>
#include <random>
#include <vector>

using mlsd::kernels::scored_id;

namespace {

struct catalog {
  catalog(std::size_t n, std::size_t d, unsigned seed)
      : rows(n)
      , dim(d)
      , values(n * d) {
    std::mt19937 rng(seed);
    // Small integers: scores are exact, so every implementation must agree to the bit.
    std::uniform_int_distribution<int> dist(-4, 4);
    for (float& v : values) {
      v = static_cast<float>(dist(rng));
    }
  }
  [[nodiscard]] mlsd::matrix_view<const float> view() const { return {values.data(), rows, dim}; }
  std::size_t rows, dim;
  std::vector<float> values;
};

std::vector<scored_id<float>> reference_top_k(const catalog& c, const std::vector<float>& q,
                                              std::size_t k) {
  std::vector<scored_id<float>> out(k);
  out.resize(mlsd::kernels::reference::top_k(c.view(), q.data(), std::span(out)));
  return out;
}

std::vector<scored_id<float>> as_vector(mlsd::serving::candidates c) {
  return {c.begin(), c.end()};
}

} // namespace

TEST_CASE("exact_retriever returns the reference top-k", "[serving][retrieval]") {
  const catalog items(1000, 24, 1);
  const std::vector<float> query(24, 1.0f);
  mlsd::serving::exact_retriever retrieve(items.view(), 50);
  CHECK(retrieve.k() == 50);
  CHECK(as_vector(retrieve(query)) == reference_top_k(items, query, 50));
  // k > n returns n.
  const catalog few(7, 24, 2);
  mlsd::serving::exact_retriever all(few.view(), 50);
  CHECK(all(query).size() == 7);
}

TEST_CASE("score_catalog | keep_top_k equals exact_retriever", "[serving][retrieval]") {
  const catalog items(777, 16, 3);
  std::mt19937 rng(4);
  std::uniform_int_distribution<int> dist(-3, 3);
  auto two_step = mlsd::serving::score_catalog(items.view()) | mlsd::serving::keep_top_k(20);
  mlsd::serving::exact_retriever fused(items.view(), 20);
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<float> query(16);
    for (float& v : query) {
      v = static_cast<float>(dist(rng));
    }
    CHECK(as_vector(two_step(query)) == as_vector(fused(query)));
  }
}

TEST_CASE("int8_retriever with a long shortlist is exact", "[serving][retrieval]") {
  const catalog items(500, 32, 5);
  const mlsd::kernels::int8_table table(items.view());
  std::vector<float> query(32);
  std::iota(query.begin(), query.end(), -16.0f);
  mlsd::serving::int8_retriever retrieve(table, items.view(), 10, 500);
  CHECK(as_vector(retrieve(query)) == reference_top_k(items, query, 10));
}

TEST_CASE("truncate keeps the first n candidates", "[serving][retrieval]") {
  const std::vector<scored_id<float>> list = {{3, 0}, {2, 5}, {1, 9}};
  const mlsd::serving::truncate keep2(2), keep5(5);
  CHECK(as_vector(keep2(list)) == std::vector<scored_id<float>>{{3, 0}, {2, 5}});
  CHECK(keep5(list).size() == 3);
  CHECK(keep2(mlsd::serving::candidates{}).empty());
}

TEST_CASE("retrieve | truncate: a two-stage serving pipeline", "[serving][retrieval]") {
  const catalog items(2000, 8, 6);
  const std::vector<float> query = {1, -1, 2, 0, 1, 3, -2, 1};
  auto serve = mlsd::serving::exact_retriever(items.view(), 100) | mlsd::serving::truncate(10);
  const auto expected = reference_top_k(items, query, 10);
  CHECK(as_vector(serve(query)) == expected);
  CHECK(as_vector(serve(query)) == expected); // scratch reuse: same answer on the next call
}

TEST_CASE("retrieval stages reject bad configuration and queries", "[serving][retrieval]") {
  const catalog items(10, 4, 7);
  const std::vector<float> wrong(5, 1.0f);
  CHECK_THROWS_WITH(mlsd::serving::exact_retriever(items.view(), 0),
                    Catch::Contains("k must be at least 1"));
  mlsd::serving::exact_retriever retrieve(items.view(), 3);
  CHECK_THROWS_WITH(retrieve(wrong),
                    Catch::Contains("the query has 5 dimensions, the table has 4"));
  mlsd::serving::score_catalog score(items.view());
  CHECK_THROWS_AS(score(wrong), std::invalid_argument);
  CHECK_THROWS_AS(mlsd::serving::keep_top_k(0), std::invalid_argument);
  CHECK_THROWS_AS(mlsd::serving::truncate(0), std::invalid_argument);
  const mlsd::kernels::int8_table table(items.view());
  CHECK_THROWS_WITH(mlsd::serving::int8_retriever(table, items.view(), 10, 5),
                    Catch::Contains("shortlist (5) is shorter than k (10)"));
  const catalog other(11, 4, 8);
  CHECK_THROWS_WITH(mlsd::serving::int8_retriever(table, other.view(), 1, 5),
                    Catch::Contains("differ in shape"));
}

TEST_CASE("retrieval stages state their cost per item", "[serving][retrieval]") {
  const catalog items(10, 64, 9);
  CHECK(mlsd::serving::exact_retriever(items.view(), 1).cost() ==
        mlsd::cost_model{.bytes_per_item = 256, .flops_per_item = 128});
  CHECK(mlsd::serving::score_catalog(items.view()).cost().bytes_per_item == 260);
  const mlsd::kernels::int8_table table(items.view());
  const auto int8 = mlsd::serving::int8_retriever(table, items.view(), 10, 100).cost();
  CHECK(int8.bytes_per_item == 72); // 64 int8 values + scale + row sum
  CHECK(int8.bytes_per_request == 100 * 256);
}
