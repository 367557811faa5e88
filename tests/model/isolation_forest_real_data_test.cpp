// Isolation forest on the credit-card fraud sample (MLSD_DATA_DIR, see ../shared/data/README.md):
// 2,952 transactions (all 492 frauds of the ULB/Worldline data, Dal Pozzolo et al. 2015, and 2,460
// normal ones), scored without labels; the ROC-AUC of the anomaly score against Class must reach
// 0.90 (scikit-learn's IsolationForest gets about 0.92 on it).
//
// Features: V1..V28 and Amount. Time is left out: it counts seconds from the first transaction
// of the two-day capture, so it says when in the capture a payment happened, not how unusual the
// payment is; at serving time every new transaction would lie beyond the training range. (With
// Time the AUC is about the same, 0.925 against 0.924 over seeds 1..10.) Amount is used raw:
// the splits are uniform between a node's minimum and maximum, so a monotone rescaling changes
// nothing but the random draws.
#include "../data/dataset.hpp"

#include <mlsd/data/csv.hpp>
#include <mlsd/data/memory_source.hpp>
#include <mlsd/evaluation/classification.hpp>
#include <mlsd/model/isolation_forest.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

namespace {

/// The exact ROC-AUC: the Mann–Whitney rank sum of the positives, tied scores sharing the mean
/// of their ranks (so a tie between a positive and a negative counts 1/2).
double roc_auc(const std::vector<float>& scores, const std::vector<int>& positive) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  double rank_sum = 0;
  double positives = 0;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) {
      ++j;
    }
    const double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (std::size_t k = i; k < j; ++k) {
      if (positive[order[k]] != 0) {
        rank_sum += mean_rank;
        positives += 1;
      }
    }
    i = j;
  }
  const double negatives = static_cast<double>(scores.size()) - positives;
  return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

} // namespace

TEST_CASE("the rank-sum ROC-AUC helper on hand-computed cases", "[model][isolation_forest]") {
  // Scores 0.1 0.4 0.35 0.8 with labels 0 0 1 1: of the 4 (positive, negative) pairs, 3 are
  // ordered correctly (0.35 < 0.4 is the miss): AUC 0.75 (the scikit-learn documentation's case).
  CHECK(roc_auc({0.1f, 0.4f, 0.35f, 0.8f}, {0, 0, 1, 1}) == 0.75);
  // A tie between the only positive and one of two negatives: (1 + 1/2) / 2.
  CHECK(roc_auc({0.5f, 0.5f, 0.1f}, {1, 0, 0}) == 0.75);
}

TEST_CASE("real data: isolation forest finds card fraud without labels (ROC-AUC >= 0.90)",
          "[model][isolation_forest][real_data]") {
  const auto dir = mlsd_test::dataset("creditcard-fraud-sample");
  if (!dir) {
    return;
  }
  using namespace mlsd::data;
  std::vector<column> columns{{"Time", column_type::float64}};
  for (int v = 1; v <= 28; ++v) {
    std::string name = "V";
    name += std::to_string(v);
    columns.push_back({std::move(name), column_type::float64});
  }
  columns.push_back({"Amount", column_type::float64});
  columns.push_back({"Class", column_type::int64});
  csv_config cfg;
  cfg.schema = record_schema(std::move(columns));
  csv_source cards(*dir / "creditcard_small.csv", cfg);
  const std::vector<record> all = read_all(cards);
  REQUIRE(all.size() == 2952);

  constexpr std::size_t features = 29; // V1..V28, Amount (columns 1..29)
  std::vector<float> x;
  std::vector<int> fraud;
  x.reserve(all.size() * features);
  for (const record& r : all) {
    for (std::size_t c = 1; c <= features; ++c) {
      x.push_back(static_cast<float>(r.get<double>(c)));
    }
    fraud.push_back(r.get<std::int64_t>("Class") == 1 ? 1 : 0);
  }
  REQUIRE(std::accumulate(fraud.begin(), fraud.end(), 0) == 492);
  const mlsd::matrix_view<const float> rows(x.data(), all.size(), features);

  // Seeds 1..10 at this commit: mean 0.924, min 0.904 (seed 3), max 0.936 (seed 10).
  double sum = 0;
  double worst = 1;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    mlsd::model::isolation_forest_config c; // 100 trees, ψ = 256, as scikit-learn's defaults
    c.seed = seed;
    c.threads = 2;
    mlsd::model::isolation_forest forest(c);
    forest.fit(rows);
    const std::vector<float> scores = forest.scores(rows);
    const double auc = roc_auc(scores, fraud);
    INFO("seed " << seed << ": ROC-AUC " << auc);
    // The evaluation step's exact ROC-AUC agrees with the rank sum here.
    const std::vector<float> labels(fraud.begin(), fraud.end());
    CHECK(mlsd::evaluation::roc_auc_of(scores, labels) == Approx(auc).epsilon(1e-12));
    CHECK(auc >= 0.90); // every seed, not only on average: 0.927, 0.918, 0.904, 0.926, 0.931
    sum += auc;
    worst = std::min(worst, auc);
  }
  INFO("worst ROC-AUC over seeds 1..5: " << worst);
  CHECK(sum / 5 >= 0.90);
}
