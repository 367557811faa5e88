/// @file
/// Stage budgets and the compile-time design review: a serving pipeline checked against its
/// requirements by the compiler.
///
/// Each serving stage carries a budget: its share of the p99 latency and its fan-out (items in →
/// items out). `meets_requirements<R, Pipeline>` is `true` when
/// - the stage latency budgets add up to at most the requirements' p99 latency;
/// - fan-out never grows: each stage returns at most as many items as it takes, and no stage is
///   handed more items than its budget assumes (retrieve 1000 → rank 100 → show 10);
/// - a retriever's budget covers the whole catalog (`items_in >= slo.catalog_size`);
/// - every offline metric fits the task (nDCG@k needs a ranked output, see `metric_fits`);
/// and otherwise stops compilation with a message naming the broken rule and its numbers.
///
/// ```cpp
/// auto serve = mlsd::with_budget<mlsd::stage_budget{.name = "retrieve", .latency = 10ms,
///                                                   .items_in = 2'000'000, .items_out = 1000}>(
///                  retrieve) |
///              mlsd::with_budget<mlsd::stage_budget{.name = "rank", .latency = 30ms,
///                                                   .items_in = 1000, .items_out = 100}>(rank);
/// static_assert(mlsd::meets_requirements<ad_click, decltype(serve)>);
/// ```
///
/// `review_design(r, pipeline_shape<P>())` runs the same rules as a `constexpr` function that
/// returns the first violation as a value, for tests, tools and run-time reporting.
#pragma once

#include <mlsd/core/roles.hpp>
#include <mlsd/core/stage.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/requirements/requirements.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

MLSD_BEGIN_NAMESPACE

/// A short stage name (at most 31 characters) stored inline: structural, so it can be part of a
/// template argument. Built from a string literal.
struct stage_name {
  static constexpr std::size_t capacity = 32;
  char text[capacity] = {};

  constexpr stage_name() noexcept = default;
  template <std::size_t N>
  constexpr stage_name(const char (&s)[N]) noexcept { // NOLINT: implicit from a literal on purpose
    static_assert(N <= capacity, "mlsd: a stage name has at most 31 characters");
    for (std::size_t i = 0; i < N; ++i) {
      text[i] = s[i];
    }
  }

  [[nodiscard]] constexpr std::string_view view() const noexcept {
    return std::string_view(text, std::char_traits<char>::length(text));
  }
  [[nodiscard]] constexpr bool empty() const noexcept { return text[0] == '\0'; }
  friend constexpr bool operator==(const stage_name&, const stage_name&) = default;
};

/// The budget of one serving stage: its name in reports and diagrams, its share of the request's
/// p99 latency, and its fan-out (how many items it takes and returns per request).
struct stage_budget {
  stage_name name{};
  time_span latency{};
  std::uint64_t items_in = 1;
  std::uint64_t items_out = 1;

  friend constexpr bool operator==(const stage_budget&, const stage_budget&) = default;
};

/// `S` declares a budget: a `static constexpr stage_budget budget` member.
template <class S>
concept budgeted_stage = stage<S> && requires {
  { S::budget } -> std::convertible_to<stage_budget>;
};

/// Stage `S` with budget `B`. It *is* an `S` (it derives from it, so it keeps `S`'s roles, call
/// operator and members at no cost) with one more static member, `budget`.
template <stage S, stage_budget B>
class budgeted : public S {
public:
  static constexpr stage_budget budget = B;
  /// The stage without its budget.
  using stage_type = S;

  constexpr explicit budgeted(S s)
      : S(std::move(s)) {}
};

/// `with_budget<stage_budget{...}>(s)`: `s` with a budget, ready to compose with `|`.
template <stage_budget B, class S>
requires stage<std::remove_cvref_t<S>>
[[nodiscard]] constexpr budgeted<std::remove_cvref_t<S>, B> with_budget(S&& s) {
  return budgeted<std::remove_cvref_t<S>, B>(std::forward<S>(s));
}

/// What one request costs a stage, for capacity estimates (`requirements/capacity.hpp`): bytes
/// read from memory and floating-point operations, per item handed to the stage plus a fixed part
/// per request. An exact fp32 scan of a d-dimensional table costs `4d` bytes and `2d` FLOPs per
/// item.
struct cost_model {
  double bytes_per_item = 0;
  double flops_per_item = 0;
  double bytes_per_request = 0;
  double flops_per_request = 0;

  friend constexpr bool operator==(const cost_model&, const cost_model&) = default;
};

/// `S` can state its cost: `s.cost()` returns a `cost_model` (it usually depends on run-time
/// sizes, such as the dimension of the table a retriever scans).
template <class S>
concept costed_stage = stage<S> && requires(const S& s) {
  { s.cost() } -> std::same_as<cost_model>;
};

/// The role a stage plays in a serving design, as far as the design review is concerned.
enum class stage_role : std::uint8_t {
  other,
  feature_transform,
  scorer,
  retriever,
  ranker,
  re_ranker
};

namespace detail {
template <>
struct enum_names<stage_role> {
  static constexpr std::string_view values[] = {
      "stage", "feature_transform", "scorer", "retriever", "ranker", "re_ranker"};
  static constexpr auto last = stage_role::re_ranker;
};
} // namespace detail

/// The role of stage type `S`, from its tags (a retriever that is also a scorer is a retriever).
template <class S>
inline constexpr stage_role role_of =
    has_role<S, retriever_tag>           ? stage_role::retriever
    : has_role<S, ranker_tag>            ? stage_role::ranker
    : has_role<S, re_ranker_tag>         ? stage_role::re_ranker
    : has_role<S, scorer_tag>            ? stage_role::scorer
    : has_role<S, feature_transform_tag> ? stage_role::feature_transform
                                         : stage_role::other;

/// What the design review knows about one stage of a pipeline.
struct stage_shape {
  stage_budget budget{};
  bool has_budget = false;
  stage_role role = stage_role::other;
};

namespace detail {
template <class S>
constexpr stage_shape shape_of() noexcept {
  stage_shape s;
  s.role = role_of<S>;
  if constexpr (budgeted_stage<S>) {
    s.budget = S::budget;
    s.has_budget = true;
  }
  return s;
}

template <class P>
struct pipeline_shape_impl {
  static constexpr std::array<stage_shape, 1> value{shape_of<P>()};
};
template <class... S>
struct pipeline_shape_impl<pipeline<S...>> {
  static constexpr std::array<stage_shape, sizeof...(S)> value{shape_of<S>()...};
};
} // namespace detail

/// The shape of every stage of `P` (a `pipeline<...>` or a single stage), in order.
template <class P>
inline constexpr auto pipeline_shape = detail::pipeline_shape_impl<std::remove_cvref_t<P>>::value;

/// A rule of the design review.
enum class design_rule : std::uint8_t {
  none,                     ///< no rule broken
  latency_budget_exceeded,  ///< stage latencies sum to more than the p99 budget
  fan_out_grows,            ///< a stage returns more items than it takes
  more_items_than_budgeted, ///< a stage is handed more items than its budget assumes
  retriever_misses_catalog, ///< a retriever is budgeted for fewer items than the catalog holds
  metric_does_not_fit_task  ///< an offline metric cannot judge the task
};

namespace detail {
template <>
struct enum_names<design_rule> {
  static constexpr std::string_view values[] = {"none",
                                                "latency_budget_exceeded",
                                                "fan_out_grows",
                                                "more_items_than_budgeted",
                                                "retriever_misses_catalog",
                                                "metric_does_not_fit_task"};
  static constexpr auto last = design_rule::metric_does_not_fit_task;
};
} // namespace detail

/// The outcome of a design review: the first rule broken, and where.
struct design_review {
  design_rule rule = design_rule::none;
  std::size_t stage = 0;     ///< index of the offending stage (for per-stage rules)
  time_span total_latency{}; ///< sum of the budgeted stages' latencies
  offline_metric metric{};   ///< the offending metric, for `metric_does_not_fit_task`

  [[nodiscard]] constexpr bool ok() const noexcept { return rule == design_rule::none; }
  /// One sentence for people.
  [[nodiscard]] constexpr std::string_view message() const noexcept {
    switch (rule) {
    case design_rule::none:
      return "the design meets its requirements";
    case design_rule::latency_budget_exceeded:
      return "the stage latency budgets add up to more than the p99 latency budget";
    case design_rule::fan_out_grows:
      return "a stage returns more items than it takes: fan-out must shrink towards the user";
    case design_rule::more_items_than_budgeted:
      return "a stage is handed more items than its budget assumes";
    case design_rule::retriever_misses_catalog:
      return "a retriever's budget covers fewer items than the catalog holds";
    case design_rule::metric_does_not_fit_task:
      return "an offline metric does not fit the ML task";
    }
    return "";
  }
};

/// Whether the design has a ranked output (a retriever, ranker or re-ranker stage).
template <std::size_t N>
[[nodiscard]] constexpr bool has_ranked_output(const std::array<stage_shape, N>& stages) noexcept {
  for (const stage_shape& s : stages) {
    if (s.role == stage_role::retriever || s.role == stage_role::ranker ||
        s.role == stage_role::re_ranker) {
      return true;
    }
  }
  return false;
}

/// Reviews a design: requirements `r` against the stages' shapes. Stages without a budget take
/// part in the metric rule (through their role) but not in the latency and fan-out rules. Returns
/// the first broken rule in the order of `design_rule`.
template <std::size_t N>
[[nodiscard]] constexpr design_review review_design(const requirements& r,
                                                    const std::array<stage_shape, N>& stages) {
  design_review out;
  for (const stage_shape& s : stages) {
    if (s.has_budget) {
      out.total_latency = out.total_latency + s.budget.latency;
    }
  }
  if (out.total_latency > r.slo.p99_latency) {
    out.rule = design_rule::latency_budget_exceeded;
    return out;
  }
  for (std::size_t i = 0; i < N; ++i) {
    if (stages[i].has_budget && stages[i].budget.items_out > stages[i].budget.items_in) {
      out.rule = design_rule::fan_out_grows;
      out.stage = i;
      return out;
    }
  }
  std::size_t previous = N;
  for (std::size_t i = 0; i < N; ++i) {
    if (!stages[i].has_budget) {
      continue;
    }
    if (previous != N && stages[previous].budget.items_out > stages[i].budget.items_in) {
      out.rule = design_rule::more_items_than_budgeted;
      out.stage = i;
      return out;
    }
    previous = i;
  }
  for (std::size_t i = 0; i < N; ++i) {
    if (stages[i].has_budget && stages[i].role == stage_role::retriever &&
        stages[i].budget.items_in < r.slo.catalog_size) {
      out.rule = design_rule::retriever_misses_catalog;
      out.stage = i;
      return out;
    }
  }
  if (find_unfit_metric(r, has_ranked_output(stages), out.metric)) {
    out.rule = design_rule::metric_does_not_fit_task;
  }
  return out;
}

namespace detail {

// The compile-time form of each rule. Each is a class template whose arguments carry the numbers,
// so that the compiler's "in instantiation of" note prints them beside the message.

template <std::int64_t StageBudgetsTotalMicroseconds, std::int64_t P99BudgetMicroseconds>
struct check_latency_budget {
  static_assert(StageBudgetsTotalMicroseconds <= P99BudgetMicroseconds,
                "mlsd: the stage latency budgets add up to more than the p99 latency budget "
                "(microseconds: <total of the stages, p99 budget> in the note above)");
  static constexpr bool value = true;
};

template <std::size_t StageIndex, std::uint64_t ItemsIn, std::uint64_t ItemsOut>
struct check_fan_out {
  static_assert(ItemsOut <= ItemsIn,
                "mlsd: fan-out grows: a stage returns more items than it takes; fan-out must "
                "shrink towards the user (retrieve 1000 -> rank 100 -> show 10). "
                "<stage index, items in, items out> in the note above");
  static constexpr bool value = true;
};

template <std::size_t StageIndex, std::uint64_t ItemsHanded, std::uint64_t ItemsBudgeted>
struct check_items_handed {
  static_assert(ItemsHanded <= ItemsBudgeted,
                "mlsd: a stage is handed more items than its budget assumes: the previous stage's "
                "items_out exceeds this stage's items_in. <stage index, items handed, items "
                "budgeted> in the note above");
  static constexpr bool value = true;
};

template <std::size_t StageIndex, std::uint64_t ItemsIn, std::uint64_t CatalogSize>
struct check_retriever_covers_catalog {
  static_assert(ItemsIn >= CatalogSize,
                "mlsd: a retriever's budget covers fewer items than the catalog holds "
                "(slo.catalog_size). <stage index, items_in, catalog size> in the note above");
  static constexpr bool value = true;
};

template <offline_metric Metric, ml_task Task, bool RankedOutput>
struct check_metric_fits_task {
  static_assert(metric_fits(Metric, Task, RankedOutput),
                "mlsd: an offline metric does not fit the ML task (ranking metrics such as "
                "ndcg_at_k need a retriever, ranker or re-ranker stage). <metric, task, ranked "
                "output> in the note above; see mlsd::metric_fits");
  static constexpr bool value = true;
};

template <requirements R, class P>
struct review {
  static constexpr auto stages = pipeline_shape<P>;
  static constexpr std::size_t n = stages.size();
  static constexpr design_review result = review_design(R, stages);

  static constexpr bool latency = check_latency_budget<result.total_latency.microseconds,
                                                       R.slo.p99_latency.microseconds>::value;

  template <std::size_t I>
  static constexpr bool stage_rules() {
    constexpr stage_shape s = stages[I];
    if constexpr (s.has_budget) {
      constexpr bool fan_out = check_fan_out<I, s.budget.items_in, s.budget.items_out>::value;
      if constexpr (s.role == stage_role::retriever) {
        return fan_out &&
               check_retriever_covers_catalog<I, s.budget.items_in, R.slo.catalog_size>::value;
      } else {
        return fan_out;
      }
    } else {
      return true;
    }
  }
  // The previous budgeted stage before I, or n.
  template <std::size_t I>
  static constexpr std::size_t previous_budgeted() {
    std::size_t p = n;
    for (std::size_t j = 0; j < I; ++j) {
      if (stages[j].has_budget) {
        p = j;
      }
    }
    return p;
  }
  template <std::size_t I>
  static constexpr bool handoff_rule() {
    constexpr std::size_t p = previous_budgeted<I>();
    if constexpr (stages[I].has_budget && p != n) {
      return check_items_handed<I, stages[p].budget.items_out, stages[I].budget.items_in>::value;
    } else {
      return true;
    }
  }
  static constexpr bool per_stage = []<std::size_t... I>(std::index_sequence<I...>) {
    return (stage_rules<I>() && ...) && (handoff_rule<I>() && ...);
  }
  (std::make_index_sequence<n>{});

  static constexpr bool metrics = [] {
    if constexpr (result.rule == design_rule::metric_does_not_fit_task) {
      return check_metric_fits_task<result.metric, R.task, has_ranked_output(stages)>::value;
    } else {
      return true;
    }
  }();

  static constexpr bool value = latency && per_stage && metrics;
};

} // namespace detail

/// `true` when pipeline (or stage) type `P` meets requirements `R`; otherwise compilation stops
/// with a message naming the broken rule and its numbers. Use it in `static_assert`.
template <requirements R, class P>
inline constexpr bool meets_requirements = detail::review<R, std::remove_cvref_t<P>>::value;

MLSD_END_NAMESPACE
