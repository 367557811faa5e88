/// @file
/// Beyond-accuracy metrics of recommendation lists: catalog coverage, intra-list diversity,
/// novelty and popularity bias (average recommendation popularity). Accuracy metrics
/// (ranking.hpp) reward a system that recommends the same hundred blockbusters to everyone;
/// these metrics show it (docs/ranking-metrics.md).
///
/// One observation is one recommended list: the item ids, best first, as a
/// `std::span<const std::size_t>` (the id type of `kernels::scored_id` and of the embedding
/// tables' rows). What a metric needs to know about the catalog (its size, the items'
/// embeddings, their popularity) is given to the constructor. Each metric is an
/// `evaluation::metric_accumulator`; `merge` requires both accumulators to describe the same
/// catalog.
///
/// ```cpp
/// namespace ev = mlsd::evaluation;
/// ev::catalog_coverage coverage({.catalog_size = n_items});
/// ev::intra_list_diversity diversity(item_embeddings, dimension);  // row-major, n_items × d
/// ev::novelty novelty(ev::item_popularity(interactions_per_item, n_users));
/// for (const std::vector<std::size_t>& list : recommendations) {
///   coverage.add(list);
///   diversity.add(list);
///   novelty.add(list);
/// }
/// ```
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/matrix_view.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/evaluation/metric.hpp>
#include <mlsd/requirements/requirements.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace evaluation {

/// One recommended list: item ids (row numbers of the catalog), best first.
using recommended_list = std::span<const std::size_t>;

namespace detail {

/// Throws `input_error` at `metric: field 'field'` with the found value as an integer.
[[noreturn]] inline void bad_list_item(std::string_view metric, std::size_t position,
                                       std::string expected, std::size_t found) {
  std::string field = "items[";
  field += std::to_string(position);
  field += ']';
  throw input_error(input_position(std::string(metric), 0, 0, std::move(field)),
                    std::move(expected), std::to_string(found));
}

/// Checks that `id < catalog_size`.
inline void check_item_id(std::string_view metric, std::size_t position, std::size_t id,
                          std::size_t catalog_size) {
  if (id >= catalog_size) {
    std::string expected = "an item id below the catalog size ";
    expected += std::to_string(catalog_size);
    bad_list_item(metric, position, std::move(expected), id);
  }
}

/// The mean over lists of a per-list value, counting the lists that had none.
class list_mean {
public:
  void add(double value) noexcept {
    sum_ += value;
    ++count_;
  }
  void add_skipped() noexcept { ++skipped_; }
  void merge(const list_mean& o) noexcept {
    sum_ += o.sum_;
    count_ += o.count_;
    skipped_ += o.skipped_;
  }
  /// @throws undefined_metric when no list was counted; `too_short` says which lists were not.
  [[nodiscard]] double result(std::string_view metric, std::string_view too_short) const {
    if (count_ == 0) {
      std::string reason = "no list ";
      reason += too_short;
      reason += " (";
      reason += std::to_string(skipped_);
      reason += " lists skipped)";
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

/// Copies a popularity table after checking each value: finite, in `[0, max]`. Throws
/// `input_error` at `metric: field 'popularity[i]'`.
[[nodiscard]] inline std::shared_ptr<const std::vector<double>>
checked_popularity(std::string_view metric, std::span<const double> popularity, double max,
                   const char* expected) {
  for (std::size_t i = 0; i < popularity.size(); ++i) {
    const double p = popularity[i];
    if (!(p >= 0.0 && p <= max)) {
      std::string field = "popularity[";
      field += std::to_string(i);
      field += ']';
      char buf[32];
      const auto r = std::to_chars(buf, buf + sizeof buf, p);
      throw input_error(input_position(std::string(metric), 0, 0, std::move(field)), expected,
                        std::string(buf, r.ptr));
    }
  }
  return std::make_shared<const std::vector<double>>(popularity.begin(), popularity.end());
}

/// Throws `config_error` naming `field` unless two accumulators of a merge share a catalog.
inline void check_same_catalog(bool same, const char* field) {
  if (!same) {
    throw config_error(field, "the same catalog in both accumulators of a merge");
  }
}

/// The shared body of the metrics that average, per list, one value per item read from a
/// popularity table (novelty, popularity bias): the table is checked and copied once (shared by
/// copies), an empty list is skipped and counted, and the per-list means are averaged. CRTP:
/// `Derived` supplies `name` (used in every error) and a private static
/// `double item_value(std::size_t position, std::size_t id, double popularity)`, which may throw
/// `input_error`; it befriends this class.
template <class Derived>
class popularity_list_metric : public metric_tag {
public:
  using observation_type = recommended_list;
  using result_type = double;

  /// Adds one list. @throws input_error naming `items[i]` for an id outside the table, or as
  /// the metric's `item_value` says (nothing of the list is added then).
  void add(const recommended_list& list) {
    if (list.empty()) {
      mean_.add_skipped();
      return;
    }
    const std::vector<double>& p = *popularity_;
    double sum = 0.0;
    for (std::size_t i = 0; i < list.size(); ++i) {
      check_item_id(Derived::name, i, list[i], p.size());
      sum += Derived::item_value(i, list[i], p[list[i]]);
    }
    mean_.add(sum / static_cast<double>(list.size()));
  }
  /// Adds `other`'s lists. @throws config_error naming `<name>.popularity` when the popularity
  /// tables differ.
  void merge(const Derived& other) {
    const popularity_list_metric& o = other;
    if (!(popularity_ == o.popularity_ || *popularity_ == *o.popularity_)) {
      std::string field(Derived::name);
      field += ".popularity";
      check_same_catalog(false, field.c_str());
    }
    mean_.merge(o.mean_);
  }
  /// The mean over the lists counted. @throws undefined_metric when no list had an item.
  [[nodiscard]] double result() const { return mean_.result(Derived::name, "with an item"); }
  /// Lists in the mean.
  [[nodiscard]] std::uint64_t count() const noexcept { return mean_.count(); }
  /// Empty lists, left out.
  [[nodiscard]] std::uint64_t skipped() const noexcept { return mean_.skipped(); }

protected:
  /// Checks `popularity` (each value in `[0, max]`, else `input_error` saying `expected`) and
  /// copies it.
  popularity_list_metric(std::span<const double> popularity, double max, const char* expected)
      : popularity_(checked_popularity(Derived::name, popularity, max, expected)) {}

private:
  std::shared_ptr<const std::vector<double>> popularity_;
  list_mean mean_;
};

} // namespace detail

/// `p_i = k_i / users`, the share of users who interacted with item i (Zhou et al. 2010), from
/// per-item interaction counts `k_i` (distinct users per item) and the number of users.
/// @throws std::invalid_argument when `users` is 0 or a count exceeds it.
[[nodiscard]] inline std::vector<double>
item_popularity(std::span<const std::uint64_t> interacting_users, std::uint64_t users) {
  if (users == 0) {
    throw std::invalid_argument("mlsd::evaluation::item_popularity: users must be at least 1");
  }
  std::vector<double> p;
  p.reserve(interacting_users.size());
  for (std::size_t i = 0; i < interacting_users.size(); ++i) {
    if (interacting_users[i] > users) {
      std::string what = "mlsd::evaluation::item_popularity: item ";
      what += std::to_string(i);
      what += " has ";
      what += std::to_string(interacting_users[i]);
      what += " interacting users, more than the ";
      what += std::to_string(users);
      what += " users";
      throw std::invalid_argument(what);
    }
    p.push_back(static_cast<double>(interacting_users[i]) / static_cast<double>(users));
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Catalog coverage
// ---------------------------------------------------------------------------------------------

/// The configuration of catalog coverage.
struct catalog_coverage_config {
  /// The number of items that could be recommended; ids run from 0 to `catalog_size - 1`.
  /// At least 1 (there is no useful default: 0 is rejected).
  std::size_t catalog_size = 0;

  /// Throws `config_error` naming `catalog_coverage.catalog_size` unless it is at least 1.
  void validate() const {
    if (catalog_size < 1) {
      throw config_error("catalog_coverage.catalog_size",
                         "an integer >= 1 (the number of items that could be recommended)");
    }
  }
  friend bool operator==(const catalog_coverage_config&, const catalog_coverage_config&) = default;
};

/// JSON: `{"catalog_size": n}`.
inline void to_json(nlohmann::json& j, const catalog_coverage_config& c) {
  j = nlohmann::json{{"catalog_size", c.catalog_size}};
}
/// Reads `to_json`'s form (`catalog_size` required; unknown keys are errors); throws
/// `config_error` naming the field.
inline void from_json(const nlohmann::json& j, catalog_coverage_config& c) {
  data::detail::config_reader r(j, "catalog_coverage");
  catalog_coverage_config out;
  r.require("catalog_size", out.catalog_size, std::size_t{1},
            std::numeric_limits<std::size_t>::max());
  r.finish();
  out.validate();
  c = out;
}

/// Catalog coverage (Herlocker et al. 2004, "Evaluating collaborative filtering recommender
/// systems", §4.3.1; Ge, Delgado-Battenfeld & Jannach 2010): the share of the catalog that
/// appears in at least one recommended list, `|∪_u L_u| / |I|`. A system that shows everyone
/// the same items covers little of the catalog however accurate it is.
///
/// A bitset of the catalog (`catalog_size / 8` bytes): `add` is O(list length), `merge` is
/// O(catalog size / 64). Empty lists count as lists. Undefined with no lists.
class catalog_coverage : public metric_tag {
public:
  using observation_type = recommended_list;
  using result_type = double;
  using config = catalog_coverage_config;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "catalog_coverage";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::catalog_coverage;

  /// @throws config_error when `cfg` is invalid.
  explicit catalog_coverage(config cfg)
      : cfg_(cfg) {
    cfg_.validate();
    seen_.assign((cfg_.catalog_size + 63) / 64, 0);
  }

  /// Adds one list. @throws input_error naming `items[i]` for an id outside the catalog
  /// (nothing of the list is added then).
  void add(const recommended_list& list) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      detail::check_item_id(name, i, list[i], cfg_.catalog_size);
    }
    for (const std::size_t id : list) {
      std::uint64_t& word = seen_[id / 64];
      const std::uint64_t bit = std::uint64_t{1} << (id % 64);
      distinct_ += (word & bit) == 0 ? 1 : 0;
      word |= bit;
    }
    recommendations_ += list.size();
    ++lists_;
  }
  /// Adds `other`'s lists. @throws config_error when the catalog sizes differ.
  void merge(const catalog_coverage& other) {
    detail::check_same_catalog(cfg_ == other.cfg_, "catalog_coverage.catalog_size");
    for (std::size_t w = 0; w < seen_.size(); ++w) {
      distinct_ += static_cast<std::uint64_t>(std::popcount(other.seen_[w] & ~seen_[w]));
      seen_[w] |= other.seen_[w];
    }
    recommendations_ += other.recommendations_;
    lists_ += other.lists_;
  }
  /// The covered share of the catalog, in [0, 1]. @throws undefined_metric with no lists.
  [[nodiscard]] double result() const {
    if (lists_ == 0) {
      throw undefined_metric(std::string(name), "no lists");
    }
    return static_cast<double>(distinct_) / static_cast<double>(cfg_.catalog_size);
  }
  /// Lists added.
  [[nodiscard]] std::uint64_t count() const noexcept { return lists_; }
  /// Distinct items recommended.
  [[nodiscard]] std::uint64_t distinct_items() const noexcept { return distinct_; }
  /// Recommendations (list entries, repeats included).
  [[nodiscard]] std::uint64_t recommendations() const noexcept { return recommendations_; }
  /// The configuration.
  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }

private:
  config cfg_;
  std::vector<std::uint64_t> seen_;
  std::uint64_t distinct_ = 0;
  std::uint64_t recommendations_ = 0;
  std::uint64_t lists_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Intra-list diversity
// ---------------------------------------------------------------------------------------------

/// Intra-list diversity (Smyth & McClave 2001, "Similarity vs. diversity", ICCBR; the complement
/// of Ziegler et al. 2005's intra-list similarity): per list of L >= 2 items, the mean cosine
/// distance over its pairs,
///
///     ILD(L) = 2 / (L (L - 1)) · sum_{i<j} (1 - cos(e_i, e_j)),
///
/// averaged over lists; `e_i` is item i's embedding. In [0, 2]: 0 for a list of identical (or
/// parallel) items, 1 for orthogonal ones. A list with fewer than 2 items has no pair: it is
/// skipped and counted (`skipped()`). An item repeated in a list is a pair at distance 0.
///
/// The embeddings are viewed, not copied (row-major, one row per item id, as the retrieval
/// kernels take them): they must outlive the accumulator and its copies. O(L² d) per list,
/// dot products and norms summed in double. Undefined when no list had 2 items.
class intra_list_diversity : public metric_tag {
public:
  using observation_type = recommended_list;
  using result_type = double;
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "intra_list_diversity";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::diversity;

  /// Views `embeddings` as `embeddings.size() / dimension` rows of `dimension` floats.
  /// @throws config_error naming `intra_list_diversity.dimension` when `dimension` is 0 or does
  /// not divide the table's size.
  intra_list_diversity(std::span<const float> embeddings, std::size_t dimension)
      : table_(embeddings.data(), check_dimension(embeddings.size(), dimension),
               dimension == 0 ? 1 : dimension) {}

  /// Views a table (rows may be padded: `stride >= cols`).
  /// @throws config_error naming `intra_list_diversity.dimension` when it has no columns.
  explicit intra_list_diversity(matrix_view<const float> embeddings)
      : table_(embeddings) {
    if (embeddings.cols() == 0) {
      throw config_error("intra_list_diversity.dimension", "an integer >= 1");
    }
  }

  /// Adds one list. @throws input_error naming `items[i]` for an id outside the table, or an
  /// item whose embedding is zero or not finite (its cosine is undefined).
  void add(const recommended_list& list) {
    if (list.size() < 2) {
      mean_.add_skipped();
      return;
    }
    norms_.clear();
    for (std::size_t i = 0; i < list.size(); ++i) {
      detail::check_item_id(name, i, list[i], table_.rows());
      const double norm = std::sqrt(dot(list[i], list[i]));
      if (!(norm > 0.0 && std::isfinite(norm))) {
        detail::bad_list_item(name, i,
                              "an item whose embedding is finite and not zero (its cosine "
                              "similarity is undefined otherwise)",
                              list[i]);
      }
      norms_.push_back(norm);
    }
    double distance = 0.0;
    for (std::size_t i = 0; i < list.size(); ++i) {
      for (std::size_t j = i + 1; j < list.size(); ++j) {
        const double cosine =
            std::clamp(dot(list[i], list[j]) / (norms_[i] * norms_[j]), -1.0, 1.0);
        distance += 1.0 - cosine;
      }
    }
    const double pairs =
        static_cast<double>(list.size()) * static_cast<double>(list.size() - 1) / 2.0;
    mean_.add(distance / pairs);
  }
  /// Adds `other`'s lists. @throws config_error when the two view different tables.
  void merge(const intra_list_diversity& other) {
    detail::check_same_catalog(
        table_.data() == other.table_.data() && table_.rows() == other.table_.rows() &&
            table_.cols() == other.table_.cols() && table_.stride() == other.table_.stride(),
        "intra_list_diversity.embeddings");
    mean_.merge(other.mean_);
  }
  /// Mean ILD over the lists counted, in [0, 2].
  /// @throws undefined_metric when no list had at least 2 items.
  [[nodiscard]] double result() const { return mean_.result(name, "with at least 2 items"); }
  /// Lists in the mean.
  [[nodiscard]] std::uint64_t count() const noexcept { return mean_.count(); }
  /// Lists with fewer than 2 items, left out.
  [[nodiscard]] std::uint64_t skipped() const noexcept { return mean_.skipped(); }

private:
  static std::size_t check_dimension(std::size_t size, std::size_t dimension) {
    if (dimension == 0 || size % dimension != 0) {
      std::string expected = "an integer >= 1 that divides the table's ";
      expected += std::to_string(size);
      expected += " floats";
      throw config_error("intra_list_diversity.dimension", expected);
    }
    return size / dimension;
  }
  [[nodiscard]] double dot(std::size_t a, std::size_t b) const noexcept {
    const auto x = table_.row(a);
    const auto y = table_.row(b);
    double s = 0.0;
    for (std::size_t c = 0; c < x.size(); ++c) {
      s += static_cast<double>(x[c]) * static_cast<double>(y[c]);
    }
    return s;
  }

  matrix_view<const float> table_;
  std::vector<double> norms_;
  detail::list_mean mean_;
};

// ---------------------------------------------------------------------------------------------
// Novelty and popularity bias
// ---------------------------------------------------------------------------------------------

/// Novelty as self-information (Zhou et al. 2010, "Solving the apparent diversity–accuracy
/// dilemma of recommender systems", PNAS; Vargas & Castells 2011, "Rank and relevance in novelty
/// and diversity metrics for recommender systems", RecSys): per list, the mean
/// `-log2 p_i` over its items, `p_i` the share of users who interacted with item i (see
/// `item_popularity`), averaged over lists:
///
///     novelty = (1 / |U|) sum_u (1 / |L_u|) sum_{i in L_u} -log2 p_i    (bits).
///
/// Higher means less popular, more surprising recommendations. An empty list is skipped and
/// counted. An item with `p_i = 0` (never seen in training) has infinite self-information:
/// recommending one throws `input_error`; smooth the counts (e.g. `(k_i + 1) / (users + 1)`)
/// if cold items are recommended on purpose. The table is copied once and shared by the
/// accumulator's copies. O(L) per list. Undefined when no list had an item. `add` (which also
/// throws `input_error` naming `items[i]` for an item of popularity 0), `merge`, `result` (mean
/// novelty in bits, `>= 0`), `count` and `skipped` come from `detail::popularity_list_metric`.
class novelty : public detail::popularity_list_metric<novelty> {
public:
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "novelty";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::novelty;

  /// `popularity[i]` is `p_i`, in [0, 1]. @throws input_error naming `popularity[i]` otherwise.
  explicit novelty(std::span<const double> popularity)
      : popularity_list_metric(popularity, 1.0, "a share of users in [0, 1]") {}

private:
  friend popularity_list_metric;
  [[nodiscard]] static double item_value(std::size_t position, std::size_t id, double p) {
    if (p == 0.0) {
      detail::bad_list_item(name, position,
                            "an item with popularity > 0 (the self-information of an item "
                            "nobody interacted with is infinite)",
                            id);
    }
    return -std::log2(p);
  }
};

/// Popularity bias as the average recommendation popularity, ARP (Abdollahpouri, Burke &
/// Mobasher 2019, "Managing popularity bias in recommender systems with personalized
/// re-ranking", FLAIRS): per list, the mean popularity `phi(i)` of its items, averaged over
/// lists,
///
///     ARP = (1 / |U|) sum_u (1 / |L_u|) sum_{i in L_u} phi(i),
///
/// `phi(i)` in the units given: interaction counts in training (the paper's definition) or
/// shares of users. Compare a model's ARP with the catalog's mean popularity, or with another
/// model's: higher means the model concentrates on popular items. An empty list is skipped and
/// counted. The table is copied once and shared by the accumulator's copies. O(L) per list.
/// Undefined when no list had an item. Members as `novelty`; `result` is the ARP, in the units
/// of the popularity table.
class popularity_bias : public detail::popularity_list_metric<popularity_bias> {
public:
  /// The metric's name in reports and errors.
  static constexpr std::string_view name = "popularity_bias";
  /// The requirement this accumulator measures.
  static constexpr offline_metric metric = offline_metric::popularity_bias;

  /// `popularity[i]` is `phi(i)`, finite and `>= 0`.
  /// @throws input_error naming `popularity[i]` otherwise.
  explicit popularity_bias(std::span<const double> popularity)
      : popularity_list_metric(popularity, std::numeric_limits<double>::max(),
                               "a finite popularity >= 0") {}

private:
  friend popularity_list_metric;
  [[nodiscard]] static double item_value(std::size_t, std::size_t, double phi) noexcept {
    return phi;
  }
};

static_assert(metric_accumulator<catalog_coverage>);
static_assert(metric_accumulator<intra_list_diversity>);
static_assert(metric_accumulator<novelty>);
static_assert(metric_accumulator<popularity_bias>);

} // namespace evaluation
MLSD_END_NAMESPACE
