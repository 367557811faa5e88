// Negative sampling, negative downsampling and its correction, class weights, SMOTE
// (include/mlsd/data/sampling.hpp).
#include <mlsd/data/sampling.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace {

using mlsd::data::negative_distribution;
using mlsd::data::negative_sampler;
using mlsd::data::negative_sampling_config;
using mlsd::data::user_item;

negative_sampling_config sampling(std::size_t k, negative_distribution d, std::uint64_t seed) {
  negative_sampling_config c;
  c.negatives_per_positive = k;
  c.distribution = d;
  c.seed = seed;
  return c;
}

// |observed - expected| within 5 binomial standard deviations.
void check_binomial(std::uint64_t observed, std::uint64_t trials, double p) {
  const double mean = static_cast<double>(trials) * p;
  const double sd = std::sqrt(static_cast<double>(trials) * p * (1.0 - p));
  INFO("observed " << observed << ", expected " << mean << " +- 5 * " << sd);
  CHECK(std::abs(static_cast<double>(observed) - mean) <= 5.0 * sd);
}

} // namespace

TEST_CASE("negative sampling: k per positive, never a positive of the user, deterministic",
          "[data][sampling]") {
  const std::vector<user_item> positives{{1, 0}, {1, 1}, {2, 3}};
  const negative_sampler sampler(sampling(3, negative_distribution::uniform, 11), 5);
  const auto s = sampler.sample(positives);
  REQUIRE(s.negatives.size() == 9);
  CHECK(s.positive_index == std::vector<std::size_t>{0, 0, 0, 1, 1, 1, 2, 2, 2});
  CHECK(s.shortfall == 0);
  for (std::size_t i = 0; i < s.negatives.size(); ++i) {
    const auto& n = s.negatives[i];
    CHECK(n.user == positives[s.positive_index[i]].user);
    CHECK(n.item < 5);
    if (n.user == 1) {
      CHECK((n.item != 0 && n.item != 1));
    } else {
      CHECK(n.item != 3);
    }
  }
  const auto again = sampler.sample(positives);
  CHECK(again.negatives == s.negatives);
  const negative_sampler other(sampling(3, negative_distribution::uniform, 12), 5);
  const auto different = other.sample(positives);
  CHECK(different.negatives != s.negatives);
}

TEST_CASE("uniform negatives: each non-positive item equally often", "[data][sampling]") {
  const std::vector<user_item> positives{{0, 0}, {0, 1}};
  const negative_sampler sampler(sampling(20000, negative_distribution::uniform, 3), 10);
  const auto s = sampler.sample(positives);
  REQUIRE(s.negatives.size() == 40000);
  std::vector<std::uint64_t> counts(10, 0);
  for (const auto& n : s.negatives) {
    ++counts[n.item];
  }
  CHECK(counts[0] == 0);
  CHECK(counts[1] == 0);
  for (std::size_t i = 2; i < 10; ++i) {
    check_binomial(counts[i], 40000, 1.0 / 8.0);
  }
  CHECK(s.rejected_draws > 0); // 20% of draws hit a positive
}

TEST_CASE("popularity negatives follow count^0.75 without the user's positives",
          "[data][sampling]") {
  // count^0.75 = 1, 8, 27, 64, 0: the user's positive (item 3) leaves 1 : 8 : 27.
  const std::vector<std::uint64_t> counts{1, 16, 81, 256, 0};
  const negative_sampler sampler(sampling(36000, negative_distribution::popularity, 5), counts);
  CHECK(sampler.probability(0) == Approx(0.01));
  CHECK(sampler.probability(3) == Approx(0.64));
  CHECK(sampler.probability(4) == 0.0);
  const std::vector<user_item> positives{{9, 3}};
  const auto s = sampler.sample(positives);
  REQUIRE(s.negatives.size() == 36000);
  std::vector<std::uint64_t> seen(5, 0);
  for (const auto& n : s.negatives) {
    ++seen[n.item];
  }
  check_binomial(seen[0], 36000, 1.0 / 36.0);
  check_binomial(seen[1], 36000, 8.0 / 36.0);
  check_binomial(seen[2], 36000, 27.0 / 36.0);
  CHECK(seen[3] == 0);
  CHECK(seen[4] == 0);
}

TEST_CASE("heavy users: exact fallback and counted shortfall", "[data][sampling]") {
  std::vector<user_item> positives;
  for (std::uint32_t i = 0; i < 99; ++i) {
    positives.push_back({1, i}); // user 1 has every item but 99
  }
  for (std::uint32_t i = 0; i < 100; ++i) {
    positives.push_back({2, i}); // user 2 has every item
  }
  auto cfg = sampling(2, negative_distribution::uniform, 1);
  cfg.max_rejections = 2;
  const negative_sampler sampler(cfg, 100);
  const auto s = sampler.sample(positives);
  CHECK(s.negatives.size() == 99 * 2);
  for (const auto& n : s.negatives) {
    CHECK(n.user == 1);
    CHECK(n.item == 99);
  }
  CHECK(s.shortfall == 200);
}

TEST_CASE("negative sampling: errors and JSON", "[data][sampling]") {
  const negative_sampler sampler(sampling(1, negative_distribution::uniform, 0), 4);
  const std::vector<user_item> bad{{1, 2}, {1, 4}};
  try {
    (void)sampler.sample(bad);
    FAIL("expected an input_error");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().file == "positives[1]");
    CHECK(e.where().field == "item");
    CHECK(e.found() == "4");
  }
  CHECK_THROWS_AS(negative_sampler(sampling(1, negative_distribution::popularity, 0), 4),
                  mlsd::config_error);
  CHECK_THROWS_AS(negative_sampler(sampling(0, negative_distribution::uniform, 0), 4),
                  mlsd::config_error);
  CHECK_THROWS_AS(negative_sampler(sampling(1, negative_distribution::uniform, 0), 0),
                  mlsd::input_error);
  const std::vector<std::uint64_t> zeros{0, 0};
  CHECK_THROWS_AS(negative_sampler(sampling(1, negative_distribution::popularity, 0), zeros),
                  mlsd::input_error);

  const auto c = sampling(5, negative_distribution::popularity, 42);
  const nlohmann::json j = c;
  CHECK(j.at("distribution") == "popularity");
  CHECK(j.at("popularity_exponent") == 0.75);
  CHECK(j.get<negative_sampling_config>() == c);
  nlohmann::json wrong = j;
  wrong["distribution"] = "zipf";
  try {
    (void)wrong.get<negative_sampling_config>();
    FAIL("expected a config_error");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "negative_sampling.distribution");
  }
}

// ---------------------------------------------------------------------------------------------

TEST_CASE("downsampling correction: the formula on hand values", "[data][sampling]") {
  using mlsd::data::calibrate_downsampled;
  static_assert(calibrate_downsampled(0.5, 1.0) == 0.5);
  CHECK(calibrate_downsampled(0.5, 0.5) == Approx(1.0 / 3.0));  // 0.5 / (0.5 + 1)
  CHECK(calibrate_downsampled(0.2, 0.1) == Approx(0.2 / 8.2));  // 0.2 / (0.2 + 8)
  CHECK(calibrate_downsampled(0.9, 0.25) == Approx(0.9 / 1.3)); // 0.9 / (0.9 + 0.4)
  CHECK(calibrate_downsampled(0.0, 0.1) == 0.0);
  CHECK(calibrate_downsampled(1.0, 0.1) == 1.0);
  const mlsd::data::negative_downsampler down({0.25, 0});
  CHECK(down.calibrate(0.9) == Approx(0.9 / 1.3));
  CHECK(down.negative_weight() == 4.0);
}

TEST_CASE("downsampling keeps every positive and a fraction w of the negatives",
          "[data][sampling]") {
  std::vector<float> labels(100000, 0.0f);
  for (std::size_t i = 0; i < labels.size(); i += 50) {
    labels[i] = 1.0f; // 2000 positives
  }
  const mlsd::data::negative_downsampler down({0.1, 99});
  const auto kept = down.sample(labels);
  CHECK(kept.positives == 2000);
  CHECK(kept.negatives_kept + kept.negatives_dropped == 98000);
  CHECK(kept.rows.size() == kept.positives + kept.negatives_kept);
  check_binomial(kept.negatives_kept, 98000, 0.1);
  for (std::size_t i = 0; i < labels.size(); i += 50) {
    CHECK(std::binary_search(kept.rows.begin(), kept.rows.end(), i));
  }
  CHECK(std::is_sorted(kept.rows.begin(), kept.rows.end()));
  // The decision is per row: a prefix of the data keeps a prefix of the rows.
  const auto half = down.sample(std::span<const float>(labels).first(50000));
  const auto in_prefix = static_cast<std::size_t>(
      std::lower_bound(kept.rows.begin(), kept.rows.end(), std::size_t{50000}) - kept.rows.begin());
  CHECK(half.rows == std::vector<std::size_t>(kept.rows.begin(),
                                              kept.rows.begin() + static_cast<long>(in_prefix)));
  // A different seed keeps different negatives.
  const auto other = mlsd::data::negative_downsampler({0.1, 100}).sample(labels);
  CHECK(other.rows != kept.rows);
  // w = 1 keeps everything.
  CHECK(mlsd::data::negative_downsampler({1.0, 0}).sample(labels).rows.size() == labels.size());
}

TEST_CASE("downsampling then the correction recovers the true rate", "[data][sampling]") {
  const double p = 0.03;
  const double w = 0.05;
  std::mt19937_64 gen(77);
  std::bernoulli_distribution click(p);
  std::vector<float> labels(400000);
  std::uint64_t positives = 0;
  for (auto& y : labels) {
    y = click(gen) ? 1.0f : 0.0f;
    positives += y > 0.0f ? 1 : 0;
  }
  const auto n = static_cast<double>(labels.size());
  const double p_emp = static_cast<double>(positives) / n;
  const mlsd::data::negative_downsampler down({w, 2014});
  const auto kept = down.sample(labels);
  const double observed =
      static_cast<double>(kept.positives) / static_cast<double>(kept.rows.size());
  // The observed rate is far from p: without the correction a model is miscalibrated...
  CHECK(observed > 0.3);
  const double corrected = down.calibrate(observed);
  // ...and the correction recovers it. corrected = pos / (pos + K / w) with K ~ Bin(n_neg, w):
  // by the delta method sd(corrected) = pos / n^2 * sqrt(n_neg (1 - w) / w).
  const double n_neg = n - static_cast<double>(positives);
  const double sd_down =
      static_cast<double>(positives) / (n * n) * std::sqrt(n_neg * (1.0 - w) / w);
  INFO("observed " << observed << ", corrected " << corrected << ", empirical " << p_emp << ", sd "
                   << sd_down);
  CHECK(std::abs(corrected - p_emp) <= 5.0 * sd_down);
  // Against the true p, add the labels' own binomial noise.
  const double sd_total = std::sqrt(sd_down * sd_down + p * (1.0 - p) / n);
  CHECK(std::abs(corrected - p) <= 5.0 * sd_total);
}

TEST_CASE("downsampling config: validation and JSON", "[data][sampling]") {
  using mlsd::data::downsampling_config;
  for (const double w : {0.0, -0.5, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    try {
      mlsd::data::negative_downsampler down({w, 0});
      FAIL("expected a config_error for w = " << w);
    } catch (const mlsd::config_error& e) {
      CHECK(e.field() == "downsampling.negative_keep_rate");
    }
  }
  const downsampling_config c{0.125, 7};
  const nlohmann::json j = c;
  CHECK(j == nlohmann::json{{"negative_keep_rate", 0.125}, {"seed", 7}});
  CHECK(j.get<downsampling_config>() == c);
  CHECK_THROWS_AS((nlohmann::json{{"seed", 7}}.get<downsampling_config>()), mlsd::config_error);
  CHECK_THROWS_AS(
      (nlohmann::json{{"negative_keep_rate", 2.0}, {"seed", 7}}.get<downsampling_config>()),
      mlsd::config_error);
  try { // a misspelt key is an error, not a silently ignored setting
    (void)nlohmann::json{{"negative_keep_rate", 0.5}, {"seed", 7}, {"sead", 8}}
        .get<downsampling_config>();
    FAIL("expected a config_error");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "downsampling.sead");
  }
}

// ---------------------------------------------------------------------------------------------

TEST_CASE("balanced class weights: n_samples / (n_classes * count)", "[data][sampling]") {
  using mlsd::data::balanced_class_weights;
  const std::vector<std::uint32_t> two{0, 0, 0, 1};
  const auto w2 = balanced_class_weights(two, 2);
  REQUIRE(w2.size() == 2);
  CHECK(w2[0] == Approx(4.0 / 6.0));
  CHECK(w2[1] == Approx(2.0));
  const std::vector<std::uint32_t> three{2, 1, 2, 0, 1, 2};
  const auto w3 = balanced_class_weights(three, 3);
  CHECK(w3[0] == Approx(2.0));
  CHECK(w3[1] == Approx(1.0));
  CHECK(w3[2] == Approx(2.0 / 3.0));
  const auto per_sample = mlsd::data::sample_weights(three, w3);
  REQUIRE(per_sample.size() == 6);
  CHECK(per_sample[0] == Approx(2.0 / 3.0));
  CHECK(per_sample[3] == Approx(2.0));

  try {
    (void)balanced_class_weights(two, 3); // class 2 never appears
    FAIL("expected an input_error");
  } catch (const mlsd::input_error& e) {
    CHECK(e.expected() == "at least one sample of class 2");
  }
  const std::vector<std::uint32_t> out_of_range{0, 1, 5};
  try {
    (void)balanced_class_weights(out_of_range, 2);
    FAIL("expected an input_error");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().file == "labels[2]");
    CHECK(e.found() == "5");
  }
}

TEST_CASE("given class weights and the class-weight config", "[data][sampling]") {
  using mlsd::data::class_weight_config;
  using mlsd::data::class_weight_mode;
  const std::vector<std::uint32_t> labels{0, 1, 1};
  class_weight_config given{class_weight_mode::given, {1.0, 5.0}};
  CHECK(mlsd::data::class_weights(given, labels, 2) == std::vector<double>{1.0, 5.0});
  CHECK_THROWS_AS(mlsd::data::class_weights(given, labels, 3), mlsd::input_error);
  const class_weight_config balanced{};
  CHECK(mlsd::data::class_weights(balanced, labels, 2)[0] == Approx(1.5));

  class_weight_config bad{class_weight_mode::given, {1.0, -2.0}};
  try {
    bad.validate();
    FAIL("expected a config_error");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "class_weights.weights[1]");
  }
  const nlohmann::json j = given;
  CHECK(j == nlohmann::json{{"mode", "given"}, {"weights", {1.0, 5.0}}});
  CHECK(j.get<class_weight_config>() == given);
  CHECK_THROWS_AS((nlohmann::json{{"mode", "auto"}, {"weights", nlohmann::json::array()}}
                       .get<class_weight_config>()),
                  mlsd::config_error);
}

// ---------------------------------------------------------------------------------------------

namespace {

// The k nearest other rows of row i, by a naive full sort (ties to the lower index).
template <class T>
std::vector<std::size_t> naive_neighbours(const std::vector<T>& x, std::size_t d, std::size_t i,
                                          std::size_t k) {
  const std::size_t m = x.size() / d;
  std::vector<std::pair<double, std::size_t>> all;
  for (std::size_t o = 0; o < m; ++o) {
    if (o != i) {
      double s = 0;
      for (std::size_t j = 0; j < d; ++j) {
        const double diff = static_cast<double>(x[o * d + j]) - static_cast<double>(x[i * d + j]);
        s += diff * diff;
      }
      all.emplace_back(s, o);
    }
  }
  std::sort(all.begin(), all.end());
  std::vector<std::size_t> out;
  for (std::size_t q = 0; q < k; ++q) {
    out.push_back(all[q].second);
  }
  return out;
}

// Distance from point s to the segment [a, b] and the segment parameter of the closest point.
template <class T>
std::pair<double, double> to_segment(const T* s, const T* a, const T* b, std::size_t d) {
  double ab2 = 0, proj = 0;
  for (std::size_t j = 0; j < d; ++j) {
    const double ab = static_cast<double>(b[j]) - a[j];
    ab2 += ab * ab;
    proj += (static_cast<double>(s[j]) - a[j]) * ab;
  }
  const double g = ab2 > 0 ? std::clamp(proj / ab2, 0.0, 1.0) : 0.0;
  double dist2 = 0;
  for (std::size_t j = 0; j < d; ++j) {
    const double p = a[j] + g * (static_cast<double>(b[j]) - a[j]);
    dist2 += (s[j] - p) * (s[j] - p);
  }
  return {std::sqrt(dist2), g};
}

} // namespace

TEMPLATE_TEST_CASE("SMOTE: every synthetic row lies between a minority row and one of its k "
                   "nearest minority neighbours",
                   "[data][sampling][smote]", float, double) {
  const std::size_t m = 30, d = 3, k = 3, n = 200;
  std::mt19937 gen(4);
  std::uniform_real_distribution<double> u(-5.0, 5.0);
  std::vector<TestType> x(m * d);
  for (auto& v : x) {
    v = static_cast<TestType>(u(gen));
  }
  const mlsd::matrix_view<const TestType> minority(x.data(), m, d);
  mlsd::data::smote_config cfg;
  cfg.k_neighbours = k;
  cfg.seed = 123;
  const auto out = mlsd::data::smote(cfg, minority, n);
  REQUIRE(out.count() == n);
  REQUIRE(out.rows.size() == n * d);
  REQUIRE(out.cols == d);

  std::vector<std::vector<std::size_t>> nn(m);
  for (std::size_t i = 0; i < m; ++i) {
    nn[i] = naive_neighbours(x, d, i, k);
  }
  const double tol = std::is_same_v<TestType, float> ? 1e-5 : 1e-12;
  for (std::size_t s = 0; s < n; ++s) {
    const TestType* row = out.rows.data() + s * d;
    // Independently of the recorded provenance: some minority row and one of its neighbours.
    bool on_segment = false;
    for (std::size_t i = 0; i < m && !on_segment; ++i) {
      for (const std::size_t o : nn[i]) {
        if (to_segment(row, &x[i * d], &x[o * d], d).first <= tol * 10) {
          on_segment = true;
          break;
        }
      }
    }
    CHECK(on_segment);
    // The recorded provenance is right.
    CHECK(std::find(nn[out.base[s]].begin(), nn[out.base[s]].end(), out.neighbour[s]) !=
          nn[out.base[s]].end());
    CHECK(out.gap[s] >= TestType(0));
    CHECK(out.gap[s] < TestType(1));
    for (std::size_t j = 0; j < d; ++j) {
      const TestType a = x[out.base[s] * d + j], b = x[out.neighbour[s] * d + j];
      CHECK(std::abs(static_cast<double>(row[j]) - (a + out.gap[s] * (b - a))) <= tol);
    }
  }
  // Every minority row is a plausible base: with 200 draws from 30, each appears (1 - 1/30)^200
  // ~ 0.1% chance to be missed per row; the seed is fixed, so this is a regression check.
  std::vector<int> used(m, 0);
  for (const std::size_t b : out.base) {
    used[b] = 1;
  }
  CHECK(std::count(used.begin(), used.end(), 1) >= 25);

  const auto again = mlsd::data::smote(cfg, minority, n);
  CHECK(again.rows == out.rows);
  cfg.seed = 124;
  CHECK(mlsd::data::smote(cfg, minority, n).rows != out.rows);
  CHECK(mlsd::data::smote(cfg, minority, 0).count() == 0);
}

TEST_CASE("SMOTE on a hand example: k = 1 pairs each point with its nearest",
          "[data][sampling][smote]") {
  // 1-D points 0, 1, 10: nearest(0) = 1, nearest(1) = 0, nearest(10) = 1.
  const std::vector<double> x{0.0, 1.0, 10.0};
  mlsd::data::smote_config cfg;
  cfg.k_neighbours = 1;
  const auto out = mlsd::data::smote(cfg, mlsd::matrix_view<const double>(x.data(), 3, 1), 60);
  REQUIRE(out.count() == 60);
  const std::size_t expected_neighbour[] = {1, 0, 1};
  for (std::size_t s = 0; s < 60; ++s) {
    CHECK(out.neighbour[s] == expected_neighbour[out.base[s]]);
    if (out.base[s] == 2) {
      CHECK((out.rows[s] > 1.0 && out.rows[s] <= 10.0));
    } else {
      CHECK((out.rows[s] >= 0.0 && out.rows[s] <= 1.0));
    }
  }
}

TEST_CASE("SMOTE errors say what is wrong", "[data][sampling][smote]") {
  mlsd::data::smote_config cfg;
  const std::vector<float> one{1.0f, 2.0f};
  try {
    (void)mlsd::data::smote(cfg, mlsd::matrix_view<const float>(one.data(), 1, 2), 5);
    FAIL("expected an input_error");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().field == "minority");
    CHECK(e.expected() == "at least 2 minority rows (SMOTE interpolates between two)");
    CHECK(e.found() == "1");
  }
  const std::vector<float> five(10, 0.5f);
  cfg.k_neighbours = 5;
  try {
    (void)mlsd::data::smote(cfg, mlsd::matrix_view<const float>(five.data(), 5, 2), 5);
    FAIL("expected an input_error");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().field == "k_neighbours");
    CHECK(e.found() == "5");
    CHECK(std::string(e.what()).find("minority rows (5)") != std::string::npos);
  }
  cfg.k_neighbours = 4; // the largest k for 5 rows
  CHECK(mlsd::data::smote(cfg, mlsd::matrix_view<const float>(five.data(), 5, 2), 5).count() == 5);
  cfg.k_neighbours = 0;
  CHECK_THROWS_AS(mlsd::data::smote(cfg, mlsd::matrix_view<const float>(five.data(), 5, 2), 5),
                  mlsd::config_error);
  cfg.k_neighbours = 1;
  std::vector<float> nan = five;
  nan[7] = std::numeric_limits<float>::quiet_NaN();
  try {
    (void)mlsd::data::smote(cfg, mlsd::matrix_view<const float>(nan.data(), 5, 2), 5);
    FAIL("expected an input_error");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().file == "minority[3]");
    CHECK(e.where().column == 2);
  }
  const nlohmann::json j = mlsd::data::smote_config{3, 9};
  CHECK(j == nlohmann::json{{"k_neighbours", 3}, {"seed", 9}});
  CHECK((j.get<mlsd::data::smote_config>() == mlsd::data::smote_config{3, 9}));
}
