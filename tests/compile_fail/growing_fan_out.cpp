// compile_fail test: a serving design with a stage budgeted to return more items than it takes
// (items_out > items_in) must not compile: fan-out shrinks towards the user. The static_assert on
// meets_requirements is where the build stops, with mlsd::detail::check_fan_out's message.
//
// Built twice (tests/compile_fail/CMakeLists.txt): with MLSD_COMPILE_FAIL_CONTROL defined, the
// blending stage takes 50 listings and returns 20 and the file compiles; without it, it appends
// sponsored listings and returns 60 of the 50 it takes, and the build must fail.
#include <mlsd/core/roles.hpp>
#include <mlsd/core/stage.hpp>
#include <mlsd/requirements/budget.hpp>
#include <mlsd/requirements/requirements.hpp>

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

namespace marketplace_search {

using namespace std::chrono_literals;

inline constexpr mlsd::requirements search{
    .objective = mlsd::business_objective::relevance,
    .task = mlsd::ml_task::ranking,
    .offline = {mlsd::offline_metric::ndcg_at_k, mlsd::offline_metric::mrr},
    .online = {mlsd::online_metric::conversion_rate},
    .slo = {.p99_latency = 100ms,
            .peak_qps = 8'000,
            .catalog_size = 3'000'000,
            .feature_freshness = 1h,
            .availability = 0.9995}};

using listings = std::vector<std::uint32_t>;

struct query_retriever : mlsd::retriever_tag {
  using input_type = std::span<const float>; // the query's embedding
  using output_type = listings;
  output_type operator()(input_type query) const { return listings(query.size()); }
};

struct relevance_ranker : mlsd::ranker_tag {
  using input_type = const listings&;
  using output_type = listings;
  output_type operator()(input_type l) const { return l; }
};

struct sponsored_blend : mlsd::re_ranker_tag {
  using input_type = const listings&;
  using output_type = listings;
  output_type operator()(input_type l) const { return l; }
};

#ifdef MLSD_COMPILE_FAIL_CONTROL
inline constexpr std::uint64_t blended_listings = 20;
#else
inline constexpr std::uint64_t blended_listings = 60; // 50 in, 60 out: fan-out grows
#endif

listings search_results(std::span<const float> query) {
  auto serve =
      mlsd::with_budget<mlsd::stage_budget{
          .name = "retrieve", .latency = 20ms, .items_in = 3'000'000, .items_out = 500}>(
          query_retriever{}) |
      mlsd::with_budget<mlsd::stage_budget{
          .name = "rank", .latency = 50ms, .items_in = 500, .items_out = 50}>(relevance_ranker{}) |
      mlsd::with_budget<mlsd::stage_budget{.name = "blend sponsored",
                                           .latency = 5ms,
                                           .items_in = 50,
                                           .items_out = blended_listings}>(sponsored_blend{});
  static_assert(mlsd::meets_requirements<search, decltype(serve)>); // compile_fail: error here
  return serve(query);
}

} // namespace marketplace_search
