/// @file
/// Exact maximum-inner-product top-k: a fused scan that never materialises the n scores.
#pragma once

#include <mlsd/core/matrix_view.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/kernels/arch.hpp>
#include <mlsd/kernels/dot.hpp>
#include <mlsd/kernels/scores.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace kernels {

/// One retrieved item: its row index in the table and its score.
template <class T>
struct scored_id {
  T score;
  std::size_t id;
  friend constexpr bool operator==(const scored_id&, const scored_id&) = default;
};

/// Result order of every top-k kernel: higher score first, ties broken by the lower id.
template <class T>
[[nodiscard]] constexpr bool ranks_before(const scored_id<T>& a, const scored_id<T>& b) noexcept {
  return a.score > b.score || (a.score == b.score && a.id < b.id);
}

/// A filter for the top-k kernels: `f(id)` returns true when row `id` must not be returned (an
/// item the user has already seen, an unavailable item). It is called only for rows whose score
/// would enter the current top-k, so even an expensive filter costs little.
template <class F>
concept id_filter = requires(const F& f, std::size_t id) {
  { f(id) }
  noexcept->std::convertible_to<bool>;
};

/// The filter that excludes nothing; the kernels compile it away.
struct no_filter {
  constexpr bool operator()(std::size_t) const noexcept { return false; }
  constexpr bool operator()(std::size_t, std::size_t) const noexcept { return false; }
};

/// Excludes the ids of a sorted span (binary search, O(log m) per call). The span must stay alive
/// while the filter is used and be sorted ascending; duplicates are allowed.
class exclude_sorted_ids {
public:
  constexpr explicit exclude_sorted_ids(std::span<const std::size_t> sorted_ids) noexcept
      : ids_(sorted_ids) {}
  [[nodiscard]] bool operator()(std::size_t id) const noexcept {
    return std::binary_search(ids_.begin(), ids_.end(), id);
  }

private:
  std::span<const std::size_t> ids_;
};

static_assert(id_filter<no_filter>);
static_assert(id_filter<exclude_sorted_ids>);

namespace detail {

/// A bounded heap of the best `k` results seen so far, kept in caller-provided storage. The worst
/// kept result sits at the top, so admission is one comparison against `gate()`.
template <class T>
class top_k_heap {
public:
  constexpr top_k_heap(scored_id<T>* storage, std::size_t k, std::size_t size = 0) noexcept
      : data_(storage)
      , k_(k)
      , size_(size) {}

  /// Scores below the gate cannot enter; a NaN score compares false and never enters.
  [[nodiscard]] constexpr T gate() const noexcept {
    return size_ < k_ ? -std::numeric_limits<T>::infinity() : data_[0].score;
  }

  /// Offers a candidate that passed `score >= gate()` (which is how NaN scores are kept out).
  constexpr void offer(T score, std::size_t id) noexcept {
    if (size_ < k_) {
      data_[size_++] = {score, id};
      std::push_heap(data_, data_ + size_, ranks_before<T>);
    } else if (ranks_before<T>({score, id}, data_[0])) {
      std::pop_heap(data_, data_ + size_, ranks_before<T>);
      data_[size_ - 1] = {score, id};
      std::push_heap(data_, data_ + size_, ranks_before<T>);
    }
  }

  /// Sorts the kept results best first and returns how many there are.
  constexpr std::size_t finish() noexcept {
    std::sort_heap(data_, data_ + size_, ranks_before<T>);
    return size_;
  }

  [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }

private:
  scored_id<T>* data_;
  std::size_t k_;
  std::size_t size_;
};

/// Moves the best `min(candidates.size(), out.size())` of `candidates` (by `ranks_before`) to its
/// front, copies them to `out`, best first, and returns how many: the last step of every kernel
/// that gathers more candidates than it returns (rescoring, merging per-thread results).
template <class T>
inline std::size_t copy_best(std::span<scored_id<T>> candidates,
                             std::span<scored_id<T>> out) noexcept {
  const std::size_t count = std::min(candidates.size(), out.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(count),
                    candidates.end(), ranks_before<T>);
  std::copy_n(candidates.begin(), count, out.begin());
  return count;
}

/// Offers the W scores of rows `[first, first + W)` to the heap, after one vector comparison
/// against the gate: once the heap is full almost every block is rejected by that comparison.
template <class Arch, class T, class Filter>
inline void offer_lanes(top_k_heap<T>& heap, const xsimd::batch<T, Arch>& s, std::size_t first,
                        const Filter& excluded) noexcept {
  using batch = xsimd::batch<T, Arch>;
  if (!xsimd::any(s >= batch(heap.gate()))) {
    return;
  }
  alignas(Arch::alignment()) T lane[batch::size];
  s.store_aligned(lane);
  for (std::size_t r = 0; r < batch::size; ++r) {
    if (lane[r] >= heap.gate() && !excluded(first + r)) {
      heap.offer(lane[r], first + r);
    }
  }
}

/// Offers rows `[first, last)` of `table`, scored against `query`, to the heap: W rows at a time
/// through `score_lanes` and one vector gate per W rows, the remaining rows one by one. `first`
/// must be a multiple of W for the lanes to match a scan from row 0 (tiles are).
template <class Arch, bool Prefetch, class T, class Filter>
inline void scan_rows(matrix_view<const T> table, const T* query, std::size_t first,
                      std::size_t last, top_k_heap<T>& heap, const Filter& excluded) noexcept {
  constexpr std::size_t w = xsimd::batch<T, Arch>::size;
  const std::size_t d = table.cols(), stride = table.stride();
  std::size_t i = first;
  for (; i + w <= last; i += w) {
    offer_lanes<Arch>(heap,
                      score_lanes<Arch, Prefetch>(table.data() + i * stride, stride, query, d), i,
                      excluded);
  }
  for (; i < last; ++i) {
    const T s = kernels::dot<Arch>(table.data() + i * stride, query, d);
    if (s >= heap.gate() && !excluded(i)) {
      heap.offer(s, i);
    }
  }
}

} // namespace detail

namespace reference {
/// Scalar reference for `kernels::select_top_k`: drops excluded ids and NaN scores, sorts by
/// `ranks_before` and keeps the first `out.size()`.
template <class T, class Filter = no_filter>
std::size_t select_top_k(std::span<const T> scores, std::span<scored_id<T>> out,
                         const Filter& excluded = {}) {
  std::vector<scored_id<T>> all;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (scores[i] == scores[i] && !excluded(i)) {
      all.push_back({scores[i], i});
    }
  }
  std::sort(all.begin(), all.end(), ranks_before<T>);
  const std::size_t count = std::min(all.size(), out.size());
  std::copy_n(all.begin(), count, out.begin());
  return count;
}

/// Scalar reference for `kernels::top_k`: scores every row, then `reference::select_top_k`.
template <class T, class Filter = no_filter>
std::size_t top_k(matrix_view<const T> table, const T* query, std::span<scored_id<T>> out,
                  const Filter& excluded = {}) {
  std::vector<T> scores(table.rows());
  for (std::size_t i = 0; i < table.rows(); ++i) {
    scores[i] = reference::dot(table.row(i).data(), query, table.cols());
  }
  return reference::select_top_k(std::span<const T>(scores), out, excluded);
}
} // namespace reference

/// Exact maximum-inner-product search: the `k = out.size()` rows of `table` with the highest dot
/// product with `query`, best first (ties: lower id first), skipping rows for which
/// `excluded(id)` is true and rows whose score is NaN.
///
/// Scoring and selection are fused: rows are scored W at a time in registers and a block whose W
/// scores are all below the current k-th best is rejected with one vector comparison, so the n
/// scores are never written to memory and the scan runs at the speed of reading the table.
/// @param out storage for the results; its size is k (1 to ~1000 is the intended range; a
///   bounded heap of k entries is kept in it).
/// @returns how many results were written: `min(k, number of eligible rows)`, so k > n returns n.
/// @complexity n·d multiply-adds plus O(k log k + c log k) for the c rows that enter the heap
///   (c is about k·ln(n/k) for random order); no allocation; not thread-safe only in that
///   concurrent calls must use different `out` spans.
template <class Arch = default_arch, class T, class Filter = no_filter>
inline std::size_t top_k(matrix_view<const T> table, const T* query, std::span<scored_id<T>> out,
                         const Filter& excluded = {}) noexcept {
  detail::top_k_heap<T> heap(out.data(), out.size());
  if (out.empty()) {
    return 0;
  }
  detail::scan_rows<Arch, true>(table, query, 0, table.rows(), heap, excluded);
  return heap.finish();
}

/// The `k = out.size()` highest of `scores` (ids are positions), best first, with the contract of
/// `top_k` (ties by lower id, excluded ids and NaN skipped, k > n gives n). For scores that are
/// already in memory: a model's outputs, or `scores()` of a table kept for later stages. When the
/// scores come from a dot product with a table, `top_k` is faster: it never writes them.
/// @complexity n comparisons in W-wide blocks plus O(c log k) heap updates; no allocation.
template <class Arch = default_arch, class T, class Filter = no_filter>
inline std::size_t select_top_k(std::span<const T> scores, std::span<scored_id<T>> out,
                                const Filter& excluded = {}) noexcept {
  using batch = xsimd::batch<T, Arch>;
  detail::top_k_heap<T> heap(out.data(), out.size());
  if (out.empty()) {
    return 0;
  }
  const std::size_t n = scores.size();
  const std::size_t vector_end = n - n % batch::size;
  std::size_t i = 0;
  for (; i < vector_end; i += batch::size) {
    detail::offer_lanes<Arch>(heap, batch::load_unaligned(scores.data() + i), i, excluded);
  }
  for (; i < n; ++i) {
    if (scores[i] >= heap.gate() && !excluded(i)) {
      heap.offer(scores[i], i);
    }
  }
  return heap.finish();
}

namespace detail {

/// Register blocking of the multi-query kernel: R table rows × G groups of W queries are scored
/// per step, R·G accumulators plus G query registers (20 of AVX-512's 32 registers; 12 of the 16
/// of SSE/AVX2).
template <class T, class Arch>
inline constexpr std::size_t batch_rows = sizeof(xsimd::batch<T, Arch>) >= 64 ? 4 : 2;

/// Bytes of stack for the transposed queries of one block.
inline constexpr std::size_t transposed_query_bytes = 32768;

/// Scores R consecutive rows against G·W queries held transposed (`qt[j·G·W + q]` = element j of
/// query q): each table element is broadcast once and multiplied with W queries at a time, so
/// `acc[r][g]` ends up holding the W scores of row r directly, with no horizontal reduction.
template <class Arch, std::size_t G, std::size_t R, class T>
inline void score_rows_transposed(const T* rows, std::size_t stride, std::size_t d, const T* qt,
                                  xsimd::batch<T, Arch> (&acc)[R][G]) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t w = batch::size;
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t g = 0; g < G; ++g) {
      acc[r][g] = batch(T(0));
    }
  }
  for (std::size_t j = 0; j < d; ++j) {
    batch q[G];
    for (std::size_t g = 0; g < G; ++g) {
      q[g] = batch::load_aligned(qt + (j * G + g) * w);
    }
    for (std::size_t r = 0; r < R; ++r) {
      const batch x(rows[r * stride + j]);
      for (std::size_t g = 0; g < G; ++g) {
        acc[r][g] = xsimd::fma(x, q[g], acc[r][g]);
      }
    }
  }
}

/// Top-k of up to G·W queries, `[first, first + m)`, in one pass over the table.
template <class Arch, std::size_t G, class T, class Filter>
inline void top_k_query_block(matrix_view<const T> table, matrix_view<const T> queries,
                              std::size_t first, std::size_t m, matrix_view<scored_id<T>> out,
                              std::span<std::size_t> counts, const Filter& excluded) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t w = batch::size, lanes = G * w, rows_per_step = batch_rows<T, Arch>;
  const std::size_t n = table.rows(), d = table.cols(), stride = table.stride(), k = out.cols();
  alignas(Arch::alignment()) T qt[transposed_query_bytes / sizeof(T)];
  for (std::size_t j = 0; j < d; ++j) {
    for (std::size_t q = 0; q < lanes; ++q) {
      qt[j * lanes + q] = q < m ? queries(first + q, j) : T(0);
    }
  }
  // gates[q]: the score query q's next candidate must reach; +inf for padding lanes.
  alignas(Arch::alignment()) T gates[lanes];
  for (std::size_t q = 0; q < lanes; ++q) {
    gates[q] = q < m ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
  }
  const auto offer = [&](const batch& s, std::size_t g, std::size_t id) noexcept {
    if (!xsimd::any(s >= batch::load_aligned(gates + g * w))) {
      return;
    }
    alignas(Arch::alignment()) T lane[w];
    s.store_aligned(lane);
    for (std::size_t l = 0; l < w; ++l) {
      const std::size_t q = g * w + l;
      if (lane[l] >= gates[q] && !excluded(first + q, id)) {
        top_k_heap<T> heap(out.row(first + q).data(), k, counts[first + q]);
        heap.offer(lane[l], id);
        counts[first + q] = heap.size();
        gates[q] = heap.gate();
      }
    }
  };
  std::size_t i = 0;
  {
    batch acc[rows_per_step][G];
    for (; i + rows_per_step <= n; i += rows_per_step) {
      const T* rows = table.data() + i * stride;
      const char* ahead = reinterpret_cast<const char*>(rows) + 1024;
      for (std::size_t offset = 0; offset < rows_per_step * stride * sizeof(T); offset += 64) {
        __builtin_prefetch(ahead + offset, 0, 3);
      }
      score_rows_transposed<Arch, G>(rows, stride, d, qt, acc);
      for (std::size_t r = 0; r < rows_per_step; ++r) {
        for (std::size_t g = 0; g < G; ++g) {
          offer(acc[r][g], g, i + r);
        }
      }
    }
  }
  for (; i < n; ++i) {
    batch acc[1][G];
    score_rows_transposed<Arch, G>(table.data() + i * stride, stride, d, qt, acc);
    for (std::size_t g = 0; g < G; ++g) {
      offer(acc[0][g], g, i);
    }
  }
}

/// The multi-query path for rows too long for the transposed block: L1-sized tiles of the table,
/// each scored against every query with `score_lanes` before the next tile is read.
template <class Arch, class T, class Filter>
inline void top_k_batch_tiled(matrix_view<const T> table, matrix_view<const T> queries,
                              matrix_view<scored_id<T>> out, std::span<std::size_t> counts,
                              const Filter& excluded) noexcept {
  const std::size_t n = table.rows(), k = out.cols();
  const std::size_t tile = tile_rows<T, xsimd::batch<T, Arch>::size>(table.cols());
  for (std::size_t t0 = 0; t0 < n; t0 += tile) {
    const std::size_t t1 = std::min(n, t0 + tile);
    for (std::size_t q = 0; q < queries.rows(); ++q) {
      top_k_heap<T> heap(out.row(q).data(), k, counts[q]);
      const auto excluded_for_q = [&](std::size_t id) noexcept { return excluded(q, id); };
      scan_rows<Arch, false>(table, queries.row(q).data(), t0, t1, heap, excluded_for_q);
      counts[q] = heap.size();
    }
  }
}

} // namespace detail

/// `top_k` for a small batch of `m` queries in one pass over the table.
///
/// The batch is compute-bound (m·n·d multiply-adds against n·d elements read), so it is organised
/// like a matrix-multiply micro-kernel rather than as m dot products: up to 64 queries (AVX-512;
/// 32 under AVX2) are transposed once into a block on the stack, each table element is broadcast
/// and multiplied with W queries per instruction, and the W scores that result are compared with
/// the W queries' current k-th best in one vector comparison. There is no horizontal reduction,
/// and each table row is read from memory once per block of queries. Rows longer than the block
/// allows (d > 128 floats for 64 AVX-512 queries; up to 512 with smaller blocks) fall back to
/// L1-sized tiles scored per query.
/// @param out `m × k`: row q receives query q's results, best first (ties: lower id).
/// @param counts `m` elements: `counts[q]` receives how many results row q holds.
/// @param excluded called as `excluded(q, id)`: true when row `id` must not be returned to query q.
/// @complexity m·n·d multiply-adds; the table is read once per block of queries; no allocation
///   (up to 32 KiB of stack).
template <class Arch = default_arch, class T, class Filter = no_filter>
inline void top_k_batch(matrix_view<const T> table, matrix_view<const T> queries,
                        matrix_view<scored_id<T>> out, std::span<std::size_t> counts,
                        const Filter& excluded = {}) noexcept {
  constexpr std::size_t w = xsimd::batch<T, Arch>::size;
  const std::size_t m = queries.rows(), d = table.cols();
  std::fill_n(counts.begin(), m, std::size_t{0});
  if (out.cols() == 0) {
    return;
  }
  const auto fits = [&](std::size_t groups) {
    return d * groups * w * sizeof(T) <= detail::transposed_query_bytes;
  };
  if (fits(4)) {
    for (std::size_t q = 0; q < m; q += 4 * w) {
      detail::top_k_query_block<Arch, 4>(table, queries, q, std::min(m - q, 4 * w), out, counts,
                                         excluded);
    }
  } else if (fits(2)) {
    for (std::size_t q = 0; q < m; q += 2 * w) {
      detail::top_k_query_block<Arch, 2>(table, queries, q, std::min(m - q, 2 * w), out, counts,
                                         excluded);
    }
  } else if (fits(1)) {
    for (std::size_t q = 0; q < m; q += w) {
      detail::top_k_query_block<Arch, 1>(table, queries, q, std::min(m - q, w), out, counts,
                                         excluded);
    }
  } else {
    detail::top_k_batch_tiled<Arch>(table, queries, out, counts, excluded);
  }
  for (std::size_t q = 0; q < m; ++q) {
    counts[q] = detail::top_k_heap<T>(out.row(q).data(), out.cols(), counts[q]).finish();
  }
}

} // namespace kernels
MLSD_END_NAMESPACE
