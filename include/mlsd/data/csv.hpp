/// @file
/// A streaming CSV source (RFC 4180) that yields typed records: a header row whose columns are
/// selected by name, a schema of typed columns (int64, float64, bool, string, Unix timestamps),
/// any one-byte delimiter, and a quoting-off mode for `label<TAB>text` files whose text contains
/// quotes. Memory stays bounded whatever the file size: one read chunk, plus the longest record.
///
/// @code
/// using namespace mlsd::data;
/// csv_config cfg;
/// cfg.schema = record_schema({{"userId", column_type::int64},
///                             {"rating", column_type::float64},
///                             {"timestamp", column_type::unix_seconds}});
/// csv_source ratings("ratings.csv", cfg);              // columns picked from the header by name
/// std::vector<record> batch(1024);
/// while (const std::size_t n = ratings.read(batch)) { /* batch[0..n) */ }
/// @endcode
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/time.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/source_config.hpp>
#include <mlsd/data/ingest.hpp>
#include <mlsd/data/numbers.hpp>
#include <mlsd/data/record.hpp>
#include <mlsd/data/utf8.hpp>

#include <nlohmann/json_fwd.hpp>

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

/// How a `csv_source` reads its file. Validated on construction (`config_error` naming the field).
struct csv_config {
  /// The field separator: one byte, e.g. `,`, `\t`, `;`, `|`. Not `"` (when quoting), CR, LF or
  /// NUL.
  char delimiter = ',';
  /// RFC 4180 quoting: a field may be enclosed in `"`, holding delimiters, line breaks and doubled
  /// quotes `""`. When false, `"` is an ordinary byte and a record is exactly one line (for files
  /// such as the SMS Spam Collection, `label<TAB>text`, whose text contains unbalanced quotes).
  bool quoting = true;
  /// The first record names the columns. When false, `schema` is required and maps by position.
  bool has_header = true;
  /// The typed columns, selected from the header by name (any subset, any order). Empty: every
  /// header column, as an optional string column.
  record_schema schema;
  /// Check every string value with `check_utf8` (RFC 3629).
  bool validate_utf8 = true;
  /// The longest record accepted, in bytes (all its lines when a quoted field spans several).
  /// A longer one is bad input (failed or skipped as the error policy says).
  std::size_t max_record_bytes = std::size_t{1} << 20;
  /// The line reader's chunk and its limit on one physical line (a bad record, which skip mode
  /// counts and steps over).
  line_reader_config reader{};

  /// Throws `config_error` naming the first invalid field.
  void validate() const {
    if (delimiter == '\n' || delimiter == '\r' || delimiter == '\0') {
      throw config_error("csv.delimiter", "a byte other than CR, LF and NUL");
    }
    if (quoting && delimiter == '"') {
      throw config_error("csv.delimiter", "a byte other than '\"' when quoting is on");
    }
    if (!has_header && schema.empty()) {
      throw config_error("csv.schema", "at least one column when has_header is false");
    }
    detail::validate_source_limits("csv", max_record_bytes, reader);
  }
};

/// `csv_config` as JSON: `{"delimiter": ",", "quoting": true, "has_header": true, "schema": [...],
/// "validate_utf8": true, "max_record_bytes": 1048576, "chunk_bytes": ..., "max_line_bytes": ...}`.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void to_json(Json& j, const csv_config& c) {
  Json schema;
  to_json(schema, c.schema);
  j = Json{{"delimiter", std::string(1, c.delimiter)},
           {"quoting", c.quoting},
           {"has_header", c.has_header},
           {"schema", std::move(schema)},
           {"validate_utf8", c.validate_utf8}};
  detail::write_source_limits(j, c.max_record_bytes, c.reader);
}

/// Reads a `csv_config` from JSON; absent keys keep their defaults, unknown keys are errors. Throws
/// `config_error` naming the field for a wrong type, and whatever `validate()` throws.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void from_json(const Json& j, csv_config& c) {
  detail::config_reader r(j, "csv");
  csv_config out;
  if (const Json* delimiter = r.find("delimiter")) {
    if (!delimiter->is_string() || delimiter->template get_ref<const std::string&>().size() != 1) {
      throw config_error("csv.delimiter",
                         detail::expected_found("a string of one byte", *delimiter));
    }
    out.delimiter = delimiter->template get_ref<const std::string&>()[0];
  }
  r.read("quoting", out.quoting);
  r.read("has_header", out.has_header);
  r.read("validate_utf8", out.validate_utf8);
  detail::read_source_limits(r, out.max_record_bytes, out.reader);
  if (const Json* schema = r.find("schema")) {
    from_json(*schema, out.schema);
  }
  r.finish();
  out.validate();
  c = std::move(out);
}

namespace detail {

/// Parses the text of one field into `out` as column `c` says; returns nullptr on success, or
/// what was expected. An empty `text` is not handled here (the caller decides "missing").
[[nodiscard]] inline const char* parse_field(std::string_view text, const column& c, value& out) {
  switch (c.type) {
  case column_type::string:
    assign_string(out, text);
    return nullptr;
  case column_type::int64: {
    std::int64_t v = 0;
    if (!parse_integer(text, v)) {
      return "an int64 integer";
    }
    out = v;
    return nullptr;
  }
  case column_type::float64: {
    double v = 0;
    if (!parse_floating(text, v)) {
      return "a float64 number";
    }
    if (!c.allow_non_finite && !std::isfinite(v)) {
      return "a finite float64 number (NaN and infinities are not allowed in this column)";
    }
    out = v;
    return nullptr;
  }
  case column_type::boolean: {
    if (text == "true" || text == "1" || text == "True" || text == "TRUE") {
      out = true;
    } else if (text == "false" || text == "0" || text == "False" || text == "FALSE") {
      out = false;
    } else {
      return "a bool (true, false, 1 or 0)";
    }
    return nullptr;
  }
  case column_type::unix_seconds:
  case column_type::unix_millis: {
    const bool seconds = c.type == column_type::unix_seconds;
    const std::int64_t limit =
        std::numeric_limits<std::int64_t>::max() / (seconds ? 1000000 : 1000);
    std::int64_t v = 0;
    if (!parse_integer(text, v) || v > limit || v < -limit) {
      return seconds ? "an integer number of seconds since the Unix epoch (within +-292,000 years)"
                     : "an integer number of milliseconds since the Unix epoch (within "
                       "+-292,000 years)";
    }
    out = seconds ? event_time::from_seconds(v) : event_time::from_micros(v * 1000);
    return nullptr;
  }
  }
  return "a known column type";
}

/// One field of a split record: where its raw bytes are (offsets into the record, quotes
/// included) and its text (quotes removed, `""` undoubled).
struct csv_field {
  std::size_t raw_begin = 0;
  std::size_t raw_end = 0;
  std::string_view text;
  bool quoted = false;
};

/// Where a record could not be split: byte offset into the record and what was expected there.
struct csv_split_error {
  std::size_t offset = 0;
  const char* expected = "";
};

enum class csv_split_status { complete, open_quote, bad };

/// Splits `rec` into `fields`, writing undoubled quoted text into `scratch` (resized to
/// `rec.size()` first, so that views into it stay valid). RFC 4180 section 2, strictly: a quote
/// may only open a field, and a closing quote must be followed by a delimiter or the end.
/// `open_quote` means the record ends inside a quoted field (the caller joins the next line).
/// Complexity: linear, memchr-driven.
[[nodiscard]] inline csv_split_status csv_split(std::string_view rec, char delimiter, bool quoting,
                                                std::vector<csv_field>& fields,
                                                std::string& scratch, csv_split_error& error) {
  fields.clear();
  if (quoting && scratch.size() < rec.size()) {
    scratch.resize(rec.size());
  }
  const char* data = rec.data();
  const std::size_t n = rec.size();
  char* out = scratch.data();
  std::size_t i = 0;
  const auto find = [data, n](std::size_t from, char c) -> std::size_t {
    if (from >= n) {
      return n;
    }
    const void* p = std::memchr(data + from, c, n - from);
    return p == nullptr ? n : static_cast<std::size_t>(static_cast<const char*>(p) - data);
  };
  for (;;) {
    const std::size_t start = i;
    if (quoting && i < n && data[i] == '"') {
      char* text_begin = out;
      bool undoubled = false;
      std::size_t segment = start + 1;
      std::size_t k = 0;
      for (;;) {
        k = find(segment, '"');
        if (k == n) {
          error = {start, "a closing quote"};
          return csv_split_status::open_quote;
        }
        if (k + 1 < n && data[k + 1] == '"') {
          undoubled = true;
          std::memcpy(out, data + segment, k + 1 - segment);
          out += k + 1 - segment;
          segment = k + 2;
          continue;
        }
        break;
      }
      std::string_view text;
      if (undoubled) {
        std::memcpy(out, data + segment, k - segment);
        out += k - segment;
        text = std::string_view(text_begin, static_cast<std::size_t>(out - text_begin));
      } else {
        text = rec.substr(start + 1, k - start - 1);
      }
      i = k + 1;
      fields.push_back({start, i, text, true});
      if (i == n) {
        return csv_split_status::complete;
      }
      if (data[i] != delimiter) {
        error = {i, "a delimiter or the end of the record after a closing quote"};
        return csv_split_status::bad;
      }
      ++i;
      continue;
    }
    const std::size_t stop = find(i, delimiter);
    if (quoting) {
      if (const std::size_t q = find(i, '"'); q < stop) {
        error = {q, "no quote inside an unquoted field (RFC 4180: quote the whole field and "
                    "double its quotes)"};
        return csv_split_status::bad;
      }
    }
    fields.push_back({start, stop, rec.substr(start, stop - start), false});
    if (stop == n) {
      return csv_split_status::complete;
    }
    i = stop + 1;
  }
}

} // namespace detail

/// A CSV file (or text in memory) as a stream of typed `record`s; models `data::source`.
///
/// Reading: RFC 4180 (Shafranovich 2005) with `\n` or `\r\n` line ends and an optional UTF-8 BOM;
/// a quoted field may span lines (stored with `\n` line breaks) up to `max_record_bytes`; fields
/// are not trimmed. A missing value is an unquoted empty field; for string columns a quoted empty
/// field `""` is the empty string (as PostgreSQL's `COPY ... CSV` reads them); for the other types
/// any empty field is missing. Errors name file, line, byte column, field and what was expected;
/// bad records are failed or skipped by the `error_policy`, while a bad header (missing, duplicate
/// or absent selected column) always throws, from the constructor. An empty file is an error when
/// a header is expected and zero records otherwise.
///
/// Complexity: linear in the input; no allocation per field once the records handed to `read`
/// have grown their strings. Not thread-safe (one reader per source).
class csv_source : public data_source_tag {
public:
  using record_type = record;
  using config = csv_config;

  /// Opens `path` and reads its header. Throws `config_error` for a bad `cfg` and `input_error`
  /// when the file cannot be opened or its header does not fit `cfg.schema`.
  explicit csv_source(const std::filesystem::path& path, config cfg = {}, error_policy policy = {})
      : reader_(path, checked(cfg).reader)
      , sink_(std::move(policy))
      , cfg_(std::move(cfg)) {
    start();
  }

  /// Reads CSV text held in memory; `name` stands for the file name in errors.
  [[nodiscard]] static csv_source from_string(std::string text, config cfg = {},
                                              error_policy policy = {},
                                              std::string name = "<memory>") {
    line_reader reader =
        line_reader::from_string(std::move(text), std::move(name), checked(cfg).reader);
    return csv_source(std::move(reader), std::move(cfg), std::move(policy));
  }

  /// Fills a prefix of `out` with the next records and returns how many (0 at the end).
  std::size_t read(std::span<record> out) { return detail::read_records(*this, out); }

  /// Reads the next record into `r` (reusing its memory); false at the end of the input.
  bool next(record& r) {
    for (;;) {
      std::string_view rec;
      std::uint64_t line = 0;
      if (!next_text(rec, line)) {
        return false;
      }
      if (fill(r, rec, line)) {
        sink_.accept();
        return true;
      }
    }
  }

  /// Records accepted and skipped so far, with the first skipped ones.
  [[nodiscard]] const ingest_report& report() const noexcept { return sink_.report(); }
  /// The schema of the records (the configured one, or inferred from the header).
  [[nodiscard]] const std::shared_ptr<const record_schema>& schema() const noexcept {
    return schema_;
  }
  /// The header's column names as written (empty without a header).
  [[nodiscard]] const std::vector<std::string>& header() const noexcept { return header_; }
  /// The file name used in errors.
  [[nodiscard]] const std::string& name() const noexcept { return reader_.name(); }
  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }

private:
  static const config& checked(const config& cfg) {
    cfg.validate();
    return cfg;
  }

  csv_source(line_reader reader, config cfg, error_policy policy)
      : reader_(std::move(reader))
      , sink_(std::move(policy))
      , cfg_(std::move(cfg)) {
    start();
  }

  void start() {
    if (cfg_.has_header) {
      read_header();
    } else {
      schema_ = std::make_shared<const record_schema>(cfg_.schema);
      field_count_ = schema_->size();
      for (std::size_t i = 0; i < field_count_; ++i) {
        field_of_column_.push_back(i);
      }
    }
  }

  // Where byte `offset` of the current record is: its physical line and 1-based byte column.
  [[nodiscard]] input_position position(std::size_t offset, std::string field) const {
    std::size_t k = line_starts_.size();
    while (k > 1 && line_starts_[k - 1] > offset) {
      --k;
    }
    const std::size_t start = k == 0 ? 0 : line_starts_[k - 1];
    return {reader_.name(), first_line_ + (k == 0 ? 0 : k - 1), offset - start + 1,
            std::move(field)};
  }

  [[nodiscard]] std::string field_name(std::size_t f) const {
    if (f < header_.size() && !header_[f].empty()) {
      return header_[f];
    }
    if (!cfg_.has_header && f < schema_->size()) {
      return (*schema_)[f].name;
    }
    std::string name = "#";
    name += std::to_string(f + 1);
    return name;
  }

  // Every error goes through here: the header's always throw, the records' follow the policy.
  void reject(const input_error& error, std::string_view raw) {
    if (in_header_) {
      throw error;
    }
    sink_.reject(error, raw);
  }

  [[nodiscard]] input_error too_long(std::size_t bytes) const {
    std::string expected = "a record of at most ";
    expected += std::to_string(cfg_.max_record_bytes);
    expected += " bytes (csv max_record_bytes)";
    std::string found = std::to_string(bytes);
    found += " bytes";
    return input_error({reader_.name(), first_line_, 1}, std::move(expected), std::move(found));
  }

  [[nodiscard]] detail::csv_split_status split(std::string_view rec) {
    return detail::csv_split(rec, cfg_.delimiter, cfg_.quoting, fields_, scratch_, split_error_);
  }

  // The next record's text (one line, or several joined while a quoted field is open) in `rec`,
  // split into `fields_` with `status_`. An unterminated quote at the end of the input and an
  // over-long record go to `reject`; skip mode then resumes at the next line.
  bool next_text(std::string_view& rec, std::uint64_t& line) {
    text_line tl;
    for (;;) {
      if (!next_line(reader_, tl, sink_)) {
        return false;
      }
      line = first_line_ = tl.number;
      line_starts_.assign(1, 0);
      rec = tl.text;
      if (rec.size() > cfg_.max_record_bytes) {
        reject(too_long(rec.size()), rec);
        continue;
      }
      status_ = split(rec);
      if (status_ != detail::csv_split_status::open_quote) {
        return true;
      }
      // A quoted field spans lines: join them (with '\n') until the quote closes. Each RFC 4180
      // quote toggles the quoted state, so a line with an even number of quotes leaves it open
      // and the record is split again only after a line with an odd number.
      joined_.assign(rec);
      bool complete = true;
      while (status_ == detail::csv_split_status::open_quote) {
        if (!next_line(reader_, tl, sink_)) {
          reject(input_error(position(split_error_.offset, field_name(fields_.size())),
                             "a closing quote before the end of the input",
                             std::string(std::string_view(joined_).substr(split_error_.offset))),
                 joined_);
          return false;
        }
        if (joined_.size() + 1 + tl.text.size() > cfg_.max_record_bytes) {
          reject(too_long(joined_.size() + 1 + tl.text.size()), joined_);
          complete = false;
          break;
        }
        line_starts_.push_back(joined_.size() + 1);
        joined_ += '\n';
        joined_ += tl.text;
        std::size_t quotes = 0;
        for (const char c : tl.text) {
          quotes += c == '"' ? 1 : 0;
        }
        if (quotes % 2 == 1) {
          status_ = split(joined_);
        }
      }
      if (complete) {
        rec = joined_;
        return true;
      }
    }
  }

  // The record's shape problems: an unsplittable record, a NUL byte, a wrong field count.
  [[nodiscard]] bool check_shape(std::string_view rec) {
    if (status_ == detail::csv_split_status::bad) {
      reject(input_error(position(split_error_.offset, field_name(fields_.size())),
                         split_error_.expected, std::string(rec.substr(split_error_.offset, 32))),
             rec);
      return false;
    }
    if (const std::size_t z = rec.find('\0'); z != std::string_view::npos) {
      std::size_t f = 0;
      while (f + 1 < fields_.size() && fields_[f].raw_end < z) {
        ++f;
      }
      reject(
          input_error(position(z, field_name(f)), "text without NUL bytes", std::string(1, '\0')),
          rec);
      return false;
    }
    if (!in_header_ && fields_.size() != field_count_) {
      std::string expected = std::to_string(field_count_);
      expected += cfg_.has_header ? " fields (as in the header)" : " fields (as in the schema)";
      std::string found = std::to_string(fields_.size());
      found += fields_.size() == 1 ? " field" : " fields";
      const input_position where =
          fields_.size() > field_count_
              ? position(fields_[field_count_].raw_begin, field_name(field_count_))
              : position(rec.size(), field_name(fields_.size()));
      reject(input_error(where, std::move(expected), std::move(found)), rec);
      return false;
    }
    return true;
  }

  // A string field's bytes must be UTF-8; the raw bytes (quotes are ASCII) give exact columns.
  [[nodiscard]] bool check_text(std::string_view rec, const detail::csv_field& f,
                                std::string field) {
    const std::string_view raw = rec.substr(f.raw_begin, f.raw_end - f.raw_begin);
    const utf8_check check = check_utf8(raw);
    if (check.valid()) {
      return true;
    }
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string found = check.reason;
    found += " (bytes";
    for (std::size_t k = check.offset; k < raw.size() && k < check.offset + 4; ++k) {
      const auto b = static_cast<unsigned char>(raw[k]);
      found += ' ';
      found += hex[b >> 4];
      found += hex[b & 15];
    }
    found += ')';
    reject(input_error(position(f.raw_begin + check.offset, std::move(field)),
                       "valid UTF-8 (RFC 3629)", std::move(found)),
           rec);
    return false;
  }

  // Converts the split record into `r`; false (after `reject`) when it is bad input.
  bool fill(record& r, std::string_view rec, std::uint64_t line) {
    if (!check_shape(rec)) {
      return false;
    }
    r.reset(schema_, line);
    const std::span<value> values = r.values();
    for (std::size_t c = 0; c < schema_->size(); ++c) {
      const column& col = (*schema_)[c];
      const detail::csv_field& f = fields_[field_of_column_[c]];
      value& v = values[c];
      if (f.text.empty() && (!f.quoted || col.type != column_type::string)) {
        if (!col.optional) {
          std::string expected = "a ";
          expected += to_string(col.type);
          expected += " value (the column is not optional)";
          reject(
              input_error(position(f.raw_begin, col.name), std::move(expected), "an empty field"),
              rec);
          return false;
        }
        v = std::monostate{};
        continue;
      }
      if (col.type == column_type::string && cfg_.validate_utf8 && !check_text(rec, f, col.name)) {
        return false;
      }
      if (const char* expected = detail::parse_field(f.text, col, v)) {
        reject(input_error(position(f.raw_begin, col.name), expected, std::string(f.text)), rec);
        return false;
      }
    }
    return true;
  }

  void read_header() {
    in_header_ = true;
    std::string_view rec;
    std::uint64_t line = 0;
    if (!next_text(rec, line)) {
      throw input_error({reader_.name(), 1, 1}, "a header row", "an empty file");
    }
    if (rec.empty()) {
      throw input_error({reader_.name(), line, 1}, "a header row", "an empty line");
    }
    (void)check_shape(rec); // throws: in_header_
    header_.clear();
    for (const detail::csv_field& f : fields_) {
      (void)check_text(rec, f, std::string(f.text));
      header_.emplace_back(f.text);
    }
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (header_[i] == header_[j]) {
          std::string found = "'";
          found += header_[i];
          found += "' again (first at column ";
          found += std::to_string(position(fields_[j].raw_begin, {}).column);
          found += ')';
          throw input_error(position(fields_[i].raw_begin, header_[i]),
                            "a column name that is not already in the header", std::move(found));
        }
      }
    }
    if (cfg_.schema.empty()) {
      for (std::size_t i = 0; i < fields_.size(); ++i) {
        if (header_[i].empty()) {
          throw input_error(position(fields_[i].raw_begin, field_name(i)),
                            "a non-empty column name in the header (or a configured schema)",
                            "an empty name");
        }
      }
      schema_ = std::make_shared<const record_schema>(record_schema::all_strings(header_));
    } else {
      schema_ = std::make_shared<const record_schema>(cfg_.schema);
    }
    field_of_column_.clear();
    for (const column& c : *schema_) {
      std::size_t f = 0;
      while (f < header_.size() && header_[f] != c.name) {
        ++f;
      }
      if (f == header_.size()) {
        std::string expected = "a header column named '";
        expected += c.name;
        expected += "' (required by the schema)";
        throw input_error(position(rec.size(), c.name), std::move(expected),
                          std::string(rec.substr(0, 64)));
      }
      field_of_column_.push_back(f);
    }
    field_count_ = header_.size();
    in_header_ = false;
  }

  line_reader reader_;
  error_sink sink_;
  config cfg_;
  std::shared_ptr<const record_schema> schema_;
  std::vector<std::string> header_;
  std::vector<std::size_t> field_of_column_; // schema column -> field index in a record
  std::size_t field_count_ = 0;              // fields every record has
  bool in_header_ = false;
  // Scratch reused from record to record: no allocation in the steady state.
  std::vector<detail::csv_field> fields_;
  std::string scratch_;
  std::string joined_;
  std::vector<std::size_t> line_starts_; // offsets of the physical lines in a joined record
  std::uint64_t first_line_ = 0;
  detail::csv_split_status status_ = detail::csv_split_status::complete;
  detail::csv_split_error split_error_;
};

static_assert(source<csv_source>);

} // namespace data
MLSD_END_NAMESPACE
