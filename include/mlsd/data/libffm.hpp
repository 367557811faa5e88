/// @file
/// libffm's text format (Juan, Zhuang, Chin and Lin, "Field-aware factorization machines for CTR
/// prediction", RecSys 2016) as a streaming source of `sparse_row`s with fields:
///
/// ```text
/// <label> <field>:<index>:<value> <field>:<index>:<value> ... [# comment]
/// ```
///
/// ```cpp
/// mlsd::data::libffm_source train("criteo.ffm");   // fields and indices counted from 0
/// std::vector<mlsd::sparse_row> rows(256);
/// while (const std::size_t n = train.read(rows)) { /* rows[i].fields[k], .indices[k], .values[k]
/// */ }
/// ```
///
/// The syntax is LIBSVM's (`libsvm.hpp`: blanks, label, values, `#` comments, blank lines) with a
/// field in front of each index. Fields and indices are counted from `index_base` (0, as libffm
/// writes them, by default) and stored counted from 0. Entries keep the file's order: field-aware
/// models read them per field, so they are neither sorted nor checked for repeats (libffm does
/// neither).
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/line_parsing.hpp>
#include <mlsd/data/ingest.hpp>

#include <nlohmann/json.hpp>

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

MLSD_BEGIN_NAMESPACE
namespace data {

/// Settings of the libffm parser. Validated on construction of a source or parser.
struct libffm_config {
  /// How the file counts fields and feature indices: 0 (libffm; the default) or 1.
  /// Rows always store them counted from 0.
  std::uint32_t index_base = 0;
  /// Bytes read from the file at a time (`line_reader`).
  std::size_t chunk_bytes = line_reader_config{}.chunk_bytes;
  /// A longer line is an error that stops the read (whatever the error policy): it bounds memory.
  std::size_t max_line_bytes = line_reader_config{}.max_line_bytes;

  /// Throws `config_error` naming the field when a value is out of range.
  void validate() const {
    if (index_base > 1) {
      throw config_error("libffm_config.index_base", "0 or 1");
    }
    detail::validate_reader_sizes("libffm_config", chunk_bytes, max_line_bytes);
  }
  /// The `line_reader` sizes.
  [[nodiscard]] line_reader_config reader() const { return {chunk_bytes, max_line_bytes}; }

  friend bool operator==(const libffm_config&, const libffm_config&) = default;
};

/// `libffm_config` as JSON: `{"index_base": 0, "chunk_bytes": ..., "max_line_bytes": ...}`.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void to_json(Json& j, const libffm_config& c) {
  j = Json::object();
  j["index_base"] = c.index_base;
  detail::write_reader_sizes(j, c.chunk_bytes, c.max_line_bytes);
}

/// Reads a `libffm_config` from JSON; missing keys keep their defaults. Throws `config_error`
/// naming the key for an unknown key, a wrong type or an invalid value.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void from_json(const Json& j, libffm_config& c) {
  detail::config_reader r(j, "libffm_config");
  libffm_config out;
  r.read("index_base", out.index_base);
  detail::read_reader_sizes(r, out.chunk_bytes, out.max_line_bytes);
  r.finish();
  out.validate();
  c = out;
}

/// The libffm line parser as a value (settings, no allocation beyond growing the row). Used by
/// `libffm_source`; `parse_libffm_line` wraps it for one line. Not thread-safe (one per thread).
class libffm_format {
public:
  using config = libffm_config;
  using record_type = sparse_row;

  explicit libffm_format(config cfg = {})
      : cfg_(cfg) {
    cfg_.validate();
  }

  [[nodiscard]] const config& settings() const noexcept { return cfg_; }

  /// Parses `text` (one line, without its line end) into `row` (cleared first). Returns `record`,
  /// `blank` (nothing but blanks or a comment) or `bad` with `why` filled in.
  detail::line_status parse(std::string_view text, sparse_row& row,
                            detail::line_failure& why) const {
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
    for (;;) {
      p = detail::skip_blanks(p, end);
      if (p == end || *p == '#') {
        return detail::line_status::record;
      }
      const char* const entry = p;
      std::uint32_t field = 0;
      std::uint32_t index = 0;
      float value = 0.0f;
      if (!detail::parse_index_colon(line, p, end, cfg_.index_base, field, why, "field",
                                     "field:index:value") ||
          !detail::parse_index_colon(line, p, end, cfg_.index_base, index, why, "feature index",
                                     "field:index:value")) {
        return detail::line_status::bad;
      }
      if (p == end || detail::is_blank(*p)) {
        (void)detail::fail(why, line, entry, "a value after the second ':'",
                           std::string_view(entry, static_cast<std::size_t>(p - entry)));
        return detail::line_status::bad;
      }
      if (!detail::parse_value(line, p, end, value, why, "feature value")) {
        return detail::line_status::bad;
      }
      row.push_back(field, index, value);
    }
  }

private:
  config cfg_;
};

/// Parses one libffm line (without its line end) into `row`. Returns false, with `row` empty, for
/// a line that holds no record (empty, blanks, or only a comment). Throws `input_error` naming
/// `where.file`, `where.line`, the byte column of the offending token and what was expected.
inline bool parse_libffm_line(std::string_view text, sparse_row& row, const libffm_config& cfg = {},
                              const input_position& where = {}) {
  const libffm_format format(cfg);
  return detail::parse_one_line(format, text, row, where);
}

/// A libffm file (or text) as a `data::source` of `sparse_row`s whose `fields` are filled, read in
/// bounded memory. `report()` counts accepted and skipped rows. Not thread-safe.
class libffm_source : public detail::line_source<libffm_format> {
public:
  using detail::line_source<libffm_format>::line_source;
};

static_assert(source<libffm_source>);

} // namespace data
MLSD_END_NAMESPACE
