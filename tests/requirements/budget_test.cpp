// Stage budgets and the design review (include/mlsd/requirements/budget.hpp). The compile-time
// failures are tested by the compile_fail_* CTest cases (tests/compile_fail/).
#include <mlsd/requirements/budget.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

using namespace std::chrono_literals;

namespace {

using candidates = std::vector<int>;
struct retrieve : mlsd::retriever_tag {
  using input_type = int;
  using output_type = candidates;
  candidates operator()(int n) const { return candidates(static_cast<std::size_t>(n), 7); }
};
struct rank : mlsd::ranker_tag {
  using input_type = const candidates&;
  using output_type = candidates;
  candidates operator()(const candidates& c) const {
    return candidates(c.begin(), c.begin() + static_cast<long>(c.size() / 10));
  }
};
struct keep_half : mlsd::re_ranker_tag {
  using input_type = const candidates&;
  using output_type = candidates;
  candidates operator()(const candidates& c) const {
    return candidates(c.begin(), c.begin() + static_cast<long>(c.size() / 2));
  }
};
struct plain : mlsd::stage_tag {
  using input_type = int;
  using output_type = int;
  int operator()(int x) const { return x; }
};

inline constexpr mlsd::requirements video{
    .objective = mlsd::business_objective::watch_time,
    .task = mlsd::ml_task::ranking,
    .offline = {mlsd::offline_metric::ndcg_at_k, mlsd::offline_metric::recall_at_k},
    .online = {mlsd::online_metric::watch_time},
    .slo = {.p99_latency = 100ms,
            .peak_qps = 5'000,
            .catalog_size = 1'000'000,
            .feature_freshness = 1h,
            .availability = 0.999}};

inline constexpr mlsd::stage_budget retrieve_budget{
    .name = "retrieve", .latency = 30ms, .items_in = 1'000'000, .items_out = 1000};
inline constexpr mlsd::stage_budget rank_budget{
    .name = "rank", .latency = 50ms, .items_in = 1000, .items_out = 100};
inline constexpr mlsd::stage_budget show_budget{
    .name = "show", .latency = 5ms, .items_in = 100, .items_out = 50};

auto design() {
  return mlsd::with_budget<retrieve_budget>(retrieve{}) | mlsd::with_budget<rank_budget>(rank{}) |
         mlsd::with_budget<show_budget>(keep_half{});
}

template <std::size_t N>
std::array<mlsd::stage_shape, N> budgeted_shapes(std::array<mlsd::stage_budget, N> budgets,
                                                 std::array<mlsd::stage_role, N> roles) {
  std::array<mlsd::stage_shape, N> s{};
  for (std::size_t i = 0; i < N; ++i) {
    s[i] = {budgets[i], true, roles[i]};
  }
  return s;
}

} // namespace

TEST_CASE("stage_name stores a short literal inline", "[requirements][budget]") {
  constexpr mlsd::stage_name n("rank");
  STATIC_REQUIRE(n.view() == "rank");
  STATIC_REQUIRE(mlsd::stage_name{}.empty());
  constexpr mlsd::stage_name longest("abcdefghijklmnopqrstuvwxyz01234");
  STATIC_REQUIRE(longest.view().size() == 31);
}

TEST_CASE("with_budget keeps the stage's roles and behaviour", "[requirements][budget]") {
  auto p = design();
  using P = decltype(p);
  using first = std::remove_cvref_t<decltype(p.get<0>())>;
  STATIC_REQUIRE(mlsd::serving::retriever<first>);
  STATIC_REQUIRE(mlsd::budgeted_stage<first>);
  STATIC_REQUIRE(std::is_same_v<first::stage_type, retrieve>);
  STATIC_REQUIRE(sizeof(first) == sizeof(retrieve));
  STATIC_REQUIRE_FALSE(mlsd::budgeted_stage<plain>);
  CHECK(p(1'000).size() == 50);

  constexpr auto shapes = mlsd::pipeline_shape<P>;
  STATIC_REQUIRE(shapes.size() == 3);
  STATIC_REQUIRE(shapes[0].role == mlsd::stage_role::retriever);
  STATIC_REQUIRE(shapes[1].role == mlsd::stage_role::ranker);
  STATIC_REQUIRE(shapes[2].role == mlsd::stage_role::re_ranker);
  STATIC_REQUIRE(shapes[1].budget == rank_budget);
  STATIC_REQUIRE(mlsd::pipeline_shape<plain>.size() == 1);
  STATIC_REQUIRE_FALSE(mlsd::pipeline_shape<plain>[0].has_budget);
}

TEST_CASE("a design within its budgets meets its requirements", "[requirements][budget]") {
  using P = decltype(design());
  STATIC_REQUIRE(mlsd::meets_requirements<video, P>);
  constexpr auto review = mlsd::review_design(video, mlsd::pipeline_shape<P>);
  STATIC_REQUIRE(review.ok());
  STATIC_REQUIRE(review.total_latency == mlsd::time_span(85ms));
  CHECK(review.message() == "the design meets its requirements");
  // A `const auto serve = ...` pipeline is reviewed the same way (not as one unbudgeted stage).
  STATIC_REQUIRE(mlsd::pipeline_shape<const P>.size() == 3);
  STATIC_REQUIRE(mlsd::pipeline_shape<const P&>[1].budget == rank_budget);
  // Unbudgeted stages take no part in the latency and fan-out rules.
  using Q = decltype(plain{} | design());
  STATIC_REQUIRE(mlsd::meets_requirements<video, Q>);
}

TEST_CASE("review_design reports each broken rule", "[requirements][budget]") {
  using enum mlsd::stage_role;
  using rule = mlsd::design_rule;
  const auto check = [](const mlsd::requirements& r, const auto& shapes, rule expected,
                        std::size_t stage) {
    const auto review = mlsd::review_design(r, shapes);
    CAPTURE(mlsd::to_string(review.rule), review.message());
    CHECK(review.rule == expected);
    if (expected != rule::latency_budget_exceeded && expected != rule::metric_does_not_fit_task) {
      CHECK(review.stage == stage);
    }
    CHECK_FALSE(review.ok());
  };

  auto slow = rank_budget;
  slow.latency = 71ms; // 30 + 71 > 100
  const auto over = budgeted_shapes<2>({retrieve_budget, slow}, {retriever, ranker});
  check(video, over, rule::latency_budget_exceeded, 0);
  CHECK(mlsd::review_design(video, over).total_latency == mlsd::time_span(101ms));

  auto grows = show_budget;
  grows.items_out = 200; // 100 -> 200
  check(video,
        budgeted_shapes<3>({retrieve_budget, rank_budget, grows}, {retriever, ranker, re_ranker}),
        rule::fan_out_grows, 2);

  auto narrow = rank_budget;
  narrow.items_in = 500; // retrieval hands it 1000
  narrow.items_out = 100;
  check(video, budgeted_shapes<2>({retrieve_budget, narrow}, {retriever, ranker}),
        rule::more_items_than_budgeted, 1);

  auto partial = retrieve_budget;
  partial.items_in = 999'999;
  check(video, budgeted_shapes<2>({partial, rank_budget}, {retriever, ranker}),
        rule::retriever_misses_catalog, 0);

  // nDCG for a binary classifier that ranks nothing.
  mlsd::requirements fraud = video;
  fraud.task = mlsd::ml_task::binary_classification;
  fraud.offline = {mlsd::offline_metric::pr_auc, mlsd::offline_metric::ndcg_at_k};
  const std::array<mlsd::stage_shape, 1> scorer_only{{{{}, false, scorer}}};
  check(fraud, scorer_only, rule::metric_does_not_fit_task, 0);
  CHECK(mlsd::review_design(fraud, scorer_only).metric == mlsd::offline_metric::ndcg_at_k);
  // The same metrics fit once the design ranks its output.
  const std::array<mlsd::stage_shape, 2> ranked{{{{}, false, scorer}, {{}, false, ranker}}};
  CHECK(mlsd::review_design(fraud, ranked).ok());

  // Equal is allowed: budgets may add up to exactly the p99, a stage may keep all its items.
  auto exact = rank_budget;
  exact.latency = 70ms;
  exact.items_out = exact.items_in;
  CHECK(
      mlsd::review_design(video, budgeted_shapes<2>({retrieve_budget, exact}, {retriever, ranker}))
          .ok());
}

TEST_CASE("stage roles and design rules have names that parse back", "[requirements][budget]") {
  CHECK(mlsd::to_string(mlsd::stage_role::other) == "stage");
  CHECK(mlsd::to_string(mlsd::design_rule::fan_out_grows) == "fan_out_grows");
  for (unsigned i = 0; i <= static_cast<unsigned>(mlsd::stage_role::re_ranker); ++i) {
    const auto r = static_cast<mlsd::stage_role>(i);
    CHECK(mlsd::enum_from_string<mlsd::stage_role>(mlsd::to_string(r)) == r);
  }
  for (unsigned i = 0; i <= static_cast<unsigned>(mlsd::design_rule::metric_does_not_fit_task);
       ++i) {
    const auto r = static_cast<mlsd::design_rule>(i);
    CHECK(mlsd::enum_from_string<mlsd::design_rule>(mlsd::to_string(r)) == r);
  }
}
