/// @file
/// The LIBSVM / SVMlight / libFM text format as a streaming source of `sparse_row`s:
///
/// ```text
/// <label> <index>:<value> <index>:<value> ... [# comment]
/// ```
///
/// ```cpp
/// mlsd::data::libsvm_source train("a9a");                  // 1-based indices, fail on bad input
/// std::vector<mlsd::sparse_row> rows(256);
/// while (const std::size_t n = train.read(rows)) { /* rows[0..n) */ }
/// std::cout << train.report().summary() << '\n';
/// ```
///
/// Accepted syntax (docs/ingestion.md has the full table):
/// - fields are separated by one or more spaces or tabs; leading and trailing blanks are ignored;
/// - the label is any finite number (`+1`, `-1`, `0`, `1`, `3.5` for libFM regression);
/// - an index is a base-10 integer counted from `index_base` (1 for LIBSVM, 0 for libFM); rows
///   store indices counted from 0, so index `k` of a 1-based file is stored as `k - 1`;
/// - a value is a finite floating-point number (`1`, `-0.5`, `1e-3`); explicit zeros are kept;
/// - a field that starts with `#` starts a comment, to the end of the line (`3:1 # note` is a pair
///   and a comment; `3:1#note` is a bad value); a line that is empty, all blanks or only a comment
///   holds no record: it is skipped and counted (`blank_lines()`);
/// - indices out of order are sorted (values follow their index) and the row is counted
///   (`unsorted_rows()`); an index that appears twice in a row is an error.
///
/// Memory stays at one read chunk plus the longest line (`line_reader`), whatever the file's size;
/// reading rows into the same `sparse_row` objects allocates only while rows keep getting longer.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/ingest.hpp>
#include <mlsd/data/numbers.hpp>

#include <fast_float/fast_float.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

namespace detail {

/// Why a line did not parse; built only on the error path.
struct line_failure {
  std::size_t offset = 0; ///< 0-based byte offset of the offending token in the line
  std::string expected;
  std::string found;
  std::string field;
};

/// What parsing one line produced.
enum class line_status {
  record, ///< a record
  blank,  ///< no record: an empty line, only blanks, or only a comment
  bad,    ///< a malformed record; see the `line_failure`
};

[[nodiscard]] constexpr bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t';
}

[[nodiscard]] inline const char* skip_blanks(const char* p, const char* end) noexcept {
  while (p != end && is_blank(*p)) {
    ++p;
  }
  return p;
}

[[nodiscard]] inline const char* token_end(const char* p, const char* end) noexcept {
  while (p != end && !is_blank(*p)) {
    ++p;
  }
  return p;
}

/// The end of the part of `[p, end)` that stops at the first blank or `stop` byte.
[[nodiscard]] inline const char* part_end(const char* p, const char* end, char stop) noexcept {
  while (p != end && !is_blank(*p) && *p != stop) {
    ++p;
  }
  return p;
}

/// Scans base-10 digits from `p`; returns the first byte after them. Values above 10^12 saturate
/// (they are out of any index range anyway), so long digit strings never overflow.
[[nodiscard]] inline const char* scan_digits(const char* p, const char* end,
                                             std::uint64_t& out) noexcept {
  std::uint64_t v = 0;
  while (p != end && static_cast<unsigned char>(*p - '0') < 10) {
    v = v < 1'000'000'000'000ULL ? v * 10 + static_cast<unsigned>(*p - '0')
                                 : std::numeric_limits<std::uint64_t>::max();
    ++p;
  }
  out = v;
  return p;
}

[[nodiscard]] inline bool fail(line_failure& why, const char* line, const char* at,
                               std::string expected, std::string_view found,
                               std::string field = {}) {
  why.offset = static_cast<std::size_t>(at - line);
  why.expected = std::move(expected);
  why.found = std::string(found);
  why.field = std::move(field);
  return false;
}

/// Eight bytes at `p` with each byte XOR `'0'`, so that digit bytes hold their value 0..9, as a
/// little-endian word (the caller guarantees 8 readable bytes; SWAR paths are little-endian only).
[[nodiscard]] inline std::uint64_t load_digit_word(const char* p) noexcept {
  std::uint64_t w = 0;
  std::memcpy(&w, p, sizeof w);
  return w ^ 0x3030303030303030ULL;
}

/// How many of the word's bytes, from the first, are digits (0..8). A byte is a digit when its
/// value (after XOR `'0'`) is below 10, i.e. when adding 0x76 does not set its high bit; a carry
/// out of a non-digit byte can only disturb the bytes after it, which do not count.
[[nodiscard]] inline int leading_digit_count(std::uint64_t x) noexcept {
  const std::uint64_t high = ((x + 0x7676767676767676ULL) | x) & 0x8080808080808080ULL;
  return high == 0 ? 8 : std::countr_zero(high) >> 3;
}

/// The value of the first `n` (1..8) digit bytes of `x`: shifted so that they are the last `n` of
/// eight, then combined pairwise in three multiplications (Lemire, "Number parsing at a
/// gigabyte per second", Software: Practice and Experience 2021; fast_float's
/// `parse_eight_digits_unrolled`).
[[nodiscard]] inline std::uint32_t digit_word_value(std::uint64_t x, int n) noexcept {
  x <<= 8 * (8 - n);
  x = x * 10 + (x >> 8);
  x = (((x & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
       (((x >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
      32;
  return static_cast<std::uint32_t>(x);
}

/// Clinger's fast path (W. D. Clinger, "How to read floating point numbers accurately", PLDI
/// 1990) for the plain decimals most files hold (`0.25`, `-3`, `0.0452111`): when the digits form
/// an integer `m <= 2^24` with `e <= 10` of them after the point, `m` and `10^e` are exact floats
/// and one IEEE division `m / 10^e` rounds correctly, as `strtof` does. Returns false (leaving
/// `p`) for anything else (exponents, more digits, a `+`, a bad token), which the general path
/// then parses or reports.
[[nodiscard]] inline bool parse_plain_decimal(const char*& p, const char* end,
                                              float& value) noexcept {
  static constexpr float powers_of_ten[] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f,
                                            1e6f, 1e7f, 1e8f, 1e9f, 1e10f};
  static constexpr std::uint64_t scale[] = {1,      10,      100,      1000,     10000,
                                            100000, 1000000, 10000000, 100000000};
  const char* q = p;
  const bool negative = q != end && *q == '-';
  q += negative ? 1 : 0;
  std::uint64_t m = 0;
  std::ptrdiff_t digits = 0;
  std::ptrdiff_t fraction = 0;
  if (std::endian::native == std::endian::little && end - q >= 16) {
    // Branch-light: up to 7 integer digits, a point, up to 7 fraction digits, in two words.
    const std::uint64_t whole = load_digit_word(q);
    const int n = leading_digit_count(whole);
    if (n == 8) {
      return false;
    }
    m = n == 0 ? 0 : digit_word_value(whole, n);
    q += n;
    digits = n;
    if (*q == '.') {
      ++q;
      const std::uint64_t part = load_digit_word(q);
      const int f = leading_digit_count(part);
      if (f == 8) {
        return false;
      }
      m = m * scale[f] + (f == 0 ? 0 : digit_word_value(part, f));
      q += f;
      digits += f;
      fraction = f;
    }
  } else {
    // At most 19 digits in all, so that `m` cannot wrap; more digits take the general path.
    const char* const first = q;
    while (q != end && static_cast<unsigned char>(*q - '0') < 10 && q - first < 19) {
      m = m * 10 + static_cast<unsigned>(*q - '0');
      ++q;
    }
    digits = q - first;
    if (q != end && *q == '.') {
      const char* const point = ++q;
      while (q != end && static_cast<unsigned char>(*q - '0') < 10 && digits < 19) {
        m = m * 10 + static_cast<unsigned>(*q - '0');
        ++q;
        ++digits;
      }
      fraction = q - point;
    }
  }
  if (digits == 0 || (q != end && !is_blank(*q)) || m > (std::uint64_t{1} << 24) || fraction > 10) {
    return false;
  }
  const float magnitude = static_cast<float>(m) / powers_of_ten[fraction];
  value = negative ? -magnitude : magnitude;
  p = q;
  return true;
}

/// The common index: 1 to 8 digits, then `':'` (the index counted from `base`, at least `base`).
/// Returns false, leaving `p`, for anything else, which `parse_index_colon` then parses or
/// reports.
[[nodiscard]] inline bool parse_plain_index(const char*& p, const char* end, std::uint32_t base,
                                            std::uint32_t& out) noexcept {
  std::uint32_t v = 0;
  int n = 0;
  if (std::endian::native == std::endian::little && end - p > 8) {
    const std::uint64_t x = load_digit_word(p);
    n = leading_digit_count(x);
    if (n == 0) {
      return false;
    }
    v = digit_word_value(x, n);
  } else {
    while (p + n != end && static_cast<unsigned char>(p[n] - '0') < 10 && n < 8) {
      v = v * 10 + static_cast<unsigned>(p[n] - '0');
      ++n;
    }
    if (n == 0 || p + n == end) {
      return false;
    }
  }
  if (p[n] != ':' || v < base) {
    return false;
  }
  out = v - base;
  p += n + 1;
  return true;
}

/// Bytes of `w` below 0x21 (blanks, control bytes, NUL), as high bits; the lowest one is exact.
[[nodiscard]] constexpr std::uint64_t below_0x21_mask(std::uint64_t w) noexcept {
  return (w - 0x2121212121212121ULL) & ~w & 0x8080808080808080ULL;
}

/// The 8 bytes from byte `o` (0..15) of the 24 bytes `w1`, `w2`, `w3`.
[[nodiscard]] constexpr std::uint64_t word_at(std::uint64_t w1, std::uint64_t w2, std::uint64_t w3,
                                              int o) noexcept {
  const std::uint64_t lo = o < 8 ? w1 : w2;
  const std::uint64_t hi = o < 8 ? w2 : w3;
  const int s = 8 * (o & 7);
  return s == 0 ? lo : (lo >> s) | (hi << (64 - s));
}

/// The common LIBSVM pair, `<1 to 7 digits>:<plain decimal><blank>` within 24 bytes, read from
/// three words in one pass; the decimal has at most 8 digits (`0.` in front does not count). The
/// next pair's position only depends on where the blank is, so the processor overlaps the digit
/// arithmetic of consecutive pairs. Returns false, leaving `p`, for anything else (or when fewer
/// than 24 bytes are left), which the general path then parses or reports.
// Forced inline: called once per pair, it is the parser's inner loop (about 5% faster in
// bench/parse_bench when the compiler may interleave consecutive pairs).
[[nodiscard, gnu::always_inline]] inline bool parse_plain_pair(const char*& p, const char* end,
                                                               std::uint32_t base,
                                                               std::uint32_t& index,
                                                               float& value) noexcept {
  static constexpr double inverse_powers_of_ten[] = {1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7};
  if (std::endian::native != std::endian::little || end - p < 24) {
    return false;
  }
  std::uint64_t w1 = 0;
  std::uint64_t w2 = 0;
  std::uint64_t w3 = 0;
  std::memcpy(&w1, p, 8);
  std::memcpy(&w2, p + 8, 8);
  std::memcpy(&w3, p + 16, 8);
  const std::uint64_t x = w1 ^ 0x3030303030303030ULL;
  const int c = leading_digit_count(x); // digits of the index
  if (c == 0 || c == 8 || ((w1 >> (8 * c)) & 0xFF) != ':') {
    return false;
  }
  // The first byte below 0x21 ends the pair (digits, ':' and the value are all above it).
  const std::uint64_t t1 = below_0x21_mask(w1);
  const std::uint64_t t2 = below_0x21_mask(w2);
  const std::uint64_t t3 = below_0x21_mask(w3);
  const int b = t1 != 0   ? std::countr_zero(t1) >> 3
                : t2 != 0 ? 8 + (std::countr_zero(t2) >> 3)
                          : 16 + (std::countr_zero(t3) >> 3);
  if (b == 24 || !is_blank(p[b])) {
    return false;
  }
  int o = c + 1;   // where the value starts
  int len = b - o; // and its bytes
  std::uint64_t v = word_at(w1, w2, w3, o);
  const bool negative = (v & 0xFF) == '-';
  if (negative) {
    v = word_at(w1, w2, w3, ++o);
    --len;
  }
  const bool fraction_only = len > 2 && (v & 0xFFFF) == 0x2E30; // "0." in front
  if (fraction_only) {
    o += 2;
    len -= 2;
    v = word_at(w1, w2, w3, o);
  }
  if (len < 1 || len > 8) {
    return false;
  }
  // The value's digits in one word, the point (if any) taken out.
  std::uint64_t digits = v ^ 0x3030303030303030ULL; // the byte after the value is not a digit
  const int n = leading_digit_count(digits);        // digits before the point
  int count = len;
  int f = fraction_only ? len : 0;
  if (n < len) {
    if (fraction_only || ((v >> (8 * n)) & 0xFF) != '.') {
      return false;
    }
    const std::uint64_t low = (std::uint64_t{1} << (8 * n)) - 1; // n <= 7
    digits = (digits & low) | ((digits >> 8) & ~low);
    count = len - 1;
    f = count - n;
    if (count == 0 || leading_digit_count(digits) < count) {
      return false;
    }
  }
  const std::uint32_t i = digit_word_value(x, c);
  const std::uint32_t m = digit_word_value(digits, count);
  if (i < base || m > (std::uint32_t{1} << 24)) {
    return false;
  }
  // For f <= 7, m * 10^-f in double, then rounded to float, is the correctly rounded m / 10^f
  // (m <= 2^24): the product is within 2^-52 (relative) of the quotient, which is either a float
  // or at least 2^-48 (relative) away from every midpoint between floats (its distance to M / 2^k
  // is a multiple of 1 / (10^f 2^k), with M < 2^25), so both round the same way; a multiplication
  // keeps the divider off the path. For f = 8, one exact-operand float division (Clinger 1990).
  const float magnitude =
      f < 8 ? static_cast<float>(static_cast<double>(m) * inverse_powers_of_ten[f])
            : static_cast<float>(m) / 1e8f;
  value = negative ? -magnitude : magnitude;
  index = i - base;
  p += b + 1;
  return true;
}

/// `parse_plain_pair` for the last bytes of a line (fewer than 24): on a copy padded with blanks.
[[nodiscard]] inline bool parse_plain_tail(const char*& p, const char* end, std::uint32_t base,
                                           std::uint32_t& index, float& value) noexcept {
  const auto left = static_cast<std::size_t>(end - p);
  if (left >= 24) {
    return false;
  }
  char padded[24];
  std::memset(padded, ' ', sizeof padded);
  std::memcpy(padded, p, left);
  const char* q = padded;
  if (!parse_plain_pair(q, padded + sizeof padded, base, index, value)) {
    return false;
  }
  p += std::min(static_cast<std::size_t>(q - padded), left);
  return true;
}

/// Parses the value that starts at `p` up to the next blank: the plain-decimal fast path, then
/// fast_float, then the whole-token `parse_floating` (which also takes a leading `+`).
/// On success `p` moves past the value.
[[nodiscard]] inline bool parse_value(const char* line, const char*& p, const char* end,
                                      float& value, line_failure& why, const char* what,
                                      bool fast_path = true) {
  if (fast_path && parse_plain_decimal(p, end, value)) {
    return true;
  }
  const char* start = p;
  const auto r = fast_float::from_chars(start, end, value);
  const char* stop = r.ptr;
  if (r.ec != std::errc{} || (stop != end && !is_blank(*stop))) {
    stop = token_end(start, end);
    if (!parse_floating(std::string_view(start, static_cast<std::size_t>(stop - start)), value)) {
      std::string expected = "a number as the ";
      expected += what;
      return fail(why, line, start, std::move(expected),
                  std::string_view(start, static_cast<std::size_t>(stop - start)));
    }
  }
  if (!std::isfinite(value)) {
    std::string expected = "a finite number as the ";
    expected += what;
    return fail(why, line, start, std::move(expected),
                std::string_view(start, static_cast<std::size_t>(stop - start)));
  }
  p = stop;
  return true;
}

/// Parses an index (a field number or a feature index) at `p`, counted from `base`, followed by
/// `':'`. On success stores it counted from 0 and moves `p` past the `':'`.
[[nodiscard]] inline bool parse_index_colon(const char* line, const char*& p, const char* end,
                                            std::uint32_t base, std::uint32_t& out,
                                            line_failure& why, const char* what,
                                            const char* syntax) {
  const char* start = p;
  if (parse_plain_index(p, end, base, out)) {
    return true;
  }
  const char* stop = part_end(start, end, ':');
  const std::string_view part(start, static_cast<std::size_t>(stop - start));
  std::uint64_t v = 0;
  const char* q = scan_digits(start, end, v);
  if (q == start || q != stop) {
    std::string expected;
    if (start != end && *start == '-') {
      expected = base == 0 ? "a non-negative " : "a positive ";
      expected += what;
    } else {
      expected = "a ";
      expected += what;
      expected += " (base-10 digits)";
    }
    return fail(why, line, start, std::move(expected), part);
  }
  if (q == end || *q != ':') {
    std::string expected = "'";
    expected += syntax;
    expected += "' (a ':' after the ";
    expected += what;
    expected += ')';
    return fail(why, line, start, std::move(expected),
                std::string_view(start, static_cast<std::size_t>(token_end(start, end) - start)));
  }
  if (v < base) {
    std::string expected = "a ";
    expected += what;
    expected += " of at least ";
    expected += std::to_string(base);
    return fail(why, line, start, std::move(expected), part);
  }
  v -= base;
  if (v > std::numeric_limits<std::uint32_t>::max()) {
    std::string expected = "a ";
    expected += what;
    expected += " of at most ";
    expected += std::to_string(std::uint64_t{std::numeric_limits<std::uint32_t>::max()} + base);
    return fail(why, line, start, std::move(expected), part);
  }
  out = static_cast<std::uint32_t>(v);
  p = q + 1;
  return true;
}

/// Parses the label at the start of `[p, end)` (leading blanks already skipped).
[[nodiscard]] inline bool parse_label(const char* line, const char*& p, const char* end,
                                      float& label, line_failure& why) {
  const char* start = p;
  const char* stop = token_end(start, end);
  const std::string_view token(start, static_cast<std::size_t>(stop - start));
  if (!parse_floating(token, label)) {
    return fail(why, line, start, "a number as the label", token, "label");
  }
  if (!std::isfinite(label)) {
    return fail(why, line, start, "a finite number as the label", token, "label");
  }
  p = stop;
  return true;
}

[[nodiscard]] inline input_error to_input_error(const line_failure& why, std::string file,
                                                std::uint64_t line) {
  return input_error({std::move(file), line, why.offset + 1, why.field}, why.expected, why.found);
}

// JSON helpers shared by the format configs: every field is optional (defaults apply), unknown
// keys and wrong types are `config_error`s naming `section.key`.
inline std::string config_field_name(const char* section, std::string_view key) {
  std::string name = section;
  name += '.';
  name += key;
  return name;
}

template <class Json>
requires std::same_as<Json, nlohmann::json>
void check_config_keys(const Json& j, const char* section,
                       std::initializer_list<const char*> keys) {
  if (!j.is_object()) {
    throw config_error(section, "a JSON object");
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return it.key() == k; })) {
      std::string expected = "one of the known keys (";
      for (const char* k : keys) {
        expected += k;
        expected += k == *(keys.end() - 1) ? ")" : ", ";
      }
      throw config_error(config_field_name(section, it.key()), std::move(expected));
    }
  }
}

template <class T, class Json>
requires std::same_as<Json, nlohmann::json>
void read_config_field(const Json& j, const char* section, const char* key, T& out) {
  const auto it = j.find(key);
  if (it == j.end()) {
    return;
  }
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) {
      throw config_error(config_field_name(section, key), "a boolean");
    }
  } else {
    if (!it->is_number_unsigned() ||
        it->template get<std::uint64_t>() > std::uint64_t{std::numeric_limits<T>::max()}) {
      std::string expected = "an integer from 0 to ";
      expected += std::to_string(std::numeric_limits<T>::max());
      throw config_error(config_field_name(section, key), std::move(expected));
    }
  }
  out = it->template get<T>();
}

/// Validates the buffer sizes every text format config has.
inline void validate_reader_sizes(const char* section, std::size_t chunk_bytes,
                                  std::size_t max_line_bytes) {
  if (chunk_bytes == 0) {
    throw config_error(config_field_name(section, "chunk_bytes"), "a positive size");
  }
  if (max_line_bytes == 0) {
    throw config_error(config_field_name(section, "max_line_bytes"), "a positive size");
  }
}

/// What the three text sources share: lines from a `line_reader`, one record per line parsed by
/// `Format` (`config`, `record_type`, and `line_status parse(std::string_view, record_type&,
/// line_failure&)`), bad records through the `error_sink`. The public types derive from it.
template <class Format>
class line_source : public data_source_tag {
public:
  using record_type = typename Format::record_type;
  using config = typename Format::config;

  /// Opens `path`. Throws `config_error` for an invalid `cfg` and `input_error` when the file
  /// cannot be opened.
  explicit line_source(const std::filesystem::path& path, config cfg = {}, error_policy policy = {})
      : format_(std::move(cfg))
      , reader_(path, format_.settings().reader())
      , sink_(std::move(policy)) {}

  /// Reads from a `line_reader`, e.g. `line_reader::from_string(text, "name")` for text in
  /// memory (the reader's own buffer sizes apply, not `cfg`'s).
  explicit line_source(line_reader reader, config cfg = {}, error_policy policy = {})
      : format_(std::move(cfg))
      , reader_(std::move(reader))
      , sink_(std::move(policy)) {}

  /// Fills a prefix of `out` with the next records and returns how many; 0 at the end of the
  /// input (or when `out` is empty). Bad records throw `input_error` (policy `fail`, the default)
  /// or are skipped and counted (`skip`); blank lines are skipped and counted in `blank_lines()`.
  /// A line longer than `max_line_bytes` is a bad record like any other. Complexity: linear in
  /// the bytes read; no allocation once the records' vectors are as long as the longest row.
  std::size_t read(std::span<record_type> out) {
    std::size_t n = 0;
    text_line line;
    while (n < out.size() && next_line(reader_, line, sink_)) {
      if (consume(line, out[n])) {
        ++n;
      }
    }
    return n;
  }

  /// Clears `batch` (keeping its capacity) and appends up to `max_rows` next rows in CSR form;
  /// returns how many, 0 at the end of the input. Errors as in `read`.
  std::size_t read_batch(sparse_batch& batch,
                         std::size_t max_rows) requires std::same_as<record_type, sparse_row> {
    batch.clear();
    std::size_t n = 0;
    text_line line;
    while (n < max_rows && next_line(reader_, line, sink_)) {
      if (consume(line, scratch_)) {
        batch.push_back(scratch_.view());
        ++n;
      }
    }
    return n;
  }

  /// Records accepted and skipped so far, with the first skipped ones in full.
  [[nodiscard]] const ingest_report& report() const noexcept { return sink_.report(); }
  /// Lines that held no record (empty, only blanks, or only a comment) so far.
  [[nodiscard]] std::uint64_t blank_lines() const noexcept { return blank_lines_; }
  /// Bytes read from the input so far.
  [[nodiscard]] std::uint64_t bytes_read() const noexcept { return reader_.bytes_read(); }
  /// The name errors use for the input (the path, or the name given to `from_string`).
  [[nodiscard]] const std::string& name() const noexcept { return reader_.name(); }

protected:
  [[nodiscard]] const Format& format() const noexcept { return format_; }

private:
  bool consume(const text_line& line, record_type& record) {
    switch (format_.parse(line.text, record, failure_)) {
    case line_status::record:
      sink_.accept();
      return true;
    case line_status::blank:
      ++blank_lines_;
      return false;
    case line_status::bad:
      break;
    }
    sink_.reject(to_input_error(failure_, reader_.name(), line.number), line.text);
    return false;
  }

  Format format_;
  line_reader reader_;
  error_sink sink_;
  line_failure failure_;
  std::conditional_t<std::is_same_v<record_type, sparse_row>, sparse_row, char> scratch_{};
  std::uint64_t blank_lines_ = 0;
};

} // namespace detail

/// Settings of the LIBSVM / libFM parser. Validated on construction of a source or parser.
struct libsvm_config {
  /// How the file counts feature indices: 1 (LIBSVM, SVMlight; the default) or 0 (libFM).
  /// Rows always store indices counted from 0.
  std::uint32_t index_base = 1;
  /// Bytes read from the file at a time (`line_reader`).
  std::size_t chunk_bytes = line_reader_config{}.chunk_bytes;
  /// A longer line is a bad record (stepped over without being held: it bounds memory).
  std::size_t max_line_bytes = line_reader_config{}.max_line_bytes;
  /// Parse the common `index:plain-decimal` pair on the word-at-a-time fast path (exact: the
  /// same value as fast_float, tested on the path's whole domain). Off, every number goes through
  /// fast_float; the rows are identical either way. An ablation switch for `bench/parse_bench`.
  bool fast_paths = true;

  /// libFM's variant: the same syntax with indices counted from 0.
  [[nodiscard]] static libsvm_config libfm() {
    libsvm_config c;
    c.index_base = 0;
    return c;
  }
  /// Throws `config_error` naming the field when a value is out of range.
  void validate() const {
    if (index_base > 1) {
      throw config_error("libsvm_config.index_base", "0 or 1");
    }
    detail::validate_reader_sizes("libsvm_config", chunk_bytes, max_line_bytes);
  }
  /// The `line_reader` sizes.
  [[nodiscard]] line_reader_config reader() const { return {chunk_bytes, max_line_bytes}; }

  friend bool operator==(const libsvm_config&, const libsvm_config&) = default;
};

/// `libsvm_config` as JSON: `{"index_base": 1, "chunk_bytes": ..., "max_line_bytes": ...}`.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void to_json(Json& j, const libsvm_config& c) {
  j = Json{{"index_base", c.index_base},
           {"chunk_bytes", c.chunk_bytes},
           {"max_line_bytes", c.max_line_bytes},
           {"fast_paths", c.fast_paths}};
}

/// Reads a `libsvm_config` from JSON; missing keys keep their defaults. Throws `config_error`
/// naming the key for an unknown key, a wrong type or an invalid value.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void from_json(const Json& j, libsvm_config& c) {
  detail::check_config_keys(j, "libsvm_config",
                            {"index_base", "chunk_bytes", "max_line_bytes", "fast_paths"});
  libsvm_config out;
  detail::read_config_field(j, "libsvm_config", "index_base", out.index_base);
  detail::read_config_field(j, "libsvm_config", "chunk_bytes", out.chunk_bytes);
  detail::read_config_field(j, "libsvm_config", "max_line_bytes", out.max_line_bytes);
  detail::read_config_field(j, "libsvm_config", "fast_paths", out.fast_paths);
  out.validate();
  c = out;
}

/// The LIBSVM / libFM line parser as a value: keeps its settings and a scratch buffer, so that
/// parsing many lines allocates nothing once the rows are as long as the longest one. Used by
/// `libsvm_source`; `parse_libsvm_line` wraps it for one line. Not thread-safe (one per thread).
class libsvm_format {
public:
  using config = libsvm_config;
  using record_type = sparse_row;

  explicit libsvm_format(config cfg = {})
      : cfg_(cfg) {
    cfg_.validate();
  }

  [[nodiscard]] const config& settings() const noexcept { return cfg_; }
  /// Rows whose indices were out of order and were sorted, so far.
  [[nodiscard]] std::uint64_t unsorted_rows() const noexcept { return unsorted_rows_; }

  /// Parses `text` (one line, without its line end) into `row` (cleared first). Returns `record`,
  /// `blank` (nothing but blanks or a comment) or `bad` with `why` filled in.
  detail::line_status parse(std::string_view text, sparse_row& row, detail::line_failure& why) {
    row.clear();
    const char* const line = text.data();
    const char* const end = line + text.size();
    const char* p = detail::skip_blanks(line, end);
    if (p == end || *p == '#') {
      return detail::line_status::blank;
    }
    if (!detail::parse_label(line, p, end, row.label, why)) {
      return detail::line_status::bad;
    }
    bool unsorted = false;
    for (;;) {
      p = detail::skip_blanks(p, end);
      if (p == end || *p == '#') {
        break;
      }
      const char* const pair = p;
      std::uint32_t index = 0;
      float value = 0.0f;
      if (!(cfg_.fast_paths && (detail::parse_plain_pair(p, end, cfg_.index_base, index, value) ||
                                detail::parse_plain_tail(p, end, cfg_.index_base, index, value))) &&
          !parse_pair(line, p, end, index, value, why)) {
        return detail::line_status::bad;
      }
      if (!row.indices.empty() && index <= row.indices.back()) {
        if (index == row.indices.back()) {
          (void)detail::fail(why, line, pair, "each feature index at most once in a row",
                             std::string_view(pair, static_cast<std::size_t>(
                                                        detail::part_end(pair, end, ':') - pair)));
          return detail::line_status::bad;
        }
        unsorted = true;
      }
      row.push_back(index, value);
    }
    if (unsorted && !sort_row(text, end, row, why)) {
      return detail::line_status::bad;
    }
    return detail::line_status::record;
  }

private:
  // The general path for one `index:value` pair: any valid spelling, or the error.
  bool parse_pair(const char* line, const char*& p, const char* end, std::uint32_t& index,
                  float& value, detail::line_failure& why) const {
    const char* const pair = p;
    if (!detail::parse_index_colon(line, p, end, cfg_.index_base, index, why, "feature index",
                                   "index:value")) {
      return false;
    }
    if (p == end || detail::is_blank(*p)) {
      return detail::fail(why, line, pair, "a value after ':'",
                          std::string_view(pair, static_cast<std::size_t>(p - pair)));
    }
    return detail::parse_value(line, p, end, value, why, "feature value", cfg_.fast_paths);
  }

  // Sorts the entries by index (values follow), then looks for an index seen twice; the error
  // names the second occurrence in the line, found by scanning the (already valid) line again.
  bool sort_row(std::string_view text, const char* end, sparse_row& row,
                detail::line_failure& why) {
    const std::size_t n = row.nnz();
    order_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::uint32_t bits = 0;
      std::memcpy(&bits, &row.values[i], sizeof bits);
      order_[i] = (std::uint64_t{row.indices[i]} << 32) | bits;
    }
    std::sort(order_.begin(), order_.end());
    for (std::size_t i = 0; i < n; ++i) {
      row.indices[i] = static_cast<std::uint32_t>(order_[i] >> 32);
      const auto bits = static_cast<std::uint32_t>(order_[i]);
      std::memcpy(&row.values[i], &bits, sizeof bits);
    }
    for (std::size_t i = 1; i < n; ++i) {
      if (row.indices[i] == row.indices[i - 1]) {
        return locate_duplicate(text, end, row.indices[i], why);
      }
    }
    ++unsorted_rows_;
    return true;
  }

  bool locate_duplicate(std::string_view text, const char* end, std::uint32_t index,
                        detail::line_failure& why) const {
    const char* line = text.data();
    const char* p = detail::token_end(detail::skip_blanks(line, end), end); // past the label
    int seen = 0;
    for (;;) {
      p = detail::skip_blanks(p, end);
      if (p == end || *p == '#') { // not reached: the sorted row holds `index` twice
        return detail::fail(why, line, line, "each feature index at most once in a row", {});
      }
      const char* pair = p;
      const char* colon = detail::part_end(p, end, ':');
      std::uint64_t v = 0;
      (void)detail::scan_digits(p, colon, v);
      if (v - cfg_.index_base == index && ++seen == 2) {
        return detail::fail(why, line, pair, "each feature index at most once in a row",
                            std::string_view(pair, static_cast<std::size_t>(colon - pair)));
      }
      p = detail::token_end(p, end);
    }
  }

  config cfg_;
  std::vector<std::uint64_t> order_;
  std::uint64_t unsorted_rows_ = 0;
};

/// Parses one LIBSVM / libFM line (without its line end) into `row`, e.g. for text in memory or
/// a request body. Returns false, with `row` empty, for a line that holds no record (empty,
/// blanks, or only a comment). Throws `input_error` naming `where.file`, `where.line`, the byte
/// column of the offending token and what was expected. Allocates only to grow `row`.
inline bool parse_libsvm_line(std::string_view text, sparse_row& row, const libsvm_config& cfg = {},
                              const input_position& where = {}) {
  libsvm_format format(cfg);
  detail::line_failure why;
  switch (format.parse(text, row, why)) {
  case detail::line_status::record:
    return true;
  case detail::line_status::blank:
    return false;
  case detail::line_status::bad:
    break;
  }
  row.clear();
  throw detail::to_input_error(why, where.file, where.line);
}

/// A LIBSVM / libFM file (or text) as a `data::source` of `sparse_row`s, read in bounded memory.
/// See the file comment for the accepted syntax; `report()` counts accepted and skipped rows.
/// Not thread-safe: one reader per source.
class libsvm_source : public detail::line_source<libsvm_format> {
public:
  using detail::line_source<libsvm_format>::line_source;

  /// Rows whose indices were out of order and were sorted, so far.
  [[nodiscard]] std::uint64_t unsorted_rows() const noexcept { return format().unsorted_rows(); }
};

static_assert(source<libsvm_source>);

} // namespace data
MLSD_END_NAMESPACE
