// compile_fail test: a requirements value whose offline metrics include one that cannot judge the
// ML task must not compile: nDCG@k judges a ranked list, and this binary classifier (fraud
// detection: feature transform, then scorer) has no retriever, ranker or re-ranker stage, so it
// returns no ranked list. The static_assert on meets_requirements is where the build stops, with
// mlsd::detail::check_metric_fits_task's message.
//
// Built twice (tests/compile_fail/CMakeLists.txt): with MLSD_COMPILE_FAIL_CONTROL defined, the
// offline metrics are PR-AUC and recall and the file compiles; without it, nDCG@k is among them and
// the build must fail.
#include <mlsd/core/roles.hpp>
#include <mlsd/core/stage.hpp>
#include <mlsd/requirements/budget.hpp>
#include <mlsd/requirements/requirements.hpp>

#include <chrono>
#include <cstddef>
#include <span>
#include <vector>

namespace fraud {

using namespace std::chrono_literals;
using enum mlsd::offline_metric;

#ifdef MLSD_COMPILE_FAIL_CONTROL
inline constexpr mlsd::metric_set<mlsd::offline_metric> offline_metrics{pr_auc, recall};
#else
inline constexpr mlsd::metric_set<mlsd::offline_metric> offline_metrics{pr_auc, recall, ndcg_at_k};
#endif

inline constexpr mlsd::requirements card_fraud{
    .objective = mlsd::business_objective::fraud_loss,
    .task = mlsd::ml_task::binary_classification,
    .offline = offline_metrics,
    .online = {mlsd::online_metric::fraud_loss, mlsd::online_metric::false_positive_rate},
    .slo = {.p99_latency = 30ms,
            .peak_qps = 5'000,
            .catalog_size = 0,
            .feature_freshness = 1s,
            .availability = 0.9999}};

struct transaction_features : mlsd::feature_transform_tag {
  using input_type = std::span<const float>;
  using output_type = std::vector<float>;
  output_type operator()(input_type raw) const { return output_type(raw.begin(), raw.end()); }
};

struct fraud_model : mlsd::scorer_tag {
  using input_type = const std::vector<float>&;
  using output_type = float;
  output_type operator()(input_type x) const {
    float logit = -4.0f;
    for (std::size_t i = 0; i < x.size(); ++i) {
      logit += 0.1f * x[i];
    }
    return logit;
  }
};

float fraud_score(std::span<const float> raw_transaction) {
  auto serve =
      mlsd::with_budget<mlsd::stage_budget{.name = "features", .latency = 5ms}>(
          transaction_features{}) |
      mlsd::with_budget<mlsd::stage_budget{.name = "score", .latency = 10ms}>(fraud_model{});
  static_assert(mlsd::meets_requirements<card_fraud, decltype(serve)>); // compile_fail: error here
  return serve(raw_transaction);
}

} // namespace fraud
