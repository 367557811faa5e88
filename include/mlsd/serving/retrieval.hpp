/// @file
/// Retrieval stages over an embedding table: exact (fp32) and int8 retrievers, the two halves of a
/// score-then-select retriever, and truncation to the list that is shown.
///
/// Every stage here returns a view into its own scratch buffer (valid until its next call), so a
/// composed pipeline allocates nothing per request once warm. The table is viewed, not owned: it
/// must outlive the stage. Stages are cheap to copy (the view plus an empty or small buffer); give
/// each serving thread its own copy, because a call writes the stage's buffer (not thread-safe).
///
/// ```cpp
/// auto retrieve = mlsd::serving::exact_retriever(items, 1000);   // query -> 1000 candidates
/// auto show = mlsd::serving::truncate(10);                       // best 10 of them
/// auto serve = retrieve | show;
/// for (auto [score, id] : serve(query)) { ... }
/// ```
#pragma once

#include <mlsd/core/matrix_view.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/stage.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/kernels/int8.hpp>
#include <mlsd/kernels/scores.hpp>
#include <mlsd/kernels/top_k.hpp>
#include <mlsd/requirements/budget.hpp>

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace serving {

/// A query embedding: `d` floats.
using query_view = std::span<const float>;
/// Candidates, best first: (score, item id) pairs viewed in the producing stage's buffer.
using candidates = std::span<const kernels::scored_id<float>>;

namespace detail {
inline void check_query(std::size_t got, std::size_t expected, const char* stage) {
  if (got != expected) {
    throw std::invalid_argument(std::string("mlsd::serving::") + stage + ": the query has " +
                                std::to_string(got) + " dimensions, the table has " +
                                std::to_string(expected));
  }
}
inline std::size_t check_k(std::size_t k, const char* stage) {
  if (k == 0) {
    throw std::invalid_argument(std::string("mlsd::serving::") + stage + ": k must be at least 1");
  }
  return k;
}
} // namespace detail

/// Retriever: the `k` items of a fp32 table with the highest inner product with the query, exact,
/// through the fused scan of `kernels::top_k` (scores are never written to memory).
/// Complexity: n·d multiply-adds; runs at the speed of reading the table (docs/benchmarks.md).
class exact_retriever : public retriever_tag {
public:
  using input_type = query_view;
  using output_type = candidates;

  /// @throws std::invalid_argument if `k` is 0.
  exact_retriever(matrix_view<const float> items, std::size_t k)
      : items_(items)
      , results_(detail::check_k(k, "exact_retriever")) {}

  /// @throws std::invalid_argument if the query's size is not the table's dimension.
  output_type operator()(input_type query) {
    detail::check_query(query.size(), items_.cols(), "exact_retriever");
    return {results_.data(), kernels::top_k(items_, query.data(), std::span(results_))};
  }

  /// Per item: one fp32 row read and d multiply-adds.
  [[nodiscard]] cost_model cost() const noexcept {
    const double d = static_cast<double>(items_.cols());
    return {.bytes_per_item = 4 * d, .flops_per_item = 2 * d};
  }

  [[nodiscard]] std::size_t k() const noexcept { return results_.size(); }

private:
  matrix_view<const float> items_;
  std::vector<kernels::scored_id<float>> results_;
};

/// Retriever: the int8 scan of `kernels::top_k_rescored`. A shortlist of `shortlist` candidates
/// is found on the int8 table (a quarter of the fp32 bytes) and rescored exactly with the fp32
/// rows, so the returned order is exact whenever the true top-k are in the shortlist.
/// Complexity: n·d int8 multiply-adds plus `shortlist` fp32 dot products.
class int8_retriever : public retriever_tag {
public:
  using input_type = query_view;
  using output_type = candidates;

  /// `table` must be quantised from `exact`. Both must outlive the stage.
  /// @throws std::invalid_argument if `k` is 0, `shortlist < k`, or the tables' shapes differ.
  int8_retriever(const kernels::int8_table& table, matrix_view<const float> exact, std::size_t k,
                 std::size_t shortlist)
      : table_(&table)
      , exact_(exact)
      , shortlist_(shortlist)
      , results_(detail::check_k(k, "int8_retriever")) {
    if (shortlist < k) {
      throw std::invalid_argument("mlsd::serving::int8_retriever: the shortlist (" +
                                  std::to_string(shortlist) + ") is shorter than k (" +
                                  std::to_string(k) + ")");
    }
    if (table.rows() != exact.rows() || table.cols() != exact.cols()) {
      throw std::invalid_argument(
          "mlsd::serving::int8_retriever: the int8 table and the fp32 table differ in shape");
    }
  }

  /// @throws std::invalid_argument on a query of the wrong size or with a non-finite value.
  output_type operator()(input_type query) {
    detail::check_query(query.size(), exact_.cols(), "int8_retriever");
    const kernels::int8_query q(query.data(), query.size());
    return {results_.data(), kernels::top_k_rescored(*table_, exact_, q, std::span(shortlist_),
                                                     std::span(results_))};
  }

  /// Per item: one int8 row (padded to 64 bytes) plus its scale and row sum, d multiply-adds; per
  /// request: `shortlist` fp32 rows rescored.
  [[nodiscard]] cost_model cost() const noexcept {
    const double d = static_cast<double>(exact_.cols());
    const double s = static_cast<double>(shortlist_.size());
    return {.bytes_per_item = static_cast<double>(table_->stride()) + 8,
            .flops_per_item = 2 * d,
            .bytes_per_request = s * 4 * d,
            .flops_per_request = s * 2 * d};
  }

private:
  const kernels::int8_table* table_;
  matrix_view<const float> exact_;
  std::vector<kernels::scored_id<float>> shortlist_;
  std::vector<kernels::scored_id<float>> results_;
};

/// The first half of a score-then-select retriever: the score of every item (`kernels::scores`).
/// Use it when later stages need all scores; otherwise `exact_retriever` fuses both halves.
class score_catalog : public stage_tag {
public:
  using input_type = query_view;
  using output_type = std::span<const float>;

  explicit score_catalog(matrix_view<const float> items)
      : items_(items)
      , scores_(items.rows()) {}

  /// @throws std::invalid_argument if the query's size is not the table's dimension.
  output_type operator()(input_type query) {
    detail::check_query(query.size(), items_.cols(), "score_catalog");
    kernels::scores(items_, query.data(), scores_.data());
    return scores_;
  }

  /// Per item: one fp32 row read, one score written, d multiply-adds.
  [[nodiscard]] cost_model cost() const noexcept {
    const double d = static_cast<double>(items_.cols());
    return {.bytes_per_item = 4 * d + 4, .flops_per_item = 2 * d};
  }

private:
  matrix_view<const float> items_;
  std::vector<float> scores_;
};

/// The second half of a score-then-select retriever: the `k` best of a score array, best first
/// (`kernels::select_top_k`; ids are positions in the array).
class keep_top_k : public stage_tag {
public:
  using input_type = std::span<const float>;
  using output_type = candidates;

  /// @throws std::invalid_argument if `k` is 0.
  explicit keep_top_k(std::size_t k)
      : results_(detail::check_k(k, "keep_top_k")) {}

  output_type operator()(input_type scores) {
    return {results_.data(), kernels::select_top_k(scores, std::span(results_))};
  }

  /// Per item: one score read and compared.
  [[nodiscard]] cost_model cost() const noexcept {
    return {.bytes_per_item = 4, .flops_per_item = 1};
  }

private:
  std::vector<kernels::scored_id<float>> results_;
};

/// Re-ranker: keeps the first `n` candidates (the slots a page shows). Thread-safe (no state).
class truncate : public re_ranker_tag {
public:
  using input_type = candidates;
  using output_type = candidates;

  /// @throws std::invalid_argument if `n` is 0.
  explicit truncate(std::size_t n)
      : n_(detail::check_k(n, "truncate")) {}

  output_type operator()(input_type in) const noexcept {
    return in.first(in.size() < n_ ? in.size() : n_);
  }

  [[nodiscard]] cost_model cost() const noexcept { return {}; }
  [[nodiscard]] std::size_t size() const noexcept { return n_; }

private:
  std::size_t n_;
};

static_assert(retriever<exact_retriever> && costed_stage<exact_retriever>);
static_assert(retriever<int8_retriever> && costed_stage<int8_retriever>);
static_assert(stage<score_catalog> && costed_stage<score_catalog>);
static_assert(stage<keep_top_k> && costed_stage<keep_top_k>);
static_assert(composable<score_catalog, keep_top_k>);
static_assert(re_ranker<truncate> && costed_stage<truncate>);

} // namespace serving
MLSD_END_NAMESPACE
