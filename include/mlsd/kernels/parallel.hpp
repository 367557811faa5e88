/// @file
/// Exact top-k over one table on several threads: the table's rows are split into contiguous
/// ranges, each scanned by the single-threaded kernel, and the per-range results merged.
///
/// Why: one core cannot stream memory as fast as the machine can. On the reference machine one
/// core reads about 11 GB/s and two read about 20 GB/s (bench/mips_bench, `floor` vs
/// `floor_2threads`), so a scan that must meet a latency budget on a large catalog splits the
/// table across cores. A service that is already busy on every core with other requests gains
/// nothing from it: use the single-threaded kernels there and parallelise across requests.
///
/// Results are identical, bit for bit, to the single-threaded kernels': ranges start at
/// multiples of 64 rows, so every row is scored by the same instructions as in one pass, and the
/// merge uses the same `ranks_before` order.
#pragma once

#include <mlsd/core/matrix_view.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/kernels/top_k.hpp>

#include <algorithm>
#include <cstddef>
#include <span>
#include <thread>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace kernels {

namespace detail {

/// Splits `n` rows into at most `threads` ranges whose starts are multiples of 64 rows, and
/// returns the range boundaries (`size() - 1` ranges).
[[nodiscard]] inline std::vector<std::size_t> split_rows(std::size_t n, std::size_t threads) {
  constexpr std::size_t granule = 64;
  const std::size_t granules = (n + granule - 1) / granule;
  const std::size_t parts = std::max<std::size_t>(1, std::min(threads, granules));
  std::vector<std::size_t> bounds;
  for (std::size_t p = 0; p < parts; ++p) {
    bounds.push_back(std::min(n, granules * p / parts * granule));
  }
  bounds.push_back(n);
  return bounds;
}

[[nodiscard]] inline std::size_t resolve_threads(std::size_t threads) noexcept {
  if (threads != 0) {
    return threads;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

/// Runs `work(part)` for each part, part 0 on the calling thread and the others on new threads.
template <class Work>
void run_parts(std::size_t parts, Work&& work) {
  std::vector<std::jthread> helpers;
  helpers.reserve(parts > 0 ? parts - 1 : 0);
  for (std::size_t p = 1; p < parts; ++p) {
    helpers.emplace_back([&work, p] { work(p); });
  }
  if (parts > 0) {
    work(0);
  }
}

} // namespace detail

/// `top_k` on `threads` threads (0: one per hardware thread); same contract and same results.
/// @throws std::system_error if a thread cannot be started; std::bad_alloc.
/// @complexity that of `top_k`, divided over the threads, plus O(threads · k log k) to merge and
///   the cost of starting `threads - 1` threads (tens of microseconds).
template <class Arch = default_arch, class T, class Filter = no_filter>
std::size_t top_k_parallel(matrix_view<const T> table, const T* query, std::span<scored_id<T>> out,
                           std::size_t threads, const Filter& excluded = {}) {
  const std::size_t k = out.size();
  const std::vector<std::size_t> bounds =
      detail::split_rows(table.rows(), detail::resolve_threads(threads));
  const std::size_t parts = bounds.size() - 1;
  std::vector<scored_id<T>> found(parts * k);
  std::vector<std::size_t> counts(parts, 0);
  detail::run_parts(parts, [&](std::size_t p) {
    const std::size_t first = bounds[p];
    const auto excluded_global = [&](std::size_t id) noexcept { return excluded(first + id); };
    const std::span<scored_id<T>> part(found.data() + p * k, k);
    counts[p] = kernels::top_k<Arch>(table.subrows(first, bounds[p + 1] - first), query, part,
                                     excluded_global);
    for (std::size_t i = 0; i < counts[p]; ++i) {
      part[i].id += first;
    }
  });
  std::vector<scored_id<T>> candidates;
  for (std::size_t p = 0; p < parts; ++p) {
    candidates.insert(candidates.end(), found.begin() + static_cast<std::ptrdiff_t>(p * k),
                      found.begin() + static_cast<std::ptrdiff_t>(p * k + counts[p]));
  }
  return detail::copy_best(std::span(candidates), out);
}

/// `top_k_batch` on `threads` threads (0: one per hardware thread); same contract and results.
/// Each thread runs the batch kernel over its own range of rows for all queries.
/// @throws std::system_error if a thread cannot be started; std::bad_alloc.
template <class Arch = default_arch, class T, class Filter = no_filter>
void top_k_batch_parallel(matrix_view<const T> table, matrix_view<const T> queries,
                          matrix_view<scored_id<T>> out, std::span<std::size_t> counts,
                          std::size_t threads, const Filter& excluded = {}) {
  const std::size_t m = queries.rows(), k = out.cols();
  const std::vector<std::size_t> bounds =
      detail::split_rows(table.rows(), detail::resolve_threads(threads));
  const std::size_t parts = bounds.size() - 1;
  std::vector<scored_id<T>> found(parts * m * k);
  std::vector<std::size_t> found_counts(parts * m, 0);
  detail::run_parts(parts, [&](std::size_t p) {
    const std::size_t first = bounds[p];
    const auto excluded_global = [&](std::size_t q, std::size_t id) noexcept {
      return excluded(q, first + id);
    };
    const matrix_view<scored_id<T>> part(found.data() + p * m * k, m, k);
    const std::span<std::size_t> part_counts(found_counts.data() + p * m, m);
    kernels::top_k_batch<Arch>(table.subrows(first, bounds[p + 1] - first), queries, part,
                               part_counts, excluded_global);
    for (std::size_t q = 0; q < m; ++q) {
      for (std::size_t i = 0; i < part_counts[q]; ++i) {
        part(q, i).id += first;
      }
    }
  });
  std::vector<scored_id<T>> candidates;
  for (std::size_t q = 0; q < m; ++q) {
    candidates.clear();
    for (std::size_t p = 0; p < parts; ++p) {
      const scored_id<T>* row = found.data() + (p * m + q) * k;
      candidates.insert(candidates.end(), row, row + found_counts[p * m + q]);
    }
    counts[q] = detail::copy_best(std::span(candidates), out.row(q));
  }
}

} // namespace kernels
MLSD_END_NAMESPACE
