/// @file
/// What every source shares: reading a file line by line in bounded memory, and the error policy
/// that decides what happens to a bad record (fail, or skip it, count it, keep the first ones for
/// the report and optionally write it to a quarantine file). Nothing is dropped silently.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/version.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

/// What a source does with a record that does not parse.
enum class on_error {
  fail, ///< throw the `input_error` (the default: bad data stops the job)
  skip, ///< count the record, keep it for the report, optionally quarantine it, and go on
};

/// A source's error policy. The default fails on the first bad record.
struct error_policy {
  on_error mode = on_error::fail;
  /// How many skipped records the report keeps in full (the count is always exact).
  std::size_t keep_first = 20;
  /// When not empty, every skipped record's raw text is appended to this file, one per line,
  /// so that it can be inspected and replayed.
  std::filesystem::path quarantine;

  [[nodiscard]] static error_policy skip(std::size_t keep_first = 20,
                                         std::filesystem::path quarantine = {}) {
    return {on_error::skip, keep_first, std::move(quarantine)};
  }
};

/// One skipped record: where it was, why, and (shortened) what it said.
struct bad_record {
  input_position where;
  std::string message;
  std::string text;
};

/// What a source read: records accepted and skipped, with the first skipped ones in full.
struct ingest_report {
  std::uint64_t accepted = 0;
  std::uint64_t skipped = 0;
  std::vector<bad_record> first_skipped;

  /// A short human-readable summary, e.g. "read 1000 records, skipped 2 (first: a.svm:7:3: ...)".
  [[nodiscard]] std::string summary() const {
    std::string out = "read ";
    out += std::to_string(accepted);
    out += " records, skipped ";
    out += std::to_string(skipped);
    if (!first_skipped.empty()) {
      out += " (first: ";
      out += first_skipped.front().message;
      out += ')';
    }
    return out;
  }
};

namespace detail {
struct file_closer {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using file_handle = std::unique_ptr<std::FILE, file_closer>;

[[nodiscard]] inline file_handle open_file(const std::filesystem::path& path, const char* mode) {
  file_handle f(std::fopen(path.c_str(), mode));
  if (!f) {
    const int err = errno;
    std::string expected = mode[0] == 'r' ? "a readable file" : "a writable file";
    throw input_error({path.string()}, std::move(expected), std::strerror(err));
  }
  return f;
}
} // namespace detail

/// Applies an `error_policy` and keeps the `ingest_report`. Sources own one and call `accept()`
/// for every good record and `reject()` for every bad one. Not thread-safe (one per source).
class error_sink {
public:
  explicit error_sink(error_policy policy = {})
      : policy_(std::move(policy)) {}

  void accept() noexcept { ++report_.accepted; }

  /// Fails (rethrows `error`) or skips `raw`, as the policy says.
  void reject(const input_error& error, std::string_view raw) {
    if (policy_.mode == on_error::fail) {
      throw error;
    }
    ++report_.skipped;
    if (report_.first_skipped.size() < policy_.keep_first) {
      report_.first_skipped.push_back(
          {error.where(), error.what(), input_error::printable(raw, 256)});
    }
    if (!policy_.quarantine.empty()) {
      if (!quarantine_) {
        quarantine_ = detail::open_file(policy_.quarantine, "wb");
      }
      std::fwrite(raw.data(), 1, raw.size(), quarantine_.get());
      std::fputc('\n', quarantine_.get());
      std::fflush(quarantine_.get());
    }
  }

  [[nodiscard]] const error_policy& policy() const noexcept { return policy_; }
  [[nodiscard]] const ingest_report& report() const noexcept { return report_; }

private:
  error_policy policy_;
  ingest_report report_;
  detail::file_handle quarantine_;
};

/// Thrown by `line_reader::next` for a line longer than `max_line_bytes`. The reader has already
/// stepped past that line, so a source in skip mode can count it and read on (see `next_line`).
/// `found()` holds the line's first bytes.
class line_too_long_error : public input_error {
public:
  using input_error::input_error;
};

/// One line of input: its text without the line end (`\n` or `\r\n`) and its 1-based number.
struct text_line {
  std::string_view text;
  std::uint64_t number = 0;
};

/// Buffer sizes of a `line_reader`: memory use is `chunk_bytes` plus the longest line.
struct line_reader_config {
  std::size_t chunk_bytes = std::size_t{1} << 20;
  std::size_t max_line_bytes = std::size_t{64} << 20;
};

/// Reads a file line by line through a fixed-size buffer, so memory stays at one chunk plus the
/// longest line whatever the file's size. Handles `\n` and `\r\n` line ends, a last line without a
/// line end, and a UTF-8 byte-order mark at the start of the file (skipped). A line longer than
/// `max_line_bytes` is a `line_too_long_error` naming its line, thrown after the reader has stepped
/// past it, so the next call reads the line after it. Not thread-safe; the `text` of a line is
/// valid until the next call to `next()`.
class line_reader {
  struct in_memory {};

public:
  using config = line_reader_config;

  /// Opens `path`; throws `input_error` naming the file when it cannot be opened.
  explicit line_reader(const std::filesystem::path& path)
      : line_reader(path, config{}) {}
  line_reader(const std::filesystem::path& path, config cfg)
      : name_(path.string())
      , file_(detail::open_file(path, "rb"))
      , cfg_(cfg)
      , buffer_(cfg.chunk_bytes) {
    if (cfg_.chunk_bytes == 0 || cfg_.max_line_bytes == 0) {
      throw config_error("line_reader.chunk_bytes", "a positive size");
    }
  }

  /// Reads from text already in memory (tests, in-memory sources); `name` appears in errors.
  [[nodiscard]] static line_reader from_string(std::string text, std::string name = "<memory>",
                                               config cfg = {}) {
    line_reader r(in_memory{}, std::move(name), cfg);
    r.buffer_.assign(text.begin(), text.end());
    r.end_ = r.buffer_.size();
    r.eof_ = true;
    return r;
  }

  /// The next line, or false at the end of the input.
  bool next(text_line& line) {
    for (;;) {
      const char* base = buffer_.data();
      const void* nl = begin_ == end_ ? nullptr : std::memchr(base + begin_, '\n', end_ - begin_);
      if (nl != nullptr) {
        const auto stop = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
        emit(line, stop, stop + 1);
        return true;
      }
      if (eof_) {
        if (begin_ == end_) {
          return false;
        }
        emit(line, end_, end_);
        return true;
      }
      refill();
    }
  }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The number of the last line returned (0 before the first).
  [[nodiscard]] std::uint64_t line_number() const noexcept { return line_no_; }
  /// Bytes read from the file so far.
  [[nodiscard]] std::uint64_t bytes_read() const noexcept { return bytes_; }

private:
  line_reader(in_memory, std::string name, config cfg)
      : name_(std::move(name))
      , cfg_(cfg) {}

  // Hands out [begin_, stop) as the next line and moves begin_ to `next`, also when it throws.
  void emit(text_line& line, std::size_t stop, std::size_t next) {
    const std::size_t first = begin_;
    begin_ = next;
    ++line_no_;
    std::size_t start = first;
    if (line_no_ == 1 && stop - start >= 3 &&
        std::memcmp(buffer_.data() + start, "\xEF\xBB\xBF", 3) == 0) {
      start += 3;
    }
    std::size_t len = stop - start;
    if (len > 0 && buffer_[start + len - 1] == '\r') {
      --len;
    }
    if (len > cfg_.max_line_bytes) {
      too_long(line_no_, std::string_view(buffer_.data() + start, std::min<std::size_t>(len, 64)));
    }
    line.text = std::string_view(buffer_.data() + start, len);
    line.number = line_no_;
  }

  [[noreturn]] void too_long(std::uint64_t number, std::string_view head) const {
    std::string expected = "a line of at most ";
    expected += std::to_string(cfg_.max_line_bytes);
    expected += " bytes";
    throw line_too_long_error({name_, number}, std::move(expected), std::string(head));
  }

  // The line being read has outgrown max_line_bytes: drop it up to and including its line end,
  // so that reading can go on after it, then report it.
  [[noreturn]] void skip_long_line() {
    const std::string head(buffer_.data() + begin_, std::min<std::size_t>(end_ - begin_, 64));
    begin_ = end_ = 0;
    while (!eof_) {
      const std::size_t got = std::fread(buffer_.data(), 1, buffer_.size(), file_.get());
      bytes_ += got;
      if (got == 0) {
        eof_ = true;
        break;
      }
      if (const void* nl = std::memchr(buffer_.data(), '\n', got)) {
        begin_ = static_cast<std::size_t>(static_cast<const char*>(nl) - buffer_.data()) + 1;
        end_ = got;
        break;
      }
    }
    ++line_no_;
    too_long(line_no_, head);
  }

  void refill() {
    // Move the partial line to the front, grow only when one line fills the whole buffer.
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == buffer_.size()) {
      if (end_ > cfg_.max_line_bytes + 1) {
        skip_long_line();
      }
      buffer_.resize(buffer_.size() * 2);
    }
    const std::size_t got =
        std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_.get());
    if (got == 0) {
      if (std::ferror(file_.get()) != 0) {
        throw input_error({name_, line_no_ + 1}, "a readable file", "read error");
      }
      eof_ = true;
    }
    end_ += got;
    bytes_ += got;
  }

  std::string name_;
  detail::file_handle file_;
  config cfg_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::uint64_t line_no_ = 0;
  std::uint64_t bytes_ = 0;
  bool eof_ = false;
};

/// The next line of `reader`, with a line longer than `max_line_bytes` handed to `sink`: under
/// the `fail` policy the `line_too_long_error` propagates; under `skip` the line is counted, its
/// first bytes are kept and quarantined, and reading goes on with the line after it. Sources call
/// this instead of `reader.next(line)`.
inline bool next_line(line_reader& reader, text_line& line, error_sink& sink) {
  for (;;) {
    try {
      return reader.next(line);
    } catch (const line_too_long_error& e) {
      if (sink.policy().mode == on_error::fail) {
        throw; // as itself: reject() would rethrow a copy sliced to input_error
      }
      sink.reject(e, e.found());
    }
  }
}

} // namespace data
MLSD_END_NAMESPACE
