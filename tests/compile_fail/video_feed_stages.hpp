// The stages of a video feed's serving path, shared by the compile_fail cases that check its
// budgets (over_latency_budget, more_items_than_budgeted, retriever_misses_catalog). They do no
// real work: these files are compiled, never run.
#pragma once

#include <mlsd/core/roles.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace video_feed {

using candidates = std::vector<std::uint32_t>;

struct two_tower_retriever : mlsd::retriever_tag {
  using input_type = std::span<const float>; // the user's embedding
  using output_type = candidates;
  output_type operator()(input_type user) const { return candidates(user.size()); }
};

struct watch_time_ranker : mlsd::ranker_tag {
  using input_type = const candidates&;
  using output_type = candidates;
  output_type operator()(input_type c) const { return c; }
};

struct diversity_re_ranker : mlsd::re_ranker_tag {
  using input_type = const candidates&;
  using output_type = candidates;
  output_type operator()(input_type c) const { return c; }
};

} // namespace video_feed
