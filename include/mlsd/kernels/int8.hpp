/// @file
/// Int8 embedding tables with symmetric per-row scales: scoring, fused top-k and exact fp32
/// rescoring of the int8 shortlist.
///
/// Quantisation. Row i is stored as `t[i][j] = round(x[i][j] / s_i)` with `s_i = max_j |x[i][j]| /
/// 127`, so t is in [-127, 127] and the table takes a quarter of the fp32 bytes. The query is
/// quantised the same way (`q[j] = round(y[j] / s_q)`), so the score is an exact integer dot
/// product times two scales: `score_i = s_q * s_i * sum_j q[j] t[i][j]`.
///
/// VNNI. `vpdpbusd` multiplies unsigned by signed bytes, so the kernels feed it `q[j] + 128`
/// (in [1, 255]) and subtract `128 * sum_j t[i][j]`, precomputed per row at quantisation time.
/// The integer result is identical to the portable path's, which the tests check exactly.
#pragma once

#include <mlsd/core/matrix_view.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/kernels/arch.hpp>
#include <mlsd/kernels/dot.hpp>
#include <mlsd/kernels/top_k.hpp>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#if MLSD_KERNELS_VNNI
#include <immintrin.h>
#endif

MLSD_BEGIN_NAMESPACE
namespace kernels {

namespace detail {
/// Row stride of the int8 kernels: a whole number of 64-byte chunks, zero-padded, so that the
/// VNNI loop has no tail and every row starts on a cache line.
[[nodiscard]] constexpr std::size_t int8_stride(std::size_t d) noexcept {
  return (d + 63) / 64 * 64;
}

/// Symmetric scale of `n` values: max |x| / 127 (0 for an all-zero row).
[[nodiscard]] inline float int8_scale(const float* x, std::size_t n) noexcept {
  float m = 0.0f;
  for (std::size_t j = 0; j < n; ++j) {
    m = std::max(m, std::fabs(x[j]));
  }
  return m / 127.0f;
}

[[nodiscard]] inline std::int8_t quantize_int8(float x, float inverse_scale) noexcept {
  const float r = std::nearbyint(x * inverse_scale);
  return static_cast<std::int8_t>(std::clamp(r, -127.0f, 127.0f));
}

inline void check_finite(const float* x, std::size_t n, const char* what, std::size_t row) {
  for (std::size_t j = 0; j < n; ++j) {
    if (!std::isfinite(x[j])) {
      throw std::invalid_argument(std::string("mlsd::kernels: ") + what + " row " +
                                  std::to_string(row) + ", column " + std::to_string(j) +
                                  ": expected a finite value, got " + std::to_string(x[j]));
    }
  }
}
} // namespace detail

namespace reference {
/// Scalar reference of the int8 kernels' integer dot product `sum_j q[j] * t[j]`.
[[nodiscard]] constexpr std::int32_t int8_dot(const std::int8_t* t, const std::int8_t* q,
                                              std::size_t d) noexcept {
  std::int32_t sum = 0;
  for (std::size_t j = 0; j < d; ++j) {
    sum += std::int32_t{t[j]} * std::int32_t{q[j]};
  }
  return sum;
}
} // namespace reference

/// A query quantised for the int8 kernels. Keeps the fp32 query too, for rescoring.
class int8_query {
public:
  /// Quantises the `d` values at `query`. Throws `std::invalid_argument` on a NaN or infinite
  /// value.
  int8_query(const float* query, std::size_t d)
      : d_(d)
      , exact_(query, query + d)
      , signed_(detail::int8_stride(d), 0)
      , offset_(detail::int8_stride(d), 128) {
    detail::check_finite(query, d, "query", 0);
    scale_ = detail::int8_scale(query, d);
    const float inverse = scale_ > 0.0f ? 1.0f / scale_ : 0.0f;
    for (std::size_t j = 0; j < d; ++j) {
      signed_[j] = detail::quantize_int8(query[j], inverse);
      offset_[j] = static_cast<std::uint8_t>(signed_[j] + 128);
    }
  }

  [[nodiscard]] std::size_t dim() const noexcept { return d_; }
  [[nodiscard]] float scale() const noexcept { return scale_; }
  /// The fp32 query as given.
  [[nodiscard]] const float* exact() const noexcept { return exact_.data(); }
  /// `round(query / scale)`, zero-padded to the int8 row stride.
  [[nodiscard]] const std::int8_t* values() const noexcept { return signed_.data(); }
  /// `values() + 128`, the unsigned operand of `vpdpbusd`; padding holds 128 (a zero value).
  [[nodiscard]] const std::uint8_t* offset_values() const noexcept { return offset_.data(); }

private:
  std::size_t d_;
  float scale_ = 0.0f;
  std::vector<float> exact_;
  std::vector<std::int8_t> signed_;
  std::vector<std::uint8_t> offset_;
};

/// An embedding table quantised to int8 with one symmetric scale per row (a quarter of the fp32
/// bytes). Immutable after construction; safe to share between threads for reading.
class int8_table {
public:
  int8_table() = default;

  /// Quantises every row of `table`.
  /// @throws std::invalid_argument naming the row and column of a NaN or infinite value.
  /// @complexity O(n·d); allocates `n · ceil(d/64)·64` bytes plus 8 bytes per row.
  explicit int8_table(matrix_view<const float> table)
      : rows_(table.rows())
      , cols_(table.cols())
      , stride_(detail::int8_stride(table.cols()))
      , data_(rows_ * stride_, 0)
      , scales_(rows_)
      , sums_(rows_) {
    for (std::size_t i = 0; i < rows_; ++i) {
      const float* x = table.row(i).data();
      detail::check_finite(x, cols_, "table", i);
      const float scale = detail::int8_scale(x, cols_);
      const float inverse = scale > 0.0f ? 1.0f / scale : 0.0f;
      std::int8_t* t = data_.data() + i * stride_;
      std::int32_t sum = 0;
      for (std::size_t j = 0; j < cols_; ++j) {
        t[j] = detail::quantize_int8(x[j], inverse);
        sum += t[j];
      }
      scales_[i] = scale;
      sums_[i] = sum;
    }
  }

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::size_t cols() const noexcept { return cols_; }
  /// Bytes between rows: `cols()` rounded up to a multiple of 64, zero-padded.
  [[nodiscard]] std::size_t stride() const noexcept { return stride_; }
  [[nodiscard]] const std::int8_t* row(std::size_t i) const noexcept {
    return data_.data() + i * stride_;
  }
  [[nodiscard]] std::span<const float> scales() const noexcept { return scales_; }
  /// `sum_j t[i][j]` per row, used to undo the +128 offset of the VNNI query operand.
  [[nodiscard]] std::span<const std::int32_t> row_sums() const noexcept { return sums_; }
  /// Bytes held (table, scales, sums).
  [[nodiscard]] std::size_t memory_bytes() const noexcept {
    return data_.size() + scales_.size() * sizeof(float) + sums_.size() * sizeof(std::int32_t);
  }

private:
  std::size_t rows_ = 0, cols_ = 0, stride_ = 0;
  std::vector<std::int8_t, xsimd::aligned_allocator<std::int8_t, 64>> data_;
  std::vector<float> scales_;
  std::vector<std::int32_t> sums_;
};

/// Approximate score of row `i`: `s_q * s_i * sum_j q[j] t[i][j]`. Precondition: `i < rows()`
/// and `query.dim() == table.cols()`.
[[nodiscard]] inline float dot(const int8_table& table, std::size_t i,
                               const int8_query& query) noexcept {
  assert(i < table.rows() && query.dim() == table.cols());
  const std::int32_t integer = reference::int8_dot(table.row(i), query.values(), table.cols());
  return static_cast<float>(integer) * table.scales()[i] * query.scale();
}

namespace detail {
#if MLSD_KERNELS_VNNI
/// Sums each of 16 int32 vectors horizontally and returns the 16 sums in one vector, exactly, in
/// 45 instructions (about 3 per row): two rounds of in-lane unpack + add, two of cross-lane
/// shuffles + add.
[[nodiscard]] inline __m512i hadd16_epi32(const __m512i* v) noexcept {
  __m512i t[8], u[4];
  for (int i = 0; i < 8; ++i) {
    t[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]),
                            _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]));
  }
  for (int i = 0; i < 4; ++i) {
    u[i] = _mm512_add_epi32(_mm512_unpacklo_epi64(t[2 * i], t[2 * i + 1]),
                            _mm512_unpackhi_epi64(t[2 * i], t[2 * i + 1]));
  }
  // u[g] holds, in 128-bit lane L, the partial sums over lane L of rows 4g .. 4g+3.
  const __m512i x01 = _mm512_add_epi32(_mm512_shuffle_i32x4(u[0], u[1], 0x88),
                                       _mm512_shuffle_i32x4(u[0], u[1], 0xdd));
  const __m512i x23 = _mm512_add_epi32(_mm512_shuffle_i32x4(u[2], u[3], 0x88),
                                       _mm512_shuffle_i32x4(u[2], u[3], 0xdd));
  return _mm512_add_epi32(_mm512_shuffle_i32x4(x01, x23, 0x88),
                          _mm512_shuffle_i32x4(x01, x23, 0xdd));
}

/// Exact integer dot products `sum_j q[j] t[r][j]` of 16 consecutive rows, with VNNI.
[[nodiscard]] inline __m512i int8_lanes_vnni(const int8_table& table, std::size_t first,
                                             const int8_query& query) noexcept {
  const std::size_t stride = table.stride();
  const std::int8_t* rows = table.row(first);
  const char* ahead = reinterpret_cast<const char*>(rows) + 1024;
  for (std::size_t offset = 0; offset < 16 * stride; offset += 64) {
    _mm_prefetch(ahead + offset, _MM_HINT_T0);
  }
  __m512i acc[16];
  for (int r = 0; r < 16; ++r) {
    acc[r] = _mm512_setzero_si512();
  }
  for (std::size_t c = 0; c < stride; c += 64) {
    const __m512i q = _mm512_loadu_si512(query.offset_values() + c);
    for (int r = 0; r < 16; ++r) {
      acc[r] = _mm512_dpbusd_epi32(acc[r], q, _mm512_load_si512(rows + r * stride + c));
    }
  }
  // acc holds sum (q + 128) t; subtract 128 * sum t to get sum q t.
  const __m512i sums = _mm512_loadu_si512(table.row_sums().data() + first);
  return _mm512_sub_epi32(hadd16_epi32(acc), _mm512_slli_epi32(sums, 7));
}
#endif
} // namespace detail

/// Fused scan + top-k over an int8 table: the `k = out.size()` rows with the highest approximate
/// score, best first (ties: lower id), skipping rows where `excluded(id)` is true.
///
/// With AVX-512 VNNI (see `uses_vnni`) 16 rows are scored at once, one `vpdpbusd` per 64 bytes
/// of row; otherwise a portable integer loop gives the same integer scores.
/// @returns `min(k, eligible rows)`.
/// @complexity n·d byte multiply-adds; reads n·stride bytes (a quarter of the fp32 table) plus
///   8 bytes per row; no allocation.
template <class Filter = no_filter>
inline std::size_t top_k(const int8_table& table, const int8_query& query,
                         std::span<scored_id<float>> out, const Filter& excluded = {}) noexcept {
  assert(query.dim() == table.cols()); // the VNNI loop reads query.offset_values() per row stride
  detail::top_k_heap<float> heap(out.data(), out.size());
  if (out.empty()) {
    return 0;
  }
  const std::size_t n = table.rows();
  const float* scales = table.scales().data();
  std::size_t i = 0;
#if MLSD_KERNELS_VNNI
  using arch = xsimd::avx512bw;
  using batch = xsimd::batch<float, arch>;
  const batch query_scale(query.scale());
  for (; i + 16 <= n; i += 16) {
    const __m512i integer = detail::int8_lanes_vnni(table, i, query);
    const batch s =
        batch(_mm512_cvtepi32_ps(integer)) * batch::load_unaligned(scales + i) * query_scale;
    detail::offer_lanes<arch>(heap, s, i, excluded);
  }
#endif
  for (; i < n; ++i) {
    const float s =
        static_cast<float>(reference::int8_dot(table.row(i), query.values(), table.cols())) *
        scales[i] * query.scale();
    if (s >= heap.gate() && !excluded(i)) {
      heap.offer(s, i);
    }
  }
  return heap.finish();
}

namespace detail {
/// Replaces the int8 scores of `candidates` by exact fp32 scores, sorts them by `ranks_before` and
/// copies the best `out.size()` to `out`; returns how many were copied.
inline std::size_t rescore(matrix_view<const float> exact, const int8_query& query,
                           std::span<scored_id<float>> candidates,
                           std::span<scored_id<float>> out) noexcept {
  for (auto& c : candidates) {
    c.score = kernels::dot(exact.row(c.id).data(), query.exact(), exact.cols());
  }
  return copy_best(candidates, out);
}
} // namespace detail

/// Int8 retrieval with exact order: the int8 scan keeps a shortlist of `shortlist.size()`
/// candidates (e.g. 4k), each is rescored with the fp32 row of `exact`, and the best
/// `out.size()` by exact score are returned, best first. The result equals fp32 `top_k` whenever
/// the true top-k lie in the shortlist; bench/mips_bench reports the recall this gives.
/// @param exact the fp32 table `table` was quantised from (same rows and columns).
/// @param shortlist scratch space; its size is the shortlist length (at least `out.size()`).
/// @returns `min(out.size(), candidates found)`.
/// @complexity the int8 scan, plus `shortlist.size()` fp32 dot products (random row reads).
template <class Filter = no_filter>
inline std::size_t top_k_rescored(const int8_table& table, matrix_view<const float> exact,
                                  const int8_query& query, std::span<scored_id<float>> shortlist,
                                  std::span<scored_id<float>> out,
                                  const Filter& excluded = {}) noexcept {
  assert(exact.rows() == table.rows() && exact.cols() == table.cols());
  const std::size_t found = kernels::top_k(table, query, shortlist, excluded);
  return detail::rescore(exact, query, shortlist.first(found), out);
}

/// Convenience overload: quantises `query` (allocates; throws on a non-finite value).
template <class Filter = no_filter>
inline std::size_t top_k_rescored(const int8_table& table, matrix_view<const float> exact,
                                  const float* query, std::span<scored_id<float>> shortlist,
                                  std::span<scored_id<float>> out, const Filter& excluded = {}) {
  return top_k_rescored(table, exact, int8_query(query, exact.cols()), shortlist, out, excluded);
}

namespace detail {
#if MLSD_KERNELS_VNNI
/// Queries per block of the multi-query int8 kernel: 4 registers of 16 queries.
inline constexpr std::size_t int8_block_queries = 64;
/// Rows scored per step of the multi-query int8 kernel (16 accumulators, 4 query registers).
inline constexpr std::size_t int8_block_rows = 4;

/// Scores R consecutive rows against 64 queries held transposed: `qt[4c + g]` holds, for the 16
/// queries of group g, their offset values of columns 4c .. 4c+3 (4 bytes per 32-bit lane). Each
/// 4-byte piece of a row is broadcast and meets 16 queries in one `vpdpbusd`, so `acc[r][g]`
/// ends up with the 16 integer sums `sum_j (q[j] + 128) t[r][j]` directly, with no horizontal
/// reduction.
template <std::size_t R>
inline void int8_rows_transposed(const std::int8_t* rows, std::size_t stride, std::size_t pieces,
                                 const __m512i* qt, __m512i (&acc)[R][4]) noexcept {
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t g = 0; g < 4; ++g) {
      acc[r][g] = _mm512_setzero_si512();
    }
  }
  for (std::size_t c = 0; c < pieces; ++c) {
    __m512i q[4];
    for (std::size_t g = 0; g < 4; ++g) {
      q[g] = _mm512_load_si512(qt + 4 * c + g);
    }
    for (std::size_t r = 0; r < R; ++r) {
      std::int32_t piece;
      std::memcpy(&piece, rows + r * stride + 4 * c, sizeof piece);
      const __m512i t = _mm512_set1_epi32(piece);
      for (std::size_t g = 0; g < 4; ++g) {
        acc[r][g] = _mm512_dpbusd_epi32(acc[r][g], q[g], t);
      }
    }
  }
}

/// Top-k of the queries `[first, first + m)`, m <= 64, in one pass over the int8 table.
template <class Filter>
inline void int8_query_block(const int8_table& table, std::span<const int8_query> queries,
                             std::size_t first, std::size_t m, matrix_view<scored_id<float>> out,
                             std::span<std::size_t> counts, const Filter& excluded) noexcept {
  using arch = xsimd::avx512bw;
  using batch = xsimd::batch<float, arch>;
  constexpr std::size_t lanes = int8_block_queries, rows_per_step = int8_block_rows;
  const std::size_t n = table.rows(), stride = table.stride(), k = out.cols();
  const std::size_t pieces = (table.cols() + 3) / 4;
  alignas(64) __m512i qt[transposed_query_bytes / sizeof(__m512i)];
  alignas(64) float query_scales[lanes];
  alignas(64) float gates[lanes];
  for (std::size_t q = 0; q < lanes; ++q) {
    const bool real = q < m;
    query_scales[q] = real ? queries[first + q].scale() : 0.0f;
    // +inf for padding lanes: nothing passes their gate.
    gates[q] =
        real ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  }
  {
    auto* bytes = reinterpret_cast<std::uint8_t*>(qt);
    for (std::size_t c = 0; c < pieces; ++c) {
      for (std::size_t q = 0; q < lanes; ++q) {
        for (std::size_t b = 0; b < 4; ++b) {
          // Padding queries hold 128, the offset form of 0; columns past d are 128 too, and meet
          // the zero padding of the table rows.
          bytes[(4 * c + q / 16) * 64 + (q % 16) * 4 + b] =
              q < m ? queries[first + q].offset_values()[4 * c + b] : std::uint8_t{128};
        }
      }
    }
  }
  const float* scales = table.scales().data();
  const std::int32_t* sums = table.row_sums().data();
  const auto offer = [&](const batch& s, std::size_t g, std::size_t id) noexcept {
    if (!xsimd::any(s >= batch::load_aligned(gates + g * 16))) {
      return;
    }
    alignas(64) float lane[16];
    s.store_aligned(lane);
    for (std::size_t l = 0; l < 16; ++l) {
      const std::size_t q = g * 16 + l;
      if (lane[l] >= gates[q] && !excluded(first + q, id)) {
        top_k_heap<float> heap(out.row(first + q).data(), k, counts[first + q]);
        heap.offer(lane[l], id);
        counts[first + q] = heap.size();
        gates[q] = heap.gate();
      }
    }
  };
  // Same arithmetic as the one-query kernel, in the same order: float(sum q t) * s_i * s_q.
  const auto finish = [&](const __m512i(&acc)[4], std::size_t id) noexcept {
    const __m512i offset = _mm512_set1_epi32(sums[id] * 128);
    const batch row_scale(scales[id]);
    for (std::size_t g = 0; g < 4; ++g) {
      const batch integer(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[g], offset)));
      offer(integer * row_scale * batch::load_aligned(query_scales + g * 16), g, id);
    }
  };
  std::size_t i = 0;
  for (; i + rows_per_step <= n; i += rows_per_step) {
    const std::int8_t* rows = table.row(i);
    const char* ahead = reinterpret_cast<const char*>(rows) + 1024;
    for (std::size_t offset = 0; offset < rows_per_step * stride; offset += 64) {
      _mm_prefetch(ahead + offset, _MM_HINT_T0);
    }
    __m512i acc[rows_per_step][4];
    int8_rows_transposed<rows_per_step>(rows, stride, pieces, qt, acc);
    for (std::size_t r = 0; r < rows_per_step; ++r) {
      finish(acc[r], i + r);
    }
  }
  for (; i < n; ++i) {
    __m512i acc[1][4];
    int8_rows_transposed<1>(table.row(i), stride, pieces, qt, acc);
    finish(acc[0], i);
  }
}
#endif
} // namespace detail

/// `top_k` over an int8 table for a batch of `m` quantised queries, in one pass over the table
/// per block of 64 queries. Results are identical to `m` calls of the one-query `top_k` (the
/// same integer scores, scaled in the same order).
///
/// With VNNI the batch is organised like the fp32 `top_k_batch`: the 64 queries are transposed
/// once into a 4-byte-interleaved block on the stack, and each 4-byte piece of a table row is
/// broadcast and multiplied with 16 queries per `vpdpbusd` (64 byte multiply-adds), with no
/// horizontal reduction. Rows of more than 512 columns (the block would exceed 32 KiB), and
/// builds without VNNI, scan the table once per query.
/// @param queries each of `table.cols()` dimensions.
/// @param out `m × k`: row q receives query q's results, best first (ties: lower id).
/// @param counts `m` elements: `counts[q]` receives how many results row q holds.
/// @param excluded called as `excluded(q, id)`: true when row `id` must not be returned to query q.
/// @complexity m·n·d byte multiply-adds; with VNNI the table is read once per 64 queries; no
///   allocation (up to 32 KiB of stack).
template <class Filter = no_filter>
inline void top_k_batch(const int8_table& table, std::span<const int8_query> queries,
                        matrix_view<scored_id<float>> out, std::span<std::size_t> counts,
                        const Filter& excluded = {}) noexcept {
  const std::size_t m = queries.size();
  std::fill_n(counts.begin(), m, std::size_t{0});
  if (out.cols() == 0) {
    return;
  }
  for (const auto& query : queries) {
    assert(query.dim() == table.cols());
    (void)query;
  }
#if MLSD_KERNELS_VNNI
  if (table.cols() * detail::int8_block_queries <= detail::transposed_query_bytes) {
    for (std::size_t q = 0; q < m; q += detail::int8_block_queries) {
      detail::int8_query_block(table, queries, q, std::min(m - q, detail::int8_block_queries), out,
                               counts, excluded);
    }
    for (std::size_t q = 0; q < m; ++q) {
      counts[q] = detail::top_k_heap<float>(out.row(q).data(), out.cols(), counts[q]).finish();
    }
    return;
  }
#endif
  for (std::size_t q = 0; q < m; ++q) {
    const auto excluded_for_q = [&](std::size_t id) noexcept { return excluded(q, id); };
    counts[q] = kernels::top_k(table, queries[q], out.row(q), excluded_for_q);
  }
}

/// `top_k_rescored` for a batch of queries: one multi-query int8 scan (`top_k_batch`) keeps
/// `shortlist.cols()` candidates per query, which are rescored with the fp32 rows of `exact`.
/// @param shortlist `m × L` scratch, L >= k: the shortlist length.
/// @param out `m × k`; @param counts `m` elements, as in `top_k_batch`.
/// @complexity the int8 batch scan plus m·L fp32 dot products (random row reads); no allocation.
template <class Filter = no_filter>
inline void top_k_batch_rescored(const int8_table& table, matrix_view<const float> exact,
                                 std::span<const int8_query> queries,
                                 matrix_view<scored_id<float>> shortlist,
                                 matrix_view<scored_id<float>> out, std::span<std::size_t> counts,
                                 const Filter& excluded = {}) noexcept {
  assert(exact.rows() == table.rows() && exact.cols() == table.cols());
  assert(shortlist.rows() >= queries.size() && out.rows() >= queries.size());
  kernels::top_k_batch(table, queries, shortlist, counts, excluded);
  for (std::size_t q = 0; q < queries.size(); ++q) {
    counts[q] = detail::rescore(exact, queries[q], shortlist.row(q).first(counts[q]), out.row(q));
  }
}

} // namespace kernels
MLSD_END_NAMESPACE
