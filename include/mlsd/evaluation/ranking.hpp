/// @file
/// Offline metrics of ranked lists (search results, recommendations, a feed): precision@k,
/// recall@k, hit rate@k, MAP@k, MRR, nDCG@k (linear and exponential gains) and per-user AUC
/// (GAUC). docs/ranking-metrics.md gives every formula, variant name and undefined case.
///
/// One observation is one query (or one user): the scored items the system returned for it,
/// `ranked_item {score, relevance}`, viewed as a `ranked_query`. Each metric sorts the items by
/// score, highest first, evaluates the query, and keeps the mean over queries; `merge` adds
/// another accumulator's queries. Items with equal scores are not ordered arbitrarily: every
/// metric returns its expected value over all orders of the tied items (McSherry & Najork 2008,
/// "Computing information retrieval performance measures efficiently in the presence of tied
/// scores", ECIR), so the result never depends on the order the items were given in, and nDCG
/// equals scikit-learn's `ndcg_score(ignore_ties=False)`.
///
/// ```cpp
/// namespace ev = mlsd::evaluation;
/// ev::ndcg_at_k ndcg({.k = 10, .gain = ev::ndcg_gain::exponential});
/// ev::recall_at_k recall({.k = 100});
/// for (const auto& user : users) {               // user.items: std::vector<ev::ranked_item>
///   ndcg.add({user.items});
///   recall.add({user.items, user.relevant_total});  // relevant items that exist, retrieved or not
/// }
/// std::printf("nDCG@10 %.4f over %llu users (%llu without a relevant item skipped)\n",
///             ndcg.result(), (unsigned long long)ndcg.count(), (unsigned long
///             long)ndcg.skipped());
/// ```
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/evaluation/classification.hpp>
#include <mlsd/evaluation/metric.hpp>
#include <mlsd/requirements/requirements.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace evaluation {

/// One item of a ranked list: the score the system gave it (any non-NaN float, ±inf allowed;
/// only the order matters) and its true relevance (graded: 0 irrelevant, 1, 2, 3 ... more
/// relevant; finite and `>= 0`). An item is *relevant* when `relevance > 0`.
struct ranked_item {
  float score = 0.0f;
  float relevance = 0.0f;
};

/// One query (or user): a view of its scored items, in any order, and the number of relevant
/// items that exist for it, retrieved or not (recall and MAP need it: a retriever that returned
/// 3 of 10 relevant items has recall 0.3, not 1).
struct ranked_query {
  /// The items the system scored for this query, in any order (the metric sorts them).
  std::span<const ranked_item> items;
  /// Relevant items that exist for the query; 0 means "count the relevant items in `items`"
  /// (the list holds every relevant item, as when a ranker re-scores a labelled impression log).
  /// When non-zero it must be at least that count.
  std::uint64_t relevant_total = 0;
};

/// What a ranking metric does with a query that has no relevant item (`relevant_total` 0 and no
/// item with `relevance > 0`), for which recall, MAP, MRR and nDCG are 0/0.
enum class no_relevant_policy : std::uint8_t {
  skip, ///< leave the query out of the mean and count it in `skipped()` (trec_eval's convention)
  zero, ///< count the query with the value 0 (scikit-learn's `ndcg_score` convention)
};

namespace detail {
inline constexpr std::array<std::pair<no_relevant_policy, std::string_view>, 2>
    no_relevant_policy_names = {
        {{no_relevant_policy::skip, "skip"}, {no_relevant_policy::zero, "zero"}}};
} // namespace detail

/// The configuration of precision@k, recall@k, hit rate@k and MAP@k.
struct ranking_config {
  /// The cut-off: only the first `k` positions of the sorted list count. At least 1. A list
  /// shorter than `k` is evaluated as it is (each metric's comment says how).
  std::size_t k = 10;
  /// What to do with a query without a relevant item.
  no_relevant_policy if_no_relevant = no_relevant_policy::skip;

  /// Throws `config_error` naming `ranking.k` unless `k >= 1`.
  void validate() const {
    if (k < 1) {
      throw config_error("ranking.k", "an integer >= 1");
    }
  }
  friend bool operator==(const ranking_config&, const ranking_config&) = default;
};

/// JSON: `{"k": 10, "if_no_relevant": "skip"|"zero"}`.
inline void to_json(nlohmann::json& j, const ranking_config& c) {
  j = nlohmann::json{{"k", c.k},
                     {"if_no_relevant",
                      data::detail::enum_name(c.if_no_relevant, detail::no_relevant_policy_names)}};
}
/// Reads `to_json`'s form (absent keys keep their defaults; unknown keys are errors); throws
/// `config_error` naming the field.
inline void from_json(const nlohmann::json& j, ranking_config& c) {
  data::detail::config_reader r(j, "ranking");
  ranking_config out;
  r.read("k", out.k, std::size_t{1}, std::numeric_limits<std::size_t>::max());
  r.read_enum("if_no_relevant", out.if_no_relevant, detail::no_relevant_policy_names);
  r.finish();
  out.validate();
  c = out;
}

/// The gain of an item of relevance `rel` in nDCG.
enum class ndcg_gain : std::uint8_t {
  linear,      ///< `rel` (Järvelin & Kekäläinen 2002; scikit-learn's `ndcg_score`)
  exponential, ///< `2^rel - 1` (Burges et al. 2005, "Learning to rank using gradient descent")
};

namespace detail {
inline constexpr std::array<std::pair<ndcg_gain, std::string_view>, 2> ndcg_gain_names = {
    {{ndcg_gain::linear, "linear"}, {ndcg_gain::exponential, "exponential"}}};
} // namespace detail

/// The configuration of nDCG@k.
struct ndcg_config {
  /// The cut-off, at least 1.
  std::size_t k = 10;
  /// The gain of a relevance grade. With binary relevance (0 or 1) both gains are equal.
  ndcg_gain gain = ndcg_gain::linear;
  /// What to do with a query without a relevant item (its ideal DCG is 0).
  no_relevant_policy if_no_relevant = no_relevant_policy::skip;

  /// Throws `config_error` naming `ndcg_at_k.k` unless `k >= 1`.
  void validate() const {
    if (k < 1) {
      throw config_error("ndcg_at_k.k", "an integer >= 1");
    }
  }
  friend bool operator==(const ndcg_config&, const ndcg_config&) = default;
};

/// JSON: `{"k": 10, "gain": "linear"|"exponential", "if_no_relevant": "skip"|"zero"}`.
inline void to_json(nlohmann::json& j, const ndcg_config& c) {
  j = nlohmann::json{{"k", c.k},
                     {"gain", data::detail::enum_name(c.gain, detail::ndcg_gain_names)},
                     {"if_no_relevant",
                      data::detail::enum_name(c.if_no_relevant, detail::no_relevant_policy_names)}};
}
/// Reads `to_json`'s form; throws `config_error` naming the field.
inline void from_json(const nlohmann::json& j, ndcg_config& c) {
  data::detail::config_reader r(j, "ndcg_at_k");
  ndcg_config out;
  r.read("k", out.k, std::size_t{1}, std::numeric_limits<std::size_t>::max());
  r.read_enum("gain", out.gain, detail::ndcg_gain_names);
  r.read_enum("if_no_relevant", out.if_no_relevant, detail::no_relevant_policy_names);
  r.finish();
  out.validate();
  c = out;
}

/// The configuration of MRR.
struct mrr_config {
  /// The cut-off (MRR@k: a first relevant item below position k counts 0), or none (plain MRR:
  /// the whole list counts). When set, at least 1.
  std::optional<std::size_t> k = std::nullopt;
  /// What to do with a query without a relevant item.
  no_relevant_policy if_no_relevant = no_relevant_policy::skip;

  /// Throws `config_error` naming `mrr.k` when `k` is set to 0.
  void validate() const {
    if (k && *k < 1) {
      throw config_error("mrr.k", "an integer >= 1, or null for no cut-off");
    }
  }
  friend bool operator==(const mrr_config&, const mrr_config&) = default;
};

/// JSON: `{"k": 10 or null, "if_no_relevant": "skip"|"zero"}`.
inline void to_json(nlohmann::json& j, const mrr_config& c) {
  j = nlohmann::json{{"k", c.k ? nlohmann::json(*c.k) : nlohmann::json(nullptr)},
                     {"if_no_relevant",
                      data::detail::enum_name(c.if_no_relevant, detail::no_relevant_policy_names)}};
}
/// Reads `to_json`'s form (`"k": null` or no `k`: no cut-off); throws `config_error` naming the
/// field.
inline void from_json(const nlohmann::json& j, mrr_config& c) {
  data::detail::config_reader r(j, "mrr");
  mrr_config out;
  if (const nlohmann::json* k = r.find("k"); k != nullptr && !k->is_null()) {
    out.k = data::detail::config_reader<nlohmann::json>::to_integer(
        *k, r.field("k"), std::size_t{1}, std::numeric_limits<std::size_t>::max());
  }
  r.read_enum("if_no_relevant", out.if_no_relevant, detail::no_relevant_policy_names);
  r.finish();
  out.validate();
  c = out;
}

/// How GAUC weighs each user's AUC.
enum class gauc_weight : std::uint8_t {
  impressions, ///< by the user's number of items (Zhou et al. 2018, DIN, equation 1)
  uniform,     ///< every user counts the same
};

namespace detail {
inline constexpr std::array<std::pair<gauc_weight, std::string_view>, 2> gauc_weight_names = {
    {{gauc_weight::impressions, "impressions"}, {gauc_weight::uniform, "uniform"}}};
} // namespace detail

/// The configuration of GAUC.
struct gauc_config {
  /// The weight of a user's AUC.
  gauc_weight weight = gauc_weight::impressions;

  /// Nothing to check (every value of the enumeration is valid).
  void validate() const noexcept {}
  friend bool operator==(const gauc_config&, const gauc_config&) = default;
};

/// JSON: `{"weight": "impressions"|"uniform"}`.
inline void to_json(nlohmann::json& j, const gauc_config& c) {
  j = nlohmann::json{{"weight", data::detail::enum_name(c.weight, detail::gauc_weight_names)}};
}
/// Reads `to_json`'s form; throws `config_error` naming the field.
inline void from_json(const nlohmann::json& j, gauc_config& c) {
  data::detail::config_reader r(j, "gauc");
  gauc_config out;
  r.read_enum("weight", out.weight, detail::gauc_weight_names);
  r.finish();
  c = out;
}

namespace detail {

/// Throws `input_error` at `metric: field 'items[i].member'`.
[[noreturn]] inline void bad_ranked_item(std::string_view metric, std::size_t i,
                                         std::string_view member, std::string expected,
                                         float found) {
  std::string field = "items[";
  field += std::to_string(i);
  field += "].";
  field += member;
  bad_observation(metric, field, std::move(expected), found);
}

/// A run of equal scores in a list sorted by score, highest first: positions
/// `[first, first + size)`, of which `relevant` items have `relevance > 0`.
struct tie_group {
  std::size_t first = 0;
  std::size_t size = 0;
  std::uint64_t relevant = 0;
};

/// One query sorted by score (highest first) and cut into tie groups, in buffers reused from
/// query to query (no allocation per query once warm).
class sorted_query {
public:
  /// Checks `q`'s items (score not NaN; relevance finite and >= 0, and at most `max_relevance`),
  /// sorts them and finds the tie groups. O(n log n).
  /// @throws input_error naming `items[i].score`, `items[i].relevance` or `relevant_total`.
  void assign(std::string_view metric, const ranked_query& q,
              float max_relevance = std::numeric_limits<float>::max()) {
    std::uint64_t in_list = 0;
    for (std::size_t i = 0; i < q.items.size(); ++i) {
      const ranked_item& it = q.items[i];
      if (std::isnan(it.score)) {
        bad_ranked_item(metric, i, "score", "a number (not NaN)", it.score);
      }
      if (!(it.relevance >= 0.0f && it.relevance <= max_relevance)) {
        std::string expected = "a finite relevance >= 0";
        if (max_relevance < std::numeric_limits<float>::max()) {
          expected = "a relevance in [0, ";
          expected += number_text(max_relevance);
          expected += ']';
        }
        bad_ranked_item(metric, i, "relevance", std::move(expected), it.relevance);
      }
      in_list += it.relevance > 0.0f ? 1 : 0;
    }
    if (q.relevant_total != 0 && q.relevant_total < in_list) {
      std::string expected = "0, or at least the ";
      expected += std::to_string(in_list);
      expected += " relevant items in the list";
      throw input_error(input_position(std::string(metric), 0, 0, "relevant_total"),
                        std::move(expected), std::to_string(q.relevant_total));
    }
    relevant_in_list_ = in_list;
    relevant_total_ = q.relevant_total == 0 ? in_list : q.relevant_total;

    items_.assign(q.items.begin(), q.items.end());
    std::sort(items_.begin(), items_.end(),
              [](const ranked_item& a, const ranked_item& b) { return a.score > b.score; });
    groups_.clear();
    for (std::size_t i = 0; i < items_.size();) {
      tie_group g{i, 0, 0};
      while (i < items_.size() && items_[i].score == items_[g.first].score) {
        g.relevant += items_[i].relevance > 0.0f ? 1 : 0;
        ++i;
      }
      g.size = i - g.first;
      groups_.push_back(g);
    }
  }

  /// The items, highest score first (tied items in no meaningful order).
  [[nodiscard]] std::span<const ranked_item> items() const noexcept { return items_; }
  /// The tie groups, in rank order.
  [[nodiscard]] std::span<const tie_group> groups() const noexcept { return groups_; }
  /// Items with `relevance > 0` in the list.
  [[nodiscard]] std::uint64_t relevant_in_list() const noexcept { return relevant_in_list_; }
  /// `R`: `relevant_total`, or the relevant items in the list when it was 0.
  [[nodiscard]] std::uint64_t relevant_total() const noexcept { return relevant_total_; }

private:
  std::vector<ranked_item> items_;
  std::vector<tie_group> groups_;
  std::uint64_t relevant_in_list_ = 0;
  std::uint64_t relevant_total_ = 0;
};

/// Expected number of relevant items among the first `k` positions, tied items in random order:
/// a group cut by position k contributes its relevant count times the share of it inside.
[[nodiscard]] inline double expected_relevant_in_top(const sorted_query& q,
                                                     std::size_t k) noexcept {
  double hits = 0.0;
  for (const tie_group& g : q.groups()) {
    if (g.first >= k) {
      break;
    }
    const std::size_t inside = std::min(k - g.first, g.size);
    hits += inside == g.size ? static_cast<double>(g.relevant)
                             : static_cast<double>(g.relevant) * static_cast<double>(inside) /
                                   static_cast<double>(g.size);
  }
  return hits;
}

/// Probability that at least one relevant item is among the first `k`, tied items in random
/// order: 1 if a whole group above the cut has one; for the group cut at k (m of its g places
/// inside, r relevant), 1 - C(g - r, m) / C(g, m), the hypergeometric chance of drawing none.
[[nodiscard]] inline double hit_probability(const sorted_query& q, std::size_t k) noexcept {
  for (const tie_group& g : q.groups()) {
    if (g.first >= k) {
      return 0.0;
    }
    if (g.relevant == 0) {
      continue;
    }
    const std::size_t inside = std::min(k - g.first, g.size);
    if (inside == g.size) {
      return 1.0;
    }
    double none = 1.0;
    for (std::size_t i = 0; i < inside; ++i) {
      none *= static_cast<double>(g.size - g.relevant - i) / static_cast<double>(g.size - i);
      if (none == 0.0) {
        break;
      }
    }
    return 1.0 - none;
  }
  return 0.0;
}

/// Expected reciprocal rank of the first relevant item, 0 when it falls at position `k` or
/// below. In the first group with a relevant item (g items, r relevant, starting at position
/// s), the first relevant item is at s + j with probability
/// P(j) = [prod_{i<j} (g - r - i) / (g - i)] · r / (g - j) (McSherry & Najork 2008, §3).
[[nodiscard]] inline double expected_reciprocal_rank(const sorted_query& q,
                                                     std::size_t k) noexcept {
  for (const tie_group& g : q.groups()) {
    if (g.first >= k) {
      return 0.0;
    }
    if (g.relevant == 0) {
      continue;
    }
    const double r = static_cast<double>(g.relevant);
    double all_before_irrelevant = 1.0;
    double rr = 0.0;
    for (std::size_t j = 0; j + g.relevant <= g.size && g.first + j < k; ++j) {
      const double left = static_cast<double>(g.size - j);
      rr += all_before_irrelevant * (r / left) / static_cast<double>(g.first + j + 1);
      all_before_irrelevant *= (left - r) / left;
    }
    return rr;
  }
  return 0.0;
}

/// Expected `sum_{i<k} rel_i · P@(i+1)` (the numerator of AP@k, rel_i in {0, 1}), tied items in
/// random order. For position i in a group of g items with r relevant, after `before` relevant
/// items in earlier groups: E[rel_i · sum_{j<=i} rel_j] = (r/g)(before + 1) + (i - first) ·
/// r(r - 1) / (g(g - 1)), the chance that i and an earlier place of its group are both relevant.
[[nodiscard]] inline double expected_precision_sum(const sorted_query& q, std::size_t k) noexcept {
  double sum = 0.0;
  std::uint64_t before = 0;
  for (const tie_group& g : q.groups()) {
    if (g.first >= k) {
      break;
    }
    if (g.relevant != 0) {
      const double n = static_cast<double>(g.size);
      const double r = static_cast<double>(g.relevant);
      const double p = r / n;
      const double both = g.size > 1 ? r * (r - 1.0) / (n * (n - 1.0)) : 0.0;
      const std::size_t end = std::min(g.first + g.size, k);
      for (std::size_t i = g.first; i < end; ++i) {
        sum += (p * (static_cast<double>(before) + 1.0) + static_cast<double>(i - g.first) * both) /
               static_cast<double>(i + 1);
      }
    }
    before += g.relevant;
  }
  return sum;
}

/// The DCG discount of position i (0-based): 1 / log2(i + 2).
[[nodiscard]] inline double dcg_discount(std::size_t i) noexcept {
  return 1.0 / std::log2(static_cast<double>(i) + 2.0);
}

/// The gain of relevance `rel`.
[[nodiscard]] inline double dcg_gain(ndcg_gain gain, float rel) noexcept {
  return gain == ndcg_gain::linear ? static_cast<double>(rel)
                                   : std::exp2(static_cast<double>(rel)) - 1.0;
}

/// Tie-averaged DCG@k: each tie group contributes its mean gain times the sum of the discounts
/// of its positions above k (McSherry & Najork 2008; scikit-learn's `_tie_averaged_dcg`).
[[nodiscard]] inline double tie_averaged_dcg(const sorted_query& q, std::size_t k,
                                             ndcg_gain gain) noexcept {
  double dcg = 0.0;
  const auto items = q.items();
  for (const tie_group& g : q.groups()) {
    if (g.first >= k) {
      break;
    }
    double gains = 0.0;
    for (std::size_t i = g.first; i < g.first + g.size; ++i) {
      gains += dcg_gain(gain, items[i].relevance);
    }
    double discounts = 0.0;
    const std::size_t end = std::min(g.first + g.size, k);
    for (std::size_t i = g.first; i < end; ++i) {
      discounts += dcg_discount(i);
    }
    dcg += gains / static_cast<double>(g.size) * discounts;
  }
  return dcg;
}

/// Mean over queries, with the count of the queries left out.
class query_mean {
public:
  void add(double value) noexcept {
    sum_ += value;
    ++count_;
  }
  void add_skipped() noexcept { ++skipped_; }
  void merge(const query_mean& o) noexcept {
    sum_ += o.sum_;
    count_ += o.count_;
    skipped_ += o.skipped_;
  }
  [[nodiscard]] double result(std::string_view metric) const {
    if (count_ == 0) {
      if (skipped_ == 0) {
        throw undefined_metric(std::string(metric), "no queries");
      }
      std::string reason = "no query with a relevant item (";
      reason += std::to_string(skipped_);
      reason += " skipped without one)";
      throw undefined_metric(std::string(metric), reason);
    }
    return sum_ / static_cast<double>(count_);
  }
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t skipped() const noexcept { return skipped_; }

private:
  double sum_ = 0.0;
  std::uint64_t count_ = 0;
  std::uint64_t skipped_ = 0;
};

/// Applies `policy` to a query without a relevant item; returns whether the query had one.
inline bool has_relevant_or_apply(const sorted_query& q, no_relevant_policy policy,
                                  query_mean& mean) noexcept {
  if (q.relevant_total() != 0) {
    return true;
  }
  if (policy == no_relevant_policy::zero) {
    mean.add(0.0);
  } else {
    mean.add_skipped();
  }
  return false;
}

/// The shared body of the metrics that average one value per query (precision@k, recall@k,
/// hit rate@k, MAP@k, MRR, nDCG@k): it validates the configuration, sorts each query into tie
/// groups, applies `if_no_relevant`, and keeps the mean of the per-query values. CRTP:
/// `Derived` supplies `name` (used in every error) and a private
/// `double score(const sorted_query&)`, the value of one query that has a relevant item, and
/// may hide `max_relevance()`, the largest relevance `add` accepts; it befriends this class.
template <class Derived, class Config>
class per_query_metric : public metric_tag {
public:
  using observation_type = ranked_query;
  using result_type = double;
  using config = Config;

  /// @throws config_error when `cfg` is invalid.
  explicit per_query_metric(config cfg)
      : cfg_(cfg) {
    cfg_.validate();
  }

  /// Adds one query. @throws input_error for a NaN score, a negative or non-finite relevance
  /// (or one above the metric's largest accepted relevance), or a `relevant_total` below the
  /// relevant items in the list.
  void add(const ranked_query& q) {
    auto& self = static_cast<Derived&>(*this);
    sorted_.assign(Derived::name, q, self.max_relevance());
    if (has_relevant_or_apply(sorted_, cfg_.if_no_relevant, mean_)) {
      mean_.add(self.score(sorted_));
    }
  }
  /// Adds `other`'s queries. @throws config_error naming `<name>.config` when the
  /// configurations differ.
  void merge(const Derived& other) {
    const per_query_metric& o = other;
    if (!(cfg_ == o.cfg_)) {
      std::string field(Derived::name);
      field += ".config";
      check_same_config(false, field.c_str());
    }
    mean_.merge(o.mean_);
  }
  /// The mean of the per-query values over the queries counted, in [0, 1].
  /// @throws undefined_metric when no query was counted.
  [[nodiscard]] double result() const { return mean_.result(Derived::name); }
  /// Queries in the mean.
  [[nodiscard]] std::uint64_t count() const noexcept { return mean_.count(); }
  /// Queries without a relevant item left out (policy `skip`).
  [[nodiscard]] std::uint64_t skipped() const noexcept { return mean_.skipped(); }
  /// The configuration.
  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }

protected:
  /// The largest relevance `add` accepts; a derived metric may hide it.
  [[nodiscard]] float max_relevance() const noexcept { return std::numeric_limits<float>::max(); }

private:
  config cfg_;
  sorted_query sorted_;
  query_mean mean_;
};

} // namespace detail

// ---------------------------------------------------------------------------------------------
// precision@k, recall@k, hit rate@k
// ---------------------------------------------------------------------------------------------

/// Precision@k: the share of the first `k` positions that hold a relevant item,
/// `|relevant ∩ top k| / k`, averaged over queries (Manning, Raghavan & Schütze 2008,
/// "Introduction to Information Retrieval", §8.4). A list shorter than `k` is divided by `k`
/// all the same (the empty positions count as misses, as in trec_eval's P@k), so a system that
/// returns fewer items is not rewarded for it. Ties: the expected count over random orders of
/// the group cut at `k`. O(n log n) per query. `add`, `merge`, `result` (in [0, 1]), `count`,
/// `skipped` and `configuration` come from `detail::per_query_metric`.
class precision_at_k : public detail::per_query_metric<precision_at_k, ranking_config> {
public:
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "precision_at_k";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::precision_at_k;

  /// @throws config_error when `cfg` is invalid.
  explicit precision_at_k(config cfg = {})
      : per_query_metric(cfg) {}

private:
  friend per_query_metric;
  [[nodiscard]] double score(const detail::sorted_query& q) const noexcept {
    return detail::expected_relevant_in_top(q, configuration().k) /
           static_cast<double>(configuration().k);
  }
};

/// Recall@k: the share of the query's relevant items found in the first `k` positions,
/// `|relevant ∩ top k| / R`, `R` the relevant items that exist (`ranked_query::relevant_total`,
/// or those in the list), averaged over queries. The retrieval stage's metric: did the
/// candidates contain what the user wanted. Not capped: when `R > k`, the best possible value
/// is `k / R` (some libraries divide by `min(k, R)` instead; mlsd does not). A list shorter than
/// `k` is evaluated as it is. Ties: expected count, as precision@k. O(n log n) per query.
/// Members as `precision_at_k`.
class recall_at_k : public detail::per_query_metric<recall_at_k, ranking_config> {
public:
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "recall_at_k";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::recall_at_k;

  /// @throws config_error when `cfg` is invalid.
  explicit recall_at_k(config cfg = {})
      : per_query_metric(cfg) {}

private:
  friend per_query_metric;
  [[nodiscard]] double score(const detail::sorted_query& q) const noexcept {
    return detail::expected_relevant_in_top(q, configuration().k) /
           static_cast<double>(q.relevant_total());
  }
};

/// Hit rate@k: the share of queries with at least one relevant item in the first `k` positions
/// (a query scores 1 or 0; "HR@k" of the recommender literature, e.g. He et al. 2017, "Neural
/// collaborative filtering"). With one held-out item per user it equals recall@k. A list
/// shorter than `k` is evaluated as it is. Ties: when the group cut at `k` decides, the
/// probability that a random order puts a relevant item of it above the cut (a query can then
/// score between 0 and 1). O(n log n) per query. Members as `precision_at_k`; `result` is the
/// share of queries with a hit.
class hit_rate_at_k : public detail::per_query_metric<hit_rate_at_k, ranking_config> {
public:
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "hit_rate_at_k";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::hit_rate_at_k;

  /// @throws config_error when `cfg` is invalid.
  explicit hit_rate_at_k(config cfg = {})
      : per_query_metric(cfg) {}

private:
  friend per_query_metric;
  [[nodiscard]] double score(const detail::sorted_query& q) const noexcept {
    return detail::hit_probability(q, configuration().k);
  }
};

// ---------------------------------------------------------------------------------------------
// MAP@k and MRR
// ---------------------------------------------------------------------------------------------

/// MAP@k, the variant normalised by `min(k, R)`: per query
///
///     AP@k = (1 / min(k, R)) · sum_{i=1..k} P@i · rel_i,   rel_i in {0, 1},
///
/// averaged over queries; `R` as in recall@k. Dividing by `min(k, R)` makes a perfect top-k
/// score 1 whatever `R` is (Spark's `meanAveragePrecisionAt`, Kaggle's `apk`); dividing by `R`
/// alone (Microsoft Recommenders' `map_at_k` until their issues #1702 and #1990) is capped at
/// `k / R` like recall, so it is not an average precision "at k". A list shorter than `k` is
/// evaluated as it is (the sum stops at the list's end). Ties: the expected value over random
/// orders of tied items (McSherry & Najork 2008). O(n log n) per query. Members as
/// `precision_at_k`.
class map_at_k : public detail::per_query_metric<map_at_k, ranking_config> {
public:
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "map_at_k";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::map_at_k;

  /// @throws config_error when `cfg` is invalid.
  explicit map_at_k(config cfg = {})
      : per_query_metric(cfg) {}

private:
  friend per_query_metric;
  [[nodiscard]] double score(const detail::sorted_query& q) const noexcept {
    const std::size_t k = configuration().k;
    const auto denominator = std::min<std::uint64_t>(k, q.relevant_total());
    return detail::expected_precision_sum(q, k) / static_cast<double>(denominator);
  }
};

/// Mean reciprocal rank (Voorhees 1999, TREC-8 question answering): per query `1 / rank` of the
/// first relevant item (rank from 1), 0 when no relevant item is in the list or, for MRR@k, in
/// the first `k` positions; averaged over queries. Ties: the expected reciprocal rank over
/// random orders of the group holding the first relevant item. O(n log n) per query. Members
/// as `precision_at_k`.
class mrr : public detail::per_query_metric<mrr, mrr_config> {
public:
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "mrr";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::mrr;

  /// @throws config_error when `cfg` is invalid.
  explicit mrr(config cfg = {})
      : per_query_metric(cfg) {}

private:
  friend per_query_metric;
  [[nodiscard]] double score(const detail::sorted_query& q) const noexcept {
    return detail::expected_reciprocal_rank(
        q, configuration().k.value_or(std::numeric_limits<std::size_t>::max()));
  }
};

// ---------------------------------------------------------------------------------------------
// nDCG@k
// ---------------------------------------------------------------------------------------------

/// nDCG@k (Järvelin & Kekäläinen 2002, "Cumulated gain-based evaluation of IR techniques"):
///
///     DCG@k = sum_{i=1..k} gain(rel_i) / log2(i + 1),   nDCG@k = DCG@k / IDCG@k,
///
/// `gain(rel) = rel` (`ndcg_gain::linear`, scikit-learn's `ndcg_score`) or `2^rel - 1`
/// (`ndcg_gain::exponential`, Burges et al. 2005), equal for binary relevance. IDCG@k is the
/// DCG@k of the list's own relevances sorted best first, plus, when `relevant_total` exceeds
/// the relevant items in the list, one item of relevance 1 per missing relevant item (the only
/// grade an unretrieved item can be given; so a retriever that missed relevant items cannot
/// score 1). Ties: each group of equal scores contributes its mean gain times the sum of its
/// positions' discounts, the expected DCG over random orders (McSherry & Najork 2008); with
/// `if_no_relevant = zero` and `relevant_total` 0 the mean equals scikit-learn's
/// `ndcg_score(y_true, y_score, k=k)` (`ignore_ties=False`). A list shorter than `k` is
/// evaluated as it is. The ranking stage's metric. O(n log n) per query. Members as
/// `precision_at_k`; `add` also throws `input_error` for a relevance above
/// `max_exponential_relevance` with the exponential gain.
class ndcg_at_k : public detail::per_query_metric<ndcg_at_k, ndcg_config> {
public:
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "ndcg_at_k";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::ndcg_at_k;
  /// The largest relevance the exponential gain accepts (2^1023 - 1 is still a finite double).
  static constexpr float max_exponential_relevance = 1023.0f;

  /// @throws config_error when `cfg` is invalid.
  explicit ndcg_at_k(config cfg = {})
      : per_query_metric(cfg) {}

private:
  friend per_query_metric;
  [[nodiscard]] float max_relevance() const noexcept {
    return configuration().gain == ndcg_gain::exponential ? max_exponential_relevance
                                                          : std::numeric_limits<float>::max();
  }
  [[nodiscard]] double score(const detail::sorted_query& q) {
    const config& cfg = configuration();
    ideal_.clear();
    for (const ranked_item& it : q.items()) {
      ideal_.push_back(it.relevance);
    }
    ideal_.insert(ideal_.end(),
                  static_cast<std::size_t>(
                      std::min<std::uint64_t>(q.relevant_total() - q.relevant_in_list(), cfg.k)),
                  1.0f);
    const std::size_t top = std::min(cfg.k, ideal_.size());
    std::partial_sort(ideal_.begin(), ideal_.begin() + static_cast<std::ptrdiff_t>(top),
                      ideal_.end(), [](float a, float b) { return a > b; });
    double idcg = 0.0;
    for (std::size_t i = 0; i < top; ++i) {
      idcg += detail::dcg_gain(cfg.gain, ideal_[i]) * detail::dcg_discount(i);
    }
    return detail::tie_averaged_dcg(q, cfg.k, cfg.gain) / idcg;
  }

  std::vector<float> ideal_;
};

// ---------------------------------------------------------------------------------------------
// GAUC
// ---------------------------------------------------------------------------------------------

/// Group AUC (Zhou et al. 2018, "Deep interest network for click-through rate prediction",
/// KDD, equation 1): the exact ROC-AUC of each user's impressions (`roc_auc`, ties counting
/// 1/2), averaged with the user's number of impressions as weight:
///
///     GAUC = sum_u w_u · AUC_u / sum_u w_u,   w_u = #impressions_u (or 1: `gauc_weight::uniform`).
///
/// A global AUC mixes users: it rewards a model for ranking active users above inactive ones,
/// which never competes in a feed. GAUC measures the order within each user's list, the order
/// the ranking stage produces. Items are impressions: `relevance > 0` is a click (a positive),
/// anything else a negative, any non-NaN value (as `roc_auc`); `relevant_total` is ignored.
/// A user whose impressions are all of one class (or who has none) has no AUC: the user is
/// skipped and counted (`skipped()`, `skipped_impressions()`), as DIN does. O(n log n) per user.
class gauc : public metric_tag {
public:
  using observation_type = ranked_query;
  using result_type = double;
  using config = gauc_config;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "gauc";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::gauc;

  /// A GAUC accumulator weighing users as `cfg.weight` says.
  explicit gauc(config cfg = {})
      : cfg_(cfg) {
    cfg_.validate();
  }

  /// Adds one user's impressions. @throws input_error naming `items[i].score` or
  /// `items[i].relevance` for a NaN.
  void add(const ranked_query& q) {
    roc_auc user;
    for (std::size_t i = 0; i < q.items.size(); ++i) {
      const ranked_item& it = q.items[i];
      if (std::isnan(it.score)) {
        detail::bad_ranked_item(name, i, "score", "a number (not NaN)", it.score);
      }
      if (std::isnan(it.relevance)) {
        detail::bad_ranked_item(name, i, "relevance", "a number (not NaN)", it.relevance);
      }
      user.add({it.score, it.relevance});
    }
    if (user.positives() == 0 || user.negatives() == 0) {
      ++skipped_;
      skipped_impressions_ += q.items.size();
      return;
    }
    const double w =
        cfg_.weight == gauc_weight::impressions ? static_cast<double>(q.items.size()) : 1.0;
    weighted_sum_ += w * user.result();
    weight_ += w;
    ++count_;
    impressions_ += q.items.size();
  }
  /// Adds `other`'s users. @throws config_error when the configurations differ.
  void merge(const gauc& other) {
    detail::check_same_config(cfg_ == other.cfg_, "gauc.weight");
    weighted_sum_ += other.weighted_sum_;
    weight_ += other.weight_;
    count_ += other.count_;
    impressions_ += other.impressions_;
    skipped_ += other.skipped_;
    skipped_impressions_ += other.skipped_impressions_;
  }
  /// GAUC in [0, 1]. @throws undefined_metric when no user had both a positive and a negative.
  [[nodiscard]] double result() const {
    if (count_ == 0) {
      std::string reason = "no user with both a positive and a negative (";
      reason += std::to_string(skipped_);
      reason += " users skipped)";
      throw undefined_metric(std::string(name), reason);
    }
    return weighted_sum_ / weight_;
  }
  /// Users in the mean.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// Impressions of the users in the mean.
  [[nodiscard]] std::uint64_t impressions() const noexcept { return impressions_; }
  /// Users left out: one class only, or no impressions.
  [[nodiscard]] std::uint64_t skipped() const noexcept { return skipped_; }
  /// Impressions of the users left out.
  [[nodiscard]] std::uint64_t skipped_impressions() const noexcept { return skipped_impressions_; }
  /// The configuration.
  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }

private:
  config cfg_;
  double weighted_sum_ = 0.0;
  double weight_ = 0.0;
  std::uint64_t count_ = 0;
  std::uint64_t impressions_ = 0;
  std::uint64_t skipped_ = 0;
  std::uint64_t skipped_impressions_ = 0;
};

static_assert(metric_accumulator<precision_at_k>);
static_assert(metric_accumulator<recall_at_k>);
static_assert(metric_accumulator<hit_rate_at_k>);
static_assert(metric_accumulator<map_at_k>);
static_assert(metric_accumulator<mrr>);
static_assert(metric_accumulator<ndcg_at_k>);
static_assert(metric_accumulator<gauc>);

} // namespace evaluation
MLSD_END_NAMESPACE
