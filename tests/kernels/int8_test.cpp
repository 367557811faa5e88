#include "kernel_cases.hpp"

#include <mlsd/kernels/int8.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

namespace {
using mlsd::kernels::int8_query;
using mlsd::kernels::int8_table;
using mlsd::kernels::scored_id;

std::vector<float> normal_table(std::size_t n, std::size_t d, std::mt19937& rng) {
  std::normal_distribution<float> dist;
  std::vector<float> x(n * d);
  for (auto& v : x) {
    v = dist(rng);
  }
  return x;
}
} // namespace

TEST_CASE("int8_table quantises each row symmetrically within half a step", "[kernels][int8]") {
  std::mt19937 rng(11);
  for (const std::size_t d : {std::size_t{1}, std::size_t{63}, std::size_t{64}, std::size_t{65}}) {
    const std::size_t n = 9;
    auto x = normal_table(n, d, rng);
    std::fill_n(x.begin(), d, 0.0f); // an all-zero row
    const int8_table t(mlsd::matrix_view<const float>(x.data(), n, d));
    REQUIRE(t.rows() == n);
    REQUIRE(t.cols() == d);
    REQUIRE(t.stride() % 64 == 0);
    CHECK(t.scales()[0] == 0.0f);
    for (std::size_t i = 0; i < n; ++i) {
      std::int32_t sum = 0;
      float largest = 0;
      for (std::size_t j = 0; j < d; ++j) {
        const float value = x[i * d + j];
        largest = std::max(largest, std::abs(value));
        CAPTURE(d, i, j);
        CHECK(std::abs(t.row(i)[j] * t.scales()[i] - value) <= 0.5001f * t.scales()[i]);
        sum += t.row(i)[j];
      }
      CHECK(t.scales()[i] == largest / 127.0f);
      CHECK(t.row_sums()[i] == sum);
      for (std::size_t j = d; j < t.stride(); ++j) {
        CHECK(t.row(i)[j] == 0); // padding contributes nothing to the VNNI sums
      }
    }
  }
}

TEST_CASE("int8 top_k returns exactly the reference integer scores in rank order",
          "[kernels][int8]") {
  // k = n returns every row, so every score the VNNI (or portable) path computes is compared with
  // the scalar integer reference, bit for bit.
  std::mt19937 rng(12);
  for (const std::size_t d :
       {std::size_t{1}, std::size_t{64}, std::size_t{100}, std::size_t{130}}) {
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16},
                                std::size_t{17}, std::size_t{49}}) {
      const auto x = normal_table(n, d, rng);
      const auto y = normal_table(1, d, rng);
      const int8_table t(mlsd::matrix_view<const float>(x.data(), n, d));
      const int8_query q(y.data(), d);
      std::vector<scored_id<float>> got(n + 2);
      const std::size_t count = mlsd::kernels::top_k(t, q, std::span(got));
      std::vector<scored_id<float>> expected;
      for (std::size_t i = 0; i < n; ++i) {
        const std::int32_t integer = mlsd::kernels::reference::int8_dot(t.row(i), q.values(), d);
        expected.push_back({static_cast<float>(integer) * t.scales()[i] * q.scale(), i});
        CHECK(mlsd::kernels::dot(t, i, q) == expected.back().score);
      }
      std::sort(expected.begin(), expected.end(), mlsd::kernels::ranks_before<float>);
      CAPTURE(d, n);
      REQUIRE(count == n);
      for (std::size_t i = 0; i < n; ++i) {
        CHECK(got[i] == expected[i]);
      }
    }
  }
}

TEST_CASE("int8 scores approximate the fp32 scores within the quantisation error",
          "[kernels][int8]") {
  std::mt19937 rng(13);
  const std::size_t n = 200, d = 64;
  const auto x = normal_table(n, d, rng);
  const auto y = normal_table(1, d, rng);
  const int8_table t(mlsd::matrix_view<const float>(x.data(), n, d));
  const int8_query q(y.data(), d);
  for (std::size_t i = 0; i < n; ++i) {
    const float exact = mlsd::kernels::reference::dot(x.data() + i * d, y.data(), d);
    // |error| <= sum_j (|q_j| e_t + |t_j| e_q + e_t e_q) with e = scale / 2 per element.
    float bound = 0;
    for (std::size_t j = 0; j < d; ++j) {
      bound += std::abs(y[j]) * t.scales()[i] / 2 + std::abs(x[i * d + j]) * q.scale() / 2 +
               t.scales()[i] * q.scale() / 4;
    }
    CAPTURE(i);
    CHECK(std::abs(mlsd::kernels::dot(t, i, q) - exact) <= bound);
  }
}

TEST_CASE("int8 rescoring returns the exact fp32 top-k and honours the filter", "[kernels][int8]") {
  std::mt19937 rng(14);
  const std::size_t n = 3000, d = 64, k = 10;
  const auto x = normal_table(n, d, rng);
  const mlsd::matrix_view<const float> exact(x.data(), n, d);
  const int8_table t(exact);
  for (int trial = 0; trial < 5; ++trial) {
    const auto y = normal_table(1, d, rng);
    std::vector<scored_id<float>> fp32(k), rescored(k), shortlist(8 * k);
    REQUIRE(mlsd::kernels::top_k(exact, y.data(), std::span(fp32)) == k);
    REQUIRE(mlsd::kernels::top_k_rescored(t, exact, y.data(), std::span(shortlist),
                                          std::span(rescored)) == k);
    for (std::size_t i = 0; i < k; ++i) {
      CAPTURE(trial, i);
      CHECK(rescored[i].id == fp32[i].id);
      CHECK(rescored[i].score == Approx(fp32[i].score).epsilon(1e-5));
    }
    // The best fp32 item excluded: it must not come back, and the rest shift up by one.
    const std::vector<std::size_t> seen = {fp32[0].id};
    REQUIRE(mlsd::kernels::top_k_rescored(t, exact, y.data(), std::span(shortlist),
                                          std::span(rescored),
                                          mlsd::kernels::exclude_sorted_ids(seen)) == k);
    for (std::size_t i = 0; i + 1 < k; ++i) {
      CHECK(rescored[i].id == fp32[i + 1].id);
    }
  }
}

TEST_CASE("int8 quantisation rejects NaN and infinity, naming row and column", "[kernels][int8]") {
  std::vector<float> x(3 * 4, 1.0f);
  x[2 * 4 + 1] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(int8_table(mlsd::matrix_view<const float>(x.data(), 3, 4)),
                    Catch::Contains("table row 2, column 1"));
  const std::vector<float> y = {0.0f, std::numeric_limits<float>::infinity()};
  CHECK_THROWS_WITH(int8_query(y.data(), 2), Catch::Contains("column 1"));
}

TEST_CASE("int8 top_k_batch equals one top_k per query, with k > n and a per-query filter",
          "[kernels][int8]") {
  // The multi-query kernel (VNNI blocks of 64 queries, 4 rows per step) must return exactly what
  // the one-query kernel returns: the same integer scores, scaled in the same order. Sizes cover
  // row counts around the 4-row step, query counts around the 16-query register and the 64-query
  // block, d around the 4-byte piece and d > 512 (the one-scan-per-query path).
  std::mt19937 rng(15);
  for (const std::size_t d :
       {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{130}, std::size_t{513}}) {
    for (const std::size_t n :
         {std::size_t{0}, std::size_t{3}, std::size_t{4}, std::size_t{9}, std::size_t{61}}) {
      for (const std::size_t m :
           {std::size_t{1}, std::size_t{17}, std::size_t{64}, std::size_t{70}}) {
        const std::size_t k = 5; // > n for the small tables
        const auto x = normal_table(n, d, rng);
        const auto y = normal_table(m, d, rng);
        const int8_table t(mlsd::matrix_view<const float>(x.data(), n, d));
        std::vector<int8_query> queries;
        for (std::size_t q = 0; q < m; ++q) {
          queries.emplace_back(y.data() + q * d, d);
        }
        // Query q may not see rows whose id is congruent to q modulo 3.
        const auto excluded = [](std::size_t q, std::size_t id) noexcept {
          return id % 3 == q % 3;
        };
        for (const bool filtered : {false, true}) {
          std::vector<scored_id<float>> got(m * k, scored_id<float>{-1.0f, 99});
          std::vector<std::size_t> counts(m, 99);
          const mlsd::matrix_view<scored_id<float>> out(got.data(), m, k);
          if (filtered) {
            mlsd::kernels::top_k_batch(t, std::span<const int8_query>(queries), out,
                                       std::span(counts), excluded);
          } else {
            mlsd::kernels::top_k_batch(t, std::span<const int8_query>(queries), out,
                                       std::span(counts));
          }
          for (std::size_t q = 0; q < m; ++q) {
            std::vector<scored_id<float>> one(k);
            const auto excluded_for_q = [&](std::size_t id) noexcept {
              return filtered && excluded(q, id);
            };
            const std::size_t count =
                mlsd::kernels::top_k(t, queries[q], std::span(one), excluded_for_q);
            CAPTURE(d, n, m, q, filtered);
            REQUIRE(counts[q] == count);
            for (std::size_t i = 0; i < count; ++i) {
              CHECK(out(q, i) == one[i]);
              CHECK((!filtered || !excluded(q, out(q, i).id)));
            }
          }
        }
      }
    }
  }
}

TEST_CASE("int8 top_k_batch_rescored equals one top_k_rescored per query", "[kernels][int8]") {
  std::mt19937 rng(16);
  const std::size_t n = 2000, d = 48, k = 10, length = 40, m = 20;
  const auto x = normal_table(n, d, rng);
  const auto y = normal_table(m, d, rng);
  const mlsd::matrix_view<const float> exact(x.data(), n, d);
  const int8_table t(exact);
  std::vector<int8_query> queries;
  for (std::size_t q = 0; q < m; ++q) {
    queries.emplace_back(y.data() + q * d, d);
  }
  std::vector<scored_id<float>> shortlist(m * length), got(m * k);
  std::vector<std::size_t> counts(m);
  mlsd::kernels::top_k_batch_rescored(
      t, exact, std::span<const int8_query>(queries),
      mlsd::matrix_view<scored_id<float>>(shortlist.data(), m, length),
      mlsd::matrix_view<scored_id<float>>(got.data(), m, k), std::span(counts));
  for (std::size_t q = 0; q < m; ++q) {
    std::vector<scored_id<float>> one(k), one_shortlist(length), fp32(k);
    REQUIRE(mlsd::kernels::top_k_rescored(t, exact, queries[q], std::span(one_shortlist),
                                          std::span(one)) == k);
    REQUIRE(mlsd::kernels::top_k(exact, y.data() + q * d, std::span(fp32)) == k);
    CAPTURE(q);
    REQUIRE(counts[q] == k);
    for (std::size_t i = 0; i < k; ++i) {
      CHECK(got[q * k + i] == one[i]);
      CHECK(got[q * k + i].id == fp32[i].id); // a shortlist of 4k restores the exact order here
    }
  }
}
