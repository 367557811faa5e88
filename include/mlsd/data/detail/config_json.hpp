/// @file
/// Reading a policy's configuration (or a saved transform) from JSON, shared by every data/ header:
/// each error is a `config_error` naming the field as `prefix.key` (with `[i]` for array
/// elements) and saying what was expected and what was found; keys nobody read are rejected by
/// `finish()`, so that a typo in a config file is an error instead of a silently ignored setting.
///
/// Templated over the JSON type (always `nlohmann::json`) so that headers that only forward-declare
/// nlohmann_json (record.hpp, csv.hpp) compile the reader only where it is used.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/version.hpp>

#include <nlohmann/json_fwd.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data::detail {

/// `prefix.key`, or `key` alone when `prefix` is empty (top-level configs such as
/// `windowed_config` name their fields without a prefix).
[[nodiscard]] inline std::string field_path(std::string_view prefix, std::string_view key) {
  std::string out(prefix);
  if (!out.empty()) {
    out += '.';
  }
  out += key;
  return out;
}

/// `name[i]`, the name of an array element.
[[nodiscard]] inline std::string indexed_path(std::string_view name, std::size_t i) {
  std::string out(name);
  out += '[';
  out += std::to_string(i);
  out += ']';
  return out;
}

/// `expected`, then `, found <the JSON of v>` (shortened and escaped like `input_error::found`).
template <class Json>
[[nodiscard]] std::string expected_found(std::string_view expected, const Json& v) {
  std::string out(expected);
  out += ", found ";
  out += input_error::printable(v.dump());
  return out;
}

/// The name of `value` in `names` (empty when absent), for writing an enumeration to JSON.
template <class E, std::size_t N>
[[nodiscard]] constexpr std::string_view
enum_name(E value, const std::array<std::pair<E, std::string_view>, N>& names) noexcept {
  for (const auto& [v, name] : names) {
    if (v == value) {
      return name;
    }
  }
  return {};
}

/// Reads a JSON object key by key into C++ values (`bool`, integers checked against their range
/// or a given one, floating point, `std::string`, nested JSON, and `std::vector`s of those).
/// `read` leaves the value alone when the key is absent (its default stays); `require` throws for
/// an absent key; `finish` throws for the first key that no `read`, `require` or `find` asked for.
///
/// Error messages, all through `config_error` ("config field 'prefix.key': expected ..."):
/// "a JSON object, found array", "a value (the key is missing)", "true or false, found 1",
/// "a number, found \"x\"", "an integer from 1 to 32, found 40", "a string, found 3",
/// "an array, found {}", "one of 'a', 'b', found \"c\"", "one of the known keys (a, b)".
/// Not thread-safe (it records the keys it was asked for); one reader per object, read once.
template <class Json>
class config_reader {
public:
  /// A reader of `j`, whose fields are named `prefix.key`. Throws `config_error` (field `prefix`,
  /// or "(top level)" when it is empty) unless `j` is an object.
  config_reader(const Json& j, std::string_view prefix)
      : j_(j)
      , prefix_(prefix) {
    if (!j_.is_object()) {
      throw config_error(prefix_.empty() ? std::string("(top level)") : prefix_,
                         expected_found("a JSON object", j_));
    }
  }

  /// The reader keeps a reference to the object: reading a temporary would leave it dangling.
  config_reader(const Json&&, std::string_view) = delete;

  /// The full name of `key`, for the caller's own checks.
  [[nodiscard]] std::string field(std::string_view key) const { return field_path(prefix_, key); }
  /// The prefix of the field names.
  [[nodiscard]] const std::string& prefix() const noexcept { return prefix_; }

  /// The value of `key`, or nullptr when it is absent; `key` counts as known.
  [[nodiscard]] const Json* find(std::string_view key) {
    known_.emplace_back(key);
    const auto it = j_.find(std::string(key));
    return it == j_.end() ? nullptr : &*it;
  }

  /// The value of `key`; throws `config_error` when it is absent.
  [[nodiscard]] const Json& at(std::string_view key) {
    const Json* v = find(key);
    if (v == nullptr) {
      throw config_error(field(key), "a value (the key is missing)");
    }
    return *v;
  }

  /// Reads `key` into `out` when present; returns whether it was.
  template <class T>
  bool read(std::string_view key, T& out) {
    const Json* v = find(key);
    if (v == nullptr) {
      return false;
    }
    convert(*v, field(key), out);
    return true;
  }

  /// Reads the integer `key`, which must lie in `[min, max]`, into `out` when present.
  template <class T>
  requires std::is_integral_v<T> &&
      (!std::is_same_v<T, bool>)bool read(std::string_view key, T& out, T min, T max) {
    const Json* v = find(key);
    if (v == nullptr) {
      return false;
    }
    out = to_integer(*v, field(key), min, max);
    return true;
  }

  /// Reads `key` into `out`; an absent key is a `config_error`.
  template <class T>
  void require(std::string_view key, T& out) {
    convert(at(key), field(key), out);
  }

  /// Reads the integer `key`, which must be present and lie in `[min, max]`.
  template <class T>
  requires std::is_integral_v<T> &&
      (!std::is_same_v<T, bool>)void require(std::string_view key, T& out, T min, T max) {
    out = to_integer(at(key), field(key), min, max);
  }

  /// Reads an enumeration written as one of the strings in `names`, when present.
  template <class E, std::size_t N>
  bool read_enum(std::string_view key, E& out,
                 const std::array<std::pair<E, std::string_view>, N>& names) {
    const Json* v = find(key);
    if (v == nullptr) {
      return false;
    }
    out = to_enum(*v, field(key), names);
    return true;
  }

  /// Reads an enumeration that must be present.
  template <class E, std::size_t N>
  void require_enum(std::string_view key, E& out,
                    const std::array<std::pair<E, std::string_view>, N>& names) {
    out = to_enum(at(key), field(key), names);
  }

  /// Checks the `"transform"` key of a saved transform: it must be `name`, else the JSON was
  /// written by another type.
  void require_transform(std::string_view name) {
    std::string saved;
    require("transform", saved);
    if (saved != name) {
      std::string expected = "'";
      expected += name;
      expected += "' (the JSON of another transform)";
      throw config_error(field("transform"), expected_found(expected, at("transform")));
    }
  }

  /// Throws `config_error` for the first key that was never asked for.
  void finish() const {
    for (const auto& item : j_.items()) {
      if (std::find(known_.begin(), known_.end(), item.key()) == known_.end()) {
        std::string expected = "one of the known keys (";
        for (std::size_t k = 0; k < known_.size(); ++k) {
          if (k != 0) {
            expected += ", ";
          }
          expected += known_[k];
        }
        expected += ')';
        throw config_error(field(item.key()), expected);
      }
    }
  }

  /// `v` as `T` (see the class comment for the types), naming `path` in errors.
  template <class T>
  static void convert(const Json& v, const std::string& path, T& out) {
    if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) {
        throw config_error(path, expected_found("true or false", v));
      }
      out = v.template get<bool>();
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) {
        throw config_error(path, expected_found("a number", v));
      }
      out = v.template get<T>();
    } else if constexpr (std::is_integral_v<T>) {
      out = to_integer(v, path, std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string()) {
        throw config_error(path, expected_found("a string", v));
      }
      out = v.template get<std::string>();
    } else if constexpr (std::is_same_v<T, Json>) {
      out = v;
    } else {
      if (!v.is_array()) {
        throw config_error(path, expected_found("an array", v));
      }
      T values;
      values.reserve(v.size());
      for (std::size_t i = 0; i < v.size(); ++i) {
        typename T::value_type e{};
        convert(v[i], indexed_path(path, i), e);
        values.push_back(std::move(e));
      }
      out = std::move(values);
    }
  }

  /// `v` as an integer in `[min, max]`. JSON parsed from text holds a non-negative integer as
  /// unsigned, a value assigned in C++ as signed: both are accepted; `2.0` is not an integer.
  template <class T>
  [[nodiscard]] static T to_integer(const Json& v, const std::string& path, T min, T max) {
    bool ok = false;
    if (v.is_number_unsigned()) {
      ok = std::cmp_greater_equal(v.template get<std::uint64_t>(), min) &&
           std::cmp_less_equal(v.template get<std::uint64_t>(), max);
    } else if (v.is_number_integer()) {
      ok = std::cmp_greater_equal(v.template get<std::int64_t>(), min) &&
           std::cmp_less_equal(v.template get<std::int64_t>(), max);
    }
    if (!ok) {
      std::string expected = "an integer from ";
      expected += std::to_string(min);
      expected += " to ";
      expected += std::to_string(max);
      throw config_error(path, expected_found(expected, v));
    }
    return v.is_number_unsigned() ? static_cast<T>(v.template get<std::uint64_t>())
                                  : static_cast<T>(v.template get<std::int64_t>());
  }

  /// `v` as the enumerator named by it in `names`.
  template <class E, std::size_t N>
  [[nodiscard]] static E to_enum(const Json& v, const std::string& path,
                                 const std::array<std::pair<E, std::string_view>, N>& names) {
    if (v.is_string()) {
      for (const auto& [value, name] : names) {
        if (name == v.template get_ref<const std::string&>()) {
          return value;
        }
      }
    }
    std::string expected = "one of";
    for (std::size_t k = 0; k < N; ++k) {
      expected += k == 0 ? " '" : ", '";
      expected += names[k].second;
      expected += '\'';
    }
    throw config_error(path, expected_found(expected, v));
  }

private:
  const Json& j_;
  std::string prefix_;
  std::vector<std::string> known_;
};

} // namespace data::detail
MLSD_END_NAMESPACE
