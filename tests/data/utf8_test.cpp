// UTF-8 validation (include/mlsd/data/utf8.hpp) against a naive decoder written from RFC 3629's
// definition (decode the code point, then reject overlongs, surrogates and values above U+10FFFF).
#include <mlsd/data/utf8.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <utility>

namespace {

using mlsd::data::check_utf8;
using mlsd::data::is_valid_utf8;
using mlsd::data::utf8_check;

// The offset of the first ill-formed sequence, or npos: decode by bit patterns, then check the
// decoded value, the opposite order from check_utf8's table of byte ranges.
std::size_t reference_first_error(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((b >> 5) == 0x6) {
      len = 2;
      cp = b & 0x1Fu;
    } else if ((b >> 4) == 0xE) {
      len = 3;
      cp = b & 0x0Fu;
    } else if ((b >> 3) == 0x1E) {
      len = 4;
      cp = b & 0x07u;
    } else {
      return i;
    }
    if (i + len > s.size()) {
      return i;
    }
    for (std::size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c >> 6) != 0x2) {
        return i;
      }
      cp = (cp << 6) | (c & 0x3Fu);
    }
    const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += len;
  }
  return utf8_check::npos;
}

std::string encode(std::uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

} // namespace

TEST_CASE("utf8: every code point encodes to valid UTF-8, surrogates do not", "[data][utf8]") {
  for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const std::string s = encode(cp);
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    if (is_valid_utf8(s) == surrogate) {
      FAIL("code point " << cp);
    }
  }
  CHECK_FALSE(is_valid_utf8(encode(0x110000)));
}

TEST_CASE("utf8: agrees with the reference on all 1- and 2-byte strings", "[data][utf8]") {
  for (unsigned a = 0; a < 256; ++a) {
    const std::string one(1, static_cast<char>(a));
    REQUIRE(check_utf8(one).offset == reference_first_error(one));
    for (unsigned b = 0; b < 256; ++b) {
      const std::string two{static_cast<char>(a), static_cast<char>(b)};
      if (check_utf8(two).offset != reference_first_error(two)) {
        FAIL("bytes " << a << ' ' << b);
      }
    }
  }
}

TEST_CASE("utf8: agrees with the reference on multi-byte leads and random text", "[data][utf8]") {
  const unsigned char tails[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  for (unsigned lead = 0xC0; lead < 0x100; ++lead) {
    for (unsigned b = 0; b < 256; ++b) {
      for (const unsigned char c : tails) {
        for (const unsigned char d : tails) {
          const std::string s{static_cast<char>(lead), static_cast<char>(b), static_cast<char>(c),
                              static_cast<char>(d)};
          if (check_utf8(s).offset != reference_first_error(s)) {
            FAIL("bytes " << lead << ' ' << b << ' ' << unsigned(c) << ' ' << unsigned(d));
          }
        }
      }
    }
  }
  // Mostly-ASCII random text exercises the eight-byte ASCII fast path around errors.
  std::mt19937 rng(42);
  for (int trial = 0; trial < 20000; ++trial) {
    std::string s(rng() % 40, 'a');
    for (char& ch : s) {
      const unsigned r = rng() % 16;
      ch = r < 12 ? static_cast<char>('a' + r) : static_cast<char>(0x80 + rng() % 128);
    }
    if (rng() % 2 == 0) {
      s += encode(rng() % 0x110000);
    }
    const std::size_t expected = reference_first_error(s);
    if (check_utf8(s).offset != expected) {
      FAIL("trial " << trial);
    }
  }
}

TEST_CASE("utf8: offsets and reasons", "[data][utf8]") {
  CHECK(check_utf8("").valid());
  CHECK(check_utf8("plain ASCII text, longer than eight bytes").valid());
  CHECK(check_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80").valid()); // é € 😀
  CHECK(check_utf8(std::string_view("a\0b", 3)).valid());                 // NUL is U+0000
  const auto at = [](std::string_view s) {
    const utf8_check c = check_utf8(s);
    return std::pair<std::size_t, std::string>(c.offset, c.reason);
  };
  using result = std::pair<std::size_t, std::string>;
  CHECK(at("0123456789\x80") == result{10, "a continuation byte without a lead byte"});
  CHECK(at("ab\xC0\xAF") == result{2, "an overlong encoding"});
  CHECK(at("ab\xE0\x80\xAF") == result{2, "an overlong encoding"});
  CHECK(at("ab\xF0\x80\x80\xAF") == result{2, "an overlong encoding"});
  CHECK(at("ab\xED\xA0\x80") == result{2, "a UTF-16 surrogate (U+D800..U+DFFF)"});
  CHECK(at("ab\xF4\x90\x80\x80") == result{2, "a code point above U+10FFFF"});
  CHECK(at("ab\xF5\x80\x80\x80") == result{2, "a byte never used in UTF-8"});
  CHECK(at("ab\xE2\x82") == result{2, "a sequence cut by the end of the text"});
  CHECK(at("ab\xE2\x82x") == result{2, "a truncated sequence"});
  CHECK(at("ab\xC3") == result{2, "a sequence cut by the end of the text"});
  CHECK(at("abcdefgh\xF0\x9F\x98") == result{8, "a sequence cut by the end of the text"});
}

TEST_CASE("utf8: decode_utf8 gives every code point back, and the length of its sequence",
          "[data][utf8]") {
  using mlsd::data::decode_utf8;
  for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      continue;
    }
    const std::string s = encode(cp) + "x"; // a byte after the sequence must not be read into it
    const auto d = decode_utf8(s, 0);
    if (!d.valid() || d.code_point != cp || d.length != s.size() - 1) {
      FAIL("code point " << cp << ": got " << std::uint32_t(d.code_point) << ", length "
                         << d.length);
    }
  }
  // Decoding at an offset, in the middle of a text.
  const std::string_view text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  CHECK(decode_utf8(text, 1).code_point == 0xE9);
  CHECK(decode_utf8(text, 3).code_point == 0x20AC);
  CHECK(decode_utf8(text, 6).code_point == 0x1F600);
  CHECK(decode_utf8(text, 6).length == 4);
  // Ill-formed: no length, no code point, and the reason check_utf8 reports at the same byte.
  for (const std::string_view bad :
       {std::string_view("\x80"), std::string_view("\xC0\xAF"), std::string_view("\xED\xA0\x80"),
        std::string_view("\xF4\x90\x80\x80"), std::string_view("\xE2\x82"),
        std::string_view("\xE2\x82x")}) {
    const auto d = decode_utf8(bad, 0);
    CHECK_FALSE(d.valid());
    CHECK(d.length == 0);
    CHECK(d.code_point == 0);
    CHECK(std::string(d.reason) == check_utf8(bad).reason);
  }
  // Agrees with the reference on every 2-byte string: valid exactly where the reference sees no
  // error at offset 0.
  for (unsigned a = 0x80; a < 256; ++a) {
    for (unsigned b = 0; b < 256; ++b) {
      const std::string two{static_cast<char>(a), static_cast<char>(b)};
      const bool valid_first = reference_first_error(two) != 0;
      if (decode_utf8(two, 0).valid() != valid_first) {
        FAIL("bytes " << a << ' ' << b);
      }
    }
  }
}
