// Team-draft interleaving (include/mlsd/evaluation/interleaving.hpp): the invariants of the
// merged list against a naive reference of Radlinski et al.'s Algorithm 2, click credit, the
// aggregate and its sign test against SciPy, bad input, JSON.
#include <mlsd/evaluation/interleaving.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace ev = mlsd::evaluation;

namespace {

using ids = std::vector<std::uint32_t>;

// Algorithm 2 of Radlinski, Kurup & Joachims (2008) written as in the paper, with linear
// searches, plus mlsd's documented continuation once one ranking is exhausted. Same coin:
// the top bit of successive SplitMix64 outputs, drawn only when the teams have equal size.
ev::interleaved_ranking<std::uint32_t> naive_team_draft(const ids& a, const ids& b,
                                                        std::uint64_t seed) {
  mlsd::data::detail::splitmix64 coin(seed);
  ev::interleaved_ranking<std::uint32_t> out;
  const auto in_list = [&](std::uint32_t item) {
    return std::find(out.items.begin(), out.items.end(), item) != out.items.end();
  };
  const auto first_unplaced = [&](const ids& r) {
    for (const std::uint32_t item : r) {
      if (!in_list(item)) {
        return static_cast<std::int64_t>(item);
      }
    }
    return std::int64_t{-1};
  };
  for (;;) {
    const std::int64_t next_a = first_unplaced(a);
    const std::int64_t next_b = first_unplaced(b);
    if (next_a < 0 && next_b < 0) {
      return out;
    }
    const auto size_a = std::count(out.teams.begin(), out.teams.end(), ev::team::a);
    const auto size_b = std::count(out.teams.begin(), out.teams.end(), ev::team::b);
    bool pick_a = next_a >= 0;
    if (next_a >= 0 && next_b >= 0) {
      pick_a = size_a < size_b || (size_a == size_b && (coin.next() >> 63) == 1);
    }
    out.items.push_back(static_cast<std::uint32_t>(pick_a ? next_a : next_b));
    out.teams.push_back(pick_a ? ev::team::a : ev::team::b);
  }
}

// Two rankings drawn from a pool of `pool` items: shuffled prefixes of different lengths, so
// they overlap partially.
std::pair<ids, ids> random_rankings(std::mt19937& rng, std::uint32_t pool) {
  ids items(pool);
  for (std::uint32_t i = 0; i < pool; ++i) {
    items[i] = 1000 + i;
  }
  std::uniform_int_distribution<std::uint32_t> length(0, pool);
  std::shuffle(items.begin(), items.end(), rng);
  ids a(items.begin(), items.begin() + length(rng));
  std::shuffle(items.begin(), items.end(), rng);
  ids b(items.begin(), items.begin() + length(rng));
  return {a, b};
}

bool contains(const ids& r, std::uint32_t item) {
  return std::find(r.begin(), r.end(), item) != r.end();
}

std::string field_of_input_error(const auto& f) {
  try {
    f();
  } catch (const mlsd::input_error& e) {
    return e.where().field;
  }
  return "(no input_error)";
}

} // namespace

TEST_CASE("team-draft interleaving: invariants and the naive reference",
          "[evaluation][interleaving]") {
  std::mt19937 rng(2008);
  for (int trial = 0; trial < 400; ++trial) {
    const auto [a, b] = random_rankings(rng, 1 + static_cast<std::uint32_t>(trial % 25));
    const std::uint64_t seed = 77 + static_cast<std::uint64_t>(trial);
    const auto shown = ev::team_draft_interleave(a, b, seed);
    INFO("trial " << trial << ", |A| = " << a.size() << ", |B| = " << b.size());

    const auto reference = naive_team_draft(a, b, seed);
    CHECK(shown.items == reference.items);
    CHECK(shown.teams == reference.teams);
    REQUIRE(shown.items.size() == shown.teams.size());

    // Every item of both rankings appears exactly once, and nothing else does.
    ids all = a;
    for (const std::uint32_t item : b) {
      if (!contains(all, item)) {
        all.push_back(item);
      }
    }
    ids sorted_shown = shown.items;
    std::sort(sorted_shown.begin(), sorted_shown.end());
    std::sort(all.begin(), all.end());
    CHECK(sorted_shown == all);

    // Each item came from its team's ranking, in that ranking's order.
    std::ptrdiff_t last_rank_a = -1;
    std::ptrdiff_t last_rank_b = -1;
    for (std::size_t i = 0; i < shown.items.size(); ++i) {
      const ids& own = shown.teams[i] == ev::team::a ? a : b;
      const auto it = std::find(own.begin(), own.end(), shown.items[i]);
      REQUIRE(it != own.end());
      std::ptrdiff_t& last = shown.teams[i] == ev::team::a ? last_rank_a : last_rank_b;
      CHECK(it - own.begin() > last);
      last = it - own.begin();
    }

    // While both rankings have items left, the teams differ in size by at most one.
    long team_a = 0;
    long team_b = 0;
    for (std::size_t k = 0; k < shown.items.size(); ++k) {
      const ids prefix(shown.items.begin(), shown.items.begin() + static_cast<long>(k));
      const bool a_left =
          std::any_of(a.begin(), a.end(), [&](std::uint32_t x) { return !contains(prefix, x); });
      const bool b_left =
          std::any_of(b.begin(), b.end(), [&](std::uint32_t x) { return !contains(prefix, x); });
      if (a_left && b_left) {
        CHECK(std::labs(team_a - team_b) <= 1);
      }
      ++(shown.teams[k] == ev::team::a ? team_a : team_b);
    }

    // Seeded determinism.
    const auto again = ev::team_draft_interleave(a, b, seed);
    CHECK(again.items == shown.items);
    CHECK(again.teams == shown.teams);
  }
}

TEST_CASE("team-draft interleaving: the coin, the seed and the length",
          "[evaluation][interleaving]") {
  const ids a = {1, 2, 3, 4, 5, 6};
  const ids b = {6, 5, 4, 3, 2, 1};
  // The first pick is a fair coin over seeds: 10000 seeds, within 4.5 standard deviations (50).
  int first_a = 0;
  bool seeds_differ = false;
  const auto base = ev::team_draft_interleave(a, b, 0);
  for (std::uint64_t seed = 0; seed < 10000; ++seed) {
    const auto shown = ev::team_draft_interleave(a, b, seed);
    first_a += shown.teams[0] == ev::team::a ? 1 : 0;
    seeds_differ = seeds_differ || shown.items != base.items;
  }
  CHECK(std::abs(first_a - 5000) < 225);
  CHECK(seeds_differ);

  // length cuts the list; 0 keeps the union.
  const auto cut = ev::team_draft_interleave(a, b, 5, {3});
  const auto full = ev::team_draft_interleave(a, b, 5);
  REQUIRE(cut.items.size() == 3);
  CHECK(full.items.size() == 6);
  CHECK(std::equal(cut.items.begin(), cut.items.end(), full.items.begin()));
  CHECK(ev::team_draft_interleave(a, b, 5, {100}).items.size() == 6);

  // One empty ranking: the other's items in order, all credited to it.
  const auto only_b = ev::team_draft_interleave(ids{}, b, 1);
  CHECK(only_b.items == b);
  CHECK(std::all_of(only_b.teams.begin(), only_b.teams.end(),
                    [](ev::team t) { return t == ev::team::b; }));
  CHECK(ev::team_draft_interleave(ids{}, ids{}, 1).items.empty());

  // Any hashable item type: strings.
  const std::vector<std::string> sa = {"x", "y"};
  const std::vector<std::string> sb = {"y", "z"};
  const auto strings = ev::team_draft_interleave(sa, sb, 9);
  CHECK(strings.items.size() == 3);
}

TEST_CASE("team-draft interleaving: a click on a shared top item goes to the team that picked it",
          "[evaluation][interleaving]") {
  // Both rankers put item 7 first. Whichever team wins the first coin flip picks it, and a click
  // on it is that team's (Radlinski et al. 2008, §4.2), so it favours neither ranker on average.
  const ids a = {7, 1, 2};
  const ids b = {7, 3, 4};
  std::uint64_t seed_a = 0;
  std::uint64_t seed_b = 0;
  bool found_a = false;
  bool found_b = false;
  for (std::uint64_t seed = 0; seed < 64 && !(found_a && found_b); ++seed) {
    const auto shown = ev::team_draft_interleave(a, b, seed);
    REQUIRE(shown.items[0] == 7);
    if (shown.teams[0] == ev::team::a && !found_a) {
      seed_a = seed;
      found_a = true;
    }
    if (shown.teams[0] == ev::team::b && !found_b) {
      seed_b = seed;
      found_b = true;
    }
  }
  REQUIRE(found_a);
  REQUIRE(found_b);
  const std::vector<std::size_t> top = {0};
  const auto picked_by_a = ev::team_draft_interleave(a, b, seed_a);
  CHECK(ev::credit_clicks(picked_by_a, top) == ev::interleaving_credit{1, 0});
  // The second position goes to the other team (B's best remaining item is 3).
  CHECK(picked_by_a.items[1] == 3);
  CHECK(picked_by_a.teams[1] == ev::team::b);
  const auto picked_by_b = ev::team_draft_interleave(a, b, seed_b);
  CHECK(ev::credit_clicks(picked_by_b, top) == ev::interleaving_credit{0, 1});
  CHECK(picked_by_b.items[1] == 1);

  // Several clicks are counted per team.
  const std::vector<std::size_t> clicks = {0, 1, 2};
  const ev::interleaving_credit c = ev::credit_clicks(picked_by_a, clicks);
  CHECK(c.clicks_a + c.clicks_b == 3);
  CHECK(c.clicks_b == 1 + (picked_by_a.teams[2] == ev::team::b ? 1 : 0));

  // Identical rankers: random clicks give no preference beyond chance.
  std::mt19937 rng(11);
  std::uniform_int_distribution<std::size_t> position(0, 2);
  ev::team_draft_preference same;
  for (std::uint64_t impression = 0; impression < 4000; ++impression) {
    const auto shown = ev::team_draft_interleave(a, a, impression);
    const std::vector<std::size_t> one = {position(rng)};
    same.add(ev::credit_clicks(shown, one));
  }
  const auto r = same.result();
  CHECK(r.wins_a + r.wins_b == 4000);
  CHECK(std::fabs(r.preference) < 0.04); // 4.5 standard deviations of a fair coin's share
}

TEST_CASE("team-draft interleaving: bad input", "[evaluation][interleaving]") {
  const ids dup = {1, 2, 1};
  const ids ok = {1, 2};
  CHECK(field_of_input_error([&] { (void)ev::team_draft_interleave(dup, ok, 1); }) ==
        "ranking_a[2]");
  CHECK(field_of_input_error([&] { (void)ev::team_draft_interleave(ok, dup, 1); }) ==
        "ranking_b[2]");
  const auto shown = ev::team_draft_interleave(ok, ok, 1);
  const std::vector<std::size_t> outside = {0, 2};
  CHECK(field_of_input_error([&] { (void)ev::credit_clicks(shown, outside); }) ==
        "clicked_positions[1]");
  const std::vector<std::size_t> twice = {1, 1};
  CHECK(field_of_input_error([&] { (void)ev::credit_clicks(shown, twice); }) ==
        "clicked_positions[1]");
}

TEST_CASE("team_draft_preference: counts, preference and the sign test against SciPy",
          "[evaluation][interleaving]") {
  // stats.binomtest(k, n, 0.5).pvalue for (k, n) = (37, 60), (600, 1100), (0, 10), (30, 60)
  const auto with = [](std::uint64_t wins_a, std::uint64_t wins_b, std::uint64_t ties,
                       std::uint64_t no_clicks) {
    ev::team_draft_preference p;
    for (std::uint64_t i = 0; i < wins_a; ++i) {
      p.add({2, 1});
    }
    for (std::uint64_t i = 0; i < wins_b; ++i) {
      p.add({0, 3});
    }
    for (std::uint64_t i = 0; i < ties; ++i) {
      p.add({1, 1});
    }
    for (std::uint64_t i = 0; i < no_clicks; ++i) {
      p.add({0, 0});
    }
    return p;
  };
  const auto r = with(37, 23, 10, 30).result();
  CHECK(r.impressions == 100);
  CHECK(r.impressions_without_clicks == 30);
  CHECK(r.wins_a == 37);
  CHECK(r.wins_b == 23);
  CHECK(r.ties == 10);
  CHECK(r.preference == Approx((37.0 + 5.0) / 70.0 - 0.5).epsilon(1e-15));
  CHECK(r.p_value == Approx(0.09246098107292373).epsilon(1e-10));
  CHECK(with(23, 37, 0, 0).result().p_value == Approx(0.09246098107292373).epsilon(1e-10));
  CHECK(with(23, 37, 0, 0).result().preference < 0.0);
  CHECK(with(600, 500, 0, 0).result().p_value == Approx(0.002819544991436429).epsilon(1e-10));
  CHECK(with(0, 10, 0, 0).result().p_value == Approx(0.001953125).epsilon(1e-12));
  CHECK(with(30, 30, 5, 0).result().p_value == 1.0);
  const auto ties_only = with(0, 0, 4, 2).result();
  CHECK(ties_only.p_value == 1.0);
  CHECK(ties_only.preference == 0.0);

  SECTION("merge equals adding everything") {
    auto first = with(10, 3, 2, 1);
    first.merge(with(27, 20, 8, 29));
    CHECK(first.result() == r);
    auto self = with(1, 2, 3, 4);
    self.merge(self);
    CHECK(self.result() == with(2, 4, 6, 8).result());
  }
  SECTION("no clicked impression: undefined") {
    CHECK_THROWS_AS(with(0, 0, 0, 5).result(), ev::undefined_metric);
    CHECK_THROWS_AS(ev::team_draft_preference{}.result(), ev::undefined_metric);
  }
  SECTION("JSON") {
    const nlohmann::json j = r;
    CHECK(j.at("test") == "team_draft_interleaving");
    CHECK(j.at("wins_a") == 37);
    CHECK(nlohmann::json::parse(j.dump()).get<ev::interleaving_result>() == r);
    CHECK(nlohmann::json(ev::team_draft_config{5}).get<ev::team_draft_config>().length == 5);
  }
}
