/// @file
/// Batched scoring: one query, or a small batch of queries, against every row of an embedding
/// table.
#pragma once

#include <mlsd/core/matrix_view.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/kernels/arch.hpp>
#include <mlsd/kernels/dot.hpp>

#include <algorithm>
#include <cstddef>
#include <utility>

MLSD_BEGIN_NAMESPACE
namespace kernels {

namespace reference {
/// Scalar reference for `kernels::scores`: `out[i] = dot(table.row(i), query)`.
template <class T>
constexpr void scores(matrix_view<const T> table, const T* query, T* out) noexcept {
  for (std::size_t i = 0; i < table.rows(); ++i) {
    out[i] = reference::dot(table.row(i).data(), query, table.cols());
  }
}
} // namespace reference

namespace detail {

/// Scores `W = batch::size` consecutive rows against one query and returns the W scores as one
/// batch. The W rows are read in step, one column chunk of each at a time, so that one load of the
/// query chunk serves W multiply-adds (front to back within each row, so every row's sum is taken
/// in the same order as `dot`), and the W accumulators are reduced together by `xsimd::haddp`:
/// the horizontal reduction costs about one instruction per row instead of log2(W) shuffles each.
///
/// With `Prefetch`, before any arithmetic, the block's cache lines are requested into L1 1 KiB
/// ahead, and into L2 5 KiB ahead: the L1 requests are all in flight at once instead of queueing
/// behind the FMAs, and the L2 requests keep more lines coming than L1's few fill buffers allow.
/// Use it for scans that stream a table from memory, not for tiles already in L1. What each part
/// buys is measured against a plain streaming read in docs/benchmarks.md (`mips_bench`).
template <class Arch, bool Prefetch, class T>
[[nodiscard]] inline xsimd::batch<T, Arch> score_lanes(const T* rows, std::size_t stride,
                                                       const T* query, std::size_t d) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t w = batch::size;
  constexpr std::size_t line = 64, ahead = 1024, ahead_l2 = 5120;
  if constexpr (Prefetch) {
    const char* block = reinterpret_cast<const char*>(rows);
    const std::size_t bytes = w * stride * sizeof(T);
    for (std::size_t offset = 0; offset < bytes; offset += line) {
      __builtin_prefetch(block + ahead + offset, 0, 3); // prefetcht0
    }
    for (std::size_t offset = 0; offset < bytes; offset += line) {
      __builtin_prefetch(block + ahead_l2 + offset, 0, 1); // prefetcht2
    }
  }
  const std::size_t done = d - d % w;
  batch acc[w];
  // The index_sequence expansion unrolls over the W rows so that the accumulators stay in
  // registers whatever the optimisation level.
  [&]<std::size_t... R>(std::index_sequence<R...>) {
    ((acc[R] = batch(T(0))), ...);
    for (std::size_t j = 0; j < done; j += w) {
      const batch q = batch::load_unaligned(query + j);
      ((acc[R] = xsimd::fma(batch::load_unaligned(rows + R * stride + j), q, acc[R])), ...);
    }
  }
  (std::make_index_sequence<w>{});
  batch sums = detail::haddp(acc);
  if (done != d) {
    alignas(Arch::alignment()) T tail[w];
    for (std::size_t r = 0; r < w; ++r) {
      T t = 0;
      for (std::size_t j = done; j < d; ++j) {
        t += rows[r * stride + j] * query[j];
      }
      tail[r] = t;
    }
    sums += batch::load_aligned(tail);
  }
  return sums;
}

/// Rows per tile in the multi-query kernels: enough rows to amortise the loop overhead, few enough
/// that the tile stays in L1 (about 16 KiB) while every query of the batch is scored against it.
template <class T, std::size_t W>
[[nodiscard]] constexpr std::size_t tile_rows(std::size_t d) noexcept {
  const std::size_t bytes_per_row = std::max<std::size_t>(d, 1) * sizeof(T);
  const std::size_t rows = (16384 / bytes_per_row) / W * W;
  return std::max(rows, W);
}

} // namespace detail

/// Scores one query against every row of a row-major `n × d` table: `out[i] = dot(table.row(i),
/// query)` for `i < n`.
///
/// Rows are scored W at a time (W = SIMD width: 16 floats under AVX-512) with one shared query
/// load per column chunk. Results agree with `reference::scores` to rounding.
/// @param query `d = table.cols()` elements. @param out `n = table.rows()` elements.
/// @complexity n·d multiply-adds; the table is read once, sequentially.
template <class Arch = default_arch, class T>
inline void scores(matrix_view<const T> table, const T* query, T* out) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t w = batch::size;
  const std::size_t n = table.rows(), d = table.cols(), stride = table.stride();
  std::size_t i = 0;
  for (; i + w <= n; i += w) {
    detail::score_lanes<Arch, true>(table.data() + i * stride, stride, query, d)
        .store_unaligned(out + i);
  }
  for (; i < n; ++i) {
    out[i] = kernels::dot<Arch>(table.data() + i * stride, query, d);
  }
}

/// Scores a small batch of `m` queries against every row of an `n × d` table:
/// `out(q, i) = dot(queries.row(q), table.row(i))`.
///
/// The table is walked in L1-sized tiles and every query is scored against a tile before the next
/// one is loaded, so each table row is read from memory once per batch rather than once per
/// query. Meant for batches that fit in L1/L2 together with a tile (tens of queries).
/// @param queries `m × d`. @param out `m × n`, any row stride.
/// @complexity m·n·d multiply-adds; n·d elements read from memory.
template <class Arch = default_arch, class T>
inline void scores_batch(matrix_view<const T> table, matrix_view<const T> queries,
                         matrix_view<T> out) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t w = batch::size;
  const std::size_t n = table.rows(), d = table.cols(), stride = table.stride();
  const std::size_t tile = detail::tile_rows<T, w>(d);
  for (std::size_t t0 = 0; t0 < n; t0 += tile) {
    const std::size_t t1 = std::min(n, t0 + tile);
    for (std::size_t q = 0; q < queries.rows(); ++q) {
      const T* query = queries.row(q).data();
      T* row_out = out.row(q).data();
      std::size_t i = t0;
      for (; i + w <= t1; i += w) {
        detail::score_lanes<Arch, false>(table.data() + i * stride, stride, query, d)
            .store_unaligned(row_out + i);
      }
      for (; i < t1; ++i) {
        row_out[i] = kernels::dot<Arch>(table.data() + i * stride, query, d);
      }
    }
  }
}

} // namespace kernels
MLSD_END_NAMESPACE
