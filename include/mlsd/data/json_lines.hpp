/// @file
/// A streaming JSON Lines source (one JSON object per line, https://jsonlines.org) that yields the
/// same typed `record`s as the CSV source. Each line goes through nlohmann_json's SAX parser
/// straight into the record, without building a DOM, and the keys of the schema are picked by name.
///
/// Mapping: a key absent from the object and a key whose value is `null` are both *missing*
/// (`std::monostate` in an optional column, bad input in a required one; the message says which);
/// a value of the wrong JSON type is bad input (no coercion: `"4.5"` is not a float64, `3.0` is not
/// an int64, `1` is not a bool); keys outside the schema are ignored unless `allow_unknown_keys`
/// is false; a key of the schema that appears twice in one object is bad input.
///
/// @code
/// using namespace mlsd::data;
/// json_lines_config cfg;
/// cfg.schema = record_schema({{"user", column_type::int64}, {"text", column_type::string}});
/// json_lines_source events("events.jsonl", cfg, error_policy::skip());
/// record r;
/// while (events.next(r)) { /* r.get<std::int64_t>(0), r.get<std::string>("text") */ }
/// @endcode
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/time.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/source_config.hpp>
#include <mlsd/data/ingest.hpp>
#include <mlsd/data/record.hpp>
#include <mlsd/data/utf8.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

/// How a `json_lines_source` reads its file. Validated on construction (`config_error`).
struct json_lines_config {
  /// The typed columns, found in each object by key. Required (at least one column).
  record_schema schema;
  /// When false, a key that is not in the schema is bad input (catches misspelt keys).
  bool allow_unknown_keys = true;
  /// The longest line accepted, in bytes; a longer one is bad input (failed or skipped).
  std::size_t max_record_bytes = std::size_t{1} << 20;
  /// The line reader's chunk and its limit on one physical line (a bad record, which skip mode
  /// counts and steps over).
  line_reader_config reader{};

  /// Throws `config_error` naming the first invalid field.
  void validate() const {
    if (schema.empty()) {
      throw config_error("json_lines.schema", "at least one column");
    }
    detail::validate_source_limits("json_lines", max_record_bytes, reader);
  }
};

/// `json_lines_config` as JSON: `{"schema": [...], "allow_unknown_keys": true,
/// "max_record_bytes": 1048576, "chunk_bytes": ..., "max_line_bytes": ...}`.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void to_json(Json& j, const json_lines_config& c) {
  Json schema;
  to_json(schema, c.schema);
  j = Json{{"schema", std::move(schema)}, {"allow_unknown_keys", c.allow_unknown_keys}};
  detail::write_source_limits(j, c.max_record_bytes, c.reader);
}

/// Reads a `json_lines_config` from JSON; absent keys keep their defaults, unknown keys are errors
/// (the schema is required). Throws `config_error` naming the field.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void from_json(const Json& j, json_lines_config& c) {
  detail::config_reader r(j, "json_lines");
  json_lines_config out;
  if (const Json* schema = r.find("schema")) {
    from_json(*schema, out.schema);
  }
  r.read("allow_unknown_keys", out.allow_unknown_keys);
  detail::read_source_limits(r, out.max_record_bytes, out.reader);
  r.finish();
  out.validate();
  c = std::move(out);
}

namespace detail {

// An input iterator over a line that publishes how many bytes the JSON lexer has consumed, so
// that the SAX handler knows where a key ends (nlohmann's SAX interface gives no positions).
struct counting_char_iterator {
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  const char* at = nullptr;
  const char* base = nullptr;
  std::size_t* consumed = nullptr;

  reference operator*() const noexcept { return *at; }
  counting_char_iterator& operator++() noexcept {
    ++at;
    *consumed = static_cast<std::size_t>(at - base);
    return *this;
  }
  counting_char_iterator operator++(int) noexcept {
    counting_char_iterator old = *this;
    ++*this;
    return old;
  }
  friend bool operator==(const counting_char_iterator& a,
                         const counting_char_iterator& b) noexcept {
    return a.at == b.at;
  }
};

// SAX events of one line into one record. Depth 1 is the line's object; values deeper down
// belong to keys outside the schema (a nested value under a schema key is a type error).
class json_record_handler : public nlohmann::json_sax<nlohmann::json> {
public:
  using json = nlohmann::json;

  json_record_handler(const record_schema& schema, bool allow_unknown_keys)
      : schema_(&schema)
      , allow_unknown_keys_(allow_unknown_keys)
      , seen_(schema.size()) {}

  void start(std::string_view line, std::span<value> values) {
    line_ = line;
    values_ = values;
    std::fill(seen_.begin(), seen_.end(), static_cast<unsigned char>(0));
    depth_ = 0;
    column_ = no_column;
    in_value_ = false;
    failed_ = false;
    consumed_ = 0;
  }

  std::size_t* consumed() noexcept { return &consumed_; }
  [[nodiscard]] bool failed() const noexcept { return failed_; }
  [[nodiscard]] std::size_t error_offset() const noexcept { return error_offset_; }
  [[nodiscard]] const std::string& error_field() const noexcept { return error_field_; }
  [[nodiscard]] const std::string& error_expected() const noexcept { return expected_; }
  [[nodiscard]] const std::string& error_found() const noexcept { return found_; }
  [[nodiscard]] bool seen(std::size_t c) const noexcept { return seen_[c] != 0; }

  bool null() override {
    if (!at_top_value()) {
      return depth_ > 0 || top_level("null");
    }
    const column& c = (*schema_)[static_cast<std::size_t>(column_)];
    if (!c.optional) {
      return fail_type("null");
    }
    values_[static_cast<std::size_t>(column_)] = std::monostate{};
    return done_value();
  }

  bool boolean(bool v) override {
    if (!at_top_value()) {
      return depth_ > 0 || top_level("a boolean");
    }
    if ((*schema_)[static_cast<std::size_t>(column_)].type != column_type::boolean) {
      return fail_type(v ? "true" : "false");
    }
    values_[static_cast<std::size_t>(column_)] = v;
    return done_value();
  }

  bool number_integer(number_integer_t v) override {
    if (!at_top_value()) {
      return depth_ > 0 || top_level("a number");
    }
    return integer(v, std::to_string(v));
  }

  bool number_unsigned(number_unsigned_t v) override {
    if (!at_top_value()) {
      return depth_ > 0 || top_level("a number");
    }
    if (v > static_cast<number_unsigned_t>(std::numeric_limits<std::int64_t>::max())) {
      const column& c = (*schema_)[static_cast<std::size_t>(column_)];
      if (c.type == column_type::float64) {
        values_[static_cast<std::size_t>(column_)] = static_cast<double>(v);
        return done_value();
      }
      return fail_type(std::to_string(v), true);
    }
    return integer(static_cast<std::int64_t>(v), std::to_string(v));
  }

  bool number_float(number_float_t v, const string_t& text) override {
    if (!at_top_value()) {
      return depth_ > 0 || top_level("a number");
    }
    if ((*schema_)[static_cast<std::size_t>(column_)].type != column_type::float64) {
      return fail_type(text);
    }
    values_[static_cast<std::size_t>(column_)] = static_cast<double>(v);
    return done_value();
  }

  bool string(string_t& v) override {
    if (!at_top_value()) {
      return depth_ > 0 || top_level("a string");
    }
    if ((*schema_)[static_cast<std::size_t>(column_)].type != column_type::string) {
      std::string found = "string \"";
      found += v;
      found += '"';
      return fail_type(found);
    }
    if (v.find('\0') != std::string::npos) {
      return fail(value_offset_, (*schema_)[static_cast<std::size_t>(column_)].name,
                  "a string without NUL characters", "\\u0000");
    }
    assign_string(values_[static_cast<std::size_t>(column_)], v);
    return done_value();
  }

  bool binary(binary_t&) override { return depth_ > 0 || top_level("binary data"); }

  bool start_object(std::size_t) override {
    if (depth_ == 0) {
      depth_ = 1;
      return true;
    }
    if (at_top_value()) {
      return fail_type("an object");
    }
    ++depth_;
    return true;
  }

  bool end_object() override {
    --depth_;
    if (depth_ == 1) {
      in_value_ = false;
    }
    return true;
  }

  bool start_array(std::size_t) override {
    if (depth_ == 0) {
      return top_level("an array");
    }
    if (at_top_value()) {
      return fail_type("an array");
    }
    ++depth_;
    return true;
  }

  bool end_array() override {
    --depth_;
    if (depth_ == 1) {
      in_value_ = false;
    }
    return true;
  }

  bool key(string_t& k) override {
    if (depth_ != 1) {
      return true;
    }
    key_offset_ = consumed_;
    // The value starts after the key's closing quote, blanks, ':' and blanks.
    std::size_t i = consumed_;
    while (i < line_.size() &&
           (line_[i] == ' ' || line_[i] == '\t' || line_[i] == '\r' || line_[i] == ':')) {
      ++i;
    }
    value_offset_ = i;
    in_value_ = true;
    column_ = no_column;
    key_.assign(k);
    for (std::size_t c = 0; c < schema_->size(); ++c) {
      if ((*schema_)[c].name == k) {
        column_ = static_cast<std::ptrdiff_t>(c);
        break;
      }
    }
    if (column_ == no_column) {
      if (!allow_unknown_keys_) {
        const std::size_t start = key_start(key_offset_);
        return fail(start, k, "a key of the schema (allow_unknown_keys is false)", k);
      }
      return true;
    }
    if (seen_[static_cast<std::size_t>(column_)] != 0) {
      std::string found = "'";
      found += k;
      found += "' again";
      return fail(key_start(key_offset_), k, "a key that appears once in the object",
                  std::move(found));
    }
    seen_[static_cast<std::size_t>(column_)] = 1;
    return true;
  }

  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override {
    const std::string field = in_value_ && depth_ == 1 ? key_ : std::string();
    const utf8_check utf8 = check_utf8(line_.substr(0, std::min(position, line_.size())));
    if (!utf8.valid()) {
      return fail(utf8.offset, field, "valid UTF-8 (RFC 3629)", utf8.reason);
    }
    // nlohmann's message reads "[json.exception.parse_error.101] parse error at line 1, column
    // 8: syntax error while parsing ..."; keep what follows the position.
    std::string_view message = ex.what();
    if (const auto p = message.find("column "); p != std::string_view::npos) {
      if (const auto colon = message.find(": ", p); colon != std::string_view::npos) {
        message.remove_prefix(colon + 2);
      }
    } else if (const auto bracket = message.find("] "); bracket != std::string_view::npos) {
      message.remove_prefix(bracket + 2);
    }
    std::string expected = "valid JSON (";
    expected += message;
    expected += ')';
    // The message quotes the last token read when it is useful; do not repeat it.
    std::string found = message.find("last read") == std::string_view::npos ? last_token : "";
    return fail(position == 0 ? 0 : position - 1, field, std::move(expected), std::move(found));
  }

  bool fail(std::size_t offset, std::string field, std::string expected, std::string found) {
    if (!failed_) {
      failed_ = true;
      error_offset_ = offset;
      error_field_ = std::move(field);
      expected_ = std::move(expected);
      found_ = std::move(found);
    }
    return false;
  }

private:
  static constexpr std::ptrdiff_t no_column = -1;

  // A scalar (or a nested value's start) right under a key of the schema.
  [[nodiscard]] bool at_top_value() const noexcept {
    return depth_ == 1 && in_value_ && column_ != no_column;
  }

  bool done_value() noexcept {
    in_value_ = false;
    return true;
  }

  // A value outside any object: the line is not an object.
  bool top_level(const char* found) { return fail(first_byte(), {}, "a JSON object", found); }

  bool integer(std::int64_t v, const std::string& text) {
    const column& c = (*schema_)[static_cast<std::size_t>(column_)];
    value& out = values_[static_cast<std::size_t>(column_)];
    switch (c.type) {
    case column_type::int64:
      out = v;
      return done_value();
    case column_type::float64:
      out = static_cast<double>(v);
      return done_value();
    case column_type::unix_seconds:
    case column_type::unix_millis: {
      const bool seconds = c.type == column_type::unix_seconds;
      const std::int64_t limit =
          std::numeric_limits<std::int64_t>::max() / (seconds ? 1000000 : 1000);
      if (v > limit || v < -limit) {
        return fail_type(text, true);
      }
      out = seconds ? event_time::from_seconds(v) : event_time::from_micros(v * 1000);
      return done_value();
    }
    default:
      return fail_type(text);
    }
  }

  // The value under the current key is not what its column takes.
  bool fail_type(const std::string& found, bool out_of_range = false) {
    const column& c = (*schema_)[static_cast<std::size_t>(column_)];
    std::string expected;
    switch (c.type) {
    case column_type::string:
      expected = "a JSON string";
      break;
    case column_type::int64:
      expected = out_of_range ? "an integer within int64" : "a JSON integer (int64)";
      break;
    case column_type::float64:
      expected = "a JSON number (float64)";
      break;
    case column_type::boolean:
      expected = "true or false (bool)";
      break;
    case column_type::unix_seconds:
      expected = "an integer number of seconds since the Unix epoch (within +-292,000 years)";
      break;
    case column_type::unix_millis:
      expected = "an integer number of milliseconds since the Unix epoch (within +-292,000 years)";
      break;
    }
    if (!c.optional && found == "null") {
      expected += " (the column is not optional)";
    }
    return fail(value_offset_, c.name, std::move(expected), found);
  }

  [[nodiscard]] std::size_t first_byte() const noexcept {
    std::size_t i = 0;
    while (i < line_.size() && (line_[i] == ' ' || line_[i] == '\t')) {
      ++i;
    }
    return i;
  }

  // The offset of a key's opening quote, given the offset just past its closing quote.
  [[nodiscard]] std::size_t key_start(std::size_t end) const noexcept {
    std::size_t i = end >= 2 ? end - 2 : 0;
    while (i > 0 && !(line_[i] == '"' && line_[i - 1] != '\\')) {
      --i;
    }
    return i;
  }

  const record_schema* schema_;
  bool allow_unknown_keys_;
  std::vector<unsigned char> seen_;
  std::string_view line_;
  std::span<value> values_;
  std::size_t consumed_ = 0;
  int depth_ = 0;
  std::ptrdiff_t column_ = no_column;
  bool in_value_ = false;
  std::size_t key_offset_ = 0;
  std::size_t value_offset_ = 0;
  std::string key_;
  bool failed_ = false;
  std::size_t error_offset_ = 0;
  std::string error_field_;
  std::string expected_;
  std::string found_;
};

} // namespace detail

/// A JSON Lines file (or text in memory) as a stream of typed `record`s; models `data::source`.
///
/// Every line holds one JSON object (RFC 8259; `\n` or `\r\n` line ends, optional UTF-8 BOM);
/// a blank line is bad input. Errors name file, line, byte column and key: for JSON syntax errors
/// the column where nlohmann_json stopped, for a wrong type the column where the value starts,
/// for a missing key the column of the object's `{`. Strings are UTF-8 (nlohmann_json checks them,
/// and an ill-formed byte is reported at its own column) without NUL characters. JSON has no NaN
/// or infinity, and a number that overflows a double is a syntax error, so float64 values are
/// always finite. Bad records are failed or skipped by the `error_policy`.
///
/// Complexity: linear in the input, no DOM; memory is one chunk plus the longest line. Not
/// thread-safe (one reader per source).
class json_lines_source : public data_source_tag {
public:
  using record_type = record;
  using config = json_lines_config;

  /// Opens `path`. Throws `config_error` for a bad `cfg`, `input_error` when it cannot be opened.
  explicit json_lines_source(const std::filesystem::path& path, config cfg,
                             error_policy policy = {})
      : reader_(path, checked(cfg).reader)
      , sink_(std::move(policy))
      , cfg_(std::move(cfg))
      , schema_(std::make_shared<const record_schema>(cfg_.schema))
      , handler_(*schema_, cfg_.allow_unknown_keys) {}

  /// Reads JSON Lines text held in memory; `name` stands for the file name in errors.
  [[nodiscard]] static json_lines_source from_string(std::string text, config cfg,
                                                     error_policy policy = {},
                                                     std::string name = "<memory>") {
    line_reader reader =
        line_reader::from_string(std::move(text), std::move(name), checked(cfg).reader);
    return json_lines_source(std::move(reader), std::move(cfg), std::move(policy));
  }

  /// Fills a prefix of `out` with the next records and returns how many (0 at the end).
  std::size_t read(std::span<record> out) { return detail::read_records(*this, out); }

  /// Reads the next record into `r` (reusing its memory); false at the end of the input.
  bool next(record& r) {
    text_line tl;
    while (next_line(reader_, tl, sink_)) {
      if (fill(r, tl.text, tl.number)) {
        sink_.accept();
        return true;
      }
    }
    return false;
  }

  [[nodiscard]] const ingest_report& report() const noexcept { return sink_.report(); }
  [[nodiscard]] const std::shared_ptr<const record_schema>& schema() const noexcept {
    return schema_;
  }
  [[nodiscard]] const std::string& name() const noexcept { return reader_.name(); }
  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }

private:
  static const config& checked(const config& cfg) {
    cfg.validate();
    return cfg;
  }

  json_lines_source(line_reader reader, config cfg, error_policy policy)
      : reader_(std::move(reader))
      , sink_(std::move(policy))
      , cfg_(std::move(cfg))
      , schema_(std::make_shared<const record_schema>(cfg_.schema))
      , handler_(*schema_, cfg_.allow_unknown_keys) {}

  bool reject(std::string_view line, std::uint64_t number, std::size_t offset, std::string field,
              std::string expected, std::string found) {
    sink_.reject(input_error({reader_.name(), number, offset + 1, std::move(field)},
                             std::move(expected), std::move(found)),
                 line);
    return false;
  }

  bool fill(record& r, std::string_view line, std::uint64_t number) {
    if (line.size() > cfg_.max_record_bytes) {
      std::string expected = "a line of at most ";
      expected += std::to_string(cfg_.max_record_bytes);
      expected += " bytes (json_lines max_record_bytes)";
      return reject(line, number, 0, {}, std::move(expected),
                    std::to_string(line.size()) + " bytes");
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      return reject(line, number, 0, {}, "a JSON object", "an empty line");
    }
    if (const auto z = line.find('\0'); z != std::string_view::npos) {
      return reject(line, number, z, {}, "text without NUL bytes", std::string(1, '\0'));
    }
    r.reset(schema_, number);
    handler_.start(line, r.values());
    detail::counting_char_iterator first{line.data(), line.data(), handler_.consumed()};
    detail::counting_char_iterator last{line.data() + line.size(), line.data(),
                                        handler_.consumed()};
    const bool ok = nlohmann::json::sax_parse(first, last, &handler_);
    if (!ok || handler_.failed()) {
      if (!handler_.failed()) {
        (void)handler_.fail(0, {}, "valid JSON", std::string(line.substr(0, 64)));
      }
      return reject(line, number, handler_.error_offset(), handler_.error_field(),
                    handler_.error_expected(), handler_.error_found());
    }
    const std::span<value> values = r.values();
    for (std::size_t c = 0; c < schema_->size(); ++c) {
      if (handler_.seen(c)) {
        continue;
      }
      const column& col = (*schema_)[c];
      if (!col.optional) {
        std::string expected = "a key '";
        expected += col.name;
        expected += "' (the column is not optional)";
        const std::size_t brace = line.find('{');
        return reject(line, number, brace == std::string_view::npos ? 0 : brace, col.name,
                      std::move(expected), "no such key");
      }
      values[c] = std::monostate{};
    }
    return true;
  }

  line_reader reader_;
  error_sink sink_;
  config cfg_;
  std::shared_ptr<const record_schema> schema_;
  detail::json_record_handler handler_;
};

static_assert(source<json_lines_source>);

} // namespace data
MLSD_END_NAMESPACE
