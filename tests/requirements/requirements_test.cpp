// Requirements as constexpr values: objective, task, metrics, SLOs
// (include/mlsd/requirements/requirements.hpp).
#include <mlsd/requirements/requirements.hpp>

#include <catch2/catch.hpp>

#include <chrono>

using namespace std::chrono_literals;

namespace {

inline constexpr mlsd::requirements ad_click{
    .objective = mlsd::business_objective::click_through_rate,
    .task = mlsd::ml_task::binary_classification,
    .offline = {mlsd::offline_metric::normalized_entropy, mlsd::offline_metric::roc_auc},
    .online = {mlsd::online_metric::click_through_rate},
    .slo = {.p99_latency = 50ms,
            .peak_qps = 20'000,
            .catalog_size = 2'000'000,
            .feature_freshness = 1min,
            .availability = 0.9995}};

// Requirements are structural: they can be template arguments.
template <mlsd::requirements R>
struct p99_of {
  static constexpr std::int64_t value = R.slo.p99_latency.microseconds;
};

template <class E>
void check_names_round_trip(E last) {
  for (unsigned i = 0; i <= static_cast<unsigned>(last); ++i) {
    const auto e = static_cast<E>(i);
    const std::string_view name = mlsd::to_string(e);
    CAPTURE(i, name);
    CHECK_FALSE(name.empty());
    CHECK(mlsd::enum_from_string<E>(name) == e);
  }
  CHECK_FALSE(mlsd::enum_from_string<E>("no_such_name").has_value());
}

} // namespace

TEST_CASE("requirements are constexpr, structural values", "[requirements]") {
  STATIC_REQUIRE(p99_of<ad_click>::value == 50'000);
  STATIC_REQUIRE(ad_click.slo.feature_freshness.microseconds == 60'000'000);
  STATIC_REQUIRE(ad_click.slo.availability.parts_per_million == 999'500);
  STATIC_REQUIRE(ad_click.offline.contains(mlsd::offline_metric::roc_auc));
  STATIC_REQUIRE_FALSE(ad_click.offline.contains(mlsd::offline_metric::ndcg_at_k));
  STATIC_REQUIRE(ad_click.offline.size() == 2);
  STATIC_REQUIRE(ad_click == ad_click);
  constexpr mlsd::requirements other = [] {
    mlsd::requirements r = ad_click;
    r.slo.peak_qps = 1;
    return r;
  }();
  STATIC_REQUIRE_FALSE(other == ad_click);
}

TEST_CASE("time_span converts from any chrono duration, to whole microseconds", "[requirements]") {
  STATIC_REQUIRE(mlsd::time_span(2s).microseconds == 2'000'000);
  STATIC_REQUIRE(mlsd::time_span(1500us).chrono() == 1500us);
  STATIC_REQUIRE(mlsd::time_span(std::chrono::nanoseconds(1999)).microseconds == 1); // truncates
  STATIC_REQUIRE(mlsd::time_span(10ms) + mlsd::time_span(5ms) == mlsd::time_span(15ms));
  STATIC_REQUIRE(mlsd::time_span(10ms) < mlsd::time_span(11ms));
  CHECK(mlsd::time_span(250ms).seconds() == Approx(0.25));
}

TEST_CASE("availability targets: parts per million and monthly downtime", "[requirements]") {
  STATIC_REQUIRE(mlsd::availability_target(0.999).parts_per_million == 999'000);
  STATIC_REQUIRE(mlsd::availability_target(0.99999).parts_per_million == 999'990);
  // 99.9% of a 30-day month leaves 43.2 minutes.
  STATIC_REQUIRE(mlsd::availability_target(0.999).monthly_downtime() == 2592s);
  STATIC_REQUIRE(mlsd::availability_target(1.0).monthly_downtime() == 0s);
  CHECK(mlsd::availability_target(0.9995).fraction() == Approx(0.9995));
}

TEST_CASE("metric_set holds a braced list of metrics", "[requirements]") {
  constexpr mlsd::metric_set<mlsd::offline_metric> s{mlsd::offline_metric::ndcg_at_k,
                                                     mlsd::offline_metric::roc_auc,
                                                     mlsd::offline_metric::roc_auc};
  STATIC_REQUIRE(s.size() == 2);
  STATIC_REQUIRE_FALSE(s.empty());
  STATIC_REQUIRE(mlsd::metric_set<mlsd::online_metric>{}.empty());
  std::vector<mlsd::offline_metric> seen;
  s.for_each([&](mlsd::offline_metric m) { seen.push_back(m); });
  CHECK(seen == std::vector{mlsd::offline_metric::roc_auc, mlsd::offline_metric::ndcg_at_k});
}

TEST_CASE("metric_fits: which offline metrics can judge which task", "[requirements]") {
  using enum mlsd::offline_metric;
  using mlsd::metric_fits;
  using mlsd::ml_task;
  // Binary classification: every classification metric; ranking metrics only with a ranked list.
  for (auto m : {roc_auc, pr_auc, log_loss, normalized_entropy, brier_score, calibration_ratio,
                 expected_calibration_error, accuracy, precision, recall, f1}) {
    CAPTURE(mlsd::to_string(m));
    CHECK(metric_fits(m, ml_task::binary_classification, false));
  }
  CHECK_FALSE(metric_fits(ndcg_at_k, ml_task::binary_classification, false));
  CHECK(metric_fits(ndcg_at_k, ml_task::binary_classification, true));
  CHECK_FALSE(metric_fits(rmse, ml_task::binary_classification, true));
  // Regression only takes regression metrics.
  CHECK(metric_fits(rmse, ml_task::regression, false));
  CHECK(metric_fits(r2, ml_task::regression, true));
  CHECK_FALSE(metric_fits(roc_auc, ml_task::regression, false));
  // Multi-class: no ROC-AUC (which is binary), yes accuracy and log loss.
  CHECK(metric_fits(accuracy, ml_task::multiclass_classification, false));
  CHECK(metric_fits(log_loss, ml_task::multiclass_classification, false));
  CHECK_FALSE(metric_fits(roc_auc, ml_task::multiclass_classification, false));
  // Ranking and retrieval: ranking, beyond-accuracy and pointwise probability metrics.
  for (auto t : {ml_task::ranking, ml_task::retrieval}) {
    CHECK(metric_fits(ndcg_at_k, t, false));
    CHECK(metric_fits(catalog_coverage, t, true));
    CHECK(metric_fits(normalized_entropy, t, true));
    CHECK_FALSE(metric_fits(rmse, t, true));
    CHECK_FALSE(metric_fits(accuracy, t, true));
  }
  // Anomaly detection: threshold-free and threshold metrics, but no probability metrics.
  CHECK(metric_fits(pr_auc, ml_task::anomaly_detection, false));
  CHECK_FALSE(metric_fits(log_loss, ml_task::anomaly_detection, false));
  CHECK_FALSE(metric_fits(ndcg_at_k, ml_task::anomaly_detection, true));

  CHECK(mlsd::family_of(gauc) == mlsd::metric_family::ranking);
  CHECK(mlsd::family_of(novelty) == mlsd::metric_family::beyond_accuracy);
  CHECK(mlsd::family_of(popularity_bias) == mlsd::metric_family::beyond_accuracy);
  CHECK(mlsd::family_of(brier_score) == mlsd::metric_family::classification);
}

TEST_CASE("find_unfit_metric names the first metric that does not fit", "[requirements]") {
  mlsd::requirements r = ad_click;
  mlsd::offline_metric bad{};
  CHECK_FALSE(mlsd::find_unfit_metric(r, false, bad));
  r.offline = {mlsd::offline_metric::roc_auc, mlsd::offline_metric::mrr,
               mlsd::offline_metric::ndcg_at_k};
  REQUIRE(mlsd::find_unfit_metric(r, false, bad));
  CHECK(bad == mlsd::offline_metric::mrr);
  CHECK_FALSE(mlsd::find_unfit_metric(r, true, bad));
}

TEST_CASE("every enumerator has a unique name that parses back", "[requirements]") {
  check_names_round_trip(mlsd::business_objective::relevance);
  check_names_round_trip(mlsd::ml_task::anomaly_detection);
  check_names_round_trip(mlsd::offline_metric::novelty);
  check_names_round_trip(mlsd::offline_metric::popularity_bias);
  check_names_round_trip(mlsd::online_metric::false_positive_rate);
  check_names_round_trip(mlsd::metric_family::beyond_accuracy);
  CHECK(mlsd::to_string(mlsd::offline_metric::ndcg_at_k) == "ndcg_at_k");
  CHECK(mlsd::to_string(mlsd::ml_task::binary_classification) == "binary_classification");
}
