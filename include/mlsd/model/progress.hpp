/// @file
/// A one-line progress display for `model::train`: epoch, a bar, examples done, rate, ETA, train
/// and validation loss (and metric), redrawn in place with `\r` on a terminal and silent
/// otherwise (a log file or a CI job gets no carriage-return noise).
///
/// ```cpp
/// mlsd::model::progress_bar bar;                       // draws on std::cerr if it is a terminal
/// mlsd::model::train(model, rows, &valid, options, bar.callback());
/// ```
///
/// A line looks like
/// `epoch 2/10 [#####---------------]  25% 8,140/32,561 ex | 1.25M ex/s | ETA 0:00:07 | train
/// 0.3456 | valid 0.3321` (one line; `valid` after each epoch only, followed by
/// ` | valid roc_auc 0.7812` when the run has a validation metric). Each finished epoch keeps its
/// line; the next epoch draws below it.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/model/training.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <optional>
#include <ostream>
#include <string>

#if defined(_WIN32)
#include <io.h>
#else
#include <unistd.h>
#endif

MLSD_BEGIN_NAMESPACE
namespace model {

/// When a `progress_bar` draws.
enum class progress_display {
  automatic, ///< only when its stream is std::cerr / std::clog / std::cout on a terminal
  always,    ///< always (tests, or a terminal the library cannot detect)
  never,     ///< never
};

namespace detail {

// Whether `out` is one of the standard streams and its file descriptor is a terminal. Any other
// stream (a file, a string stream) is not a terminal.
[[nodiscard]] inline bool stream_is_terminal(const std::ostream& out) noexcept {
#if defined(_WIN32)
  const auto tty = [](std::FILE* f) { return _isatty(_fileno(f)) != 0; };
#else
  const auto tty = [](std::FILE* f) { return isatty(fileno(f)) != 0; };
#endif
  if (&out == &std::cerr || &out == &std::clog) {
    return tty(stderr);
  }
  if (&out == &std::cout) {
    return tty(stdout);
  }
  return false;
}

// `n` with thousands separators: 32561 -> "32,561".
[[nodiscard]] inline std::string with_separators(std::size_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return out;
}

[[nodiscard]] inline std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

} // namespace detail

/// The settings of a `progress_bar`; validated on construction.
struct progress_bar_config {
  progress_display display = progress_display::automatic;
  /// Minimum wall-clock time between two redraws on a terminal (the end of an epoch always
  /// draws). Off a terminal (`always` into a file or string) every report draws, so that the
  /// output does not depend on timing.
  double min_interval_seconds = 0.1;
  /// Characters of the bar between the brackets.
  std::size_t bar_width = 20;

  /// @throws mlsd::config_error naming `progress_bar.<field>`.
  void validate() const {
    if (!(min_interval_seconds >= 0.0 && std::isfinite(min_interval_seconds))) {
      throw config_error("progress_bar.min_interval_seconds", "a finite number >= 0");
    }
    if (bar_width > 200) {
      throw config_error("progress_bar.bar_width", "an integer from 0 to 200");
    }
  }
};

/// Draws the progress of a training run on one line of a stream (see the file comment).
///
/// Not thread-safe, as `progress_callback` needs (the trainer calls it from one thread). The bar
/// must outlive the training run its `callback()` is passed to.
class progress_bar {
public:
  using config = progress_bar_config;

  /// A bar drawing on `out` (std::cerr by default); `out` must outlive the bar.
  /// @throws mlsd::config_error for invalid settings.
  explicit progress_bar(std::ostream& out = std::cerr, const config& c = {})
      : out_(&out)
      , config_(checked(c))
      , terminal_(detail::stream_is_terminal(out))
      , enabled_(c.display == progress_display::always ||
                 (c.display == progress_display::automatic && terminal_)) {}

  progress_bar(const progress_bar&) = delete;
  progress_bar& operator=(const progress_bar&) = delete;

  /// Ends an unfinished line.
  ~progress_bar() { finish(); }

  /// Whether the bar draws at all.
  [[nodiscard]] bool enabled() const noexcept { return enabled_; }

  /// The callback to pass to `model::train`: draws `r` (throttled on a terminal) and returns true.
  [[nodiscard]] progress_callback callback() {
    return [this](const progress_report& r) {
      draw(r);
      return true;
    };
  }

  /// Draws `r` now if enabled (and, on a terminal, if the last draw is older than
  /// `min_interval_seconds` or `r` ends an epoch).
  void draw(const progress_report& r) {
    if (!enabled_) {
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (terminal_ && !r.epoch_done && last_draw_ &&
        std::chrono::duration<double>(now - *last_draw_).count() < config_.min_interval_seconds) {
      return;
    }
    last_draw_ = now;
    std::string line = render(r, config_.bar_width);
    const std::size_t length = line.size();
    if (length < last_length_) {
      line.append(last_length_ - length, ' '); // erase the end of a longer previous line
    }
    *out_ << '\r' << line;
    if (r.epoch_done) {
      *out_ << '\n';
      last_length_ = 0;
      open_line_ = false;
    } else {
      last_length_ = length;
      open_line_ = true;
    }
    out_->flush();
  }

  /// Ends the current line if a report left it open (training stopped by an exception).
  void finish() noexcept {
    if (open_line_) {
      try {
        *out_ << '\n';
        out_->flush();
      } catch (...) { // a destructor must not throw; the display is best effort
      }
      open_line_ = false;
    }
  }

  /// The text of one report, without `\r`: "epoch E/N [bar] P% done/total ex | rate ex/s | ETA
  /// h:mm:ss | train L", then " | valid V" when the report has a validation loss and
  /// " | valid NAME M" when it has a validation metric (e.g. " | valid roc_auc 0.7812"). The epoch
  /// is counted from 1; the rate is every example processed since the start of training (all
  /// epochs) over `r.seconds`; the ETA is the examples left in all `r.epochs` epochs at that
  /// rate ("--:--:--" before any time has passed). Pure.
  [[nodiscard]] static std::string render(const progress_report& r, std::size_t bar_width = 20) {
    const double fraction = r.examples_total == 0
                                ? 1.0
                                : std::min(1.0, static_cast<double>(r.examples_done) /
                                                    static_cast<double>(r.examples_total));
    std::string s = "epoch ";
    s += std::to_string(r.epoch + 1);
    s += '/';
    s += std::to_string(r.epochs);
    s += " [";
    const auto filled = static_cast<std::size_t>(fraction * static_cast<double>(bar_width));
    s.append(filled, '#');
    s.append(bar_width - filled, '-');
    s += "] ";
    std::string percent = std::to_string(static_cast<int>(fraction * 100.0));
    s.append(percent.size() < 3 ? 3 - percent.size() : 0, ' ');
    s += percent;
    s += "% ";
    s += detail::with_separators(r.examples_done);
    s += '/';
    s += detail::with_separators(r.examples_total);
    s += " ex | ";
    const double processed = static_cast<double>(r.epoch) * static_cast<double>(r.examples_total) +
                             static_cast<double>(r.examples_done);
    const double all = static_cast<double>(r.epochs) * static_cast<double>(r.examples_total);
    const double rate = r.seconds > 0.0 ? processed / r.seconds : 0.0;
    s += format_rate(rate);
    s += " ex/s | ETA ";
    s += rate > 0.0 ? format_duration(std::max(0.0, all - processed) / rate) : "--:--:--";
    s += " | train ";
    s += detail::fixed(r.train_loss, 4);
    if (r.valid_loss) {
      s += " | valid ";
      s += detail::fixed(*r.valid_loss, 4);
    }
    if (r.valid_metric) {
      s += " | valid ";
      s += r.valid_metric_name;
      s += ' ';
      s += detail::fixed(*r.valid_metric, 4);
    }
    return s;
  }

  /// "812", "2.50k", "1.25M", "3.00G": three significant digits above 1000.
  [[nodiscard]] static std::string format_rate(double per_second) {
    if (per_second < 1000.0) {
      return detail::fixed(per_second, 0);
    }
    if (per_second < 1e6) {
      return detail::fixed(per_second / 1e3, 2) + "k";
    }
    if (per_second < 1e9) {
      return detail::fixed(per_second / 1e6, 2) + "M";
    }
    return detail::fixed(per_second / 1e9, 2) + "G";
  }

  /// `h:mm:ss`, seconds rounded up (hours unbounded).
  [[nodiscard]] static std::string format_duration(double seconds) {
    const auto total = static_cast<std::uint64_t>(std::ceil(std::max(0.0, seconds)));
    const std::uint64_t h = total / 3600, m = total / 60 % 60, sec = total % 60;
    std::string s = std::to_string(h);
    s += ':';
    s += static_cast<char>('0' + m / 10);
    s += static_cast<char>('0' + m % 10);
    s += ':';
    s += static_cast<char>('0' + sec / 10);
    s += static_cast<char>('0' + sec % 10);
    return s;
  }

private:
  static const config& checked(const config& c) {
    c.validate();
    return c;
  }

  std::ostream* out_;
  config config_;
  bool terminal_;
  bool enabled_;
  bool open_line_ = false;
  std::size_t last_length_ = 0;
  std::optional<std::chrono::steady_clock::time_point> last_draw_;
};

} // namespace model
MLSD_END_NAMESPACE
