// compile_fail test: a serving design whose retriever is budgeted for fewer items than the catalog
// holds (the retriever's items_in < slo.catalog_size) must not compile: items beyond its budget can
// never be recommended. The static_assert on meets_requirements is where the build stops, with
// mlsd::detail::check_retriever_covers_catalog's message.
//
// Built twice (tests/compile_fail/CMakeLists.txt): with MLSD_COMPILE_FAIL_CONTROL defined, the
// catalog holds the 5 million videos the retriever is budgeted for and the file compiles; without
// it, the catalog grew to 8 million and the build must fail.
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

#ifdef MLSD_COMPILE_FAIL_CONTROL
inline constexpr std::uint64_t catalog_videos = 5'000'000;
#else
inline constexpr std::uint64_t catalog_videos = 8'000'000; // the retriever covers 5 million
#endif

inline constexpr mlsd::requirements feed{
    .objective = mlsd::business_objective::watch_time,
    .task = mlsd::ml_task::ranking,
    .offline = {mlsd::offline_metric::ndcg_at_k, mlsd::offline_metric::recall_at_k},
    .online = {mlsd::online_metric::watch_time},
    .slo = {.p99_latency = 50ms,
            .peak_qps = 30'000,
            .catalog_size = catalog_videos,
            .feature_freshness = 5min,
            .availability = 0.999}};

candidates recommend(std::span<const float> user) {
  auto serve = mlsd::with_budget<mlsd::stage_budget{
                   .name = "retrieve", .latency = 10ms, .items_in = 5'000'000, .items_out = 1000}>(
                   two_tower_retriever{}) |
               mlsd::with_budget<mlsd::stage_budget{
                   .name = "rank", .latency = 30ms, .items_in = 1000, .items_out = 100}>(
                   watch_time_ranker{});
  static_assert(mlsd::meets_requirements<feed, decltype(serve)>); // compile_fail: error here
  return serve(user);
}

} // namespace video_feed
