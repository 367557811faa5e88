/// @file
/// Dependency-free SVG figures for evaluation reports: a line chart (several series, axes with
/// round ticks, a title, axis labels, a legend, optional reference lines) for ROC, PR, gain and
/// lift curves, and a reliability diagram (bars per calibration bin, a point at each bin's mean
/// prediction, the diagonal of perfect calibration).
///
/// The output is one `<svg>` element with its `xmlns`, valid both as a standalone `.svg` file and
/// inline in HTML. It has no scripts, no external references and no `id` attributes (several
/// figures can share one HTML page). Text is escaped for XML. Numbers are written with
/// `std::to_chars` at a fixed precision (two decimals for coordinates), independent of the
/// locale, so the same input gives byte-identical output. Every input number is checked: a NaN or
/// infinite coordinate throws `std::invalid_argument` instead of reaching the SVG.
///
/// ```cpp
/// namespace ev = mlsd::evaluation;
/// ev::chart_config cfg;
/// cfg.title = "ROC";
/// cfg.diagonal = true;
/// const std::string svg = ev::line_chart_svg(
///     {{{"model (AUC = 0.812)", ev::downsample(ev::roc_curve_of(scores, labels), 200)}}}, cfg);
/// ```
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/evaluation/calibration.hpp>
#include <mlsd/evaluation/curves.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace evaluation {

/// How a chart looks: its text, its size in pixels, its axis ranges and reference lines.
struct chart_config {
  /// Title above the plot (may be empty).
  std::string title;
  /// Label under the x axis.
  std::string x_label;
  /// Label left of the y axis (written vertically).
  std::string y_label;
  /// Width of the SVG in pixels, in [200, 4000].
  int width = 480;
  /// Height of the plot part in pixels, in [150, 4000]; the legend adds 18 px per entry below.
  int height = 360;
  /// The smallest range each axis covers. An axis always covers every data point too: a bound
  /// left empty, or one the data passes, is widened to a round tick value. ROC, PR and gain
  /// charts fix both axes to [0, 1].
  std::optional<double> x_min, x_max, y_min, y_max;
  /// Draw the dashed line `y = x` (chance on ROC and gain charts, perfect calibration on a
  /// reliability diagram).
  bool diagonal = false;
  /// Draw a dashed horizontal line at this `y` (lift 1, the positive rate on a PR chart).
  std::optional<double> reference_y;

  /// Throws `config_error` naming the field: the sizes out of range, a bound or the reference not
  /// finite, or a minimum not below its maximum.
  void validate() const {
    if (width < 200 || width > 4000) {
      throw config_error("chart.width", "an integer from 200 to 4000");
    }
    if (height < 150 || height > 4000) {
      throw config_error("chart.height", "an integer from 150 to 4000");
    }
    const std::array<std::pair<const char*, const std::optional<double>*>, 5> bounds = {
        {{"chart.x_min", &x_min},
         {"chart.x_max", &x_max},
         {"chart.y_min", &y_min},
         {"chart.y_max", &y_max},
         {"chart.reference_y", &reference_y}}};
    for (const auto& [field, value] : bounds) {
      if (value->has_value() && !std::isfinite(**value)) {
        throw config_error(field, "a finite number");
      }
    }
    if (x_min && x_max && !(*x_min < *x_max)) {
      throw config_error("chart.x_max", "a number above chart.x_min");
    }
    if (y_min && y_max && !(*y_min < *y_max)) {
      throw config_error("chart.y_max", "a number above chart.y_min");
    }
  }
  friend bool operator==(const chart_config&, const chart_config&) = default;
};

/// JSON: `{"title", "x_label", "y_label", "width", "height", "diagonal"}`, plus `"x_min"`,
/// `"x_max"`, `"y_min"`, `"y_max"`, `"reference_y"` when set.
inline void to_json(nlohmann::json& j, const chart_config& c) {
  j = nlohmann::json{{"title", c.title}, {"x_label", c.x_label}, {"y_label", c.y_label},
                     {"width", c.width}, {"height", c.height},   {"diagonal", c.diagonal}};
  const std::array<std::pair<const char*, const std::optional<double>*>, 5> bounds = {
      {{"x_min", &c.x_min},
       {"x_max", &c.x_max},
       {"y_min", &c.y_min},
       {"y_max", &c.y_max},
       {"reference_y", &c.reference_y}}};
  for (const auto& [key, value] : bounds) {
    if (value->has_value()) {
      j[key] = **value;
    }
  }
}

/// Reads `to_json`'s form (absent keys keep their defaults, `null` clears an optional bound,
/// unknown keys are errors); throws `config_error` naming the field.
inline void from_json(const nlohmann::json& j, chart_config& c) {
  data::detail::config_reader r(j, "chart");
  chart_config out;
  r.read("title", out.title);
  r.read("x_label", out.x_label);
  r.read("y_label", out.y_label);
  r.read("width", out.width);
  r.read("height", out.height);
  r.read("diagonal", out.diagonal);
  const std::array<std::pair<const char*, std::optional<double>*>, 5> bounds = {
      {{"x_min", &out.x_min},
       {"x_max", &out.x_max},
       {"y_min", &out.y_min},
       {"y_max", &out.y_max},
       {"reference_y", &out.reference_y}}};
  for (const auto& [key, value] : bounds) {
    if (const nlohmann::json* v = r.find(key); v != nullptr && !v->is_null()) {
      if (!v->is_number()) {
        throw config_error(r.field(key), data::detail::expected_found("a number or null", *v));
      }
      *value = v->get<double>();
    }
  }
  r.finish();
  out.validate();
  c = out;
}

/// One line of a line chart: its legend entry and its points (`threshold` is not drawn).
struct line_series {
  std::string label;
  std::vector<curve_point> points;
};

namespace detail {

/// `text` with `&`, `<`, `>`, `"` and `'` written as entities, and the control characters XML 1.0
/// forbids (all below U+0020 except tab, line feed and carriage return) replaced by U+FFFD, so
/// the result is safe in element content and in attribute values.
[[nodiscard]] inline std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        out += "\xEF\xBF\xBD";
      } else {
        out += c;
      }
    }
  }
  return out;
}

/// `v` with `decimals` digits after the point, trailing zeros (and a bare point) removed, and
/// "-0" written "0": locale-independent and deterministic. `v` must be finite.
[[nodiscard]] inline std::string fixed_number(double v, int decimals) {
  char buf[400];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  std::string out(buf, r.ptr);
  if (out.find('.') != std::string::npos) {
    while (out.back() == '0') {
      out.pop_back();
    }
    if (out.back() == '.') {
      out.pop_back();
    }
  }
  if (out == "-0") {
    out = "0";
  }
  return out;
}

/// A pixel coordinate: two decimals.
[[nodiscard]] inline std::string px(double v) {
  return fixed_number(v, 2);
}

/// Throws `std::invalid_argument` naming `what` unless `v` is finite.
inline void check_plot_value(double v, std::string_view chart, const std::string& what) {
  if (!std::isfinite(v)) {
    std::string msg = "mlsd::evaluation::";
    msg += chart;
    msg += ": ";
    msg += what;
    msg += " is not a finite number";
    throw std::invalid_argument(msg);
  }
}

/// A round tick step (1, 2 or 5 times a power of ten) giving about five intervals over `span`.
[[nodiscard]] inline double tick_step(double span) {
  const double raw = span / 5.0;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  return (f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0) * magnitude;
}

/// One axis: the range it covers, its tick step, and the decimals its tick labels need.
struct axis {
  double lo = 0.0;
  double hi = 1.0;
  double step = 0.2;
  int decimals = 1;
};

/// The axis covering `[data_lo, data_hi]` and the configured bounds: configured bounds stay as
/// given unless the data passes them; free ends are rounded out to a tick.
[[nodiscard]] inline axis make_axis(double data_lo, double data_hi, std::optional<double> min,
                                    std::optional<double> max) {
  double lo = min ? std::min(*min, data_lo) : data_lo;
  double hi = max ? std::max(*max, data_hi) : data_hi;
  if (!(hi > lo)) {
    const double pad = lo == 0.0 ? 0.5 : std::abs(lo) * 0.1;
    lo -= min ? 0.0 : pad;
    hi += max ? 0.0 : pad;
    if (!(hi > lo)) {
      hi = lo + 2.0 * pad;
    }
  }
  axis a;
  a.step = tick_step(hi - lo);
  if (!(min && *min <= data_lo)) {
    lo = std::floor(lo / a.step) * a.step;
  }
  if (!(max && *max >= data_hi)) {
    hi = std::ceil(hi / a.step) * a.step;
  }
  a.lo = lo;
  a.hi = hi;
  a.decimals = std::max(0, static_cast<int>(-std::floor(std::log10(a.step) + 1e-9)));
  return a;
}

inline constexpr std::array<const char*, 8> series_colours = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

/// Where the plot area sits inside the SVG, and the axes' pixel mapping.
struct frame {
  double left = 64.0;
  double top = 36.0;
  double right = 0.0;  // x pixel of the right edge
  double bottom = 0.0; // y pixel of the bottom edge
  axis x;
  axis y;
  [[nodiscard]] double px_x(double v) const {
    return left + (v - x.lo) / (x.hi - x.lo) * (right - left);
  }
  [[nodiscard]] double px_y(double v) const {
    return bottom - (v - y.lo) / (y.hi - y.lo) * (bottom - top);
  }
};

/// Opens the SVG: background, title, frame, grid, ticks and axis labels; `legend_rows` entries
/// of 18 px are reserved below the x label.
inline frame open_chart(std::string& out, const chart_config& cfg, axis x, axis y,
                        std::size_t legend_rows) {
  frame f;
  f.top = cfg.title.empty() ? 16.0 : 36.0;
  f.right = static_cast<double>(cfg.width) - 20.0;
  f.bottom = static_cast<double>(cfg.height) - 48.0;
  f.x = x;
  f.y = y;
  const std::string w = std::to_string(cfg.width);
  const std::string h = std::to_string(cfg.height + static_cast<int>(legend_rows) * 18 + 8);
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"" + h +
         "\" viewBox=\"0 0 " + w + " " + h +
         "\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\">\n";
  out += "<title>" + xml_escape(cfg.title) + "</title>\n";
  out += "<rect width=\"" + w + "\" height=\"" + h + "\" fill=\"#ffffff\"/>\n";
  if (!cfg.title.empty()) {
    out += "<text x=\"" + px(static_cast<double>(cfg.width) / 2.0) +
           "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">" +
           xml_escape(cfg.title) + "</text>\n";
  }
  out += "<g class=\"grid\" stroke=\"#e0e0e0\" stroke-width=\"1\">\n";
  const auto ticks = [](const axis& a) {
    std::vector<double> t;
    const double first = std::ceil(a.lo / a.step - 1e-9);
    for (double k = first;; k += 1.0) {
      const double v = k * a.step;
      if (v > a.hi + a.step * 1e-9) {
        break;
      }
      t.push_back(v);
    }
    return t;
  };
  const std::vector<double> xt = ticks(x);
  const std::vector<double> yt = ticks(y);
  for (const double v : xt) {
    out += "<line x1=\"" + px(f.px_x(v)) + "\" y1=\"" + px(f.top) + "\" x2=\"" + px(f.px_x(v)) +
           "\" y2=\"" + px(f.bottom) + "\"/>\n";
  }
  for (const double v : yt) {
    out += "<line x1=\"" + px(f.left) + "\" y1=\"" + px(f.px_y(v)) + "\" x2=\"" + px(f.right) +
           "\" y2=\"" + px(f.px_y(v)) + "\"/>\n";
  }
  out += "</g>\n<g class=\"ticks\" fill=\"#333333\">\n";
  for (const double v : xt) {
    out += "<text x=\"" + px(f.px_x(v)) + "\" y=\"" + px(f.bottom + 16.0) +
           "\" text-anchor=\"middle\">" + fixed_number(v, x.decimals) + "</text>\n";
  }
  for (const double v : yt) {
    out += "<text x=\"" + px(f.left - 6.0) + "\" y=\"" + px(f.px_y(v) + 4.0) +
           "\" text-anchor=\"end\">" + fixed_number(v, y.decimals) + "</text>\n";
  }
  out += "</g>\n";
  out += "<rect class=\"frame\" x=\"" + px(f.left) + "\" y=\"" + px(f.top) + "\" width=\"" +
         px(f.right - f.left) + "\" height=\"" + px(f.bottom - f.top) +
         "\" fill=\"none\" stroke=\"#444444\"/>\n";
  out += "<text x=\"" + px((f.left + f.right) / 2.0) + "\" y=\"" + px(f.bottom + 36.0) +
         "\" text-anchor=\"middle\">" + xml_escape(cfg.x_label) + "</text>\n";
  const double mid_y = (f.top + f.bottom) / 2.0;
  out += "<text x=\"16\" y=\"" + px(mid_y) +
         "\" text-anchor=\"middle\" transform=\"rotate(-90 16 " + px(mid_y) + ")\">" +
         xml_escape(cfg.y_label) + "</text>\n";
  return f;
}

/// The dashed reference lines of `cfg`, clipped to the frame.
inline void reference_lines(std::string& out, const frame& f, const chart_config& cfg) {
  if (cfg.diagonal) {
    const double lo = std::max(f.x.lo, f.y.lo);
    const double hi = std::min(f.x.hi, f.y.hi);
    if (lo < hi) {
      out += "<line class=\"reference\" x1=\"" + px(f.px_x(lo)) + "\" y1=\"" + px(f.px_y(lo)) +
             "\" x2=\"" + px(f.px_x(hi)) + "\" y2=\"" + px(f.px_y(hi)) +
             "\" stroke=\"#888888\" stroke-dasharray=\"5 4\"/>\n";
    }
  }
  if (cfg.reference_y && *cfg.reference_y >= f.y.lo && *cfg.reference_y <= f.y.hi) {
    out += "<line class=\"reference\" x1=\"" + px(f.left) + "\" y1=\"" +
           px(f.px_y(*cfg.reference_y)) + "\" x2=\"" + px(f.right) + "\" y2=\"" +
           px(f.px_y(*cfg.reference_y)) + "\" stroke=\"#888888\" stroke-dasharray=\"5 4\"/>\n";
  }
}

/// One legend row: a swatch (`swatch` is an SVG element drawn at the origin, moved into place)
/// and its label.
inline void legend_row(std::string& out, const chart_config& cfg, std::size_t row,
                       const std::string& swatch, std::string_view label) {
  const double y = static_cast<double>(cfg.height) + 4.0 + 18.0 * static_cast<double>(row);
  out += "<g class=\"legend\" transform=\"translate(64 " + px(y) + ")\">" + swatch +
         "<text x=\"30\" y=\"4\">" + xml_escape(label) + "</text></g>\n";
}

} // namespace detail

/// An SVG line chart of `series` (at most 8 series; one colour each, in order). The axes cover
/// the configured ranges and every point. O(total points). Thread-safe (a pure function).
/// @throws std::invalid_argument when `series` is empty or has more than 8 entries, a series has
/// no point, or a coordinate is not finite; config_error for an invalid `cfg`.
[[nodiscard]] inline std::string line_chart_svg(std::span<const line_series> series,
                                                const chart_config& cfg) {
  cfg.validate();
  if (series.empty() || series.size() > detail::series_colours.size()) {
    throw std::invalid_argument("mlsd::evaluation::line_chart_svg: expected 1 to 8 series, got " +
                                std::to_string(series.size()));
  }
  double x_lo = 0.0;
  double x_hi = 0.0;
  double y_lo = 0.0;
  double y_hi = 0.0;
  bool first = true;
  for (std::size_t s = 0; s < series.size(); ++s) {
    if (series[s].points.empty()) {
      throw std::invalid_argument("mlsd::evaluation::line_chart_svg: series '" + series[s].label +
                                  "' has no point");
    }
    for (std::size_t k = 0; k < series[s].points.size(); ++k) {
      const curve_point& p = series[s].points[k];
      const std::string where = "series[" + std::to_string(s) + "].points[" + std::to_string(k);
      detail::check_plot_value(p.x, "line_chart_svg", where + "].x");
      detail::check_plot_value(p.y, "line_chart_svg", where + "].y");
      x_lo = first ? p.x : std::min(x_lo, p.x);
      x_hi = first ? p.x : std::max(x_hi, p.x);
      y_lo = first ? p.y : std::min(y_lo, p.y);
      y_hi = first ? p.y : std::max(y_hi, p.y);
      first = false;
    }
  }
  if (cfg.reference_y) {
    y_lo = std::min(y_lo, *cfg.reference_y);
    y_hi = std::max(y_hi, *cfg.reference_y);
  }
  std::string out;
  const detail::frame f =
      detail::open_chart(out, cfg, detail::make_axis(x_lo, x_hi, cfg.x_min, cfg.x_max),
                         detail::make_axis(y_lo, y_hi, cfg.y_min, cfg.y_max), series.size());
  detail::reference_lines(out, f, cfg);
  for (std::size_t s = 0; s < series.size(); ++s) {
    const std::string colour = detail::series_colours[s];
    out += "<polyline class=\"series\" fill=\"none\" stroke=\"" + colour +
           "\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"";
    for (std::size_t k = 0; k < series[s].points.size(); ++k) {
      out += k == 0 ? "" : " ";
      out += detail::px(f.px_x(series[s].points[k].x));
      out += ',';
      out += detail::px(f.px_y(series[s].points[k].y));
    }
    out += "\"/>\n";
  }
  for (std::size_t s = 0; s < series.size(); ++s) {
    const std::string swatch = "<line x1=\"0\" y1=\"0\" x2=\"24\" y2=\"0\" stroke=\"" +
                               std::string(detail::series_colours[s]) + "\" stroke-width=\"2\"/>";
    detail::legend_row(out, cfg, s, swatch, series[s].label);
  }
  out += "</svg>\n";
  return out;
}

/// An SVG reliability diagram (DeGroot & Fienberg 1983, "The comparison and evaluation of
/// forecasters", The Statistician 32; Niculescu-Mizil & Caruana 2005, "Predicting good
/// probabilities with supervised learning", ICML): one bar per bin, spanning `[lower, upper]`
/// and as high as its observed positive rate, a point at `(mean_prediction, observed_rate)`,
/// and the diagonal of perfect calibration. Both axes are [0, 1] (the config's bounds and
/// `diagonal` are ignored); each bar's tooltip (`<title>`) gives its count. O(bins).
/// @throws std::invalid_argument when `bins` is empty, or a bin is not inside [0, 1] (bounds,
/// mean prediction, observed rate all finite, `lower <= upper`); config_error for a bad `cfg`.
[[nodiscard]] inline std::string reliability_diagram_svg(std::span<const reliability_bin> bins,
                                                         const chart_config& cfg) {
  cfg.validate();
  if (bins.empty()) {
    throw std::invalid_argument("mlsd::evaluation::reliability_diagram_svg: no bin");
  }
  for (std::size_t b = 0; b < bins.size(); ++b) {
    const reliability_bin& r = bins[b];
    for (const double v : {r.lower, r.upper, r.mean_prediction, r.observed_rate}) {
      if (!(v >= 0.0 && v <= 1.0) || r.lower > r.upper) {
        throw std::invalid_argument("mlsd::evaluation::reliability_diagram_svg: bin " +
                                    std::to_string(b) +
                                    " is not a bin of probabilities (finite values in [0, 1], "
                                    "lower <= upper)");
      }
    }
  }
  chart_config c = cfg;
  c.x_min = 0.0;
  c.x_max = 1.0;
  c.y_min = 0.0;
  c.y_max = 1.0;
  c.diagonal = true;
  c.reference_y.reset();
  std::string out;
  const detail::frame f = detail::open_chart(out, c, detail::make_axis(0.0, 1.0, 0.0, 1.0),
                                             detail::make_axis(0.0, 1.0, 0.0, 1.0), 3);
  out += "<g class=\"bins\" fill=\"#aec7e8\" stroke=\"#1f77b4\" stroke-width=\"1\">\n";
  for (const reliability_bin& r : bins) {
    const double top = f.px_y(r.observed_rate);
    out += "<rect x=\"" + detail::px(f.px_x(r.lower)) + "\" y=\"" + detail::px(top) +
           "\" width=\"" + detail::px(f.px_x(r.upper) - f.px_x(r.lower)) + "\" height=\"" +
           detail::px(f.bottom - top) + "\"><title>" + detail::fixed_number(r.lower, 4) + " to " +
           detail::fixed_number(r.upper, 4) + ": " + std::to_string(r.count) +
           " observations, mean prediction " + detail::fixed_number(r.mean_prediction, 4) +
           ", observed rate " + detail::fixed_number(r.observed_rate, 4) + "</title></rect>\n";
  }
  out += "</g>\n";
  detail::reference_lines(out, f, c);
  out += "<g class=\"points\" fill=\"#d62728\">\n";
  for (const reliability_bin& r : bins) {
    out += "<circle cx=\"" + detail::px(f.px_x(r.mean_prediction)) + "\" cy=\"" +
           detail::px(f.px_y(r.observed_rate)) + "\" r=\"3.5\"/>\n";
  }
  out += "</g>\n";
  detail::legend_row(out, c, 0,
                     "<rect x=\"4\" y=\"-6\" width=\"16\" height=\"12\" fill=\"#aec7e8\" "
                     "stroke=\"#1f77b4\"/>",
                     "observed positive rate per bin");
  detail::legend_row(out, c, 1, "<circle cx=\"12\" cy=\"0\" r=\"3.5\" fill=\"#d62728\"/>",
                     "mean prediction in the bin");
  detail::legend_row(out, c, 2,
                     "<line x1=\"0\" y1=\"0\" x2=\"24\" y2=\"0\" stroke=\"#888888\" "
                     "stroke-dasharray=\"5 4\"/>",
                     "perfect calibration");
  out += "</svg>\n";
  return out;
}

} // namespace evaluation
MLSD_END_NAMESPACE
