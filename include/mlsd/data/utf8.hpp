/// @file
/// UTF-8 validation and decoding as RFC 3629 section 4 defines well-formed UTF-8: no overlong
/// encodings, no UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
/// sequences. The text sources check every string column with it, so that invalid bytes are
/// reported where they are instead of surfacing later as mojibake in a tokenizer or a feature
/// store.
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

/// One step of UTF-8 decoding: the sequence that starts at a byte offset, its code point and its
/// length, or why it is ill-formed.
struct utf8_decoded {
  /// The code point (U+0000..U+10FFFF, never a surrogate); 0 when ill-formed.
  char32_t code_point = 0;
  /// The length in bytes (1 to 4) of the well-formed sequence; 0 when ill-formed.
  std::size_t length = 0;
  /// Why the sequence is ill-formed (empty when well-formed), as `utf8_check::reason`.
  const char* reason = "";

  /// True when a well-formed sequence starts there.
  [[nodiscard]] constexpr bool valid() const noexcept { return length != 0; }
};

/// Decodes the UTF-8 sequence that starts at `text[i]` (precondition: `i < text.size()`), with the
/// rules of RFC 3629 section 4. A caller that skips an ill-formed sequence moves on by one byte
/// (what replacing each invalid byte with U+FFFD does). O(1), pure, thread-safe.
[[nodiscard]] constexpr utf8_decoded decode_utf8(std::string_view text, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char b = byte(0);
  if (b < 0x80) {
    return {b, 1, ""};
  }
  const detail::utf8_lead lead = detail::utf8_lead_of(b);
  if (lead.continuation_count == 0) {
    return {0, 0, detail::utf8_bad_lead_reason(b)};
  }
  const std::size_t n = text.size() - i;
  if (n < 2) {
    return {0, 0, "a sequence cut by the end of the text"};
  }
  if (byte(1) < lead.first_low || byte(1) > lead.first_high) {
    return {0, 0, detail::utf8_bad_first_reason(b, byte(1))};
  }
  // The lead byte keeps 7 - length bits: 5 for two bytes, 4 for three, 3 for four.
  char32_t cp = b & (0x3fu >> lead.continuation_count);
  for (std::size_t k = 1; k <= lead.continuation_count; ++k) {
    if (k >= n) {
      return {0, 0, "a sequence cut by the end of the text"};
    }
    if (byte(k) < 0x80 || byte(k) > 0xBF) {
      return {0, 0, "a truncated sequence"};
    }
    cp = (cp << 6) | (byte(k) & 0x3fu);
  }
  return {cp, std::size_t{1} + lead.continuation_count, ""};
}

/// Checks that `text` is well-formed UTF-8 (RFC 3629); returns where the first ill-formed
/// sequence starts and why. A NUL byte is valid UTF-8 (U+0000); the sources reject it separately.
/// Complexity: linear, eight ASCII bytes per step on ASCII runs. Thread-safe (pure).
[[nodiscard]] inline utf8_check check_utf8(std::string_view text) noexcept {
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    if (n - i >= 8 && detail::utf8_ascii_block(text.data() + i)) {
      i += 8;
      continue;
    }
    const utf8_decoded d = decode_utf8(text, i);
    if (!d.valid()) {
      return {i, d.reason};
    }
    i += d.length;
  }
  return {};
}

/// True when `text` is well-formed UTF-8 (RFC 3629). Thread-safe (pure), linear.
[[nodiscard]] inline bool is_valid_utf8(std::string_view text) noexcept {
  return check_utf8(text).valid();
}

} // namespace data
MLSD_END_NAMESPACE
