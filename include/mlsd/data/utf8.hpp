/// @file
/// UTF-8 validation as RFC 3629 section 4 defines well-formed UTF-8: no overlong encodings, no
/// UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequences. The text
/// sources check every string column with it, so that invalid bytes are reported where they are
/// instead of surfacing later as mojibake in a tokenizer or a feature store.
#pragma once

#include <mlsd/core/version.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

MLSD_BEGIN_NAMESPACE
namespace data {

/// The outcome of `check_utf8`: `offset` is the 0-based byte offset of the first byte of the
/// first ill-formed sequence (`npos` when the text is valid) and `reason` says what is wrong there.
struct utf8_check {
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::size_t offset = npos;
  const char* reason = "";

  /// True when the text was well-formed UTF-8.
  [[nodiscard]] constexpr bool valid() const noexcept { return offset == npos; }
};

namespace detail {
// What each lead byte needs after it (RFC 3629 section 4, the UTF8-2/3/4 productions): the number
// of continuation bytes, and the range allowed for the first one, which is where overlongs (E0,
// F0), surrogates (ED) and values above U+10FFFF (F4) are excluded.
struct utf8_lead {
  unsigned char continuation_count;
  unsigned char first_low;
  unsigned char first_high;
};

[[nodiscard]] constexpr utf8_lead utf8_lead_of(unsigned char b) noexcept {
  if (b >= 0xC2 && b <= 0xDF) {
    return {1, 0x80, 0xBF};
  }
  if (b == 0xE0) {
    return {2, 0xA0, 0xBF};
  }
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
    return {2, 0x80, 0xBF};
  }
  if (b == 0xED) {
    return {2, 0x80, 0x9F};
  }
  if (b == 0xF0) {
    return {3, 0x90, 0xBF};
  }
  if (b >= 0xF1 && b <= 0xF3) {
    return {3, 0x80, 0xBF};
  }
  if (b == 0xF4) {
    return {3, 0x80, 0x8F};
  }
  return {0, 0, 0};
}

[[nodiscard]] constexpr const char* utf8_bad_lead_reason(unsigned char b) noexcept {
  if (b >= 0x80 && b <= 0xBF) {
    return "a continuation byte without a lead byte";
  }
  if (b == 0xC0 || b == 0xC1) {
    return "an overlong encoding";
  }
  return "a byte never used in UTF-8";
}

[[nodiscard]] constexpr const char* utf8_bad_first_reason(unsigned char lead,
                                                          unsigned char b) noexcept {
  if (b < 0x80 || b > 0xBF) {
    return "a truncated sequence";
  }
  if (lead == 0xE0 || lead == 0xF0) {
    return "an overlong encoding";
  }
  if (lead == 0xED) {
    return "a UTF-16 surrogate (U+D800..U+DFFF)";
  }
  return "a code point above U+10FFFF";
}

[[nodiscard]] inline bool utf8_ascii_block(const char* p) noexcept {
  std::uint64_t word = 0;
  std::memcpy(&word, p, sizeof word);
  return (word & 0x8080808080808080ULL) == 0;
}
} // namespace detail

/// Checks that `text` is well-formed UTF-8 (RFC 3629); returns where the first ill-formed
/// sequence starts and why. A NUL byte is valid UTF-8 (U+0000); the sources reject it separately.
/// Complexity: linear, eight ASCII bytes per step on ASCII runs. Thread-safe (pure).
[[nodiscard]] inline utf8_check check_utf8(std::string_view text) noexcept {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    if (n - i >= 8 && detail::utf8_ascii_block(text.data() + i)) {
      i += 8;
      continue;
    }
    const unsigned char b = bytes[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    const detail::utf8_lead lead = detail::utf8_lead_of(b);
    if (lead.continuation_count == 0) {
      return {i, detail::utf8_bad_lead_reason(b)};
    }
    if (i + 1 >= n) {
      return {i, "a sequence cut by the end of the text"};
    }
    if (bytes[i + 1] < lead.first_low || bytes[i + 1] > lead.first_high) {
      return {i, detail::utf8_bad_first_reason(b, bytes[i + 1])};
    }
    for (std::size_t k = 2; k <= lead.continuation_count; ++k) {
      if (i + k >= n) {
        return {i, "a sequence cut by the end of the text"};
      }
      if (bytes[i + k] < 0x80 || bytes[i + k] > 0xBF) {
        return {i, "a truncated sequence"};
      }
    }
    i += 1 + lead.continuation_count;
  }
  return {};
}

/// True when `text` is well-formed UTF-8 (RFC 3629). Thread-safe (pure), linear.
[[nodiscard]] inline bool is_valid_utf8(std::string_view text) noexcept {
  return check_utf8(text).valid();
}

} // namespace data
MLSD_END_NAMESPACE
