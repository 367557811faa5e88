// The LIBSVM parser's fast paths for plain decimals (data/libsvm.hpp: detail::parse_plain_decimal
// and detail::parse_plain_pair) against fast_float, over their whole domain. mlsd parses numbers
// with fast_float; these two paths exist only because the common `index:0.123456` pair dominates
// LIBSVM files, and they must return exactly what fast_float returns wherever they accept a token.
//
// Domain: a decimal with m <= 2^24 as its digits and f <= 8 of them after the point. Every such
// (m, f) is tried in builds with NDEBUG (the Release builds of the README and CI); Debug and
// sanitizer builds, which run about ten times slower, try every 7th m.
#include <mlsd/data/libsvm.hpp>

#include <fast_float/fast_float.h>

#include <catch2/catch.hpp>

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <system_error>

namespace {

#ifdef NDEBUG
constexpr std::uint32_t m_step = 1;
#else
constexpr std::uint32_t m_step = 7;
#endif

// Writes m with f digits after the point ("0.000123" style when m < 10^f) at `out`; returns
// the length.
std::size_t format_decimal(std::uint32_t m, int f, char* out) {
  char digits[16];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + m % 10);
    m /= 10;
  } while (m != 0);
  while (n < f + 1) {
    digits[n++] = '0';
  }
  std::size_t len = 0;
  for (int i = n - 1; i >= 0; --i) {
    out[len++] = digits[i];
    if (i == f && f > 0) {
      out[len++] = '.';
    }
  }
  return len;
}

} // namespace

TEST_CASE("LIBSVM fast paths agree with fast_float on every plain decimal they accept",
          "[data][libsvm][fast_path]") {
  std::array<char, 64> buf{};
  std::uint64_t tried = 0, decimal_accepted = 0, pair_accepted = 0, mismatches = 0;
  for (int f = 0; f <= 8; ++f) {
    for (std::uint32_t m = 0; m <= (std::uint32_t{1} << 24); m += m_step) {
      buf.fill(' ');
      buf[0] = '7';
      buf[1] = ':';
      const std::size_t len = format_decimal(m, f, buf.data() + 2);
      const char* token = buf.data() + 2;
      float expected = 0.0f;
      const auto r = fast_float::from_chars(token, token + len, expected);
      mismatches += r.ec != std::errc{}; // one Catch assertion per token would dominate the time
      ++tried;

      const char* p = token;
      float value = -1.0f;
      if (mlsd::data::detail::parse_plain_decimal(p, buf.data() + buf.size(), value)) {
        ++decimal_accepted;
        mismatches += std::bit_cast<std::uint32_t>(value) != std::bit_cast<std::uint32_t>(expected);
        mismatches += p != token + len;
      }
      p = buf.data();
      std::uint32_t index = 0;
      value = -1.0f;
      if (mlsd::data::detail::parse_plain_pair(p, buf.data() + buf.size(), 1, index, value)) {
        ++pair_accepted;
        mismatches += std::bit_cast<std::uint32_t>(value) != std::bit_cast<std::uint32_t>(expected);
        mismatches += index != 6 || p != token + len + 1; // it also steps over the blank
      }
    }
  }
  INFO("tried " << tried << ", plain_decimal accepted " << decimal_accepted
                << ", plain_pair accepted " << pair_accepted);
  CHECK(mismatches == 0);
  // The paths must actually cover the domain, or the test proves nothing.
  CHECK(decimal_accepted > tried / 2);
  CHECK(pair_accepted > tried / 2);
}

TEST_CASE("LIBSVM fast paths decline what is not a plain decimal", "[data][libsvm][fast_path]") {
  for (const char* text : {"1e5", "+1", "nan", "inf", "0x10", "1.5.", "123456789.5", "16777217",
                           "-", ".", "1,5", "0.123456789012"}) {
    std::array<char, 64> buf{};
    buf.fill(' ');
    std::memcpy(buf.data(), text, std::strlen(text));
    const char* p = buf.data();
    float value = 0.0f;
    INFO(text);
    CHECK_FALSE(mlsd::data::detail::parse_plain_decimal(p, buf.data() + buf.size(), value));
    CHECK(p == buf.data());
  }
}
