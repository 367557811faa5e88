// SVG figures and evaluation reports (include/mlsd/evaluation/plot.hpp, report.hpp): well-formed
// SVG and HTML (a small tag checker below), escaping, deterministic numbers at known pixel
// positions, every section in the HTML and the JSON, the standard binary-classifier report's
// values against the metrics computed directly, and invalid input.
#include <mlsd/evaluation/report.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ev = mlsd::evaluation;

namespace {

using floats = std::vector<float>;

// Checks that `text` is well-formed markup: every tag closed in order (HTML's void elements
// `void_tags` excepted), attribute values quoted, no raw '<' or stray '&' in text, no "nan" or
// "inf" anywhere. Returns "" or the first problem.
std::string markup_problem(std::string_view text, const std::vector<std::string>& void_tags = {}) {
  std::vector<std::string> open;
  std::size_t i = 0;
  const auto is_void = [&](const std::string& name) {
    for (const std::string& v : void_tags) {
      if (v == name) {
        return true;
      }
    }
    return false;
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '&') {
      const std::size_t semi = text.find(';', i);
      if (semi == std::string_view::npos || semi - i > 8) {
        return "a stray '&' at " + std::to_string(i);
      }
      i = semi + 1;
      continue;
    }
    if (c == '>') {
      return "a raw '>' in text at " + std::to_string(i);
    }
    if (c != '<') {
      ++i;
      continue;
    }
    if (text.substr(i, 9) == "<!DOCTYPE") {
      i = text.find('>', i) + 1;
      continue;
    }
    // Read the tag up to its '>' outside quotes.
    std::size_t j = i + 1;
    bool in_quotes = false;
    for (; j < text.size() && (in_quotes || text[j] != '>'); ++j) {
      if (text[j] == '"') {
        in_quotes = !in_quotes;
      } else if (text[j] == '<' && !in_quotes) {
        return "a '<' inside a tag at " + std::to_string(j);
      }
    }
    if (j == text.size()) {
      return "an unterminated tag at " + std::to_string(i);
    }
    const std::string_view tag = text.substr(i + 1, j - i - 1);
    const bool closing = tag.starts_with("/");
    const bool self_closing = tag.ends_with("/");
    std::string name(tag.substr(closing ? 1 : 0));
    name = name.substr(0, name.find_first_of(" \n/"));
    if (name.empty()) {
      return "a tag without a name at " + std::to_string(i);
    }
    if (closing) {
      if (open.empty() || open.back() != name) {
        return "</" + name + "> closes " + (open.empty() ? std::string("nothing") : open.back());
      }
      open.pop_back();
    } else if (!self_closing && !is_void(name)) {
      open.push_back(name);
    }
    i = j + 1;
  }
  if (!open.empty()) {
    return "<" + open.back() + "> is never closed";
  }
  for (const std::string_view bad : {"nan", "inf"}) {
    if (text.find(bad) != std::string_view::npos) {
      return "the text contains '" + std::string(bad) + "'";
    }
  }
  return "";
}

const std::vector<std::string> html_void = {"meta", "link", "br"};

std::size_t count(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string_view::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

ev::chart_config square(std::string title) {
  return {.title = std::move(title),
          .x_label = "x",
          .y_label = "y",
          .x_min = 0.0,
          .x_max = 1.0,
          .y_min = 0.0,
          .y_max = 1.0,
          .diagonal = false,
          .reference_y = std::nullopt};
}

// The 12 observations of curves_test.cpp (5 positives; ROC-AUC 0.8, AP 0.7592857142857143).
const floats labels12 = {1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0};
const floats scores12 = {0.875f, 0.25f,  0.5f,  0.875f, 0.5f,  0.125f,
                         0.625f, 0.625f, 0.25f, 0.375f, 0.75f, 0.0f};

} // namespace

TEST_CASE("the tag checker of this file finds broken markup", "[evaluation][plot]") {
  CHECK(markup_problem("<svg><g><line x=\"1\"/></g></svg>").empty());
  CHECK_FALSE(markup_problem("<svg><g></svg>").empty());
  CHECK_FALSE(markup_problem("<svg><text>a < b</text></svg>").empty());
  CHECK_FALSE(markup_problem("<svg><text>a & b</text></svg>").empty());
  CHECK_FALSE(markup_problem("<svg x=\"nan\"></svg>").empty());
  CHECK_FALSE(markup_problem("<p>").empty());
  CHECK(markup_problem("<p><br></p>", html_void).empty());
}

TEST_CASE("xml_escape and fixed_number", "[evaluation][plot]") {
  CHECK(ev::detail::xml_escape("a<b>&\"c'\x01\td") == "a&lt;b&gt;&amp;&quot;c&#39;\xEF\xBF\xBD\td");
  CHECK(ev::detail::xml_escape("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(ev::detail::fixed_number(0.1 + 0.2, 2) == "0.3");
  CHECK(ev::detail::fixed_number(12.5, 2) == "12.5");
  CHECK(ev::detail::fixed_number(-0.001, 2) == "0");
  CHECK(ev::detail::fixed_number(1e6, 2) == "1000000");
  CHECK(ev::detail::fixed_number(2.0, 0) == "2");
  CHECK(ev::detail::fixed_number(0.05, 2) == "0.05");
}

TEST_CASE("axes: round ticks cover the data and the configured range", "[evaluation][plot]") {
  const ev::detail::axis a = ev::detail::make_axis(0.0, 4.3, std::nullopt, std::nullopt);
  CHECK(a.lo == 0.0);
  CHECK(a.hi == 5.0);
  CHECK(a.step == 1.0);
  CHECK(a.decimals == 0);
  // The lift axis: y from 0, data up to 2.4, step 0.5.
  const ev::detail::axis lift = ev::detail::make_axis(1.0, 2.4, 0.0, std::nullopt);
  CHECK(lift.lo == 0.0);
  CHECK(lift.hi == Approx(2.5));
  CHECK(lift.step == Approx(0.5));
  CHECK(lift.decimals == 1);
  // Data beyond a fixed bound widens the axis instead of leaving the frame.
  const ev::detail::axis wide = ev::detail::make_axis(-0.2, 1.0, 0.0, 1.0);
  CHECK(wide.lo < -0.19);
  CHECK(wide.hi == 1.0);
  // A single value still gets a range.
  const ev::detail::axis flat = ev::detail::make_axis(3.0, 3.0, std::nullopt, std::nullopt);
  CHECK(flat.lo < 3.0);
  CHECK(flat.hi > 3.0);
}

TEST_CASE("line_chart_svg: well-formed, escaped, points at known pixels, deterministic",
          "[evaluation][plot]") {
  ev::chart_config c = square("ROC <of> \"model\" & co");
  c.diagonal = true;
  const std::vector<ev::line_series> series = {
      {"model A (AUC = 0.75)", {{0.0, 0.0, 1.0}, {0.5, 1.0, 0.5}, {1.0, 1.0, 0.0}}},
      {"B & <C>", {{0.0, 0.0, 1.0}, {1.0, 1.0, 0.0}}}};
  const std::string svg = ev::line_chart_svg(series, c);
  INFO(svg);
  CHECK(markup_problem(svg).empty());
  CHECK(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"480\" height=\"404\""));
  CHECK(svg.ends_with("</svg>\n"));
  CHECK(svg.find("<title>ROC &lt;of&gt; &quot;model&quot; &amp; co</title>") != std::string::npos);
  CHECK(svg.find("B &amp; &lt;C&gt;") != std::string::npos);
  CHECK(svg.find("<C>") == std::string::npos);
  // The frame spans x 64..460 and y 36..312 (480 × 360, title): (0, 0) is (64, 312), (1, 1) is
  // (460, 36), (0.5, 1) is (262, 36).
  CHECK(svg.find("x=\"64\" y=\"36\" width=\"396\" height=\"276\"") != std::string::npos);
  CHECK(svg.find("points=\"64,312 262,36 460,36\"") != std::string::npos);
  CHECK(svg.find("points=\"64,312 460,36\"") != std::string::npos);
  CHECK(svg.find("stroke=\"#1f77b4\"") != std::string::npos);
  CHECK(svg.find("stroke=\"#ff7f0e\"") != std::string::npos);
  // The diagonal, dashed, from (0, 0) to (1, 1); tick labels 0, 0.2, ..., 1 on both axes.
  CHECK(svg.find("x1=\"64\" y1=\"312\" x2=\"460\" y2=\"36\" stroke=\"#888888\" "
                 "stroke-dasharray=\"5 4\"") != std::string::npos);
  CHECK(count(svg, ">0.6</text>") == 2);
  CHECK(count(svg, "<polyline") == 2);
  CHECK(count(svg, "class=\"legend\"") == 2);
  CHECK(svg.find("id=") == std::string::npos);
  CHECK(ev::line_chart_svg(series, c) == svg);
}

TEST_CASE("line_chart_svg rejects what it cannot draw", "[evaluation][plot]") {
  const ev::chart_config c = square("t");
  CHECK_THROWS_AS(ev::line_chart_svg({}, c), std::invalid_argument);
  const std::vector<ev::line_series> empty_series = {{"a", {}}};
  CHECK_THROWS_WITH(ev::line_chart_svg(empty_series, c), Catch::Contains("has no point"));
  std::vector<ev::line_series> nine(9, ev::line_series{"s", {{0, 0, 0}}});
  CHECK_THROWS_WITH(ev::line_chart_svg(nine, c), Catch::Contains("1 to 8 series"));
  for (const double bad : {std::nan(""), std::numeric_limits<double>::infinity()}) {
    const std::vector<ev::line_series> s = {{"a", {{0, 0, 0}, {0.5, bad, 0}}}};
    CHECK_THROWS_WITH(ev::line_chart_svg(s, c),
                      Catch::Contains("series[0].points[1].y is not a finite number"));
  }
  ev::chart_config narrow = c;
  narrow.width = 100;
  const std::vector<ev::line_series> ok = {{"a", {{0, 0, 0}}}};
  CHECK_THROWS_AS(ev::line_chart_svg(ok, narrow), mlsd::config_error);
}

TEST_CASE("chart_config: validation and JSON round trip", "[evaluation][plot]") {
  ev::chart_config c = square("T");
  c.reference_y = 0.25;
  c.width = 640;
  nlohmann::json j = c;
  CHECK(j["reference_y"] == 0.25);
  CHECK(j.get<ev::chart_config>() == c);
  const ev::chart_config defaults;
  nlohmann::json d = defaults;
  CHECK_FALSE(d.contains("x_min"));
  CHECK(d.get<ev::chart_config>() == defaults);
  CHECK(nlohmann::json::parse(R"({"x_min": null})").get<ev::chart_config>() == defaults);

  const auto field_of = [](const char* text) {
    try {
      (void)nlohmann::json::parse(text).get<ev::chart_config>();
    } catch (const mlsd::config_error& e) {
      return e.field();
    }
    return std::string("no error");
  };
  CHECK(field_of(R"({"width": 50})") == "chart.width");
  CHECK(field_of(R"({"height": 5000})") == "chart.height");
  CHECK(field_of(R"({"x_min": 1, "x_max": 0})") == "chart.x_max");
  CHECK(field_of(R"({"y_min": "a"})") == "chart.y_min");
  CHECK(field_of(R"({"colour": "red"})") == "chart.colour");
}

TEST_CASE("reliability_diagram_svg: one bar and one point per bin", "[evaluation][plot]") {
  const std::vector<ev::reliability_bin> bins = {{0.0, 0.5, 30, 0.25, 0.2},
                                                 {0.5, 1.0, 10, 0.75, 0.9}};
  const std::string svg = ev::reliability_diagram_svg(bins, square("Reliability & co"));
  INFO(svg);
  CHECK(markup_problem(svg).empty());
  CHECK(count(svg, "observations, mean prediction") == 2); // one bar per bin
  CHECK(count(svg, "<circle cx=") == 3);                   // one point per bin, one in the legend
  // Bin 1 spans x 64..262 and rises to 0.2: y = 312 - 0.2 · 276 = 256.8, height 55.2.
  CHECK(svg.find("<rect x=\"64\" y=\"256.8\" width=\"198\" height=\"55.2\"><title>0 to 0.5: 30 "
                 "observations, mean prediction 0.25, observed rate 0.2</title></rect>") !=
        std::string::npos);
  CHECK(svg.find("<circle cx=\"361\" cy=\"63.6\" r=\"3.5\"/>") != std::string::npos);
  CHECK(svg.find("Reliability &amp; co") != std::string::npos);
  CHECK(svg.find("perfect calibration") != std::string::npos);

  CHECK_THROWS_AS(ev::reliability_diagram_svg({}, square("t")), std::invalid_argument);
  for (const ev::reliability_bin bad :
       {ev::reliability_bin{0.0, 0.5, 3, 0.25, 1.5}, ev::reliability_bin{0.5, 0.4, 3, 0.45, 0.5},
        ev::reliability_bin{0.0, 0.5, 3, std::nan(""), 0.5}}) {
    const std::vector<ev::reliability_bin> b = {bad};
    CHECK_THROWS_WITH(ev::reliability_diagram_svg(b, square("t")),
                      Catch::Contains("bin 0 is not a bin of probabilities"));
  }
}

TEST_CASE("measure records a value or the reason a metric is undefined", "[evaluation][report]") {
  const ev::metric_value auc = ev::measure("roc_auc", [] { return 0.75; });
  CHECK(auc.value == 0.75);
  CHECK(auc.undefined_reason.empty());
  const floats s = {0.1f, 0.2f};
  const floats y = {1.0f, 1.0f};
  const ev::metric_value one_class = ev::measure("roc_auc", [&] { return ev::roc_auc_of(s, y); });
  CHECK_FALSE(one_class.value);
  CHECK(one_class.undefined_reason == "only one class (2 positives, 0 negatives)");
  const floats nan = {std::nanf(""), 0.2f};
  CHECK_THROWS_AS(ev::measure("roc_auc", [&] { return ev::roc_auc_of(nan, y); }),
                  mlsd::input_error);
}

TEST_CASE("evaluation_report: every section in the HTML and the JSON, escaped",
          "[evaluation][report]") {
  ev::evaluation_report r("Model <A> & \"B\"");
  r.add_text("Notes", "First paragraph with <b>markup</b>.\n\nSecond & last paragraph.");
  r.add_metrics("Metrics", {{"roc_auc", 0.8125, ""}, {"log_loss", std::nullopt, "no <data>"}});
  ev::slice_table t;
  t.slice_name = "country";
  t.rows = {{"fr", 10, {{"roc_auc", 0.5, ""}}}, {"<de>", 3, {{"roc_auc", std::nullopt, "one"}}}};
  r.add_slices("Per country", t);
  const std::vector<ev::line_series> s = {{"m", {{0, 0, 1}, {1, 1, 0}}}};
  r.add_figure("Figure", {ev::line_chart_svg(s, square("f")), "A caption & more", {{"k", 1}}});

  const std::string html = r.html();
  INFO(html);
  CHECK(markup_problem(html, html_void).empty());
  CHECK(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
  CHECK(html.find("<title>Model &lt;A&gt; &amp; &quot;B&quot;</title>") != std::string::npos);
  for (const char* title : {"Notes", "Metrics", "Per country", "Figure"}) {
    CHECK(html.find(std::string("<h2>") + title + "</h2>") != std::string::npos);
    CHECK(html.find(std::string("\">") + title + "</a></li>") != std::string::npos);
  }
  CHECK(html.find("<section id=\"section-4\" class=\"figure\">") != std::string::npos);
  CHECK(html.find("<p>First paragraph with &lt;b&gt;markup&lt;/b&gt;.</p>\n<p>Second &amp; last "
                  "paragraph.</p>") != std::string::npos);
  CHECK(html.find("<tr><td>roc_auc</td><td class=\"value\">0.8125</td></tr>") != std::string::npos);
  CHECK(html.find("<td class=\"undefined\">undefined: no &lt;data&gt;</td>") != std::string::npos);
  CHECK(html.find("<th>country</th><th>count</th><th>roc_auc</th>") != std::string::npos);
  CHECK(html.find("<tr><td>&lt;de&gt;</td><td class=\"value\">3</td>") != std::string::npos);
  CHECK(html.find("<figcaption>A caption &amp; more</figcaption>") != std::string::npos);
  CHECK(count(html, "<svg ") == 1);
  // Self-contained: no script, no external resource.
  CHECK(html.find("<script") == std::string::npos);
  CHECK(count(html, "http") == count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(html.find("src=") == std::string::npos);

  const nlohmann::json j = r.to_json();
  CHECK(j["title"] == "Model <A> & \"B\"");
  REQUIRE(j["sections"].size() == 4);
  CHECK(j["sections"][0]["kind"] == "text");
  CHECK(j["sections"][1]["kind"] == "metrics");
  CHECK(j["sections"][1]["metrics"][0] == nlohmann::json({{"name", "roc_auc"}, {"value", 0.8125}}));
  CHECK(j["sections"][1]["metrics"][1] ==
        nlohmann::json({{"name", "log_loss"}, {"undefined", "no <data>"}}));
  CHECK(j["sections"][2]["kind"] == "slices");
  CHECK(j["sections"][2]["slice_name"] == "country");
  CHECK(j["sections"][2]["rows"][1]["count"] == 3);
  CHECK(j["sections"][3]["kind"] == "figure");
  CHECK(j["sections"][3]["data"]["k"] == 1);
  CHECK(j["sections"][3]["svg"].get<std::string>().starts_with("<svg"));
}

TEST_CASE("evaluation_report: preformatted text keeps its lines and spaces, escaped",
          "[evaluation][report]") {
  ev::evaluation_report r("t");
  r.add_preformatted("Table", "stage   fits\n<a> & b  yes\n\nlast");
  r.add_text("Prose", "one\n\ntwo");
  const std::string html = r.html();
  INFO(html);
  CHECK(markup_problem(html, html_void).empty());
  // One <pre>, blank line included, no paragraph split; the prose still splits.
  CHECK(html.find("<h2>Table</h2>\n<pre>stage   fits\n&lt;a&gt; &amp; b  yes\n\nlast</pre>\n"
                  "</section>") != std::string::npos);
  CHECK(count(html, "<pre>") == 1);
  CHECK(html.find("<p>one</p>\n<p>two</p>") != std::string::npos);
  const nlohmann::json j = r.to_json();
  CHECK(j["sections"][0]["kind"] == "preformatted");
  CHECK(j["sections"][0]["text"] == "stage   fits\n<a> & b  yes\n\nlast");
  CHECK(j["sections"][1]["kind"] == "text");
  CHECK_THROWS_AS(r.add_preformatted("", "x"), std::invalid_argument);
}

TEST_CASE("evaluation_report rejects invalid sections", "[evaluation][report]") {
  ev::evaluation_report r("t");
  CHECK_THROWS_AS(r.add_text("", "x"), std::invalid_argument);
  CHECK_THROWS_WITH(r.add_metrics("m", {{"auc", std::nan(""), ""}}),
                    Catch::Contains("metric 'auc' needs either a finite value"));
  CHECK_THROWS_AS(r.add_metrics("m", {{"auc", std::nullopt, ""}}), std::invalid_argument);
  CHECK_THROWS_AS(r.add_metrics("m", {{"", 1.0, ""}}), std::invalid_argument);
  ev::slice_table t;
  t.rows = {{"a", 1, {{"auc", 0.5, ""}}}, {"b", 1, {{"ap", 0.5, ""}}}};
  CHECK_THROWS_WITH(r.add_slices("s", t), Catch::Contains("slice 'b' has other metrics"));
  CHECK_THROWS_AS(r.add_figure("f", {"<div></div>", "", {}}), std::invalid_argument);
  CHECK_THROWS_AS(r.add_figure("f", {"<svg><script>x()</script></svg>", "", {}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(r.add_figure("f", {"<svg></svg><svg></svg>x", "", {}}), std::invalid_argument);
  CHECK(r.sections().empty());
}

TEST_CASE("write_html and write_json write the page; a bad path is an input_error",
          "[evaluation][report]") {
  ev::evaluation_report r("t");
  r.add_text("a", "b");
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "mlsd_report_test_write";
  std::filesystem::create_directories(dir);
  r.write_html(dir / "r.html");
  r.write_json(dir / "r.json");
  std::ifstream html_file(dir / "r.html", std::ios::binary);
  std::stringstream html;
  html << html_file.rdbuf();
  CHECK(html.str() == r.html());
  std::ifstream json_file(dir / "r.json");
  CHECK(nlohmann::json::parse(json_file) == r.to_json());
  std::filesystem::remove_all(dir);
  CHECK_THROWS_AS(r.write_html(dir / "missing" / "r.html"), mlsd::input_error);
}

TEST_CASE("binary_classifier_report: metrics, figures and slices", "[evaluation][report]") {
  const std::vector<std::string> slices = {"b", "a", "b", "b", "a", "c",
                                           "a", "b", "a", "b", "c", "c"};
  ev::binary_report_config cfg;
  cfg.model_name = "lr";
  cfg.slice_name = "country";
  const ev::evaluation_report r = ev::binary_classifier_report(scores12, labels12, slices, cfg);
  std::vector<std::string> titles;
  for (const ev::report_section& s : r.sections()) {
    titles.push_back(s.title);
  }
  CHECK(titles == std::vector<std::string>{"Data", "Metrics", "ROC curve", "Precision-recall curve",
                                           "Cumulative gain", "Lift", "Reliability diagram",
                                           "Metrics per country"});
  const auto& metrics = std::get<std::vector<ev::metric_value>>(r.sections()[1].content);
  const auto value = [&](std::string_view name) {
    for (const ev::metric_value& m : metrics) {
      if (m.name == name) {
        REQUIRE(m.value);
        return *m.value;
      }
    }
    FAIL("no metric " << name);
    return 0.0;
  };
  CHECK(value("roc_auc") == 0.8);
  CHECK(value("average_precision") == Approx(0.7592857142857143).margin(1e-12));
  CHECK(value("log_loss") == ev::log_loss_of(scores12, labels12));
  CHECK(value("brier_score") == ev::brier_score_of(scores12, labels12));
  CHECK(value("expected_calibration_error") ==
        ev::expected_calibration_error_of(scores12, labels12));
  CHECK(value("accuracy (score > 0.5)") == ev::accuracy_of(scores12, labels12));

  const std::string html = r.html();
  CHECK(markup_problem(html, html_void).empty());
  CHECK(count(html, "<svg ") == 5);
  CHECK(html.find("lr (AUC = 0.8)") != std::string::npos);
  CHECK(html.find("lr (AP = 0.7593)") != std::string::npos);
  CHECK(html.find("12 observations: 5 positives, 7 negatives") != std::string::npos);

  // Slices in lexicographic order; slice c (scores 0.125, 0.75, 0: all negative) has no AUC.
  const auto& table = std::get<ev::slice_table>(r.sections()[7].content);
  CHECK(table.slice_name == "country");
  REQUIRE(table.rows.size() == 3);
  CHECK(table.rows[0].slice == "a");
  CHECK(table.rows[0].count == 4);
  CHECK(table.rows[2].slice == "c");
  CHECK(table.rows[2].metrics[0].name == "positive_rate");
  CHECK(table.rows[2].metrics[0].value == 0.0);
  CHECK(table.rows[2].metrics[1].name == "roc_auc");
  CHECK(table.rows[2].metrics[1].undefined_reason == "only one class (0 positives, 3 negatives)");
  // Slice a: scores 0.25 (neg), 0.5 (neg), 0.625 (pos), 0.25 (neg): the positive beats all 3.
  CHECK(*table.rows[0].metrics[1].value == 1.0);

  const nlohmann::json j = r.to_json();
  CHECK(j["sections"][2]["data"]["curve"] == "roc");
  CHECK(j["sections"][2]["data"]["auc"] == 0.8);
  CHECK(j["sections"][2]["data"]["points"]["threshold"][0].is_null());
  CHECK(j["sections"][2]["data"]["points"]["x"].size() == 9);
}

TEST_CASE("binary_classifier_report: margins, one class, bad input", "[evaluation][report]") {
  SECTION("scores that are not probabilities: ranking metrics only") {
    const floats margins = {2.5f, -1.0f, 0.3f, -0.2f};
    const floats labels = {1, 0, 1, 0};
    const ev::evaluation_report r = ev::binary_classifier_report(margins, labels);
    const auto& metrics = std::get<std::vector<ev::metric_value>>(r.sections()[1].content);
    CHECK(metrics[0].value == 1.0);
    CHECK(metrics[2].name == "log_loss");
    CHECK(metrics[2].undefined_reason ==
          "the scores are not probabilities (scores[0] = 2.5 is outside [0, 1])");
    const ev::report_section& last = r.sections().back();
    CHECK(last.title == "Reliability diagram");
    CHECK(std::get<ev::report_text>(last.content).text.find("not probabilities") !=
          std::string::npos);
    CHECK(markup_problem(r.html(), html_void).empty());
  }
  SECTION("one class: no curve, a text that says why") {
    const floats s = {0.1f, 0.7f};
    const floats y = {0, 0};
    const ev::evaluation_report r = ev::binary_classifier_report(s, y);
    CHECK(r.sections()[2].title == "Curves");
    CHECK(std::get<ev::report_text>(r.sections()[2].content).text.find("0 positives and 2") !=
          std::string::npos);
    CHECK(r.to_json()["sections"][1]["metrics"][0]["undefined"] ==
          "only one class (0 positives, 2 negatives)");
  }
  SECTION("no observation") {
    const ev::evaluation_report r = ev::binary_classifier_report({}, {});
    CHECK(r.html().find("undefined: no observations") != std::string::npos);
  }
  SECTION("bad input") {
    const floats s = {0.1f, 0.7f, 0.2f, std::nanf("")};
    const floats y = {0, 1, 0, 1};
    try {
      (void)ev::binary_classifier_report(s, y);
      FAIL("no exception");
    } catch (const mlsd::input_error& e) {
      CHECK(e.where().field == "scores[3]");
    }
    const std::vector<std::string> two = {"a", "b"};
    CHECK_THROWS_WITH(ev::binary_classifier_report(y, y, two),
                      Catch::Contains("4 scores but 2 slices"));
    CHECK_THROWS_AS(ev::binary_classifier_report(s, floats{0}), std::invalid_argument);
    ev::binary_report_config bad;
    bad.max_curve_points = 1;
    CHECK_THROWS_AS(ev::binary_classifier_report(y, y, {}, bad), mlsd::config_error);
  }
}

TEST_CASE("binary_report_config: JSON round trip and validation", "[evaluation][report]") {
  ev::binary_report_config c;
  c.title = "T";
  c.max_curve_points = 50;
  c.reliability.bins = 20;
  c.reliability.strategy = ev::reliability_binning::quantile;
  const nlohmann::json j = c;
  CHECK(j["reliability"]["strategy"] == "quantile");
  CHECK(j.get<ev::binary_report_config>() == c);
  CHECK(nlohmann::json::object().get<ev::binary_report_config>() == ev::binary_report_config{});
  const auto field_of = [](const char* text) {
    try {
      (void)nlohmann::json::parse(text).get<ev::binary_report_config>();
    } catch (const mlsd::config_error& e) {
      return e.field();
    }
    return std::string("no error");
  };
  CHECK(field_of(R"({"max_curve_points": 1})") == "binary_report.max_curve_points");
  CHECK(field_of(R"({"threshold": "x"})") == "binary_report.threshold");
  CHECK(field_of(R"({"reliability": {"bins": 0}})") == "reliability.bins");
  CHECK(field_of(R"({"colour": 1})") == "binary_report.colour");
}
