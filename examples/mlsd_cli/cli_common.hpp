/// @file
/// What the subcommands of the `mlsd` tool share: exit codes, the usage error, argument
/// validators with plain messages, and the output stream for predictions.
#pragma once

#include <CLI/CLI.hpp>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace mlsd_cli {

/// The tool's exit codes: 0 success, 1 a runtime error (bad data, bad model file, I/O),
/// 2 a usage error (bad flags, or flags that do not fit together).
enum exit_code : int { success = 0, runtime_failure = 1, usage_failure = 2 };

/// Flags that parse one by one but do not fit together (`--patience` without `--valid`, `--k`
/// for logistic regression): reported like CLI11's own errors, with exit code 2.
class usage_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A CLI11 validator for a whole number at least `minimum`, with a message that names the rule
/// ("expected a whole number >= 1, found '-1'") instead of CLI11's range of doubles.
[[nodiscard]] inline CLI::Validator whole_number_at_least(long long minimum) {
  std::string description = "INT>=";
  description += std::to_string(minimum);
  return CLI::Validator(
      [minimum](std::string& text) -> std::string {
        long long v = 0;
        const char* const end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, v);
        if (ec != std::errc() || ptr != end || v < minimum) {
          std::string message = "expected a whole number >= ";
          message += std::to_string(minimum);
          message += ", found '";
          message += text;
          message += '\'';
          return message;
        }
        return {};
      },
      description);
}

/// A CLI11 validator for a finite number at least `minimum` (learning rates, penalties).
[[nodiscard]] inline CLI::Validator number_at_least(double minimum, bool strictly) {
  std::string description = strictly ? "NUM>" : "NUM>=";
  description += CLI::detail::to_string(minimum);
  return CLI::Validator(
      [minimum, strictly](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        const bool ok = end == text.c_str() + text.size() && !text.empty() && std::isfinite(v) &&
                        (strictly ? v > minimum : v >= minimum);
        if (!ok) {
          std::string message = strictly ? "expected a number > " : "expected a number >= ";
          message += CLI::detail::to_string(minimum);
          message += ", found '";
          message += text;
          message += '\'';
          return message;
        }
        return {};
      },
      description);
}

/// Where predictions go: a file, or standard output for "-". Throws `std::runtime_error` naming
/// the path ("p.txt: expected a writable file, found '...'") when it cannot be opened or written.
class prediction_writer {
public:
  explicit prediction_writer(const std::string& target)
      : target_(target) {
    if (target != "-") {
      file_ = std::make_unique<std::ofstream>(target, std::ios::binary | std::ios::trunc);
      if (!*file_) {
        std::string message = target;
        message += ": expected a writable file, found '";
        message += std::error_code(errno, std::generic_category()).message();
        message += '\'';
        throw std::runtime_error(message);
      }
    }
  }

  /// Writes one score on its own line (`%.9g`).
  void write(double score) {
    char buf[40];
    const int n = std::snprintf(buf, sizeof buf, "%.9g\n", score);
    out().write(buf, n);
  }

  /// Flushes and checks that every write reached the file (a full disk is an error).
  void finish() {
    out().flush();
    if (!out()) {
      std::string message = target_ == "-" ? std::string("<stdout>") : target_;
      message += ": expected to write every prediction, found a write error";
      throw std::runtime_error(message);
    }
  }

private:
  std::ostream& out() { return file_ ? static_cast<std::ostream&>(*file_) : std::cout; }
  std::string target_;
  std::unique_ptr<std::ofstream> file_;
};

} // namespace mlsd_cli
