/// @file
/// Steps 1 and 2 of the framework as a `constexpr` value: the business objective, the ML task that
/// frames it, the offline and online metrics that judge it, and the service-level objectives.
///
/// ```cpp
/// using namespace std::chrono_literals;
/// inline constexpr mlsd::requirements ad_click{
///     .objective = mlsd::business_objective::click_through_rate,
///     .task = mlsd::ml_task::binary_classification,
///     .offline = {mlsd::offline_metric::normalized_entropy, mlsd::offline_metric::roc_auc},
///     .online = {mlsd::online_metric::click_through_rate},
///     .slo = {.p99_latency = 50ms, .peak_qps = 20'000, .catalog_size = 2'000'000,
///             .feature_freshness = 1min, .availability = 0.9995}};
/// ```
///
/// Every type here is *structural* (public members of integral, enum or structural types), so a
/// `requirements` value can be a template argument and the checks in `requirements/budget.hpp` run
/// inside the compiler.
#pragma once

#include <mlsd/core/version.hpp>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string_view>

MLSD_BEGIN_NAMESPACE

/// What the business wants to move. The ML task is a proxy for it, never the same thing.
enum class business_objective : std::uint8_t {
  click_through_rate, ///< ad click prediction, feed ranking
  conversion_rate,    ///< purchases, installs, sign-ups after an impression
  watch_time,         ///< video and music recommendation
  engagement,         ///< likes, shares, comments, sessions
  revenue,            ///< bids times predicted CTR, basket value
  retention,          ///< users who come back (churn's complement)
  safety,             ///< harmful content removed before it is seen
  fraud_loss,         ///< money lost to fraudulent transactions
  relevance,          ///< search and similar-item quality
};

/// How the objective is framed as a learning problem.
enum class ml_task : std::uint8_t {
  binary_classification,     ///< P(click), P(harmful), P(fraud)
  multiclass_classification, ///< one of C classes (content categories, intents)
  regression,                ///< a real value (watch time, rating, price)
  ranking,                   ///< order candidates for one request (learning to rank)
  retrieval,                 ///< find the few relevant items among millions (embeddings)
  anomaly_detection,         ///< unlabelled or barely labelled outliers (fraud, abuse)
};

/// Metrics computed on held-out data before a model ships (docs/requirements.md defines each).
enum class offline_metric : std::uint8_t {
  roc_auc,
  pr_auc,
  log_loss,
  normalized_entropy,
  brier_score,
  calibration_ratio,
  expected_calibration_error,
  accuracy,
  precision,
  recall,
  f1,
  rmse,
  mae,
  r2,
  precision_at_k,
  recall_at_k,
  hit_rate_at_k,
  map_at_k,
  mrr,
  ndcg_at_k,
  gauc,
  catalog_coverage,
  diversity,
  novelty,
  popularity_bias,
};

/// Metrics measured on live traffic (A/B tests) that decide whether the model helped.
enum class online_metric : std::uint8_t {
  click_through_rate,
  conversion_rate,
  watch_time,
  session_length,
  revenue_per_user,
  retention_rate,
  user_reports,
  harmful_prevalence,
  fraud_loss,
  false_positive_rate,
};

/// The kind of metric, which decides the tasks it can judge.
enum class metric_family : std::uint8_t {
  classification, ///< judges scores against binary or class labels
  regression,     ///< judges real-valued predictions
  ranking,        ///< judges an ordered list per request (needs a ranked output)
  beyond_accuracy ///< judges the lists as a whole (coverage, diversity, novelty)
};

/// The family of `m`.
[[nodiscard]] constexpr metric_family family_of(offline_metric m) noexcept {
  using enum offline_metric;
  switch (m) {
  case rmse:
  case mae:
  case r2:
    return metric_family::regression;
  case precision_at_k:
  case recall_at_k:
  case hit_rate_at_k:
  case map_at_k:
  case mrr:
  case ndcg_at_k:
  case gauc:
    return metric_family::ranking;
  case catalog_coverage:
  case diversity:
  case novelty:
  case popularity_bias:
    return metric_family::beyond_accuracy;
  default:
    return metric_family::classification;
  }
}

/// Whether offline metric `m` can judge task `task`. `ranked_output` says whether the system
/// returns a ranked list (the pipeline has a retriever, ranker or re-ranker stage): ranking and
/// beyond-accuracy metrics need one, so nDCG@k fits a binary classifier that ranks ads, and does
/// not fit one that only labels transactions.
///
/// The table (docs/requirements.md explains each row):
/// - binary classification: every classification metric; ranking metrics with a ranked output;
/// - multi-class: accuracy, precision, recall, F1, log loss;
/// - regression: RMSE, MAE, R²;
/// - ranking and retrieval: ranking and beyond-accuracy metrics; ROC-AUC, PR-AUC, log loss, NE,
///   Brier score and calibration for pointwise rankers that predict a probability;
/// - anomaly detection: ROC-AUC, PR-AUC, precision, recall, F1 (scores are not probabilities).
[[nodiscard]] constexpr bool metric_fits(offline_metric m, ml_task task,
                                         bool ranked_output) noexcept {
  using enum offline_metric;
  const metric_family f = family_of(m);
  switch (task) {
  case ml_task::binary_classification:
    return f == metric_family::classification ||
           (ranked_output && (f == metric_family::ranking || f == metric_family::beyond_accuracy));
  case ml_task::multiclass_classification:
    return m == accuracy || m == precision || m == recall || m == f1 || m == log_loss;
  case ml_task::regression:
    return f == metric_family::regression;
  case ml_task::ranking:
  case ml_task::retrieval:
    return f == metric_family::ranking || f == metric_family::beyond_accuracy || m == roc_auc ||
           m == pr_auc || m == log_loss || m == normalized_entropy || m == brier_score ||
           m == calibration_ratio || m == expected_calibration_error;
  case ml_task::anomaly_detection:
    return m == roc_auc || m == pr_auc || m == precision || m == recall || m == f1;
  }
  return false;
}

/// A set of metrics (at most 64 of one enum), written as a braced list: `{roc_auc, log_loss}`.
/// Structural, so it can be part of a template argument.
template <class Metric>
struct metric_set {
  std::uint64_t bits = 0;

  constexpr metric_set() noexcept = default;
  constexpr metric_set(std::initializer_list<Metric> metrics) noexcept {
    for (Metric m : metrics) {
      bits |= std::uint64_t{1} << static_cast<unsigned>(m);
    }
  }

  [[nodiscard]] constexpr bool contains(Metric m) const noexcept {
    return (bits >> static_cast<unsigned>(m)) & 1u;
  }
  [[nodiscard]] constexpr bool empty() const noexcept { return bits == 0; }
  [[nodiscard]] constexpr int size() const noexcept { return __builtin_popcountll(bits); }

  /// Calls `f(m)` for every metric in the set, in enum order.
  template <class F>
  constexpr void for_each(F&& f) const {
    for (unsigned i = 0; i < 64; ++i) {
      if ((bits >> i) & 1u) {
        f(static_cast<Metric>(i));
      }
    }
  }

  friend constexpr bool operator==(const metric_set&, const metric_set&) = default;
};

/// A duration stored as whole microseconds: structural (unlike `std::chrono::duration`, whose
/// count is private) and converted implicitly from any `std::chrono::duration`, so that
/// `.p99_latency = 50ms` reads as it should.
struct time_span {
  std::int64_t microseconds = 0;

  constexpr time_span() noexcept = default;
  template <class Rep, class Period>
  constexpr time_span(std::chrono::duration<Rep, Period> d) noexcept // NOLINT: implicit on purpose
      : microseconds(std::chrono::duration_cast<std::chrono::microseconds>(d).count()) {}

  [[nodiscard]] constexpr std::chrono::microseconds chrono() const noexcept {
    return std::chrono::microseconds(microseconds);
  }
  [[nodiscard]] constexpr double seconds() const noexcept {
    return static_cast<double>(microseconds) * 1e-6;
  }
  friend constexpr time_span operator+(time_span a, time_span b) noexcept {
    time_span r;
    r.microseconds = a.microseconds + b.microseconds;
    return r;
  }
  friend constexpr auto operator<=>(const time_span&, const time_span&) = default;
};

/// An availability target, stored in parts per million (0.9995 is 999'500): structural, and
/// exact for the "number of nines" targets services use.
struct availability_target {
  std::uint32_t parts_per_million = 0;

  constexpr availability_target() noexcept = default;
  constexpr availability_target(double fraction) noexcept // NOLINT: implicit on purpose
      : parts_per_million(static_cast<std::uint32_t>(fraction * 1e6 + 0.5)) {}

  [[nodiscard]] constexpr double fraction() const noexcept { return parts_per_million * 1e-6; }
  /// The downtime this target allows per 30-day month.
  [[nodiscard]] constexpr std::chrono::seconds monthly_downtime() const noexcept {
    return std::chrono::seconds((1'000'000 - parts_per_million) * 30LL * 24 * 3600 / 1'000'000);
  }
  friend constexpr auto operator<=>(const availability_target&,
                                    const availability_target&) = default;
};

/// Service-level objectives: what the serving path must sustain.
struct service_level_objectives {
  time_span p99_latency{};            ///< end-to-end budget for one request, 99th percentile
  std::uint64_t peak_qps = 0;         ///< requests per second at the daily peak
  std::uint64_t catalog_size = 0;     ///< items a request chooses from (ads, videos, listings)
  time_span feature_freshness{};      ///< how stale a feature may be when it is served
  availability_target availability{}; ///< fraction of time the service answers

  friend constexpr bool operator==(const service_level_objectives&,
                                   const service_level_objectives&) = default;
};

/// The requirements of one ML system: steps 1 (clarify requirements) and 2 (frame the ML task) of
/// the framework, as one `constexpr` value that pipelines are checked against.
struct requirements {
  business_objective objective = business_objective::click_through_rate;
  ml_task task = ml_task::binary_classification;
  metric_set<offline_metric> offline{}; ///< what decides which model ships
  metric_set<online_metric> online{};   ///< what decides whether it helped
  service_level_objectives slo{};

  friend constexpr bool operator==(const requirements&, const requirements&) = default;
};

/// Whether some offline metric of `r` does not fit its task (see `metric_fits`); if so, the first
/// such metric (in enum order) is stored in `bad`.
[[nodiscard]] constexpr bool find_unfit_metric(const requirements& r, bool ranked_output,
                                               offline_metric& bad) noexcept {
  bool found = false;
  r.offline.for_each([&](offline_metric m) {
    if (!found && !metric_fits(m, r.task, ranked_output)) {
      bad = m;
      found = true;
    }
  });
  return found;
}

namespace detail {
// The names of each enum's values, in declaration order; the last enumerator pins the length.
template <class E>
struct enum_names;
template <>
struct enum_names<business_objective> {
  static constexpr std::string_view values[] = {
      "click_through_rate", "conversion_rate", "watch_time", "engagement", "revenue",
      "retention",          "safety",          "fraud_loss", "relevance"};
  static constexpr auto last = business_objective::relevance;
};
template <>
struct enum_names<ml_task> {
  static constexpr std::string_view values[] = {
      "binary_classification", "multiclass_classification", "regression", "ranking", "retrieval",
      "anomaly_detection"};
  static constexpr auto last = ml_task::anomaly_detection;
};
template <>
struct enum_names<offline_metric> {
  static constexpr std::string_view values[] = {"roc_auc",
                                                "pr_auc",
                                                "log_loss",
                                                "normalized_entropy",
                                                "brier_score",
                                                "calibration_ratio",
                                                "expected_calibration_error",
                                                "accuracy",
                                                "precision",
                                                "recall",
                                                "f1",
                                                "rmse",
                                                "mae",
                                                "r2",
                                                "precision_at_k",
                                                "recall_at_k",
                                                "hit_rate_at_k",
                                                "map_at_k",
                                                "mrr",
                                                "ndcg_at_k",
                                                "gauc",
                                                "catalog_coverage",
                                                "diversity",
                                                "novelty",
                                                "popularity_bias"};
  static constexpr auto last = offline_metric::popularity_bias;
};
template <>
struct enum_names<online_metric> {
  static constexpr std::string_view values[] = {
      "click_through_rate", "conversion_rate",    "watch_time",   "session_length",
      "revenue_per_user",   "retention_rate",     "user_reports", "harmful_prevalence",
      "fraud_loss",         "false_positive_rate"};
  static constexpr auto last = online_metric::false_positive_rate;
};
template <>
struct enum_names<metric_family> {
  static constexpr std::string_view values[] = {"classification", "regression", "ranking",
                                                "beyond_accuracy"};
  static constexpr auto last = metric_family::beyond_accuracy;
};

template <class E>
concept named_enum = requires {
  enum_names<E>::values;
  requires std::size(enum_names<E>::values)
  == static_cast<std::size_t>(enum_names<E>::last) + 1;
};
} // namespace detail

/// The name of `e` as it appears in JSON reports and diagrams: the enumerator's own name.
template <detail::named_enum E>
[[nodiscard]] constexpr std::string_view to_string(E e) noexcept {
  return detail::enum_names<E>::values[static_cast<std::size_t>(e)];
}

/// The enumerator named `name`, or `std::nullopt`.
template <detail::named_enum E>
[[nodiscard]] constexpr std::optional<E> enum_from_string(std::string_view name) noexcept {
  const auto& values = detail::enum_names<E>::values;
  for (std::size_t i = 0; i < std::size(values); ++i) {
    if (values[i] == name) {
      return static_cast<E>(i);
    }
  }
  return std::nullopt;
}

MLSD_END_NAMESPACE
