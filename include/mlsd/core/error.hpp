/// @file
/// Errors for bad input: every one names where (file, line, column, field) and what was expected.
#pragma once

#include <mlsd/core/version.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

MLSD_BEGIN_NAMESPACE

/// Where in the input a value sits. `line` and `column` count from 1 (0 means "not known", for
/// example an in-memory record has no line); `column` counts bytes, as compilers and `grep -b` do.
/// `field` is the column or JSON key name when the format has one.
struct input_position {
  input_position() = default;
  input_position(std::string file_name, std::uint64_t line_number = 0,
                 std::uint64_t column_number = 0, std::string field_name = {})
      : file(std::move(file_name))
      , line(line_number)
      , column(column_number)
      , field(std::move(field_name)) {}

  std::string file;
  std::uint64_t line = 0;
  std::uint64_t column = 0;
  std::string field;

  /// `file:line:column` (the form editors and compilers use), then ` field 'name'` when known.
  [[nodiscard]] std::string to_string() const {
    std::string out = file.empty() ? std::string("<input>") : file;
    if (line != 0) {
      out += ':';
      out += std::to_string(line);
      if (column != 0) {
        out += ':';
        out += std::to_string(column);
      }
    }
    if (!field.empty()) {
      out += ": field '";
      out += field;
      out += '\'';
    }
    return out;
  }
};

/// Thrown for input that does not parse or does not validate: a malformed record, a value out of
/// range, a file that cannot be opened. `what()` reads `file:line:column: field 'f': expected X,
/// found 'Y'`; the parts are also available one by one for programs that report errors their way.
class input_error : public std::runtime_error {
public:
  input_error(input_position where, std::string expected, std::string found = {})
      : std::runtime_error(format(where, expected, found))
      , where_(std::move(where))
      , expected_(std::move(expected))
      , found_(std::move(found)) {}

  /// Where the bad input is.
  [[nodiscard]] const input_position& where() const noexcept { return where_; }
  /// What the parser expected there, e.g. "a number" or "9 columns".
  [[nodiscard]] const std::string& expected() const noexcept { return expected_; }
  /// The offending text (shortened to 64 bytes, control bytes escaped); may be empty.
  [[nodiscard]] const std::string& found() const noexcept { return found_; }

  /// `text` shortened to at most `max_bytes` bytes with control bytes and NUL written as `\xNN`,
  /// so that a message never carries raw binary into a terminal or a log.
  [[nodiscard]] static std::string printable(std::string_view text, std::size_t max_bytes = 64) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    const bool cut = text.size() > max_bytes;
    for (const char c : text.substr(0, max_bytes)) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) {
        out += "\\x";
        out += hex[u >> 4];
        out += hex[u & 0xf];
      } else {
        out += c;
      }
    }
    if (cut) {
      out += "...";
    }
    return out;
  }

private:
  static std::string format(const input_position& where, const std::string& expected,
                            const std::string& found) {
    std::string out = where.to_string();
    out += ": expected ";
    out += expected;
    if (!found.empty()) {
      out += ", found '";
      out += printable(found);
      out += '\'';
    }
    return out;
  }

  input_position where_;
  std::string expected_;
  std::string found_;
};

/// Thrown for an invalid configuration value (a policy's `config`): names the field and the rule.
class config_error : public std::invalid_argument {
public:
  config_error(std::string field, std::string expected)
      : std::invalid_argument(format(field, expected))
      , field_(std::move(field)) {}

  [[nodiscard]] const std::string& field() const noexcept { return field_; }

private:
  static std::string format(const std::string& field, const std::string& expected) {
    std::string out = "config field '";
    out += field;
    out += "': expected ";
    out += expected;
    return out;
  }
  std::string field_;
};

/// Thrown when a transform that learns from training data (a scaler, an imputer, a TF-IDF
/// vectorizer) is applied before `fit` (or before loading a fitted one from JSON): a programming
/// error, hence a `std::logic_error`. `what()` names the transform and, when known, the feature:
/// "standard_scaler 'price': apply before fit (fit it on training data or load a fitted one)".
class not_fitted_error : public std::logic_error {
public:
  explicit not_fitted_error(std::string transform, std::string feature = {})
      : std::logic_error(format(transform, feature))
      , transform_(std::move(transform))
      , feature_(std::move(feature)) {}

  /// The transform's name, e.g. "standard_scaler".
  [[nodiscard]] const std::string& transform() const noexcept { return transform_; }
  /// The feature it transforms (its `config::feature`); may be empty.
  [[nodiscard]] const std::string& feature() const noexcept { return feature_; }

private:
  static std::string format(const std::string& transform, const std::string& feature) {
    std::string out = transform;
    if (!feature.empty()) {
      out += " '";
      out += feature;
      out += '\'';
    }
    out += ": apply before fit (fit it on training data or load a fitted one)";
    return out;
  }
  std::string transform_;
  std::string feature_;
};

MLSD_END_NAMESPACE
