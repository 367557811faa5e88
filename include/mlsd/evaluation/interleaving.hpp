/// @file
/// Team-draft interleaving (Radlinski, Kurup & Joachims 2008, "How does clickthrough data
/// reflect retrieval quality?", CIKM): compare two rankers on the same users by merging their
/// lists into one, crediting each click to the ranker that contributed the clicked item, and
/// testing which ranker wins more impressions. Each user sees both rankers at once, so the
/// comparison is within-user: it needs one to two orders of magnitude fewer users than an A/B
/// test of the same two rankers (Chapelle, Joachims, Radlinski & Yue 2012, "Large-scale
/// validation and analysis of interleaved search evaluation", TOIS; docs/online-experiments.md).
///
/// ```cpp
/// namespace ev = mlsd::evaluation;
/// const auto shown = ev::team_draft_interleave(ranking_a, ranking_b, impression_id);
/// // ... serve shown.items, log the clicked positions ...
/// ev::team_draft_preference preference;
/// preference.add(ev::credit_clicks(shown, clicked_positions));
/// const ev::interleaving_result r = preference.result(); // r.preference > 0: A is better
/// ```
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/random.hpp>
#include <mlsd/evaluation/experiment.hpp>
#include <mlsd/evaluation/metric.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace evaluation {

/// The ranker that contributed an item to an interleaved list.
enum class team : std::uint8_t { a, b };

/// An item type a ranking can hold: compared with `==` and hashed with `std::hash` (ids,
/// strings).
template <class Item>
concept interleavable_item = std::equality_comparable<Item> && std::copy_constructible<Item> &&
    requires(const Item& item) {
  { std::hash<Item>{}(item) } -> std::convertible_to<std::size_t>;
};

/// The list a user is shown, and for each position the team that contributed it
/// (`items.size() == teams.size()`).
template <class Item>
struct interleaved_ranking {
  std::vector<Item> items;
  std::vector<team> teams;
};

/// How long the interleaved list is.
struct team_draft_config {
  /// At most this many items; 0 keeps every item of both rankings (the union).
  std::size_t length = 0;

  /// Nothing to check (every length is valid); here for the policy shape.
  void validate() const noexcept {}
  friend bool operator==(const team_draft_config&, const team_draft_config&) = default;
};

/// JSON: `{"length": n}`.
inline void to_json(nlohmann::json& j, const team_draft_config& c) {
  j = nlohmann::json{{"length", c.length}};
}
/// Reads `to_json`'s form (absent keys keep their default; unknown keys are errors).
inline void from_json(const nlohmann::json& j, team_draft_config& c) {
  data::detail::config_reader r(j, "team_draft");
  team_draft_config out;
  r.read("length", out.length);
  r.finish();
  c = out;
}

namespace detail {
/// Throws `input_error` unless the items of `ranking` are distinct.
template <class Item>
void check_distinct(std::span<const Item> ranking, std::string_view field) {
  std::unordered_map<Item, std::size_t> first;
  first.reserve(ranking.size());
  for (std::size_t i = 0; i < ranking.size(); ++i) {
    const auto [it, inserted] = first.emplace(ranking[i], i);
    if (!inserted) {
      std::string expected = "distinct items within one ranking (this one repeats position ";
      expected += std::to_string(it->second);
      expected += ')';
      bad_arm("team_draft_interleave", data::detail::indexed_path(field, i), expected, "");
    }
  }
}
} // namespace detail

/// Team-draft interleaving of `ranking_a` and `ranking_b` (best first), Algorithm 2 of
/// Radlinski et al. (2008): like captains picking teams, the ranker with fewer picks so far
/// (a coin flip when they have as many) adds its highest-ranked item not yet in the list, and
/// the item joins that ranker's team. While both rankings have items left, the teams differ in
/// size by at most one at every prefix, so neither ranker dominates the top of the list.
///
/// The paper stops as soon as one ranking is exhausted; mlsd then appends the rest of the other
/// ranking, credited to it, so that every item of both rankings appears exactly once (cut it
/// with `cfg.length`). The coin is SplitMix64 seeded by `seed` (an impression or request id):
/// the same inputs and seed give the same list on every platform, so the list shown can be
/// rebuilt when the clicks arrive. O((|A| + |B|)) expected time (hash sets).
/// @throws input_error naming `ranking_a[i]` or `ranking_b[i]` when an item repeats within a
/// ranking.
template <interleavable_item Item>
[[nodiscard]] interleaved_ranking<Item>
team_draft_interleave(std::span<const Item> ranking_a, std::span<const Item> ranking_b,
                      std::uint64_t seed, const team_draft_config& cfg = {}) {
  cfg.validate();
  detail::check_distinct(ranking_a, "ranking_a");
  detail::check_distinct(ranking_b, "ranking_b");
  data::detail::splitmix64 coin(seed);
  std::unordered_set<Item> placed;
  placed.reserve(ranking_a.size() + ranking_b.size());
  interleaved_ranking<Item> out;
  const std::size_t limit = cfg.length == 0 ? ranking_a.size() + ranking_b.size() : cfg.length;
  std::size_t next_a = 0;
  std::size_t next_b = 0;
  std::size_t team_a = 0;
  std::size_t team_b = 0;
  while (out.items.size() < limit) {
    while (next_a < ranking_a.size() && placed.contains(ranking_a[next_a])) {
      ++next_a;
    }
    while (next_b < ranking_b.size() && placed.contains(ranking_b[next_b])) {
      ++next_b;
    }
    const bool has_a = next_a < ranking_a.size();
    const bool has_b = next_b < ranking_b.size();
    if (!has_a && !has_b) {
      break;
    }
    bool pick_a = has_a;
    if (has_a && has_b) {
      pick_a = team_a < team_b || (team_a == team_b && (coin.next() >> 63) != 0);
    }
    const Item& item = pick_a ? ranking_a[next_a] : ranking_b[next_b];
    placed.insert(item);
    out.items.push_back(item);
    out.teams.push_back(pick_a ? team::a : team::b);
    ++(pick_a ? team_a : team_b);
  }
  return out;
}

/// `team_draft_interleave` over two vectors.
template <interleavable_item Item>
[[nodiscard]] interleaved_ranking<Item>
team_draft_interleave(const std::vector<Item>& ranking_a, const std::vector<Item>& ranking_b,
                      std::uint64_t seed, const team_draft_config& cfg = {}) {
  return team_draft_interleave(std::span<const Item>(ranking_a), std::span<const Item>(ranking_b),
                               seed, cfg);
}

/// The clicks of one impression of an interleaved list, credited to the teams.
struct interleaving_credit {
  std::uint64_t clicks_a = 0;
  std::uint64_t clicks_b = 0;
  friend bool operator==(const interleaving_credit&, const interleaving_credit&) = default;
};

/// Credits each clicked position of `shown` to the team that contributed its item (Radlinski et
/// al. 2008, §4.2): an item both rankers returned, even at the same rank, is credited to the
/// team that picked it, which is A or B by the coin — unbiased over impressions. O(clicks).
/// @throws input_error naming `clicked_positions[i]` for a position outside the list or a
/// position clicked twice.
template <class Item>
[[nodiscard]] interleaving_credit credit_clicks(const interleaved_ranking<Item>& shown,
                                                std::span<const std::size_t> clicked_positions) {
  interleaving_credit credit;
  std::vector<bool> seen(shown.teams.size(), false);
  for (std::size_t i = 0; i < clicked_positions.size(); ++i) {
    const std::size_t p = clicked_positions[i];
    if (p >= shown.teams.size() || seen[p]) {
      std::string expected = p >= shown.teams.size() ? "a position below " : "a position once";
      if (p >= shown.teams.size()) {
        expected += std::to_string(shown.teams.size());
      }
      detail::bad_arm("credit_clicks", data::detail::indexed_path("clicked_positions", i), expected,
                      std::to_string(p));
    }
    seen[p] = true;
    ++(shown.teams[p] == team::a ? credit.clicks_a : credit.clicks_b);
  }
  return credit;
}

/// `credit_clicks` over a vector of positions.
template <class Item>
[[nodiscard]] interleaving_credit credit_clicks(const interleaved_ranking<Item>& shown,
                                                const std::vector<std::size_t>& clicked_positions) {
  return credit_clicks(shown, std::span<const std::size_t>(clicked_positions));
}

/// The outcome of an interleaving experiment.
struct interleaving_result {
  std::uint64_t impressions = 0;                ///< every impression added
  std::uint64_t impressions_without_clicks = 0; ///< counted, but no evidence either way
  std::uint64_t wins_a = 0;                     ///< impressions with more clicks for A
  std::uint64_t wins_b = 0;                     ///< impressions with more clicks for B
  std::uint64_t ties = 0;                       ///< clicked impressions with as many for both
  /// `Δ_AB = (wins_a + ties/2) / (wins_a + wins_b + ties) - 1/2` (Chapelle et al. 2012), in
  /// [-1/2, 1/2]: positive when users prefer A.
  double preference = 0.0;
  /// The exact two-sided binomial sign test of `wins_a` against `wins_b` (ties left out), `p = 1/2`
  /// under H0: `min(1, 2 · P(X <= min(wins_a, wins_b)))`, `X ~ Binomial(wins_a + wins_b, 1/2)`
  /// (SciPy's `binomtest`); 1 when every clicked impression is a tie.
  double p_value = 1.0;
  friend bool operator==(const interleaving_result&, const interleaving_result&) = default;
};

/// JSON: every field by name.
inline void to_json(nlohmann::json& j, const interleaving_result& r) {
  j = nlohmann::json{{"test", "team_draft_interleaving"},
                     {"impressions", r.impressions},
                     {"impressions_without_clicks", r.impressions_without_clicks},
                     {"wins_a", r.wins_a},
                     {"wins_b", r.wins_b},
                     {"ties", r.ties},
                     {"preference", r.preference},
                     {"p_value", r.p_value}};
}
/// Reads `to_json`'s form; every key is required.
inline void from_json(const nlohmann::json& j, interleaving_result& r) {
  data::detail::config_reader rd(j, "interleaving_result");
  std::string test;
  rd.require("test", test);
  rd.require("impressions", r.impressions);
  rd.require("impressions_without_clicks", r.impressions_without_clicks);
  rd.require("wins_a", r.wins_a);
  rd.require("wins_b", r.wins_b);
  rd.require("ties", r.ties);
  rd.require("preference", r.preference);
  rd.require("p_value", r.p_value);
  rd.finish();
}

/// The aggregate of many interleaved impressions: each one is a win for the team with more
/// clicks, a tie, or an impression without clicks (counted apart). A mergeable
/// `metric_accumulator`: one per shard or day, then merge. O(1) per impression; the sign test
/// in `result()` costs O(√n). Not thread-safe.
class team_draft_preference : public metric_tag {
public:
  using observation_type = interleaving_credit;
  using result_type = interleaving_result;
  /// The accumulator's name in reports and errors.
  static constexpr std::string_view name = "team_draft_preference";

  /// Adds one impression's credit.
  void add(const interleaving_credit& c) noexcept {
    ++impressions_;
    if (c.clicks_a == 0 && c.clicks_b == 0) {
      ++without_clicks_;
    } else if (c.clicks_a > c.clicks_b) {
      ++wins_a_;
    } else if (c.clicks_b > c.clicks_a) {
      ++wins_b_;
    } else {
      ++ties_;
    }
  }

  /// Adds `other`'s impressions (`other` may be `*this`).
  void merge(const team_draft_preference& other) noexcept {
    impressions_ += other.impressions_;
    without_clicks_ += other.without_clicks_;
    wins_a_ += other.wins_a_;
    wins_b_ += other.wins_b_;
    ties_ += other.ties_;
  }

  /// The counts, the preference and the sign test. @throws undefined_metric when no impression
  /// had a click.
  [[nodiscard]] interleaving_result result() const {
    const std::uint64_t clicked = wins_a_ + wins_b_ + ties_;
    if (clicked == 0) {
      std::string reason = "no impression with a click (";
      reason += std::to_string(impressions_);
      reason += " impressions)";
      throw undefined_metric(std::string(name), reason);
    }
    interleaving_result r{impressions_, without_clicks_, wins_a_, wins_b_, ties_, 0.0, 1.0};
    r.preference = (static_cast<double>(wins_a_) + 0.5 * static_cast<double>(ties_)) /
                       static_cast<double>(clicked) -
                   0.5;
    const std::uint64_t n = wins_a_ + wins_b_;
    if (n > 0) {
      r.p_value = std::min(1.0, 2.0 * detail::binomial_half_cdf(std::min(wins_a_, wins_b_), n));
    }
    return r;
  }

private:
  std::uint64_t impressions_ = 0;
  std::uint64_t without_clicks_ = 0;
  std::uint64_t wins_a_ = 0;
  std::uint64_t wins_b_ = 0;
  std::uint64_t ties_ = 0;
};

static_assert(metric_accumulator<team_draft_preference>);

} // namespace evaluation
MLSD_END_NAMESPACE
