// Isolation forest: c(n) against hand-computed values, the structure of the grown trees, scores
// against a path walk written here, a planted outlier, determinism, the contamination threshold
// (scikit-learn's offset_ convention), the model file, and errors for bad input.
#include <mlsd/model/isolation_forest.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <numbers>
#include <vector>

namespace {
using namespace mlsd;
using namespace mlsd::model;

static_assert(scorer<isolation_forest>);

/// `n` points of a standard normal cloud in `d` dimensions (Box–Muller on SplitMix64), row-major.
std::vector<float> gaussian_cloud(std::size_t n, std::size_t d, std::uint64_t seed) {
  mlsd::data::detail::splitmix64 g(seed);
  std::vector<float> out;
  for (std::size_t i = 0; i < n * d; ++i) {
    const double u1 = 1.0 - g.uniform(), u2 = g.uniform();
    out.push_back(
        static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2)));
  }
  return out;
}

/// The mean path length by walking the stored arrays, independently of the class's own walk.
double reference_path_length(const isolation_forest& f, std::span<const float> x) {
  double sum = 0;
  for (const std::uint32_t root : f.roots()) {
    std::uint32_t node = root;
    int depth = 0;
    while (f.node_features()[node] != -1) {
      const auto q = static_cast<std::size_t>(f.node_features()[node]);
      node = x[q] < f.node_thresholds()[node] ? f.node_left()[node] : f.node_right()[node];
      ++depth;
    }
    // c(n) as Liu et al. write it, H(i) ~ ln(i) + 0.5772156649, and c(2) = 1, c(n <= 1) = 0.
    const double n = f.node_sizes()[node];
    const double c =
        n > 2 ? 2 * (std::log(n - 1) + 0.5772156649) - 2 * (n - 1) / n : (n == 2 ? 1.0 : 0.0);
    sum += depth + c;
  }
  return sum / static_cast<double>(f.trees());
}

} // namespace

TEST_CASE("average_path_length: c(n) against hand-computed values", "[model][isolation_forest]") {
  CHECK(average_path_length(0) == 0.0);
  CHECK(average_path_length(1) == 0.0);
  CHECK(average_path_length(2) == 1.0);
  // c(3) = 2 (ln 2 + 0.5772156649) - 2·2/3 = 2 · 1.2703628455 - 1.3333333333 = 1.2073923576
  CHECK(average_path_length(3) == Approx(1.2073923576).epsilon(1e-9));
  // c(4) = 2 (ln 3 + 0.5772156649) - 2·3/4 = 2 · 1.6758279536 - 1.5 = 1.8516559071
  CHECK(average_path_length(4) == Approx(1.8516559071).epsilon(1e-9));
  // c(256) = 2 (ln 255 + 0.5772156649) - 2·255/256 = 2 · 6.1184792207 - 1.9921875 = 10.2447709415
  // (to the 10 digits of ln 255 = 5.5412635451 used by hand)
  CHECK(average_path_length(256) == Approx(10.24477092).epsilon(1e-8));
  // For large n it approaches the exact 2 H(n-1) - 2(n-1)/n: c(256) exact is 10.2486899256.
  CHECK(std::fabs(average_path_length(256) - 10.2486899256) < 4e-3);
}

TEST_CASE("isolation_forest: config validation and JSON", "[model][isolation_forest]") {
  isolation_forest_config c;
  c.trees = 0;
  REQUIRE_THROWS_WITH(isolation_forest(c), Catch::Contains("trees"));
  c.trees = 10;
  c.contamination = 0.7;
  REQUIRE_THROWS_WITH(isolation_forest(c), Catch::Contains("contamination"));
  c.contamination = 0.05;
  c.sample_size = 128;
  c.seed = 42;
  const isolation_forest_config back = isolation_forest_config::from_json(c.to_json());
  CHECK(back.to_json() == c.to_json());
  CHECK(back.contamination == 0.05);
  isolation_forest_config automatic;
  CHECK(automatic.to_json()["contamination"] == "auto");
  CHECK_FALSE(isolation_forest_config::from_json(automatic.to_json()).contamination);
  nlohmann::json bad = automatic.to_json();
  bad["contamination"] = "some";
  REQUIRE_THROWS_WITH(isolation_forest_config::from_json(bad), Catch::Contains("contamination"));
}

TEST_CASE("isolation_forest: two points are always isolated in one split, score 0.5",
          "[model][isolation_forest]") {
  // ψ = 2, height limit ceil(log2 2) = 1: every tree splits the two points into leaves of size
  // 1, so every path has length 1 + c(1) = 1 and s = 2^(-1 / c(2)) = 2^-1, for any query.
  const std::vector<float> x = {0.0f, 5.0f, 1.0f, -3.0f};
  isolation_forest f;
  f.fit(matrix_view<const float>(x.data(), 2, 2));
  CHECK(f.sample_size() == 2);
  CHECK(f.max_depth() == 1);
  CHECK(f.trees() == 100);
  CHECK(f.nodes() == 300);
  const std::vector<float> far = {100.0f, 100.0f};
  CHECK(f.score(far) == 0.5f);
  CHECK(f.mean_path_length(std::span<const float>(x).first(2)) == 1.0);
}

TEST_CASE("isolation_forest: the trees partition their sample and the score is 2^(-mean path "
          "length / c(psi))",
          "[model][isolation_forest]") {
  const std::vector<float> data = gaussian_cloud(500, 3, 5);
  const matrix_view<const float> x(data.data(), 500, 3);
  isolation_forest_config c;
  c.trees = 20;
  c.sample_size = 64;
  isolation_forest f(c);
  f.fit(x);
  REQUIRE(f.sample_size() == 64);
  REQUIRE(f.max_depth() == 6);
  // Every root holds ψ rows; every split's children hold its rows between them; depth ≤ 6.
  for (const std::uint32_t root : f.roots()) {
    CHECK(f.node_sizes()[root] == 64);
    std::vector<std::pair<std::uint32_t, std::size_t>> stack{{root, 0}};
    while (!stack.empty()) {
      const auto [node, depth] = stack.back();
      stack.pop_back();
      CHECK(depth <= 6);
      if (f.node_features()[node] != -1) {
        const std::uint32_t l = f.node_left()[node], r = f.node_right()[node];
        CHECK(f.node_sizes()[l] + f.node_sizes()[r] == f.node_sizes()[node]);
        stack.push_back({l, depth + 1});
        stack.push_back({r, depth + 1});
      } else {
        CHECK((depth == 6 || f.node_sizes()[node] <= 1));
      }
    }
  }
  for (std::size_t r = 0; r < 500; r += 37) {
    const double h = reference_path_length(f, x.row(r));
    CHECK(f.mean_path_length(x.row(r)) == Approx(h).epsilon(1e-9));
    const double expected = std::pow(2.0, -f.mean_path_length(x.row(r)) / average_path_length(64));
    CHECK(f.score(x.row(r)) == Approx(expected).epsilon(1e-6));
  }
}

TEST_CASE("isolation_forest: a planted outlier scores high, the cloud about 0.5 or less",
          "[model][isolation_forest]") {
  std::vector<float> data = gaussian_cloud(1000, 2, 17);
  data.push_back(6.0f); // the outlier: 6 standard deviations out on both axes
  data.push_back(-6.0f);
  const matrix_view<const float> x(data.data(), 1001, 2);
  isolation_forest f;
  f.fit(x);
  const std::vector<float> s = f.scores(x);
  CHECK(s[1000] > 0.6f);
  double inlier_sum = 0;
  std::size_t above = 0;
  for (std::size_t r = 0; r < 1000; ++r) {
    inlier_sum += s[r];
    above += s[r] > s[1000] ? 1 : 0;
  }
  CHECK(inlier_sum / 1000 < 0.5);
  CHECK(above == 0); // the outlier ranks first
  const std::vector<float> centre = {0.0f, 0.0f};
  CHECK(f.score(centre) < 0.45f);
}

TEST_CASE("isolation_forest: the same seed gives the same forest, on any scoring thread count",
          "[model][isolation_forest]") {
  const std::vector<float> data = gaussian_cloud(800, 4, 3);
  const matrix_view<const float> x(data.data(), 800, 4);
  isolation_forest_config c;
  c.seed = 9;
  isolation_forest a(c), b(c);
  a.fit(x);
  b.fit(x);
  CHECK(std::equal(a.node_thresholds().begin(), a.node_thresholds().end(),
                   b.node_thresholds().begin(), b.node_thresholds().end()));
  CHECK(a.scores(x) == b.scores(x));
  c.threads = 3;
  isolation_forest threaded(c);
  threaded.fit(x);
  CHECK(threaded.scores(x) == a.scores(x));
  c.seed = 10;
  isolation_forest other(c);
  other.fit(x);
  CHECK(other.scores(x) != a.scores(x));
}

TEST_CASE("isolation_forest: contamination sets the threshold as scikit-learn's offset_",
          "[model][isolation_forest]") {
  std::vector<float> data = gaussian_cloud(300, 2, 8);
  const matrix_view<const float> x(data.data(), 300, 2);
  isolation_forest automatic;
  automatic.fit(x);
  CHECK(automatic.threshold() == 0.5f);
  CHECK(automatic.offset() == -0.5f);

  isolation_forest_config c;
  c.contamination = 0.1;
  isolation_forest f(c);
  f.fit(x);
  // The 90th percentile of the training scores with linear interpolation (NumPy's default):
  // position 0.9 · 299 = 269.1 between the sorted scores 269 and 270.
  std::vector<float> s = f.scores(x);
  std::vector<float> sorted = s;
  std::sort(sorted.begin(), sorted.end());
  const double expected = sorted[269] + 0.1 * (static_cast<double>(sorted[270]) - sorted[269]);
  CHECK(f.threshold() == Approx(expected).epsilon(1e-6));
  CHECK(f.offset() == -f.threshold());
  std::size_t flagged = 0;
  for (std::size_t r = 0; r < 300; ++r) {
    const bool anomaly = f.is_anomaly(x.row(r));
    flagged += anomaly ? 1 : 0;
    CHECK(anomaly == (f.decision_function(x.row(r)) < 0.0f));
  }
  CHECK(flagged == 30); // the 30 scores above the interpolated 90th percentile
}

TEST_CASE("isolation_forest: bad input throws input_error naming row and column",
          "[model][isolation_forest]") {
  std::vector<float> data = gaussian_cloud(10, 3, 1);
  isolation_forest f;
  REQUIRE_THROWS_AS(f.score(std::span<const float>(data.data(), 3)), mlsd::not_fitted_error);
  data[3 * 4 + 2] = std::nanf("");
  REQUIRE_THROWS_WITH(f.fit(matrix_view<const float>(data.data(), 10, 3)),
                      Catch::Contains("row 4") && Catch::Contains("column 2") &&
                          Catch::Contains("a finite number"));
  CHECK_FALSE(f.fitted());
  data[3 * 4 + 2] = 0.5f;
  REQUIRE_THROWS_AS(f.fit(matrix_view<const float>(data.data(), 1, 3)), input_error);
  f.fit(matrix_view<const float>(data.data(), 10, 3));
  const std::vector<float> two = {1.0f, 2.0f};
  REQUIRE_THROWS_WITH(f.score(two), Catch::Contains("3 features") && Catch::Contains("'2'"));
  const std::vector<float> inf = {1.0f, INFINITY, 0.0f};
  REQUIRE_THROWS_WITH(f.score(inf), Catch::Contains("column 1"));
  std::vector<float> rows = gaussian_cloud(5, 3, 2);
  rows[3 * 3 + 0] = std::nanf("");
  REQUIRE_THROWS_WITH(f.scores(matrix_view<const float>(rows.data(), 5, 3)),
                      Catch::Contains("row 3") && Catch::Contains("column 0"));
}

TEST_CASE("isolation_forest: the model file round-trips and is checked on load",
          "[model][isolation_forest]") {
  const std::vector<float> data = gaussian_cloud(400, 3, 21);
  const matrix_view<const float> x(data.data(), 400, 3);
  isolation_forest_config c;
  c.trees = 30;
  c.contamination = 0.05;
  isolation_forest f(c);
  f.fit(x);
  const model_file file = f.to_model_file();
  CHECK(file.model_type == "isolation_forest");
  CHECK(file.table("nodes").rows == f.nodes());
  CHECK(file.table("roots").rows == 30);
  const isolation_forest back = isolation_forest::from_model_file(file);
  CHECK(back.scores(x) == f.scores(x));
  CHECK(back.threshold() == f.threshold());
  CHECK(back.sample_size() == 256);
  CHECK(back.max_depth() == 8);

  const auto path = std::filesystem::temp_directory_path() / "mlsd_isolation_forest_test.model";
  save_model(f, path);
  const isolation_forest loaded = load_model<isolation_forest>(path);
  std::filesystem::remove(path);
  CHECK(loaded.scores(x) == f.scores(x));

  model_file cycle = file;
  cycle.tables[0].values[2] = 0.0f; // node 0's left child pointing back at itself
  try {
    (void)isolation_forest::from_model_file(cycle);
    FAIL("expected model_file_error");
  } catch (const model_file_error& e) {
    CHECK(e.problem() == model_file_error::kind::bad_table);
    CHECK_THAT(e.what(), Catch::Contains("row 0"));
  }
  model_file missing = file;
  missing.tables.pop_back();
  REQUIRE_THROWS_AS(isolation_forest::from_model_file(missing), model_file_error);
  REQUIRE_THROWS_AS(isolation_forest().to_model_file(), mlsd::not_fitted_error);
}

TEST_CASE("isolation_forest: the example of docs/mlp-and-anomaly-models.md",
          "[model][isolation_forest]") {
  namespace m = mlsd::model;

  // rows × features, row-major (e.g. V1..V28 and Amount of each transaction)
  std::vector<float> x = gaussian_cloud(500, 29, 4); // the page leaves the data out
  const mlsd::matrix_view<const float> rows(x.data(), x.size() / 29, 29);

  m::isolation_forest_config config; // 100 trees, ψ = 256
  config.contamination = 0.02;       // flag the 2% most unusual
  m::isolation_forest forest(config);
  forest.fit(rows);
  const std::vector<float> s = forest.scores(rows);
  const bool review = forest.is_anomaly(rows.row(0));
  const auto path = std::filesystem::temp_directory_path() / "mlsd_iforest_doc_example.model";
  m::save_model(forest, path); // the page saves to "fraud.iforest"

  CHECK(review == (s[0] > forest.threshold()));
  // 2% of 500: position 0.98 · 499 = 489.02 in the sorted scores, so the 10 above it are flagged.
  CHECK(std::count_if(s.begin(), s.end(), [&](float v) { return v > forest.threshold(); }) == 10);
  CHECK(m::load_model<m::isolation_forest>(path).scores(rows) == s);
  std::filesystem::remove(path);
}
