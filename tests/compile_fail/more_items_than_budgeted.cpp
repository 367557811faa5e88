// compile_fail test: a serving design where a stage returns more items than the next stage's
// budget assumes (the previous stage's items_out > the next stage's items_in) must not compile:
// the ranker's latency budget was computed for fewer candidates. The static_assert on
// meets_requirements is where the build stops, with mlsd::detail::check_items_handed's message.
//
// Built twice (tests/compile_fail/CMakeLists.txt): with MLSD_COMPILE_FAIL_CONTROL defined, the
// retriever returns the 1000 candidates the ranker is budgeted for and the file compiles; without
// it, the retriever was widened to 2000 candidates and the build must fail.
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
inline constexpr std::uint64_t retrieved = 1000;
#else
inline constexpr std::uint64_t retrieved = 2000; // the ranker is budgeted for 1000
#endif

candidates recommend(std::span<const float> user) {
  auto serve =
      mlsd::with_budget<mlsd::stage_budget{
          .name = "retrieve", .latency = 10ms, .items_in = 5'000'000, .items_out = retrieved}>(
          two_tower_retriever{}) |
      mlsd::with_budget<mlsd::stage_budget{
          .name = "rank", .latency = 30ms, .items_in = 1000, .items_out = 100}>(
          watch_time_ranker{});
  static_assert(mlsd::meets_requirements<feed, decltype(serve)>); // compile_fail: error here
  return serve(user);
}

} // namespace video_feed
