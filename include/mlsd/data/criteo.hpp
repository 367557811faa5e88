/// @file
/// The Criteo display-advertising TSV format (the Kaggle Display Advertising Challenge, 2014, and
/// the Criteo 1TB click logs) as a streaming source of `criteo_record`s:
///
/// ```text
/// <label> TAB <I1> TAB ... TAB <I13> TAB <C1> TAB ... TAB <C26>
/// ```
///
/// ```cpp
/// mlsd::data::criteo_source train("train.txt");
/// std::vector<mlsd::data::criteo_record> records(1024);
/// while (const std::size_t n = train.read(records)) {
///   if (const auto i1 = records[0].integers[0]) { /* I1 is present: *i1 */ }
/// }
/// mlsd::data::criteo_config test_cfg;
/// test_cfg.has_label = false;                      // Kaggle's test.txt: 39 columns, no label
/// ```
///
/// - the label is `0` or `1`; with `has_label = false` the line has no label column;
/// - `I1`..`I13` are base-10 integers, possibly negative (`-1`, `-2` occur in `I2`);
/// - `C1`..`C26` are 32-bit hashes written in hexadecimal (1 to 8 digits, either case,
///   e.g. `68fd1e64`);
/// - an empty column is missing, which `criteo_record` keeps distinct from 0 (`std::optional`);
///   a line ending in a tab therefore has an empty (missing) last column;
/// - columns are separated by exactly one tab each: a line with another number of columns is an
///   error, and so is a space inside a column (no column of this format holds one);
/// - an empty line holds no record: it is skipped and counted (`blank_lines()`).
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/line_parsing.hpp>
#include <mlsd/data/ingest.hpp>
#include <mlsd/data/numbers.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

MLSD_BEGIN_NAMESPACE
namespace data {

/// One Criteo record. Every column is an `std::optional`: an empty column is `std::nullopt`,
/// never 0, so that a model or an encoder can treat "missing" as its own value.
struct criteo_record {
  /// Number of integer columns (`I1`..`I13`).
  static constexpr std::size_t integer_count = 13;
  /// Number of categorical columns (`C1`..`C26`).
  static constexpr std::size_t categorical_count = 26;

  /// The click label, 0 or 1; `std::nullopt` when the file has no label column.
  std::optional<float> label;
  /// `I1`..`I13` (counts; may be negative).
  std::array<std::optional<std::int64_t>, integer_count> integers;
  /// `C1`..`C26` (32-bit hashes of the categorical values).
  std::array<std::optional<std::uint32_t>, categorical_count> categories;

  /// Makes every column missing.
  void clear() noexcept {
    label.reset();
    integers.fill(std::nullopt);
    categories.fill(std::nullopt);
  }
  /// How many of the 39 feature columns are missing.
  [[nodiscard]] std::size_t missing_count() const noexcept {
    std::size_t n = 0;
    for (const auto& v : integers) {
      n += v ? 0 : 1;
    }
    for (const auto& v : categories) {
      n += v ? 0 : 1;
    }
    return n;
  }

  friend bool operator==(const criteo_record&, const criteo_record&) = default;
};

/// Settings of the Criteo parser. Validated on construction of a source or parser.
struct criteo_config {
  /// Whether each line starts with the label column (true for training files; false for the
  /// Kaggle challenge's `test.txt`).
  bool has_label = true;
  /// Bytes read from the file at a time (`line_reader`).
  std::size_t chunk_bytes = line_reader_config{}.chunk_bytes;
  /// A longer line is an error that stops the read (whatever the error policy): it bounds memory.
  std::size_t max_line_bytes = line_reader_config{}.max_line_bytes;

  /// Throws `config_error` naming the field when a value is out of range.
  void validate() const {
    detail::validate_reader_sizes("criteo_config", chunk_bytes, max_line_bytes);
  }
  /// The `line_reader` sizes.
  [[nodiscard]] line_reader_config reader() const { return {chunk_bytes, max_line_bytes}; }
  /// Columns per line: 40 with the label, 39 without.
  [[nodiscard]] std::size_t column_count() const noexcept {
    return criteo_record::integer_count + criteo_record::categorical_count + (has_label ? 1 : 0);
  }

  friend bool operator==(const criteo_config&, const criteo_config&) = default;
};

/// `criteo_config` as JSON: `{"has_label": true, "chunk_bytes": ..., "max_line_bytes": ...}`.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void to_json(Json& j, const criteo_config& c) {
  j = Json::object();
  j["has_label"] = c.has_label;
  detail::write_reader_sizes(j, c.chunk_bytes, c.max_line_bytes);
}

/// Reads a `criteo_config` from JSON; missing keys keep their defaults. Throws `config_error`
/// naming the key for an unknown key, a wrong type or an invalid value.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void from_json(const Json& j, criteo_config& c) {
  detail::config_reader r(j, "criteo_config");
  criteo_config out;
  r.read("has_label", out.has_label);
  detail::read_reader_sizes(r, out.chunk_bytes, out.max_line_bytes);
  r.finish();
  out.validate();
  c = out;
}

namespace detail {

/// `label`, `I1`..`I13`, `C1`..`C26`: the names the Criteo challenge gives its columns.
[[nodiscard]] inline std::string criteo_column_name(std::size_t feature_column) {
  if (feature_column < criteo_record::integer_count) {
    std::string name = "I";
    name += std::to_string(feature_column + 1);
    return name;
  }
  std::string name = "C";
  name += std::to_string(feature_column - criteo_record::integer_count + 1);
  return name;
}

/// 1 to 8 hexadecimal digits, either case, as a 32-bit value.
[[nodiscard]] inline bool parse_hex32(std::string_view text, std::uint32_t& out) noexcept {
  if (text.empty() || text.size() > 8) {
    return false;
  }
  std::uint32_t v = 0;
  for (const char c : text) {
    unsigned d = 0;
    if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      d = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return false;
    }
    v = (v << 4) | d;
  }
  out = v;
  return true;
}

} // namespace detail

/// The Criteo TSV line parser as a value. Used by `criteo_source`; `parse_criteo_line` wraps it
/// for one line. Stateless apart from its settings; `parse` is const.
class criteo_format {
public:
  using config = criteo_config;
  using record_type = criteo_record;

  explicit criteo_format(config cfg = {})
      : cfg_(cfg) {
    cfg_.validate();
  }

  [[nodiscard]] const config& settings() const noexcept { return cfg_; }

  /// Parses `text` (one line, without its line end) into `record` (cleared first). Returns
  /// `record`, `blank` (an empty line) or `bad` with `why` filled in.
  detail::line_status parse(std::string_view text, criteo_record& record,
                            detail::line_failure& why) const {
    record.clear();
    if (text.empty()) {
      return detail::line_status::blank;
    }
    const char* const line = text.data();
    const char* const end = line + text.size();
    const std::size_t columns = cfg_.column_count();
    const char* p = line;
    for (std::size_t c = 0; c < columns; ++c) {
      const void* tab =
          p == end ? nullptr : std::memchr(p, '\t', static_cast<std::size_t>(end - p));
      const char* stop = tab != nullptr ? static_cast<const char*>(tab) : end;
      const bool last = c + 1 == columns;
      if (!last && tab == nullptr) { // too few columns
        return wrong_column_count(line, end, end, why);
      }
      if (last && tab != nullptr) { // too many columns
        return wrong_column_count(line, end, stop + 1, why);
      }
      const std::string_view cell(p, static_cast<std::size_t>(stop - p));
      if (!parse_cell(line, cell, c, record, why)) {
        return detail::line_status::bad;
      }
      p = stop + 1;
    }
    return detail::line_status::record;
  }

private:
  bool parse_cell(const char* line, std::string_view cell, std::size_t c, criteo_record& record,
                  detail::line_failure& why) const {
    if (cfg_.has_label) {
      if (c == 0) {
        int label = 0;
        if (!parse_integer(cell, label) || (label != 0 && label != 1)) {
          return detail::fail(why, line, cell.data(), "a label 0 or 1", cell, "label");
        }
        record.label = static_cast<float>(label);
        return true;
      }
      --c;
    }
    if (cell.empty()) {
      return true; // missing
    }
    if (c < criteo_record::integer_count) {
      std::int64_t v = 0;
      if (!parse_integer(cell, v)) {
        return detail::fail(why, line, cell.data(), "an integer or an empty (missing) column", cell,
                            detail::criteo_column_name(c));
      }
      record.integers[c] = v;
      return true;
    }
    std::uint32_t h = 0;
    if (!detail::parse_hex32(cell, h)) {
      return detail::fail(why, line, cell.data(),
                          "a 32-bit hexadecimal hash (1 to 8 hex digits) or an empty (missing) "
                          "column",
                          cell, detail::criteo_column_name(c));
    }
    record.categories[c - criteo_record::integer_count] = h;
    return true;
  }

  detail::line_status wrong_column_count(const char* line, const char* end, const char* at,
                                         detail::line_failure& why) const {
    const std::size_t found =
        1 + static_cast<std::size_t>(std::count(line, end, '\t')); // error path only
    std::string expected = std::to_string(cfg_.column_count());
    expected += " tab-separated columns (";
    expected += cfg_.has_label ? "label, " : "";
    expected += "13 integer, 26 categorical)";
    std::string found_text = std::to_string(found);
    found_text += found == 1 ? " column" : " columns";
    (void)detail::fail(why, line, at, std::move(expected), found_text);
    return detail::line_status::bad;
  }

  config cfg_;
};

/// Parses one Criteo TSV line (without its line end) into `record`. Returns false for an empty
/// line (no record). Throws `input_error` naming `where.file`, `where.line`, the byte column and
/// the column name (`label`, `I1`..`I13`, `C1`..`C26`) of the offending value and what was
/// expected.
inline bool parse_criteo_line(std::string_view text, criteo_record& record,
                              const criteo_config& cfg = {}, const input_position& where = {}) {
  const criteo_format format(cfg);
  return detail::parse_one_line(format, text, record, where);
}

/// A Criteo TSV file (or text) as a `data::source` of `criteo_record`s, read in bounded memory.
/// `report()` counts accepted and skipped records. Not thread-safe.
class criteo_source : public detail::line_source<criteo_format> {
public:
  using detail::line_source<criteo_format>::line_source;
};

static_assert(source<criteo_source>);

} // namespace data
MLSD_END_NAMESPACE
