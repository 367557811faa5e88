/// @file
/// Train/test splits on row indices (random, by time, by group), so that they apply to any dataset,
/// and the leakage checks that verify a split: no row on both sides, no duplicate, no training row
/// at or after the first test time, no group on both sides, no training label that became known
/// after the test period started.
///
/// ```cpp
/// const auto split = mlsd::data::time_split(times, {.cutoff = day_7});   // train < day 7 <= test
/// const auto report = mlsd::data::check_time_split(split, times);
/// if (!report.ok()) { throw std::runtime_error(report.summary()); }
/// ```
///
/// Every split returns sorted index vectors (`train`, `test`, and `excluded` for rows a split sets
/// aside on purpose, such as a time gap) that together hold every row exactly once.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/time.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/random.hpp>
#include <mlsd/data/detail/xxh3.hpp>
#include <mlsd/data/sampling.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

/// Which side of a split a row is on.
enum class split_side : std::uint8_t { train, test, excluded };

/// A split as sorted row indices.
struct index_split {
  std::vector<std::size_t> train{};
  std::vector<std::size_t> test{};
  /// Rows deliberately in neither side (e.g. inside a time split's gap); counted, not lost.
  std::vector<std::size_t> excluded{};

  /// The split as a mask over `n` rows. Precondition: every index `< n`, each on one side.
  [[nodiscard]] std::vector<split_side> sides(std::size_t n) const {
    std::vector<split_side> out(n, split_side::excluded);
    for (const std::size_t i : train) {
      out[i] = split_side::train;
    }
    for (const std::size_t i : test) {
      out[i] = split_side::test;
    }
    return out;
  }

  friend bool operator==(const index_split&, const index_split&) = default;
};

namespace detail {
inline void check_fraction(double f, const char* field) {
  if (!(f >= 0.0 && f <= 1.0)) {
    throw config_error(field, "a number in [0, 1]");
  }
}

// Reads `{"test_fraction": f, "seed": s}` (both required, nothing else) into a random or a group
// split's config, and validates it.
template <class Config>
void read_fraction_and_seed(const nlohmann::json& j, std::string_view owner, Config& c) {
  config_reader r(j, owner);
  Config out;
  r.require("test_fraction", out.test_fraction);
  r.require("seed", out.seed);
  r.finish();
  out.validate();
  c = out;
}
} // namespace detail

// ---------------------------------------------------------------------------------------------
// Random split
// ---------------------------------------------------------------------------------------------

/// A random split's policy.
struct random_split_config {
  /// Fraction of rows in the test set; the test set has `ceil(test_fraction * n)` rows
  /// (scikit-learn's `train_test_split` rule).
  double test_fraction = 0.2;
  std::uint64_t seed = 0;

  void validate() const { detail::check_fraction(test_fraction, "random_split.test_fraction"); }
  friend bool operator==(const random_split_config&, const random_split_config&) = default;
};

/// JSON: `{"test_fraction": f, "seed": s}`.
inline void to_json(nlohmann::json& j, const random_split_config& c) {
  j = nlohmann::json{{"test_fraction", c.test_fraction}, {"seed", c.seed}};
}
/// Reads `to_json`'s form (unknown keys are errors); throws `config_error` naming the field.
inline void from_json(const nlohmann::json& j, random_split_config& c) {
  detail::read_fraction_and_seed(j, "random_split", c);
}

/// Splits rows `0 .. n-1` uniformly at random (a seeded partial Fisher-Yates shuffle): the same
/// `(n, config)` always gives the same split. Only for rows that are exchangeable: events of one
/// user or one time on both sides leak (see `time_split`, `group_split`). O(n).
[[nodiscard]] inline index_split random_split(std::size_t n, const random_split_config& cfg) {
  cfg.validate();
  auto n_test = static_cast<std::size_t>(std::ceil(cfg.test_fraction * static_cast<double>(n)));
  n_test = std::min(n_test, n);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  detail::splitmix64 rng(cfg.seed);
  for (std::size_t i = 0; i < n_test; ++i) {
    const auto j = i + static_cast<std::size_t>(rng.below(n - i));
    std::swap(order[i], order[j]);
  }
  index_split out;
  out.test.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_test));
  out.train.assign(order.begin() + static_cast<std::ptrdiff_t>(n_test), order.end());
  std::sort(out.test.begin(), out.test.end());
  std::sort(out.train.begin(), out.train.end());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Time split
// ---------------------------------------------------------------------------------------------

/// A time split's policy: train on events before the cutoff, test on events at or after it.
struct time_split_config {
  /// The first test time. When empty, the cutoff is `t_min + train_fraction * (t_max - t_min)`
  /// over the rows' times (a fraction of the time range, not of the rows).
  std::optional<event_time> cutoff{};
  double train_fraction = 0.8;
  /// Rows in `[cutoff - gap, cutoff)` go to `excluded`: a gap at least as long as the
  /// attribution window keeps training labels from being decided by test-period events.
  time_span_us gap{0};

  void validate() const {
    detail::check_fraction(train_fraction, "time_split.train_fraction");
    if (gap.count() < 0) {
      throw config_error("time_split.gap", "a time span >= 0");
    }
  }
  friend bool operator==(const time_split_config&, const time_split_config&) = default;
};

/// JSON: `{"cutoff_us": microseconds or null, "train_fraction": f, "gap_us": g}`.
inline void to_json(nlohmann::json& j, const time_split_config& c) {
  j = nlohmann::json{
      {"cutoff_us", nullptr}, {"train_fraction", c.train_fraction}, {"gap_us", c.gap.count()}};
  if (c.cutoff) {
    j["cutoff_us"] = c.cutoff->micros();
  }
}
/// Reads `to_json`'s form (unknown keys are errors); throws `config_error` naming the field.
inline void from_json(const nlohmann::json& j, time_split_config& c) {
  detail::config_reader r(j, "time_split");
  time_split_config out;
  if (const nlohmann::json& cutoff = r.at("cutoff_us"); !cutoff.is_null()) {
    std::int64_t micros = 0;
    r.require("cutoff_us", micros);
    out.cutoff = event_time::from_micros(micros);
  }
  r.require("train_fraction", out.train_fraction);
  std::int64_t gap_us = 0;
  r.require("gap_us", gap_us);
  out.gap = time_span_us(gap_us);
  r.finish();
  out.validate();
  c = out;
}

/// The cutoff `time_split` uses for these times (`event_time::max()` for no rows and no cutoff).
[[nodiscard]] inline event_time time_split_cutoff(std::span<const event_time> times,
                                                  const time_split_config& cfg) {
  cfg.validate();
  if (cfg.cutoff) {
    return *cfg.cutoff;
  }
  if (times.empty()) {
    return event_time::max();
  }
  const auto [lo, hi] = std::minmax_element(times.begin(), times.end());
  const double range = static_cast<double>((*hi - *lo).count());
  return *lo + time_span_us(static_cast<std::int64_t>(std::llround(cfg.train_fraction * range)));
}

/// Splits rows by event time: `train` holds rows with `time < cutoff - gap`, `test` rows with
/// `time >= cutoff`, `excluded` the gap in between. The split for click prediction: the model is
/// used on the future, so it must be judged on a later period than it learned from. O(n).
[[nodiscard]] inline index_split time_split(std::span<const event_time> times,
                                            const time_split_config& cfg) {
  const event_time cutoff = time_split_cutoff(times, cfg);
  const event_time train_end = cutoff - cfg.gap;
  index_split out;
  for (std::size_t i = 0; i < times.size(); ++i) {
    if (times[i] >= cutoff) {
      out.test.push_back(i);
    } else if (times[i] < train_end) {
      out.train.push_back(i);
    } else {
      out.excluded.push_back(i);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Group split
// ---------------------------------------------------------------------------------------------

/// A group split's policy: a group (user, session, advertiser) is in the test set when the hash of
/// its id with `seed` falls below `test_fraction`.
struct group_split_config {
  /// Expected fraction of *groups* (not rows) in the test set.
  double test_fraction = 0.2;
  std::uint64_t seed = 0;

  void validate() const { detail::check_fraction(test_fraction, "group_split.test_fraction"); }
  friend bool operator==(const group_split_config&, const group_split_config&) = default;
};

/// JSON: `{"test_fraction": f, "seed": s}`.
inline void to_json(nlohmann::json& j, const group_split_config& c) {
  j = nlohmann::json{{"test_fraction", c.test_fraction}, {"seed", c.seed}};
}
/// Reads `to_json`'s form (unknown keys are errors); throws `config_error` naming the field.
inline void from_json(const nlohmann::json& j, group_split_config& c) {
  detail::read_fraction_and_seed(j, "group_split", c);
}

/// Whether group `group` is on the test side: `XXH3_64(le_bytes(group), seed) / 2^64 <
/// test_fraction` (the top 53 bits). A function of the id alone, so a group stays on its side as
/// the data grows and on every machine (the id is hashed as 8 little-endian bytes).
[[nodiscard]] inline bool group_in_test(std::uint64_t group,
                                        const group_split_config& cfg) noexcept {
  std::array<unsigned char, 8> bytes{};
  for (std::size_t b = 0; b < 8; ++b) {
    bytes[b] = static_cast<unsigned char>(group >> (8 * b));
  }
  return detail::splitmix64::to_unit(detail::xxh3_64(bytes.data(), bytes.size(), cfg.seed)) <
         cfg.test_fraction;
}

/// Whether the group named `group` is on the test side: `XXH3_64(group, seed)` as above.
[[nodiscard]] inline bool group_in_test(std::string_view group,
                                        const group_split_config& cfg) noexcept {
  return detail::splitmix64::to_unit(detail::xxh3_64(group, cfg.seed)) < cfg.test_fraction;
}

/// Splits rows by their group id (`groups[i]` is row `i`'s group): every row of a group lands on
/// the same side, so a model is tested on users it has never seen. O(n).
[[nodiscard]] inline index_split group_split(std::span<const std::uint64_t> groups,
                                             const group_split_config& cfg) {
  cfg.validate();
  index_split out;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    (group_in_test(groups[i], cfg) ? out.test : out.train).push_back(i);
  }
  return out;
}

/// As above for string group ids.
[[nodiscard]] inline index_split group_split(std::span<const std::string> groups,
                                             const group_split_config& cfg) {
  cfg.validate();
  index_split out;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    (group_in_test(std::string_view(groups[i]), cfg) ? out.test : out.train).push_back(i);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Leakage checks
// ---------------------------------------------------------------------------------------------

/// A rule a split can break.
enum class leakage_rule {
  index_out_of_range,      ///< an index `>= n`; `first` holds the indices
  duplicate_index,         ///< an index twice on one side; `first` holds the indices
  index_on_both_sides,     ///< a row in two of train/test/excluded; `first` holds the rows
  train_at_or_after_test,  ///< a train row with time `>=` the first test time; rows
  test_at_or_before_train, ///< a test row with time `<=` the last train time; rows
  group_on_both_sides,     ///< a group with rows in train and test; `first` holds group ids
  train_label_after_test,  ///< a train row whose label became known after the first test time
};

/// The rule's name as it appears in reports ("index_on_both_sides", ...).
[[nodiscard]] constexpr const char* to_string(leakage_rule r) noexcept {
  switch (r) {
  case leakage_rule::index_out_of_range:
    return "index_out_of_range";
  case leakage_rule::duplicate_index:
    return "duplicate_index";
  case leakage_rule::index_on_both_sides:
    return "index_on_both_sides";
  case leakage_rule::train_at_or_after_test:
    return "train_at_or_after_test";
  case leakage_rule::test_at_or_before_train:
    return "test_at_or_before_train";
  case leakage_rule::group_on_both_sides:
    return "group_on_both_sides";
  case leakage_rule::train_label_after_test:
    return "train_label_after_test";
  }
  return "unknown";
}

/// One broken rule: how many offenders, and the first ones (row indices or group ids).
struct leakage_violation {
  leakage_rule rule = leakage_rule::index_out_of_range;
  std::uint64_t count = 0;
  std::vector<std::uint64_t> first{};

  friend bool operator==(const leakage_violation&, const leakage_violation&) = default;
};

/// The result of a leakage check: empty when the split is sound.
struct leakage_report {
  std::vector<leakage_violation> violations{};

  [[nodiscard]] bool ok() const noexcept { return violations.empty(); }
  /// The violation of `rule`, or nullptr when the rule holds.
  [[nodiscard]] const leakage_violation* find(leakage_rule rule) const noexcept {
    for (const auto& v : violations) {
      if (v.rule == rule) {
        return &v;
      }
    }
    return nullptr;
  }
  /// "no leakage", or e.g. "index_on_both_sides: 2 (first: 3, 9); duplicate_index: 1 (first: 4)".
  [[nodiscard]] std::string summary() const {
    if (ok()) {
      return "no leakage";
    }
    std::string s;
    for (const auto& v : violations) {
      if (!s.empty()) {
        s += "; ";
      }
      s += to_string(v.rule);
      s += ": ";
      s += std::to_string(v.count);
      s += " (first: ";
      for (std::size_t i = 0; i < v.first.size(); ++i) {
        if (i > 0) {
          s += ", ";
        }
        s += std::to_string(v.first[i]);
      }
      s += ')';
    }
    return s;
  }
};

namespace detail {

class leakage_collector {
public:
  explicit leakage_collector(std::size_t keep_first) noexcept
      : keep_first_(keep_first) {}

  void add(leakage_rule rule, std::uint64_t id) {
    for (auto& v : report_.violations) {
      if (v.rule == rule) {
        ++v.count;
        if (v.first.size() < keep_first_) {
          v.first.push_back(id);
        }
        return;
      }
    }
    leakage_violation v{rule, 1, {}};
    if (keep_first_ > 0) {
      v.first.push_back(id);
    }
    report_.violations.push_back(std::move(v));
  }
  [[nodiscard]] leakage_report take() && { return std::move(report_); }

private:
  std::size_t keep_first_;
  leakage_report report_;
};

// The index rules; returns the per-row mask of sides (bit 0 train, 1 test, 2 excluded).
inline std::vector<std::uint8_t> check_indices(const index_split& split, std::size_t n,
                                               leakage_collector& out) {
  std::vector<std::uint8_t> mask(n, 0);
  const std::array<const std::vector<std::size_t>*, 3> sides{&split.train, &split.test,
                                                             &split.excluded};
  for (std::size_t s = 0; s < sides.size(); ++s) {
    const auto bit = static_cast<std::uint8_t>(1u << s);
    for (const std::size_t i : *sides[s]) {
      if (i >= n) {
        out.add(leakage_rule::index_out_of_range, i);
      } else if (mask[i] & bit) {
        out.add(leakage_rule::duplicate_index, i);
      } else {
        mask[i] = static_cast<std::uint8_t>(mask[i] | bit);
      }
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (mask[i] != 0 && (mask[i] & (mask[i] - 1)) != 0) {
      out.add(leakage_rule::index_on_both_sides, i);
    }
  }
  return mask;
}

} // namespace detail

/// Checks the index rules of a split of `n` rows: no index `>= n`, none twice on a side, none on
/// two sides. Offenders are listed in order of appearance (out of range, duplicates: train, then
/// test, then excluded) or ascending (both sides); at most `keep_first` each, counts exact. O(n).
[[nodiscard]] inline leakage_report check_split(const index_split& split, std::size_t n,
                                                std::size_t keep_first = 10) {
  detail::leakage_collector out(keep_first);
  detail::check_indices(split, n, out);
  return std::move(out).take();
}

/// `check_split` plus the time rule: the last train time is before the first test time. Reports
/// every train row at or after the first test time and every test row at or before the last train
/// time (ascending). O(n).
[[nodiscard]] inline leakage_report check_time_split(const index_split& split,
                                                     std::span<const event_time> times,
                                                     std::size_t keep_first = 10) {
  detail::leakage_collector out(keep_first);
  const auto mask = detail::check_indices(split, times.size(), out);
  event_time max_train = event_time::min();
  event_time min_test = event_time::max();
  bool any_train = false;
  bool any_test = false;
  for (std::size_t i = 0; i < times.size(); ++i) {
    if (mask[i] & 1u) {
      max_train = std::max(max_train, times[i]);
      any_train = true;
    }
    if (mask[i] & 2u) {
      min_test = std::min(min_test, times[i]);
      any_test = true;
    }
  }
  if (any_train && any_test && !(max_train < min_test)) {
    for (std::size_t i = 0; i < times.size(); ++i) {
      if ((mask[i] & 1u) && times[i] >= min_test) {
        out.add(leakage_rule::train_at_or_after_test, i);
      }
    }
    for (std::size_t i = 0; i < times.size(); ++i) {
      if ((mask[i] & 2u) && times[i] <= max_train) {
        out.add(leakage_rule::test_at_or_before_train, i);
      }
    }
  }
  return std::move(out).take();
}

/// `check_split` plus the group rule: no group has rows in both train and test. Reports the group
/// ids, in order of their first row. O(n) expected.
[[nodiscard]] inline leakage_report check_group_split(const index_split& split,
                                                      std::span<const std::uint64_t> groups,
                                                      std::size_t keep_first = 10) {
  detail::leakage_collector out(keep_first);
  const auto mask = detail::check_indices(split, groups.size(), out);
  std::unordered_map<std::uint64_t, std::uint8_t> sides;
  std::vector<std::uint64_t> order; // groups in order of their first row
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const auto m = static_cast<std::uint8_t>(mask[i] & 3u);
    if (m == 0) {
      continue;
    }
    auto [it, inserted] = sides.try_emplace(groups[i], std::uint8_t{0});
    if (inserted) {
      order.push_back(groups[i]);
    }
    it->second = static_cast<std::uint8_t>(it->second | m);
  }
  for (const std::uint64_t g : order) {
    if (sides[g] == 3u) {
      out.add(leakage_rule::group_on_both_sides, g);
    }
  }
  return std::move(out).take();
}

/// `check_split` plus the delayed-feedback rule: every training label was known by the first
/// test time (`is_known_by(label_known_at[i], min test time)`). A training label that became final
/// later was decided by events of the test period (a click inside the test period closes a train
/// impression's window). Reports the train rows, ascending. `label_known_at` comes from
/// `attribution_labeler`. Throws `input_error` when the two spans differ in length. O(n).
[[nodiscard]] inline leakage_report
check_label_availability(const index_split& split, std::span<const event_time> times,
                         std::span<const known_at_time> label_known_at,
                         std::size_t keep_first = 10) {
  if (times.size() != label_known_at.size()) {
    std::string expected = std::to_string(times.size());
    expected += " label times (one per row)";
    throw input_error({"check_label_availability", 0, 0, "label_known_at"}, std::move(expected),
                      std::to_string(label_known_at.size()));
  }
  detail::leakage_collector out(keep_first);
  const auto mask = detail::check_indices(split, times.size(), out);
  std::optional<event_time> min_test;
  for (std::size_t i = 0; i < times.size(); ++i) {
    if (mask[i] & 2u) {
      min_test = min_test ? std::min(*min_test, times[i]) : times[i];
    }
  }
  if (min_test) {
    for (std::size_t i = 0; i < times.size(); ++i) {
      if ((mask[i] & 1u) && !is_known_by(label_known_at[i], *min_test)) {
        out.add(leakage_rule::train_label_after_test, i);
      }
    }
  }
  return std::move(out).take();
}

// ---------------------------------------------------------------------------------------------
// Stratified split
// ---------------------------------------------------------------------------------------------

/// A stratified split's policy: a random split that keeps each class's share of the rows equal
/// on both sides, so that a rare class (747 spam messages in 5,574) is not left out of a small
/// test set by chance.
struct stratified_split_config {
  /// Fraction of rows in the test set: `ceil(test_fraction * n)` rows in total (as
  /// `random_split`), shared among the classes in proportion to their sizes.
  double test_fraction = 0.2;
  std::uint64_t seed = 0;

  void validate() const { detail::check_fraction(test_fraction, "stratified_split.test_fraction"); }
  friend bool operator==(const stratified_split_config&, const stratified_split_config&) = default;
};

/// JSON: `{"test_fraction": f, "seed": s}`.
inline void to_json(nlohmann::json& j, const stratified_split_config& c) {
  j = nlohmann::json{{"test_fraction", c.test_fraction}, {"seed", c.seed}};
}
/// Reads `to_json`'s form (unknown keys are errors); throws `config_error` naming the field.
inline void from_json(const nlohmann::json& j, stratified_split_config& c) {
  detail::read_fraction_and_seed(j, "stratified_split", c);
}

namespace detail {

// The stratified split of rows grouped by class: `members[c]` holds class c's rows in ascending
// order, classes in ascending order of their label.
inline index_split stratified_split_of(const std::vector<std::vector<std::size_t>>& members,
                                       std::size_t n, const stratified_split_config& cfg) {
  auto n_test = static_cast<std::size_t>(std::ceil(cfg.test_fraction * static_cast<double>(n)));
  n_test = std::min(n_test, n);
  // Largest-remainder (Hamilton) apportionment of n_test among the classes: each class gets
  // floor(n_test * n_c / n), and the rows left over go to the largest remainders (ties: the
  // smaller class label first), so that the total is exactly n_test.
  const std::size_t classes = members.size();
  std::vector<std::size_t> quota(classes);
  std::vector<std::pair<std::uint64_t, std::size_t>> remainders(classes); // (-remainder, class)
  std::size_t given = 0;
  for (std::size_t c = 0; c < classes; ++c) {
    // n_test * n_c / n in integers (exact below 2^32 rows; above, the remainder is rounded).
    const std::uint64_t size = members[c].size();
    if (n <= (std::uint64_t{1} << 32)) {
      const std::uint64_t share = static_cast<std::uint64_t>(n_test) * size;
      quota[c] = static_cast<std::size_t>(share / n);
      remainders[c] = {share % n, c};
    } else {
      const long double share = static_cast<long double>(n_test) * size / n;
      quota[c] = static_cast<std::size_t>(share);
      remainders[c] = {static_cast<std::uint64_t>((share - quota[c]) * n), c};
    }
    given += quota[c];
  }
  std::sort(remainders.begin(), remainders.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (std::size_t k = 0; given < n_test; ++k, ++given) {
    ++quota[remainders[k].second];
  }
  index_split out;
  for (std::size_t c = 0; c < classes; ++c) {
    std::vector<std::size_t> rows = members[c];
    // A seeded partial Fisher-Yates shuffle per class; the class's rank keys its own stream.
    splitmix64 rng(splitmix64::hash(cfg.seed, c));
    for (std::size_t i = 0; i < quota[c]; ++i) {
      const auto j = i + static_cast<std::size_t>(rng.below(rows.size() - i));
      std::swap(rows[i], rows[j]);
    }
    out.test.insert(out.test.end(), rows.begin(),
                    rows.begin() + static_cast<std::ptrdiff_t>(quota[c]));
    out.train.insert(out.train.end(), rows.begin() + static_cast<std::ptrdiff_t>(quota[c]),
                     rows.end());
  }
  std::sort(out.test.begin(), out.test.end());
  std::sort(out.train.begin(), out.train.end());
  return out;
}

[[nodiscard]] inline bool is_nan_label(float label) noexcept {
  return std::isnan(label);
}
[[nodiscard]] inline bool is_nan_label(std::uint64_t) noexcept {
  return false;
}

template <class Label>
index_split stratified_split_by(std::span<const Label> labels, const stratified_split_config& cfg) {
  cfg.validate();
  std::vector<Label> classes;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (is_nan_label(labels[i])) {
      std::string found = "NaN at row ";
      found += std::to_string(i);
      throw input_error({"stratified_split", 0, 0, "labels"}, "class labels that are not NaN",
                        std::move(found));
    }
    classes.push_back(labels[i]);
  }
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  std::vector<std::vector<std::size_t>> members(classes.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto c = std::lower_bound(classes.begin(), classes.end(), labels[i]) - classes.begin();
    members[static_cast<std::size_t>(c)].push_back(i);
  }
  return stratified_split_of(members, labels.size(), cfg);
}

} // namespace detail

/// Splits rows `0 .. n-1` at random within each class (`labels[i]` is row i's class, e.g. the
/// 0/1 or ±1 labels of a `sparse_batch`): the test set has `ceil(test_fraction * n)` rows, and
/// each class contributes its proportional share (largest-remainder rounding, so a class of
/// n_c rows gives `floor` or `ceil` of `test_fraction_total * n_c / n`). The rows of each class
/// are chosen by a seeded partial Fisher-Yates shuffle: the same `(labels, config)` always gives
/// the same split. Like `random_split`, only for exchangeable rows. O(n log n).
/// @throws input_error for a NaN label; config_error for an invalid config.
[[nodiscard]] inline index_split stratified_split(std::span<const float> labels,
                                                  const stratified_split_config& cfg) {
  return detail::stratified_split_by(labels, cfg);
}

/// As above for integer class ids.
[[nodiscard]] inline index_split stratified_split(std::span<const std::uint64_t> classes,
                                                  const stratified_split_config& cfg) {
  return detail::stratified_split_by(classes, cfg);
}

} // namespace data
MLSD_END_NAMESPACE
