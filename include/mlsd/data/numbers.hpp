/// @file
/// Number parsing for the parsers: floating point through fast_float (Lemire 2021; exact, locale
/// independent, several times faster than `strtod`), integers through `std::from_chars`. Each
/// function parses a whole token: trailing characters are an error, so "1.5x" is not 1.5.
#pragma once

#include <mlsd/core/version.hpp>

#include <fast_float/fast_float.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <system_error>

MLSD_BEGIN_NAMESPACE
namespace data {

/// Parses all of `text` as a floating-point number (`1`, `-2.5`, `1e-3`, `+1`; also `nan`, `inf`,
/// which callers that need finite values reject with `std::isfinite`). Returns false, leaving
/// `out` unchanged, when `text` is empty, not a number, or has trailing characters. A value out
/// of range rounds to ±inf or 0 as IEEE 754 says (and then fails an `isfinite` check).
template <class T>
requires(std::is_same_v<T, float> || std::is_same_v<T, double>)
    [[nodiscard]] inline bool parse_floating(std::string_view text, T& out) noexcept {
  const char* first = text.data();
  const char* last = first + text.size();
  if (first != last && *first == '+') { // LIBSVM labels are often written "+1"
    ++first;
    if (first != last && (*first == '-' || *first == '+')) {
      return false;
    }
  }
  T value{};
  const auto result = fast_float::from_chars(first, last, value);
  if (result.ec != std::errc{} || result.ptr != last || first == last) {
    return false;
  }
  out = value;
  return true;
}

/// Parses all of `text` as a base-10 integer of type `T` (a leading `+` is accepted for signed
/// types). Returns false when empty, not an integer, out of `T`'s range, or followed by anything.
template <class T>
requires std::is_integral_v<T>
[[nodiscard]] inline bool parse_integer(std::string_view text, T& out) noexcept {
  const char* first = text.data();
  const char* last = first + text.size();
  if constexpr (std::is_signed_v<T>) {
    if (first != last && *first == '+') {
      ++first;
      if (first != last && *first == '-') {
        return false;
      }
    }
  }
  T value{};
  const auto result = std::from_chars(first, last, value);
  if (result.ec != std::errc{} || result.ptr != last || first == last) {
    return false;
  }
  out = value;
  return true;
}

} // namespace data
MLSD_END_NAMESPACE
