// Beyond-accuracy metrics (include/mlsd/evaluation/beyond_accuracy.hpp): hand-computed values,
// random lists against naive references, merge == add-all, empty and short lists, bad input.
#include <mlsd/evaluation/beyond_accuracy.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <vector>

namespace ev = mlsd::evaluation;

namespace {

using ids = std::vector<std::size_t>;

std::vector<ids> random_lists(std::mt19937& rng, std::size_t count, std::size_t catalog,
                              std::size_t max_length) {
  std::uniform_int_distribution<std::size_t> length(0, max_length);
  std::uniform_int_distribution<std::size_t> item(0, catalog - 1);
  std::vector<ids> lists(count);
  for (auto& l : lists) {
    const std::size_t n = length(rng);
    for (std::size_t i = 0; i < n; ++i) {
      l.push_back(item(rng));
    }
  }
  return lists;
}

// Adds every list to one accumulator and the same lists to three that are then merged.
template <class Metric>
void check_merge_equals_add_all(const Metric& prototype, const std::vector<ids>& lists) {
  Metric all = prototype;
  Metric a = prototype;
  Metric b = prototype;
  Metric c = prototype;
  for (std::size_t i = 0; i < lists.size(); ++i) {
    all.add(lists[i]);
    (i % 3 == 0 ? a : i % 3 == 1 ? b : c).add(lists[i]);
  }
  b.merge(c);
  a.merge(b);
  CHECK(a.result() == Approx(all.result()).margin(1e-12));
  CHECK(a.count() == all.count());
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Catalog coverage
// ---------------------------------------------------------------------------------------------

TEST_CASE("catalog coverage by hand", "[evaluation][beyond_accuracy]") {
  ev::catalog_coverage coverage({.catalog_size = 10});
  coverage.add(ids{0, 1, 2});
  coverage.add(ids{2, 3, 3});
  coverage.add(ids{});
  CHECK(coverage.result() == 0.4);
  CHECK(coverage.count() == 3);
  CHECK(coverage.distinct_items() == 4);
  CHECK(coverage.recommendations() == 6);

  try {
    coverage.add(ids{9, 10});
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().file == "catalog_coverage");
    CHECK(e.where().field == "items[1]");
    CHECK(e.found() == "10");
  }
  CHECK(coverage.distinct_items() == 4); // item 9 was not added either
  CHECK(coverage.count() == 3);

  CHECK_THROWS_WITH(ev::catalog_coverage({.catalog_size = 3}).result(),
                    "mlsd::evaluation::catalog_coverage is undefined: no lists");
  CHECK_THROWS_AS(ev::catalog_coverage({}), mlsd::config_error);
}

TEST_CASE("catalog coverage: random lists, merge == add-all, JSON",
          "[evaluation][beyond_accuracy]") {
  std::mt19937 rng(3);
  const std::size_t catalog = 130; // three words of the bitset, the last one partly used
  const auto lists = random_lists(rng, 40, catalog, 6);
  ev::catalog_coverage coverage({.catalog_size = catalog});
  std::set<std::size_t> seen;
  for (const auto& l : lists) {
    coverage.add(l);
    seen.insert(l.begin(), l.end());
  }
  CHECK(coverage.result() == Approx(static_cast<double>(seen.size()) / 130.0).epsilon(1e-15));
  check_merge_equals_add_all(ev::catalog_coverage({.catalog_size = catalog}), lists);

  ev::catalog_coverage other({.catalog_size = catalog + 1});
  CHECK_THROWS_AS(coverage.merge(other), mlsd::config_error);

  const ev::catalog_coverage_config cfg{.catalog_size = 42};
  const nlohmann::json j = cfg;
  CHECK(j == nlohmann::json::parse(R"({"catalog_size": 42})"));
  CHECK(j.get<ev::catalog_coverage_config>() == cfg);
  CHECK_THROWS_AS(nlohmann::json::parse("{}").get<ev::catalog_coverage_config>(),
                  mlsd::config_error);
  CHECK_THROWS_AS(
      nlohmann::json::parse(R"({"catalog_size": 0})").get<ev::catalog_coverage_config>(),
      mlsd::config_error);
}

// ---------------------------------------------------------------------------------------------
// Intra-list diversity
// ---------------------------------------------------------------------------------------------

TEST_CASE("intra-list diversity by hand", "[evaluation][beyond_accuracy]") {
  // Items 0..4 in 2 dimensions: (1,0), (0,1), (1,1), (-1,0), (2,0).
  const std::vector<float> table = {1, 0, 0, 1, 1, 1, -1, 0, 2, 0};
  ev::intra_list_diversity ild(table, 2);
  ild.add(ids{0, 1}); // orthogonal: 1
  // Pairs (0,2), (0,3), (2,3): (1 - 1/√2) + 2 + (1 + 1/√2) = 4, over 3 pairs.
  ild.add(ids{0, 2, 3});
  ild.add(ids{0, 4}); // parallel: 0
  ild.add(ids{1});    // no pair: skipped
  ild.add(ids{});     // no pair: skipped
  CHECK(ild.result() == Approx((1.0 + 4.0 / 3.0 + 0.0) / 3.0).epsilon(1e-12));
  CHECK(ild.count() == 3);
  CHECK(ild.skipped() == 2);

  ev::intra_list_diversity repeated(table, 2);
  repeated.add(ids{1, 1});
  CHECK(repeated.result() == Approx(0.0).margin(1e-15));

  ev::intra_list_diversity short_lists(table, 2);
  short_lists.add(ids{3});
  CHECK_THROWS_WITH(short_lists.result(), "mlsd::evaluation::intra_list_diversity is undefined: "
                                          "no list with at least 2 items (1 lists skipped)");
}

TEST_CASE("intra-list diversity: random lists against pairwise cosines, padded rows, merge",
          "[evaluation][beyond_accuracy]") {
  std::mt19937 rng(11);
  const std::size_t items = 50, d = 7, stride = 9;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> padded(items * stride, std::numeric_limits<float>::quiet_NaN());
  std::vector<float> dense(items * d);
  for (std::size_t i = 0; i < items; ++i) {
    for (std::size_t c = 0; c < d; ++c) {
      dense[i * d + c] = padded[i * stride + c] = normal(rng);
    }
  }
  const auto lists = random_lists(rng, 60, items, 8);
  ev::intra_list_diversity from_span(dense, d);
  ev::intra_list_diversity from_view(
      mlsd::matrix_view<const float>(padded.data(), items, d, stride));
  double sum = 0;
  std::size_t counted = 0;
  for (const auto& l : lists) {
    from_span.add(l);
    from_view.add(l);
    if (l.size() < 2) {
      continue;
    }
    double total = 0;
    std::size_t pairs = 0;
    for (std::size_t i = 0; i < l.size(); ++i) {
      for (std::size_t j = 0; j < l.size(); ++j) {
        if (i == j) {
          continue;
        }
        double xy = 0, xx = 0, yy = 0;
        for (std::size_t c = 0; c < d; ++c) {
          const double x = dense[l[i] * d + c], y = dense[l[j] * d + c];
          xy += x * y;
          xx += x * x;
          yy += y * y;
        }
        total += 1.0 - xy / std::sqrt(xx * yy);
        ++pairs;
      }
    }
    sum += total / static_cast<double>(pairs);
    ++counted;
  }
  CHECK(from_span.result() == Approx(sum / static_cast<double>(counted)).margin(1e-12));
  CHECK(from_view.result() == Approx(sum / static_cast<double>(counted)).margin(1e-12));
  check_merge_equals_add_all(ev::intra_list_diversity(dense, d), lists);
  CHECK_THROWS_AS(from_span.merge(from_view), mlsd::config_error);
}

TEST_CASE("intra-list diversity: bad input", "[evaluation][beyond_accuracy]") {
  const std::vector<float> table = {1, 0, 0, 0, 0, 1};
  CHECK_THROWS_AS(ev::intra_list_diversity(table, 0), mlsd::config_error);
  CHECK_THROWS_AS(ev::intra_list_diversity(table, 4), mlsd::config_error);
  ev::intra_list_diversity ild(table, 2);
  try {
    ild.add(ids{0, 1});
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().field == "items[1]"); // item 1 is the zero vector
  }
  CHECK_THROWS_AS(ild.add(ids{0, 3}), mlsd::input_error);
  CHECK(ild.count() + ild.skipped() == 0);
}

// ---------------------------------------------------------------------------------------------
// Novelty and popularity bias
// ---------------------------------------------------------------------------------------------

TEST_CASE("novelty by hand", "[evaluation][beyond_accuracy]") {
  const std::vector<std::uint64_t> users_per_item = {2, 1, 4, 0};
  const std::vector<double> p = ev::item_popularity(users_per_item, 4);
  CHECK(p == std::vector<double>{0.5, 0.25, 1.0, 0.0});
  ev::novelty n(p);
  n.add(ids{0, 1}); // (1 + 2) / 2 bits
  n.add(ids{2});    // 0 bits
  n.add(ids{});     // skipped
  CHECK(n.result() == 0.75);
  CHECK(n.count() == 2);
  CHECK(n.skipped() == 1);
  try {
    n.add(ids{0, 3});
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().file == "novelty");
    CHECK(e.where().field == "items[1]");
  }
  CHECK_THROWS_AS(n.add(ids{4}), mlsd::input_error);
  CHECK(n.count() == 2);
  CHECK(n.result() == 0.75);

  CHECK_THROWS_AS(ev::novelty(std::vector<double>{0.5, 1.5}), mlsd::input_error);
  CHECK_THROWS_AS(ev::novelty(std::vector<double>{std::nan("")}), mlsd::input_error);
  CHECK_THROWS_AS(ev::item_popularity(users_per_item, 0), std::invalid_argument);
  CHECK_THROWS_AS(ev::item_popularity(users_per_item, 3), std::invalid_argument);
  ev::novelty empty_only(p);
  empty_only.add(ids{});
  CHECK_THROWS_AS(empty_only.result(), ev::undefined_metric);
}

TEST_CASE("average recommendation popularity by hand", "[evaluation][beyond_accuracy]") {
  const std::vector<double> counts = {10, 2, 0, 4};
  ev::popularity_bias arp(counts);
  arp.add(ids{0, 1}); // 6
  arp.add(ids{2, 3}); // 2
  arp.add(ids{});     // skipped
  CHECK(arp.result() == 4.0);
  CHECK(arp.count() == 2);
  CHECK(arp.skipped() == 1);
  CHECK_THROWS_AS(arp.add(ids{4}), mlsd::input_error);
  CHECK_THROWS_AS(ev::popularity_bias(std::vector<double>{1, -1}), mlsd::input_error);
  CHECK_THROWS_AS(ev::popularity_bias(std::vector<double>{std::numeric_limits<double>::infinity()}),
                  mlsd::input_error);
  CHECK_THROWS_AS(ev::popularity_bias(counts).result(), ev::undefined_metric);
}

TEST_CASE("novelty and popularity bias: random lists, merge == add-all",
          "[evaluation][beyond_accuracy]") {
  std::mt19937 rng(5);
  const std::size_t items = 30;
  std::vector<std::uint64_t> users_per_item(items);
  std::uniform_int_distribution<std::uint64_t> users(1, 100);
  for (auto& u : users_per_item) {
    u = users(rng);
  }
  const std::vector<double> p = ev::item_popularity(users_per_item, 100);
  std::vector<double> counts(users_per_item.begin(), users_per_item.end());
  const auto lists = random_lists(rng, 80, items, 5);

  ev::novelty n(p);
  ev::popularity_bias arp(counts);
  double novelty_sum = 0, arp_sum = 0;
  std::size_t counted = 0;
  for (const auto& l : lists) {
    n.add(l);
    arp.add(l);
    if (l.empty()) {
      continue;
    }
    double bits = 0, pop = 0;
    for (const std::size_t i : l) {
      bits += std::log2(100.0 / static_cast<double>(users_per_item[i]));
      pop += counts[i];
    }
    novelty_sum += bits / static_cast<double>(l.size());
    arp_sum += pop / static_cast<double>(l.size());
    ++counted;
  }
  CHECK(n.result() == Approx(novelty_sum / static_cast<double>(counted)).margin(1e-12));
  CHECK(arp.result() == Approx(arp_sum / static_cast<double>(counted)).margin(1e-9));
  check_merge_equals_add_all(ev::novelty(p), lists);
  check_merge_equals_add_all(ev::popularity_bias(counts), lists);

  // Equal tables built apart merge; different ones do not.
  const std::vector<double> p_copy = p;
  ev::novelty copy_built_apart(p_copy);
  CHECK_NOTHROW(copy_built_apart.merge(n));
  std::vector<double> other = p;
  other[0] = 0.5 * other[0];
  ev::novelty different(other);
  CHECK_THROWS_AS(different.merge(n), mlsd::config_error);
  ev::popularity_bias different_arp(std::vector<double>(items, 1.0));
  CHECK_THROWS_AS(different_arp.merge(arp), mlsd::config_error);
}
