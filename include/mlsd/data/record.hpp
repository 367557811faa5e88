/// @file
/// Typed records shared by the table sources (CSV, JSON Lines, in-memory): a `record_schema` names
/// and types the columns, and a `record` holds one `value` per column (or a missing value where the
/// schema allows it). Sources fill records they are handed, so that a record read again and again
/// reuses its strings' memory: the steady state of a read loop does not allocate.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/time.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>

#include <nlohmann/json_fwd.hpp>

#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

/// The type of a column. Timestamps are integers on the Unix clock (UTC) and are stored as
/// `event_time` (microseconds): the time a row describes is event time; code that needs a
/// known-at time derives it explicitly (`known_after`).
enum class column_type : std::uint8_t {
  string,       ///< UTF-8 text (validated)
  int64,        ///< a signed 64-bit integer
  float64,      ///< a double; finite unless the column allows NaN and infinities
  boolean,      ///< `true`/`false` (CSV also `1`/`0`, `True`, `FALSE`...)
  unix_seconds, ///< an integer count of seconds since 1970-01-01T00:00:00Z
  unix_millis,  ///< an integer count of milliseconds since 1970-01-01T00:00:00Z
};

/// The name a column type has in configurations and messages: "string", "int64", "float64",
/// "bool", "unix_seconds", "unix_millis".
[[nodiscard]] constexpr std::string_view to_string(column_type t) noexcept {
  switch (t) {
  case column_type::string:
    return "string";
  case column_type::int64:
    return "int64";
  case column_type::float64:
    return "float64";
  case column_type::boolean:
    return "bool";
  case column_type::unix_seconds:
    return "unix_seconds";
  case column_type::unix_millis:
    return "unix_millis";
  }
  return "?";
}

/// The column type named `name` (as `to_string` writes it), or nullopt.
[[nodiscard]] constexpr std::optional<column_type> column_type_from_string(std::string_view name) {
  for (const column_type t :
       {column_type::string, column_type::int64, column_type::float64, column_type::boolean,
        column_type::unix_seconds, column_type::unix_millis}) {
    if (to_string(t) == name) {
      return t;
    }
  }
  return std::nullopt;
}

/// One column of a schema: its name (the CSV header name or the JSON key), its type, whether a
/// record may lack a value there, and, for `float64`, whether NaN and ±infinity are accepted.
struct column {
  std::string name;
  column_type type = column_type::string;
  /// When true a missing value (empty CSV field, absent or null JSON key) is stored as
  /// `std::monostate`; when false it is bad input.
  bool optional = false;
  /// `float64` only: accept `nan`, `inf`, `-inf` and values that overflow to infinity. Off by
  /// default, because a non-finite feature poisons a model's weights silently.
  bool allow_non_finite = false;

  friend bool operator==(const column&, const column&) = default;
};

/// The columns of a table, in record order. Names are unique and non-empty (checked on
/// construction, `config_error` naming the column). Immutable once built; records share it
/// through a `std::shared_ptr<const record_schema>`.
class record_schema {
public:
  record_schema() = default;

  /// Validates `columns`: non-empty unique names; `allow_non_finite` only on `float64` columns.
  explicit record_schema(std::vector<column> columns)
      : columns_(std::move(columns)) {
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      std::string where = "schema.columns[";
      where += std::to_string(i);
      where += ']';
      if (columns_[i].name.empty()) {
        throw config_error(where + ".name", "a non-empty column name");
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (columns_[j].name == columns_[i].name) {
          std::string expected = "a name not used by another column ('";
          expected += columns_[i].name;
          expected += "' is also columns[";
          expected += std::to_string(j);
          expected += "])";
          throw config_error(where + ".name", std::move(expected));
        }
      }
      if (columns_[i].allow_non_finite && columns_[i].type != column_type::float64) {
        throw config_error(where + ".allow_non_finite", "false for a column that is not float64");
      }
    }
  }

  /// A schema of string columns named `names` (what a CSV header gives when no schema is
  /// configured); each column is optional unless `optional` is false.
  [[nodiscard]] static record_schema all_strings(std::span<const std::string> names,
                                                 bool optional = true) {
    std::vector<column> columns;
    columns.reserve(names.size());
    for (const std::string& name : names) {
      columns.push_back({name, column_type::string, optional, false});
    }
    return record_schema(std::move(columns));
  }

  [[nodiscard]] std::size_t size() const noexcept { return columns_.size(); }
  [[nodiscard]] bool empty() const noexcept { return columns_.empty(); }
  [[nodiscard]] const column& operator[](std::size_t i) const noexcept { return columns_[i]; }
  [[nodiscard]] const std::vector<column>& columns() const noexcept { return columns_; }
  [[nodiscard]] auto begin() const noexcept { return columns_.begin(); }
  [[nodiscard]] auto end() const noexcept { return columns_.end(); }

  /// The index of the column named `name`, or nullopt. O(columns): resolve names once, outside
  /// the read loop.
  [[nodiscard]] std::optional<std::size_t> index_of(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i].name == name) {
        return i;
      }
    }
    return std::nullopt;
  }

  /// The index of the column named `name`; throws `std::out_of_range` listing the columns.
  [[nodiscard]] std::size_t index(std::string_view name) const {
    if (const auto i = index_of(name)) {
      return *i;
    }
    std::string message = "mlsd::data::record_schema: no column named '";
    message += name;
    message += "' (columns:";
    for (const column& c : columns_) {
      message += ' ';
      message += c.name;
    }
    message += ')';
    throw std::out_of_range(message);
  }

  friend bool operator==(const record_schema&, const record_schema&) = default;

private:
  std::vector<column> columns_;
};

/// `column` as JSON: `{"name": "rating", "type": "float64", "optional": false,
/// "allow_non_finite": false}`. Found by nlohmann_json through argument-dependent lookup.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void to_json(Json& j, const column& c) {
  j = Json{{"name", c.name},
           {"type", std::string(to_string(c.type))},
           {"optional", c.optional},
           {"allow_non_finite", c.allow_non_finite}};
}

/// Reads a `column` from JSON (unknown keys are errors): `name` is required, `type` defaults to
/// "string", the flags to false. Throws `config_error` naming the field when one has the wrong type
/// or value.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void from_json(const Json& j, column& c) {
  detail::config_reader r(j, "column");
  column out;
  r.require("name", out.name);
  if (const Json* type = r.find("type")) {
    const auto parsed = type->is_string()
                            ? column_type_from_string(type->template get<std::string>())
                            : std::nullopt;
    if (!parsed) {
      throw config_error(
          "column.type",
          detail::expected_found("one of string, int64, float64, bool, unix_seconds, unix_millis",
                                 *type));
    }
    out.type = *parsed;
  }
  r.read("optional", out.optional);
  r.read("allow_non_finite", out.allow_non_finite);
  r.finish();
  c = std::move(out);
}

/// `record_schema` as a JSON array of columns.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void to_json(Json& j, const record_schema& s) {
  j = Json::array();
  for (const column& c : s) {
    Json one;
    to_json(one, c);
    j.push_back(std::move(one));
  }
}

/// Reads a `record_schema` from a JSON array of columns (validated like the constructor).
template <class Json>
requires std::same_as<Json, nlohmann::json>
void from_json(const Json& j, record_schema& s) {
  if (!j.is_array()) {
    throw config_error("schema", detail::expected_found("a JSON array of columns", j));
  }
  std::vector<column> columns(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    from_json(j[i], columns[i]);
  }
  s = record_schema(std::move(columns));
}

/// One value of a record: missing (`std::monostate`), or the C++ type of its column type:
/// `int64` → `std::int64_t`, `float64` → `double`, `bool` → `bool`, `string` → `std::string`,
/// `unix_seconds` / `unix_millis` → `event_time`.
using value = std::variant<std::monostate, std::int64_t, double, bool, std::string, event_time>;

/// The C++ types a `value` can hold (besides missing).
template <class T>
concept record_value_type = std::same_as<T, std::int64_t> || std::same_as<T, double> ||
    std::same_as<T, bool> || std::same_as<T, std::string> || std::same_as<T, event_time>;

/// The name of what `v` holds: "missing", "int64", "float64", "bool", "string" or "timestamp".
[[nodiscard]] inline std::string_view value_type_name(const value& v) noexcept {
  constexpr std::string_view names[] = {"missing", "int64",  "float64",
                                        "bool",    "string", "timestamp"};
  return names[v.index()];
}

/// `v` as text for messages and debugging: integers and doubles as `std::to_string` would not
/// (shortest round-trip form), timestamps as microseconds since the epoch followed by "us".
[[nodiscard]] inline std::string to_string(const value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return "missing";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, event_time>) {
          return std::to_string(x.micros()) + "us";
        } else if constexpr (std::is_same_v<T, double>) {
          char buf[32];
          const auto r = std::to_chars(buf, buf + sizeof buf, x);
          return std::string(buf, r.ptr);
        } else {
          return std::to_string(x);
        }
      },
      v);
}

namespace detail {
// Whether `v` holds the alternative of column type `t`.
[[nodiscard]] constexpr bool value_fits(const value& v, column_type t) noexcept {
  switch (t) {
  case column_type::string:
    return std::holds_alternative<std::string>(v);
  case column_type::int64:
    return std::holds_alternative<std::int64_t>(v);
  case column_type::float64:
    return std::holds_alternative<double>(v);
  case column_type::boolean:
    return std::holds_alternative<bool>(v);
  case column_type::unix_seconds:
  case column_type::unix_millis:
    return std::holds_alternative<event_time>(v);
  }
  return false;
}

/// Stores `text` in `v`, reusing the string `v` already holds (no allocation when it is large
/// enough): the steady state of a read loop does not allocate.
inline void assign_string(value& v, std::string_view text) {
  if (auto* s = std::get_if<std::string>(&v)) {
    s->assign(text.data(), text.size());
  } else {
    v.emplace<std::string>(text);
  }
}

template <class T>
[[nodiscard]] constexpr std::string_view value_type_name_of() noexcept {
  if constexpr (std::is_same_v<T, std::int64_t>) {
    return "int64";
  } else if constexpr (std::is_same_v<T, double>) {
    return "float64";
  } else if constexpr (std::is_same_v<T, bool>) {
    return "bool";
  } else if constexpr (std::is_same_v<T, std::string>) {
    return "string";
  } else {
    return "timestamp";
  }
}
} // namespace detail

/// A row of a table: one `value` per column of its schema, plus the input line it came from (0
/// for records built in memory). Cheap to reuse: a source that refills a record assigns into its
/// existing strings. Typed access is checked: asking a float64 column for an `int64`, or a missing
/// value for anything, throws `input_error` naming the column and the line; an unknown column
/// throws `std::out_of_range`. Not thread-safe for writing; concurrent reads are fine.
class record {
public:
  record() = default;

  /// A record of `schema`'s shape with every value missing.
  explicit record(std::shared_ptr<const record_schema> schema)
      : schema_(std::move(schema))
      , values_(schema_ ? schema_->size() : 0) {}

  /// A record with the given values (one per column, each of its column's type or missing where
  /// the column is optional). Throws `std::invalid_argument` naming the column otherwise: this is
  /// a programming error, not bad input.
  record(std::shared_ptr<const record_schema> schema, std::vector<value> values,
         std::uint64_t line = 0)
      : schema_(std::move(schema))
      , values_(std::move(values))
      , line_(line) {
    if (!schema_ || schema_->size() != values_.size()) {
      throw std::invalid_argument("mlsd::data::record: expected one value per schema column");
    }
    for (std::size_t i = 0; i < values_.size(); ++i) {
      const column& c = (*schema_)[i];
      const bool missing_ok = c.optional && values_[i].index() == 0;
      if (!missing_ok && !detail::value_fits(values_[i], c.type)) {
        std::string message = "mlsd::data::record: column '";
        message += c.name;
        message += "' expects ";
        message += c.optional ? "missing or " : "";
        message += to_string(c.type);
        message += ", got ";
        message += value_type_name(values_[i]);
        throw std::invalid_argument(message);
      }
    }
  }

  /// The schema (empty for a default-constructed record).
  [[nodiscard]] const record_schema& schema() const noexcept {
    static const record_schema none;
    return schema_ ? *schema_ : none;
  }
  [[nodiscard]] const std::shared_ptr<const record_schema>& schema_ptr() const noexcept {
    return schema_;
  }
  [[nodiscard]] std::size_t size() const noexcept { return values_.size(); }
  /// The 1-based input line the record starts on (0 when built in memory).
  [[nodiscard]] std::uint64_t line() const noexcept { return line_; }

  /// Unchecked access by index.
  [[nodiscard]] const value& operator[](std::size_t i) const noexcept { return values_[i]; }
  /// Checked access by index (`std::out_of_range`) and by name (`std::out_of_range` listing the
  /// columns).
  [[nodiscard]] const value& at(std::size_t i) const {
    if (i >= values_.size()) {
      std::string message = "mlsd::data::record: column index ";
      message += std::to_string(i);
      message += " out of range (";
      message += std::to_string(values_.size());
      message += " columns)";
      throw std::out_of_range(message);
    }
    return values_[i];
  }
  [[nodiscard]] const value& at(std::string_view name) const { return values_[index(name)]; }

  /// True when column `i` / `name` holds no value.
  [[nodiscard]] bool is_missing(std::size_t i) const { return at(i).index() == 0; }
  [[nodiscard]] bool is_missing(std::string_view name) const { return at(name).index() == 0; }

  /// The value of column `i` as a `T`; throws `input_error` (field = column name, found = what it
  /// holds) when it is missing or of another type, `std::out_of_range` for a bad index.
  template <record_value_type T>
  [[nodiscard]] const T& get(std::size_t i) const {
    const value& v = at(i);
    if (const T* p = std::get_if<T>(&v)) {
      return *p;
    }
    wrong_type(i, detail::value_type_name_of<T>());
  }
  /// The value of the column named `name` as a `T` (see `get(i)`). O(columns) to find the name.
  template <record_value_type T>
  [[nodiscard]] const T& get(std::string_view name) const {
    return get<T>(index(name));
  }

  /// A pointer to column `i`'s value when it holds a `T`, else nullptr (missing or other type).
  template <record_value_type T>
  [[nodiscard]] const T* get_if(std::size_t i) const {
    return std::get_if<T>(&at(i));
  }

  /// The value of column `name` as a `T`, or `fallback` when it is missing. A value of another
  /// type still throws (a wrong type is a bug, a missing value is data).
  template <record_value_type T>
  [[nodiscard]] T value_or(std::string_view name, T fallback) const {
    const std::size_t i = index(name);
    return values_[i].index() == 0 ? std::move(fallback) : get<T>(i);
  }

  /// Mutable access for sources and for code that builds records: the caller keeps each value of
  /// its column's type.
  [[nodiscard]] std::span<value> values() noexcept { return values_; }
  [[nodiscard]] std::span<const value> values() const noexcept { return values_; }

  /// Gives the record `schema`'s shape (values become missing when the shape changes) and the
  /// line it starts on. Sources call this before filling the values.
  void reset(const std::shared_ptr<const record_schema>& schema, std::uint64_t line) {
    if (schema_ != schema) {
      schema_ = schema;
      values_.assign(schema_ ? schema_->size() : 0, value{});
    }
    line_ = line;
  }

  /// Equal values (the schemas' column names and types compare equal too); lines are ignored.
  friend bool operator==(const record& a, const record& b) {
    return a.values_ == b.values_ && a.schema() == b.schema();
  }

private:
  [[nodiscard]] std::size_t index(std::string_view name) const {
    if (!schema_) {
      throw std::out_of_range("mlsd::data::record: no schema, so no column named '" +
                              std::string(name) + "'");
    }
    return schema_->index(name);
  }

  [[noreturn]] void wrong_type(std::size_t i, std::string_view wanted) const {
    std::string field = schema_ ? (*schema_)[i].name : std::to_string(i);
    std::string expected = "a value of type ";
    expected += wanted;
    std::string found(value_type_name(values_[i]));
    if (values_[i].index() != 0) {
      found += ' ';
      found += to_string(values_[i]);
    }
    throw input_error({"<record>", line_, 0, std::move(field)}, std::move(expected),
                      std::move(found));
  }

  std::shared_ptr<const record_schema> schema_;
  std::vector<value> values_;
  std::uint64_t line_ = 0;
};

namespace detail {
/// Fills a prefix of `out` with `source.next(r)` until it returns false; returns how many. The
/// `read` of every source that reads one record at a time.
template <class Source>
std::size_t read_records(Source& source, std::span<record> out) {
  std::size_t n = 0;
  while (n < out.size() && source.next(out[n])) {
    ++n;
  }
  return n;
}
} // namespace detail

} // namespace data
MLSD_END_NAMESPACE
