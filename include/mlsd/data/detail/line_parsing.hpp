/// @file
/// The line-level machinery the sparse text formats share (libsvm.hpp, libffm.hpp, criteo.hpp):
/// scanning blanks and tokens, the word-at-a-time fast paths for indices and plain decimals, the
/// general number, index and label parsers with their error text, the buffer-size settings
/// every one of those configs has (validated, written and read the same way), and `line_source`,
/// the bounded-memory source the public source types derive from.
///
/// Internals: everything here is in `detail` and may change; the public names are in the format
/// headers. Kept apart from libsvm.hpp so that libffm.hpp and criteo.hpp depend on the shared
/// parsing code, not on another format's header.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/ingest.hpp>
#include <mlsd/data/numbers.hpp>

#include <fast_float/fast_float.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

MLSD_BEGIN_NAMESPACE
namespace data::detail {

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

/// Throws `config_error` naming `section.chunk_bytes` or `section.max_line_bytes` when it is 0:
/// the buffer sizes every sparse text format config has.
inline void validate_reader_sizes(std::string_view section, std::size_t chunk_bytes,
                                  std::size_t max_line_bytes) {
  if (chunk_bytes == 0) {
    throw config_error(field_path(section, "chunk_bytes"), "a positive size");
  }
  if (max_line_bytes == 0) {
    throw config_error(field_path(section, "max_line_bytes"), "a positive size");
  }
}

/// Writes the buffer sizes as `chunk_bytes` and `max_line_bytes` into object `j`.
template <class Json>
void write_reader_sizes(Json& j, std::size_t chunk_bytes, std::size_t max_line_bytes) {
  j["chunk_bytes"] = chunk_bytes;
  j["max_line_bytes"] = max_line_bytes;
}

/// Reads the keys `write_reader_sizes` writes; absent ones keep their values.
template <class Json>
void read_reader_sizes(config_reader<Json>& r, std::size_t& chunk_bytes,
                       std::size_t& max_line_bytes) {
  r.read("chunk_bytes", chunk_bytes);
  r.read("max_line_bytes", max_line_bytes);
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

/// Parses one line with `format` (a `line_source` format) into `record`, for the public
/// `parse_*_line` functions: true for a record, false for a line that holds none; on a bad line
/// clears `record` and throws `input_error` naming `where.file`, `where.line` and the byte column.
template <class Format>
bool parse_one_line(Format& format, std::string_view text,
                    typename std::remove_const_t<Format>::record_type& record,
                    const input_position& where) {
  line_failure why;
  switch (format.parse(text, record, why)) {
  case line_status::record:
    return true;
  case line_status::blank:
    return false;
  case line_status::bad:
    break;
  }
  record.clear();
  throw to_input_error(why, where.file, where.line);
}

} // namespace data::detail
MLSD_END_NAMESPACE
