/// @file
/// The LIBSVM / SVMlight / libFM text format as a streaming source of `sparse_row`s:
///
/// ```text
/// <label> <index>:<value> <index>:<value> ... [# comment]
/// ```
///
/// ```cpp
/// mlsd::data::libsvm_source train("a9a");                  // 1-based indices, fail on bad input
/// std::vector<mlsd::sparse_row> rows(256);
/// while (const std::size_t n = train.read(rows)) { /* rows[0..n) */ }
/// std::cout << train.report().summary() << '\n';
/// ```
///
/// Accepted syntax (docs/ingestion.md has the full table):
/// - fields are separated by one or more spaces or tabs; leading and trailing blanks are ignored;
/// - the label is any finite number (`+1`, `-1`, `0`, `1`, `3.5` for libFM regression);
/// - an index is a base-10 integer counted from `index_base` (1 for LIBSVM, 0 for libFM); rows
///   store indices counted from 0, so index `k` of a 1-based file is stored as `k - 1`;
/// - a value is a finite floating-point number (`1`, `-0.5`, `1e-3`); explicit zeros are kept;
/// - a field that starts with `#` starts a comment, to the end of the line (`3:1 # note` is a pair
///   and a comment; `3:1#note` is a bad value); a line that is empty, all blanks or only a comment
///   holds no record: it is skipped and counted (`blank_lines()`);
/// - indices out of order are sorted (values follow their index) and the row is counted
///   (`unsorted_rows()`); an index that appears twice in a row is an error.
///
/// Memory stays at one read chunk plus the longest line (`line_reader`), whatever the file's size;
/// reading rows into the same `sparse_row` objects allocates only while rows keep getting longer.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/line_parsing.hpp>
#include <mlsd/data/ingest.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

/// Settings of the LIBSVM / libFM parser. Validated on construction of a source or parser.
struct libsvm_config {
  /// How the file counts feature indices: 1 (LIBSVM, SVMlight; the default) or 0 (libFM).
  /// Rows always store indices counted from 0.
  std::uint32_t index_base = 1;
  /// Bytes read from the file at a time (`line_reader`).
  std::size_t chunk_bytes = line_reader_config{}.chunk_bytes;
  /// A longer line is a bad record (stepped over without being held: it bounds memory).
  std::size_t max_line_bytes = line_reader_config{}.max_line_bytes;
  /// Parse the common `index:plain-decimal` pair on the word-at-a-time fast path (exact: the
  /// same value as fast_float, tested on the path's whole domain). Off, every number goes through
  /// fast_float; the rows are identical either way. An ablation switch for `bench/parse_bench`.
  bool fast_paths = true;

  /// libFM's variant: the same syntax with indices counted from 0.
  [[nodiscard]] static libsvm_config libfm() {
    libsvm_config c;
    c.index_base = 0;
    return c;
  }
  /// Throws `config_error` naming the field when a value is out of range.
  void validate() const {
    if (index_base > 1) {
      throw config_error("libsvm_config.index_base", "0 or 1");
    }
    detail::validate_reader_sizes("libsvm_config", chunk_bytes, max_line_bytes);
  }
  /// The `line_reader` sizes.
  [[nodiscard]] line_reader_config reader() const { return {chunk_bytes, max_line_bytes}; }

  friend bool operator==(const libsvm_config&, const libsvm_config&) = default;
};

/// `libsvm_config` as JSON: `{"index_base": 1, "chunk_bytes": ..., "max_line_bytes": ...}`.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void to_json(Json& j, const libsvm_config& c) {
  j = Json::object();
  j["index_base"] = c.index_base;
  detail::write_reader_sizes(j, c.chunk_bytes, c.max_line_bytes);
  j["fast_paths"] = c.fast_paths;
}

/// Reads a `libsvm_config` from JSON; missing keys keep their defaults. Throws `config_error`
/// naming the key for an unknown key, a wrong type or an invalid value.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void from_json(const Json& j, libsvm_config& c) {
  detail::config_reader r(j, "libsvm_config");
  libsvm_config out;
  r.read("index_base", out.index_base);
  detail::read_reader_sizes(r, out.chunk_bytes, out.max_line_bytes);
  r.read("fast_paths", out.fast_paths);
  r.finish();
  out.validate();
  c = out;
}

/// The LIBSVM / libFM line parser as a value: keeps its settings and a scratch buffer, so that
/// parsing many lines allocates nothing once the rows are as long as the longest one. Used by
/// `libsvm_source`; `parse_libsvm_line` wraps it for one line. Not thread-safe (one per thread).
class libsvm_format {
public:
  using config = libsvm_config;
  using record_type = sparse_row;

  explicit libsvm_format(config cfg = {})
      : cfg_(cfg) {
    cfg_.validate();
  }

  [[nodiscard]] const config& settings() const noexcept { return cfg_; }
  /// Rows whose indices were out of order and were sorted, so far.
  [[nodiscard]] std::uint64_t unsorted_rows() const noexcept { return unsorted_rows_; }

  /// Parses `text` (one line, without its line end) into `row` (cleared first). Returns `record`,
  /// `blank` (nothing but blanks or a comment) or `bad` with `why` filled in.
  detail::line_status parse(std::string_view text, sparse_row& row, detail::line_failure& why) {
    row.clear();
    const char* const line = text.data();
    const char* const end = line + text.size();
    const char* p = detail::skip_blanks(line, end);
    if (p == end || *p == '#') {
      return detail::line_status::blank;
    }
    if (!detail::parse_label(line, p, end, row.label, why)) {
      return detail::line_status::bad;
    }
    bool unsorted = false;
    for (;;) {
      p = detail::skip_blanks(p, end);
      if (p == end || *p == '#') {
        break;
      }
      const char* const pair = p;
      std::uint32_t index = 0;
      float value = 0.0f;
      if (!(cfg_.fast_paths && (detail::parse_plain_pair(p, end, cfg_.index_base, index, value) ||
                                detail::parse_plain_tail(p, end, cfg_.index_base, index, value))) &&
          !parse_pair(line, p, end, index, value, why)) {
        return detail::line_status::bad;
      }
      if (!row.indices.empty() && index <= row.indices.back()) {
        if (index == row.indices.back()) {
          (void)detail::fail(why, line, pair, "each feature index at most once in a row",
                             std::string_view(pair, static_cast<std::size_t>(
                                                        detail::part_end(pair, end, ':') - pair)));
          return detail::line_status::bad;
        }
        unsorted = true;
      }
      row.push_back(index, value);
    }
    if (unsorted && !sort_row(text, end, row, why)) {
      return detail::line_status::bad;
    }
    return detail::line_status::record;
  }

private:
  // The general path for one `index:value` pair: any valid spelling, or the error.
  bool parse_pair(const char* line, const char*& p, const char* end, std::uint32_t& index,
                  float& value, detail::line_failure& why) const {
    const char* const pair = p;
    if (!detail::parse_index_colon(line, p, end, cfg_.index_base, index, why, "feature index",
                                   "index:value")) {
      return false;
    }
    if (p == end || detail::is_blank(*p)) {
      return detail::fail(why, line, pair, "a value after ':'",
                          std::string_view(pair, static_cast<std::size_t>(p - pair)));
    }
    return detail::parse_value(line, p, end, value, why, "feature value", cfg_.fast_paths);
  }

  // Sorts the entries by index (values follow), then looks for an index seen twice; the error
  // names the second occurrence in the line, found by scanning the (already valid) line again.
  bool sort_row(std::string_view text, const char* end, sparse_row& row,
                detail::line_failure& why) {
    const std::size_t n = row.nnz();
    order_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::uint32_t bits = 0;
      std::memcpy(&bits, &row.values[i], sizeof bits);
      order_[i] = (std::uint64_t{row.indices[i]} << 32) | bits;
    }
    std::sort(order_.begin(), order_.end());
    for (std::size_t i = 0; i < n; ++i) {
      row.indices[i] = static_cast<std::uint32_t>(order_[i] >> 32);
      const auto bits = static_cast<std::uint32_t>(order_[i]);
      std::memcpy(&row.values[i], &bits, sizeof bits);
    }
    for (std::size_t i = 1; i < n; ++i) {
      if (row.indices[i] == row.indices[i - 1]) {
        return locate_duplicate(text, end, row.indices[i], why);
      }
    }
    ++unsorted_rows_;
    return true;
  }

  bool locate_duplicate(std::string_view text, const char* end, std::uint32_t index,
                        detail::line_failure& why) const {
    const char* line = text.data();
    const char* p = detail::token_end(detail::skip_blanks(line, end), end); // past the label
    int seen = 0;
    for (;;) {
      p = detail::skip_blanks(p, end);
      if (p == end || *p == '#') { // not reached: the sorted row holds `index` twice
        return detail::fail(why, line, line, "each feature index at most once in a row", {});
      }
      const char* pair = p;
      const char* colon = detail::part_end(p, end, ':');
      std::uint64_t v = 0;
      (void)detail::scan_digits(p, colon, v);
      if (v - cfg_.index_base == index && ++seen == 2) {
        return detail::fail(why, line, pair, "each feature index at most once in a row",
                            std::string_view(pair, static_cast<std::size_t>(colon - pair)));
      }
      p = detail::token_end(p, end);
    }
  }

  config cfg_;
  std::vector<std::uint64_t> order_;
  std::uint64_t unsorted_rows_ = 0;
};

/// Parses one LIBSVM / libFM line (without its line end) into `row`, e.g. for text in memory or
/// a request body. Returns false, with `row` empty, for a line that holds no record (empty,
/// blanks, or only a comment). Throws `input_error` naming `where.file`, `where.line`, the byte
/// column of the offending token and what was expected. Allocates only to grow `row`.
inline bool parse_libsvm_line(std::string_view text, sparse_row& row, const libsvm_config& cfg = {},
                              const input_position& where = {}) {
  libsvm_format format(cfg);
  return detail::parse_one_line(format, text, row, where);
}

/// A LIBSVM / libFM file (or text) as a `data::source` of `sparse_row`s, read in bounded memory.
/// See the file comment for the accepted syntax; `report()` counts accepted and skipped rows.
/// Not thread-safe: one reader per source.
class libsvm_source : public detail::line_source<libsvm_format> {
public:
  using detail::line_source<libsvm_format>::line_source;

  /// Rows whose indices were out of order and were sorted, so far.
  [[nodiscard]] std::uint64_t unsorted_rows() const noexcept { return format().unsorted_rows(); }
};

static_assert(source<libsvm_source>);

} // namespace data
MLSD_END_NAMESPACE
