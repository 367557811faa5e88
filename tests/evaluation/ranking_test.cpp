// Ranking metrics (include/mlsd/evaluation/ranking.hpp): hand-computed values, tie handling
// against a brute-force average over every order of the tied items, nDCG against scikit-learn,
// merge == add-all, k > n, empty lists, queries without a relevant item, bad input and configs.
#include <mlsd/evaluation/ranking.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace ev = mlsd::evaluation;

namespace {

using items = std::vector<ev::ranked_item>;

items make_items(const std::vector<float>& scores, const std::vector<float>& relevances) {
  items out;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    out.push_back({scores[i], relevances[i]});
  }
  return out;
}

template <class Metric>
double one_query(Metric m, const items& list, std::uint64_t relevant_total = 0) {
  m.add({list, relevant_total});
  return m.result();
}

// ---------------------------------------------------------------------------------------------
// Naive reference: every metric on one fixed order, then averaged over every order of the list
// that sorts the scores from highest to lowest (all orders of the tied items, equally likely).
// ---------------------------------------------------------------------------------------------

struct naive_values {
  double precision = 0, recall = 0, hit = 0, ap = 0, rr = 0, dcg = 0;
};

naive_values on_order(const std::vector<float>& rel, std::size_t k, std::uint64_t r_total,
                      ev::ndcg_gain gain) {
  naive_values v;
  std::size_t hits = 0;
  bool found = false;
  for (std::size_t i = 0; i < rel.size() && i < k; ++i) {
    const bool relevant = rel[i] > 0;
    const double g = gain == ev::ndcg_gain::linear ? rel[i] : std::pow(2.0, rel[i]) - 1.0;
    v.dcg += g / std::log2(static_cast<double>(i) + 2.0);
    if (relevant) {
      ++hits;
      v.ap += static_cast<double>(hits) / static_cast<double>(i + 1);
      if (!found) {
        v.rr = 1.0 / static_cast<double>(i + 1);
        found = true;
      }
    }
  }
  v.precision = static_cast<double>(hits) / static_cast<double>(k);
  v.recall = static_cast<double>(hits) / static_cast<double>(r_total);
  v.hit = hits > 0 ? 1.0 : 0.0;
  v.ap /= static_cast<double>(std::min<std::uint64_t>(k, r_total));
  return v;
}

double naive_idcg(std::vector<float> rel, std::size_t k, std::uint64_t r_total,
                  ev::ndcg_gain gain) {
  const auto in_list = static_cast<std::uint64_t>(
      std::count_if(rel.begin(), rel.end(), [](float r) { return r > 0; }));
  for (std::uint64_t i = in_list; i < r_total; ++i) {
    rel.push_back(1.0f);
  }
  std::sort(rel.begin(), rel.end(), [](float a, float b) { return a > b; });
  double idcg = 0;
  for (std::size_t i = 0; i < rel.size() && i < k; ++i) {
    const double g = gain == ev::ndcg_gain::linear ? rel[i] : std::pow(2.0, rel[i]) - 1.0;
    idcg += g / std::log2(static_cast<double>(i) + 2.0);
  }
  return idcg;
}

// Expected values over all score-sorted orders (n! permutations filtered; n <= 7).
naive_values naive_expected(const items& list, std::size_t k, std::uint64_t r_total,
                            ev::ndcg_gain gain) {
  std::vector<std::size_t> perm(list.size());
  std::iota(perm.begin(), perm.end(), std::size_t{0});
  naive_values sum;
  std::size_t orders = 0;
  do {
    bool sorted = true;
    for (std::size_t i = 1; i < perm.size(); ++i) {
      sorted = sorted && list[perm[i - 1]].score >= list[perm[i]].score;
    }
    if (!sorted) {
      continue;
    }
    std::vector<float> rel;
    for (const std::size_t p : perm) {
      rel.push_back(list[p].relevance);
    }
    const naive_values v = on_order(rel, k, r_total, gain);
    sum.precision += v.precision;
    sum.recall += v.recall;
    sum.hit += v.hit;
    sum.ap += v.ap;
    sum.rr += v.rr;
    sum.dcg += v.dcg;
    ++orders;
  } while (std::next_permutation(perm.begin(), perm.end()));
  const double n = static_cast<double>(orders);
  return {sum.precision / n, sum.recall / n, sum.hit / n, sum.ap / n, sum.rr / n, sum.dcg / n};
}

struct random_query {
  items list;
  std::uint64_t relevant_total = 0;
};

// A small query: 0..7 items on few score levels (many ties), graded or binary relevance, and a
// relevant_total of 0 (count the list) or larger than the list's relevant items.
random_query make_random_query(std::mt19937& rng, bool graded) {
  std::uniform_int_distribution<int> size(0, 7);
  std::uniform_int_distribution<int> level(0, 3);
  std::uniform_int_distribution<int> grade(0, graded ? 3 : 1);
  std::uniform_int_distribution<int> extra(0, 3);
  random_query q;
  const int n = size(rng);
  std::uint64_t in_list = 0;
  for (int i = 0; i < n; ++i) {
    const auto rel = static_cast<float>(grade(rng));
    q.list.push_back({static_cast<float>(level(rng)) * 0.25f, rel});
    in_list += rel > 0 ? 1 : 0;
  }
  const int e = extra(rng);
  q.relevant_total = e == 0 ? 0 : in_list + static_cast<std::uint64_t>(e - 1);
  if (q.relevant_total == in_list && in_list == 0) {
    q.relevant_total = 0;
  }
  return q;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Hand-computed values
// ---------------------------------------------------------------------------------------------

TEST_CASE("ranking metrics on a list without ties, by hand", "[evaluation][ranking]") {
  // Sorted: relevances 1, 0, 1, 0, 0 (given out of order on purpose).
  const items list = make_items({0.7f, 0.9f, 0.5f, 0.8f, 0.6f}, {1, 1, 0, 0, 0});
  const double log2_3 = std::log2(3.0);
  const ev::ranking_config k3{.k = 3};

  SECTION("R counted in the list (2)") {
    CHECK(one_query(ev::precision_at_k(k3), list) == Approx(2.0 / 3.0).epsilon(1e-15));
    CHECK(one_query(ev::recall_at_k(k3), list) == 1.0);
    CHECK(one_query(ev::hit_rate_at_k(k3), list) == 1.0);
    CHECK(one_query(ev::map_at_k(k3), list) == Approx((1.0 + 2.0 / 3.0) / 2.0).epsilon(1e-15));
    CHECK(one_query(ev::mrr(), list) == 1.0);
    CHECK(one_query(ev::ndcg_at_k({.k = 3}), list) ==
          Approx((1.0 + 0.5) / (1.0 + 1.0 / log2_3)).epsilon(1e-15));
    CHECK(one_query(ev::precision_at_k({.k = 1}), list) == 1.0);
    CHECK(one_query(ev::map_at_k({.k = 1}), list) == 1.0);
  }
  SECTION("R = 4: two relevant items were never retrieved") {
    CHECK(one_query(ev::recall_at_k(k3), list, 4) == 0.5);
    CHECK(one_query(ev::map_at_k(k3), list, 4) == Approx((1.0 + 2.0 / 3.0) / 3.0).epsilon(1e-15));
    CHECK(one_query(ev::map_at_k({.k = 10}), list, 4) ==
          Approx((1.0 + 2.0 / 3.0) / 4.0).epsilon(1e-15));
    // The ideal list has four relevance-1 items; at k = 3 three of them count.
    CHECK(one_query(ev::ndcg_at_k({.k = 3}), list, 4) ==
          Approx(1.5 / (1.0 + 1.0 / log2_3 + 0.5)).epsilon(1e-15));
    CHECK(one_query(ev::precision_at_k(k3), list, 4) == Approx(2.0 / 3.0).epsilon(1e-15));
  }
  SECTION("the first relevant item at rank 3") {
    const items late = make_items({3, 2, 1}, {0, 0, 2});
    CHECK(one_query(ev::mrr(), late) == Approx(1.0 / 3.0).epsilon(1e-15));
    CHECK(one_query(ev::mrr({.k = 3}), late) == Approx(1.0 / 3.0).epsilon(1e-15));
    CHECK(one_query(ev::mrr({.k = 2}), late) == 0.0);
    CHECK(one_query(ev::hit_rate_at_k({.k = 2}), late) == 0.0);
    CHECK(one_query(ev::map_at_k(k3), late) == Approx(1.0 / 3.0).epsilon(1e-15));
  }
}

TEST_CASE("nDCG gains: linear and exponential", "[evaluation][ranking]") {
  // Sorted relevances: 0, 2, 3. Ideal: 3, 2, 0.
  const items list = make_items({0.1f, 0.9f, 0.5f}, {3, 0, 2});
  const double d2 = 1.0 / std::log2(3.0);
  const double d3 = 0.5;
  CHECK(one_query(ev::ndcg_at_k({.k = 3}), list) ==
        Approx((2 * d2 + 3 * d3) / (3 + 2 * d2)).epsilon(1e-15));
  CHECK(one_query(ev::ndcg_at_k({.k = 3, .gain = ev::ndcg_gain::exponential}), list) ==
        Approx((3 * d2 + 7 * d3) / (7 + 3 * d2)).epsilon(1e-15));
  // Binary relevance: both gains agree.
  const items binary = make_items({0.1f, 0.9f, 0.5f, 0.3f}, {1, 0, 1, 0});
  CHECK(one_query(ev::ndcg_at_k({.k = 4}), binary) ==
        Approx(one_query(ev::ndcg_at_k({.k = 4, .gain = ev::ndcg_gain::exponential}), binary))
            .epsilon(1e-15));
  // Sorted relevances 0, 1, 0, 1; ideal 1, 1, 0, 0.
  CHECK(one_query(ev::ndcg_at_k({.k = 4}), binary) ==
        Approx((d2 + 1.0 / std::log2(5.0)) / (1 + d2)).epsilon(1e-15));
}

TEST_CASE("ties: every metric is its expected value over the orders of the tied items",
          "[evaluation][ranking]") {
  // Four items, all tied, two relevant: the six placements of the two relevant items are
  // equally likely.
  const items tied = make_items({0.5f, 0.5f, 0.5f, 0.5f}, {1, 0, 0, 1});
  CHECK(one_query(ev::precision_at_k({.k = 1}), tied) == 0.5);
  CHECK(one_query(ev::precision_at_k({.k = 3}), tied) == Approx(0.5).epsilon(1e-15));
  CHECK(one_query(ev::recall_at_k({.k = 1}), tied) == 0.25);
  CHECK(one_query(ev::hit_rate_at_k({.k = 1}), tied) == 0.5);
  CHECK(one_query(ev::hit_rate_at_k({.k = 2}), tied) == Approx(5.0 / 6.0).epsilon(1e-15));
  CHECK(one_query(ev::hit_rate_at_k({.k = 3}), tied) == 1.0);
  // P(first relevant at rank 1, 2, 3) = 1/2, 1/3, 1/6.
  CHECK(one_query(ev::mrr(), tied) == Approx(13.0 / 18.0).epsilon(1e-15));
  CHECK(one_query(ev::mrr({.k = 2}), tied) == Approx(0.5 + 1.0 / 6.0).epsilon(1e-15));
  // AP over the six placements (a, b): (1/a + 2/b) / 2, summing to 49/12.
  CHECK(one_query(ev::map_at_k({.k = 4}), tied) == Approx(49.0 / 72.0).epsilon(1e-15));
  // The input order does not matter.
  const items reordered = make_items({0.5f, 0.5f, 0.5f, 0.5f}, {0, 1, 1, 0});
  CHECK(one_query(ev::map_at_k({.k = 4}), reordered) == Approx(49.0 / 72.0).epsilon(1e-15));
  CHECK(one_query(ev::ndcg_at_k({.k = 2}), reordered) == one_query(ev::ndcg_at_k({.k = 2}), tied));
}

TEST_CASE("nDCG agrees with scikit-learn's ndcg_score (ignore_ties=False)",
          "[evaluation][ranking]") {
  // Expected values from Debian's python3-sklearn 1.2.1:
  //   from sklearn.metrics import ndcg_score
  //   t, s = [[3, 2, 3, 0, 1, 2]], [[0.9, 0.8, 0.8, 0.3, 0.3, 0.1]]
  //   ndcg_score(t, s)        -> 0.9730441292376505
  //   ndcg_score(t, s, k=3)   -> 0.9888906808152526
  //   ndcg_score(t, s, k=10)  -> 0.9730441292376505
  //   ndcg_score([[1, 0, 0, 1]], [[0.5, 0.5, 0.5, 0.5]], k=2)  -> 0.5
  //   ndcg_score([[0, 1, 0, 1, 1], [0, 0, 0, 0, 0]],
  //              [[0.2, 0.7, 0.7, 0.1, 0.7], [0.1, 0.2, 0.3, 0.4, 0.5]], k=2)
  //                                                             -> 0.3333333333333333
  const items a = make_items({0.9f, 0.8f, 0.8f, 0.3f, 0.3f, 0.1f}, {3, 2, 3, 0, 1, 2});
  CHECK(one_query(ev::ndcg_at_k({.k = 6}), a) == Approx(0.9730441292376505).margin(1e-9));
  CHECK(one_query(ev::ndcg_at_k({.k = 3}), a) == Approx(0.9888906808152526).margin(1e-9));
  CHECK(one_query(ev::ndcg_at_k({.k = 10}), a) == Approx(0.9730441292376505).margin(1e-9));
  const items b = make_items({0.5f, 0.5f, 0.5f, 0.5f}, {1, 0, 0, 1});
  CHECK(one_query(ev::ndcg_at_k({.k = 2}), b) == Approx(0.5).margin(1e-9));

  // scikit-learn counts a query without a relevant item as 0: policy `zero`.
  ev::ndcg_at_k zero({.k = 2, .if_no_relevant = ev::no_relevant_policy::zero});
  const items c1 = make_items({0.2f, 0.7f, 0.7f, 0.1f, 0.7f}, {0, 1, 0, 1, 1});
  const items c2 = make_items({0.1f, 0.2f, 0.3f, 0.4f, 0.5f}, {0, 0, 0, 0, 0});
  zero.add({c1});
  zero.add({c2});
  CHECK(zero.result() == Approx(0.3333333333333333).margin(1e-9));
  CHECK(zero.count() == 2);
  CHECK(zero.skipped() == 0);
  ev::ndcg_at_k skip({.k = 2});
  skip.add({c1});
  skip.add({c2});
  CHECK(skip.result() == Approx(2.0 / 3.0).margin(1e-12));
  CHECK(skip.count() == 1);
  CHECK(skip.skipped() == 1);
}

// ---------------------------------------------------------------------------------------------
// Random queries against the naive reference; merge == add-all
// ---------------------------------------------------------------------------------------------

TEST_CASE("random queries agree with the brute-force expectation over tied orders",
          "[evaluation][ranking]") {
  std::mt19937 rng(20240611);
  for (const bool graded : {false, true}) {
    for (const std::size_t k :
         {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{5}, std::size_t{10}}) {
      for (const auto gain : {ev::ndcg_gain::linear, ev::ndcg_gain::exponential}) {
        INFO("graded " << graded << ", k " << k << ", exponential "
                       << (gain == ev::ndcg_gain::exponential));
        const auto zero = ev::no_relevant_policy::zero;
        ev::precision_at_k precision({.k = k, .if_no_relevant = zero});
        ev::recall_at_k recall({.k = k, .if_no_relevant = zero});
        ev::hit_rate_at_k hit({.k = k, .if_no_relevant = zero});
        ev::map_at_k map({.k = k, .if_no_relevant = zero});
        ev::mrr rr({.k = k, .if_no_relevant = zero});
        ev::ndcg_at_k ndcg({.k = k, .gain = gain, .if_no_relevant = zero});
        naive_values sum;
        double ndcg_sum = 0;
        std::size_t queries = 0;
        for (int trial = 0; trial < 60; ++trial) {
          const random_query q = make_random_query(rng, graded);
          ++queries;
          std::uint64_t in_list = 0;
          for (const auto& it : q.list) {
            in_list += it.relevance > 0 ? 1 : 0;
          }
          const std::uint64_t r_total = q.relevant_total == 0 ? in_list : q.relevant_total;
          precision.add({q.list, q.relevant_total});
          recall.add({q.list, q.relevant_total});
          hit.add({q.list, q.relevant_total});
          map.add({q.list, q.relevant_total});
          rr.add({q.list, q.relevant_total});
          ndcg.add({q.list, q.relevant_total});
          if (r_total == 0) {
            continue; // every metric adds 0 under policy `zero`
          }
          const naive_values v = naive_expected(q.list, k, r_total, gain);
          // Single-query checks, so that a failure names the query.
          CHECK(one_query(ev::map_at_k({.k = k}), q.list, q.relevant_total) ==
                Approx(v.ap).margin(1e-12));
          CHECK(one_query(ev::hit_rate_at_k({.k = k}), q.list, q.relevant_total) ==
                Approx(v.hit).margin(1e-12));
          sum.precision += v.precision;
          sum.recall += v.recall;
          sum.hit += v.hit;
          sum.ap += v.ap;
          sum.rr += v.rr;
          ndcg_sum += v.dcg / naive_idcg(
                                  [&] {
                                    std::vector<float> rel;
                                    for (const auto& it : q.list) {
                                      rel.push_back(it.relevance);
                                    }
                                    return rel;
                                  }(),
                                  k, r_total, gain);
        }
        const double n = static_cast<double>(queries);
        CHECK(precision.result() == Approx(sum.precision / n).margin(1e-12));
        CHECK(recall.result() == Approx(sum.recall / n).margin(1e-12));
        CHECK(hit.result() == Approx(sum.hit / n).margin(1e-12));
        CHECK(map.result() == Approx(sum.ap / n).margin(1e-12));
        CHECK(rr.result() == Approx(sum.rr / n).margin(1e-12));
        CHECK(ndcg.result() == Approx(ndcg_sum / n).margin(1e-12));
        CHECK(ndcg.count() == queries);
      }
    }
  }
}

TEST_CASE("merge equals adding every query to one accumulator", "[evaluation][ranking]") {
  std::mt19937 rng(7);
  std::vector<random_query> queries;
  for (int i = 0; i < 200; ++i) {
    queries.push_back(make_random_query(rng, true));
  }
  auto check = [&](auto prototype) {
    auto all = prototype;
    auto a = prototype;
    auto b = prototype;
    auto c = prototype;
    for (std::size_t i = 0; i < queries.size(); ++i) {
      all.add({queries[i].list, queries[i].relevant_total});
      (i < 50 ? a : i < 120 ? b : c).add({queries[i].list, queries[i].relevant_total});
    }
    a.merge(b);
    a.merge(c);
    CHECK(a.result() == Approx(all.result()).margin(1e-12));
    CHECK(a.count() == all.count());
    CHECK(a.skipped() == all.skipped());
    CHECK(all.count() + all.skipped() == queries.size());
  };
  check(ev::precision_at_k({.k = 3}));
  check(ev::recall_at_k({.k = 3}));
  check(ev::hit_rate_at_k({.k = 2}));
  check(ev::map_at_k({.k = 5}));
  check(ev::mrr());
  check(ev::mrr({.k = 2, .if_no_relevant = ev::no_relevant_policy::zero}));
  check(ev::ndcg_at_k({.k = 4, .gain = ev::ndcg_gain::exponential}));
  check(ev::gauc());

  ev::map_at_k self({.k = 3});
  self.add({queries[1].list, 5});
  const double before = self.result();
  self.merge(self);
  CHECK(self.result() == Approx(before).margin(1e-15));
  CHECK(self.count() == 2);

  ev::ndcg_at_k k3({.k = 3});
  CHECK_THROWS_AS(k3.merge(ev::ndcg_at_k({.k = 4})), mlsd::config_error);
  ev::gauc by_impressions;
  CHECK_THROWS_AS(by_impressions.merge(ev::gauc({.weight = ev::gauc_weight::uniform})),
                  mlsd::config_error);
}

// ---------------------------------------------------------------------------------------------
// k > n, empty lists, queries without a relevant item
// ---------------------------------------------------------------------------------------------

TEST_CASE("k larger than the list", "[evaluation][ranking]") {
  const items two = make_items({0.9f, 0.1f}, {1, 1});
  CHECK(one_query(ev::precision_at_k({.k = 5}), two) == Approx(0.4).epsilon(1e-15));
  CHECK(one_query(ev::recall_at_k({.k = 5}), two) == 1.0);
  CHECK(one_query(ev::hit_rate_at_k({.k = 5}), two) == 1.0);
  CHECK(one_query(ev::map_at_k({.k = 5}), two) == 1.0);
  CHECK(one_query(ev::ndcg_at_k({.k = 5}), two) == 1.0);
  CHECK(one_query(ev::mrr({.k = 5}), two) == 1.0);
  // A perfect but short list under R = 4: MAP@5 = (1 + 1) / min(5, 4).
  CHECK(one_query(ev::map_at_k({.k = 5}), two, 4) == 0.5);
}

TEST_CASE("empty lists and queries without a relevant item", "[evaluation][ranking]") {
  const items none;
  SECTION("an empty list with relevant items that exist scores 0") {
    CHECK(one_query(ev::precision_at_k(), none, 3) == 0.0);
    CHECK(one_query(ev::recall_at_k(), none, 3) == 0.0);
    CHECK(one_query(ev::hit_rate_at_k(), none, 3) == 0.0);
    CHECK(one_query(ev::map_at_k(), none, 3) == 0.0);
    CHECK(one_query(ev::mrr(), none, 3) == 0.0);
    CHECK(one_query(ev::ndcg_at_k(), none, 3) == 0.0);
  }
  SECTION("policy skip: left out and counted; only such queries: undefined") {
    ev::recall_at_k recall;
    recall.add({none});
    recall.add({make_items({1, 2}, {0, 0})});
    CHECK(recall.skipped() == 2);
    CHECK(recall.count() == 0);
    CHECK_THROWS_AS(recall.result(), ev::undefined_metric);
    try {
      (void)recall.result();
    } catch (const ev::undefined_metric& e) {
      CHECK(e.metric() == "recall_at_k");
      CHECK(e.reason() == "no query with a relevant item (2 skipped without one)");
    }
    recall.add({make_items({1, 2}, {1, 0})});
    CHECK(recall.result() == 1.0);
  }
  SECTION("policy zero: counted as 0") {
    ev::mrr rr({.if_no_relevant = ev::no_relevant_policy::zero});
    rr.add({none});
    rr.add({make_items({1, 2}, {0, 1})});
    CHECK(rr.result() == 0.5);
    CHECK(rr.count() == 2);
    CHECK(rr.skipped() == 0);
  }
  SECTION("no queries at all") {
    CHECK_THROWS_WITH(ev::ndcg_at_k().result(),
                      "mlsd::evaluation::ndcg_at_k is undefined: no queries");
    CHECK_THROWS_AS(ev::precision_at_k().result(), ev::undefined_metric);
    CHECK_THROWS_AS(ev::gauc().result(), ev::undefined_metric);
  }
}

// ---------------------------------------------------------------------------------------------
// GAUC
// ---------------------------------------------------------------------------------------------

TEST_CASE("GAUC by hand: weighted by impressions, one-class users skipped and counted",
          "[evaluation][ranking]") {
  const items u1 = make_items({0.9f, 0.1f, 0.5f}, {1, 0, 0});          // AUC 1, 3 impressions
  const items u2 = make_items({0.2f, 0.8f, 0.4f, 0.6f}, {1, 0, 1, 0}); // AUC 0, 4 impressions
  const items u3 = make_items({0.3f, 0.3f}, {1, 1});                   // one class: skipped
  const items u4 = make_items({0.5f, 0.5f}, {1, 0});                   // tie: AUC 1/2
  ev::gauc g;
  g.add({u1});
  g.add({u2});
  g.add({u3});
  g.add({items{}});
  CHECK(g.result() == Approx(3.0 / 7.0).epsilon(1e-15));
  CHECK(g.count() == 2);
  CHECK(g.impressions() == 7);
  CHECK(g.skipped() == 2);
  CHECK(g.skipped_impressions() == 2);
  g.add({u4});
  CHECK(g.result() == Approx((3.0 + 0.0 + 1.0) / 9.0).epsilon(1e-15));

  ev::gauc uniform({.weight = ev::gauc_weight::uniform});
  uniform.add({u1});
  uniform.add({u2});
  uniform.add({u4});
  CHECK(uniform.result() == Approx(0.5).epsilon(1e-15));

  ev::gauc only_one_class;
  only_one_class.add({u3});
  CHECK_THROWS_WITH(only_one_class.result(), "mlsd::evaluation::gauc is undefined: no user with "
                                             "both a positive and a negative (1 users skipped)");
}

TEST_CASE("GAUC agrees with per-user pair counting on random users", "[evaluation][ranking]") {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> size(0, 12);
  std::uniform_int_distribution<int> level(0, 4);
  std::bernoulli_distribution click(0.3);
  ev::gauc g;
  double weighted = 0, weight = 0;
  std::uint64_t skipped = 0;
  for (int u = 0; u < 300; ++u) {
    items list;
    const int n = size(rng);
    for (int i = 0; i < n; ++i) {
      list.push_back({static_cast<float>(level(rng)), click(rng) ? 1.0f : 0.0f});
    }
    g.add({list});
    double twice_wins = 0, pos = 0, neg = 0;
    for (const auto& a : list) {
      (a.relevance > 0 ? pos : neg) += 1;
      for (const auto& b : list) {
        if (a.relevance > 0 && !(b.relevance > 0)) {
          twice_wins += a.score > b.score ? 2 : a.score == b.score ? 1 : 0;
        }
      }
    }
    if (pos == 0 || neg == 0) {
      ++skipped;
      continue;
    }
    weighted += static_cast<double>(n) * twice_wins / (2 * pos * neg);
    weight += n;
  }
  CHECK(g.result() == Approx(weighted / weight).margin(1e-12));
  CHECK(g.skipped() == skipped);
}

// ---------------------------------------------------------------------------------------------
// Bad input and configuration
// ---------------------------------------------------------------------------------------------

TEST_CASE("bad observations throw input_error naming the item", "[evaluation][ranking]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  ev::ndcg_at_k ndcg;
  try {
    ndcg.add({make_items({0.1f, nan}, {1, 0})});
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().file == "ndcg_at_k");
    CHECK(e.where().field == "items[1].score");
  }
  try {
    ndcg.add({make_items({0.1f, 0.2f, 0.3f}, {1, 0, -1})});
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().field == "items[2].relevance");
  }
  CHECK_THROWS_AS(ndcg.add({make_items({0.1f}, {inf})}), mlsd::input_error);
  CHECK_THROWS_AS(ndcg.add({make_items({0.1f}, {nan})}), mlsd::input_error);
  // ±inf scores are fine: they order.
  CHECK(one_query(ev::mrr(), make_items({-inf, inf}, {1, 0})) == 0.5);

  ev::ndcg_at_k exponential({.gain = ev::ndcg_gain::exponential});
  CHECK_THROWS_AS(exponential.add({make_items({0.1f}, {2000.0f})}), mlsd::input_error);
  CHECK(one_query(ev::ndcg_at_k(), make_items({0.1f, 0.2f}, {2000.0f, 0.0f})) < 1.0);

  ev::recall_at_k recall;
  try {
    recall.add({make_items({0.1f, 0.2f, 0.3f}, {1, 1, 0}), 1});
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().field == "relevant_total");
  }
  CHECK(recall.count() + recall.skipped() == 0);

  ev::gauc g;
  try {
    g.add({make_items({0.1f, 0.2f}, {1, nan})});
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().field == "items[1].relevance");
  }
  // GAUC takes labels as roc_auc does: -1 / +1 works.
  CHECK(one_query(ev::gauc(), make_items({0.9f, 0.1f}, {1, -1})) == 1.0);
}

TEST_CASE("ranking configs: validation and JSON round trips", "[evaluation][ranking]") {
  CHECK_THROWS_AS(ev::precision_at_k({.k = 0}), mlsd::config_error);
  CHECK_THROWS_AS(ev::ndcg_at_k({.k = 0}), mlsd::config_error);
  CHECK_THROWS_AS(ev::mrr({.k = 0}), mlsd::config_error);
  CHECK_NOTHROW(ev::mrr({.k = std::nullopt}));

  const ev::ranking_config r{.k = 7, .if_no_relevant = ev::no_relevant_policy::zero};
  const nlohmann::json rj = r;
  CHECK(rj == nlohmann::json::parse(R"({"k": 7, "if_no_relevant": "zero"})"));
  CHECK(rj.get<ev::ranking_config>() == r);
  CHECK(nlohmann::json::parse("{}").get<ev::ranking_config>() == ev::ranking_config{});
  CHECK_THROWS_AS(nlohmann::json::parse(R"({"k": 0})").get<ev::ranking_config>(),
                  mlsd::config_error);
  CHECK_THROWS_AS(nlohmann::json::parse(R"({"kk": 3})").get<ev::ranking_config>(),
                  mlsd::config_error);
  CHECK_THROWS_AS(nlohmann::json::parse(R"({"if_no_relevant": "drop"})").get<ev::ranking_config>(),
                  mlsd::config_error);

  const ev::ndcg_config n{.k = 5, .gain = ev::ndcg_gain::exponential};
  const nlohmann::json nj = n;
  CHECK(nj["gain"] == "exponential");
  CHECK(nj.get<ev::ndcg_config>() == n);

  const ev::mrr_config m{.k = 3};
  CHECK(nlohmann::json(m).get<ev::mrr_config>() == m);
  const ev::mrr_config unbounded;
  const nlohmann::json uj = unbounded;
  CHECK(uj["k"].is_null());
  CHECK(uj.get<ev::mrr_config>() == unbounded);
  CHECK_THROWS_AS(nlohmann::json::parse(R"({"k": 0})").get<ev::mrr_config>(), mlsd::config_error);

  const ev::gauc_config g{.weight = ev::gauc_weight::uniform};
  CHECK(nlohmann::json(g).get<ev::gauc_config>() == g);
  CHECK_THROWS_AS(nlohmann::json::parse(R"({"weight": "clicks"})").get<ev::gauc_config>(),
                  mlsd::config_error);
}
