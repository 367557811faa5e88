// compile_fail test: a serving design whose stage latency budgets add up to more than the p99
// latency of its requirements must not compile. The static_assert on meets_requirements is where
// the build stops, with mlsd::detail::check_latency_budget's message.
//
// Built twice (tests/compile_fail/CMakeLists.txt): with MLSD_COMPILE_FAIL_CONTROL defined, the
// ranker is budgeted 30 ms (10 + 30 + 5 = 45 ms <= 50 ms) and the file compiles; without it, the
// ranker is budgeted 45 ms (10 + 45 + 5 = 60 ms > 50 ms) and the build must fail.
#include "video_feed_stages.hpp"

#include <mlsd/core/roles.hpp>
#include <mlsd/core/stage.hpp>
#include <mlsd/requirements/budget.hpp>
#include <mlsd/requirements/requirements.hpp>

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

namespace video_feed {

using namespace std::chrono_literals;

inline constexpr mlsd::requirements feed{
    .objective = mlsd::business_objective::watch_time,
    .task = mlsd::ml_task::ranking,
    .offline = {mlsd::offline_metric::ndcg_at_k, mlsd::offline_metric::recall_at_k},
    .online = {mlsd::online_metric::watch_time},
    .slo = {.p99_latency = 50ms,
            .peak_qps = 30'000,
            .catalog_size = 5'000'000,
            .feature_freshness = 5min,
            .availability = 0.999}};

#ifdef MLSD_COMPILE_FAIL_CONTROL
inline constexpr auto rank_latency = 30ms;
#else
inline constexpr auto rank_latency = 45ms; // 10 + 45 + 5 = 60 ms, over the 50 ms p99 budget
#endif

candidates recommend(std::span<const float> user) {
  auto serve = mlsd::with_budget<mlsd::stage_budget{
                   .name = "retrieve", .latency = 10ms, .items_in = 5'000'000, .items_out = 1000}>(
                   two_tower_retriever{}) |
               mlsd::with_budget<mlsd::stage_budget{
                   .name = "rank", .latency = rank_latency, .items_in = 1000, .items_out = 100}>(
                   watch_time_ranker{}) |
               mlsd::with_budget<mlsd::stage_budget{
                   .name = "re-rank", .latency = 5ms, .items_in = 100, .items_out = 10}>(
                   diversity_re_ranker{});
  static_assert(mlsd::meets_requirements<feed, decltype(serve)>); // compile_fail: error here
  return serve(user);
}

} // namespace video_feed
