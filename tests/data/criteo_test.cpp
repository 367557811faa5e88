// The Criteo TSV source and line parser (include/mlsd/data/criteo.hpp).
#include <mlsd/data/criteo.hpp>

#include "parser_fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using mlsd::data::criteo_config;
using mlsd::data::criteo_record;
using mlsd::data::criteo_source;
using mlsd::data::error_policy;
using mlsd::data::line_reader;

using mlsd_test::slurp;

/// A fresh directory for one test case, removed at the end.
struct temp_dir : mlsd_test::temp_dir {
  explicit temp_dir(std::string_view tag)
      : mlsd_test::temp_dir("criteo", tag) {}
};

/// The columns of a valid labelled line, as text; tests edit one and join them.
std::vector<std::string> good_columns() {
  std::vector<std::string> c = {"1"};
  const char* ints[13] = {"1", "-1", "", "0", "1382", "4", "15", "2", "181", "1", "2", "", "2"};
  for (const char* v : ints) {
    c.emplace_back(v);
  }
  const char* cats[26] = {"68fd1e64", "80e26c9b", "fb936136", "7b4723c4", "25c83c98", "7e0ccccf",
                          "de7995b8", "1f89b562", "a73ee510", "a8cd5504", "b2cb9c98", "37c9c164",
                          "2824a5f6", "1adce6ef", "8ba8b39a", "891b62e7", "E5BA7672", "f54016b9",
                          "21ddcdc9", "b1252a9d", "07b5194c", "",         "3a171ecb", "c5c50484",
                          "e8b83407", "9727dd16"};
  for (const char* v : cats) {
    c.emplace_back(v);
  }
  return c;
}

std::string join(const std::vector<std::string>& columns) {
  std::string line;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    line += columns[i];
    if (i + 1 < columns.size()) {
      line += '\t';
    }
  }
  return line;
}

/// The 1-based byte column where column `k` starts in `join(columns)`: the naive reference.
std::size_t column_of(const std::vector<std::string>& columns, std::size_t k) {
  std::size_t at = 1;
  for (std::size_t i = 0; i < k; ++i) {
    at += columns[i].size() + 1;
  }
  return at;
}

criteo_source from_text(const std::string& text, criteo_config cfg = {}, error_policy policy = {}) {
  return criteo_source(line_reader::from_string(text, "day_0"), cfg, std::move(policy));
}

/// Every record of `s`, read 2 at a time (so that reads span several calls).
std::vector<criteo_record> read_all(criteo_source& s) {
  return mlsd_test::read_all(s, 2);
}

/// The message of the `input_error` reading `text` throws, or "" when none is thrown.
std::string error_of(const std::string& text, criteo_config cfg = {}) {
  return mlsd_test::error_of(from_text(text, cfg), 2);
}

} // namespace

TEST_CASE("criteo: label, integers and hashes, missing kept apart from 0", "[data][parser]") {
  auto s = from_text(join(good_columns()) + "\n");
  const auto rows = read_all(s);
  REQUIRE(rows.size() == 1);
  const criteo_record& r = rows[0];
  CHECK(r.label == std::optional<float>(1.0f));
  CHECK(r.integers[0] == std::optional<std::int64_t>(1));
  CHECK(r.integers[1] == std::optional<std::int64_t>(-1)); // negative counts occur (I2)
  CHECK_FALSE(r.integers[2].has_value());                  // empty: missing, not 0
  CHECK(r.integers[3] == std::optional<std::int64_t>(0));  // 0 is a value
  CHECK(r.integers[4] == std::optional<std::int64_t>(1382));
  CHECK_FALSE(r.integers[11].has_value());
  CHECK(r.integers[12] == std::optional<std::int64_t>(2));
  CHECK(r.categories[0] == std::optional<std::uint32_t>(0x68fd1e64u));
  CHECK(r.categories[16] == std::optional<std::uint32_t>(0xe5ba7672u)); // upper case
  CHECK_FALSE(r.categories[21].has_value());
  CHECK(r.categories[25] == std::optional<std::uint32_t>(0x9727dd16u));
  CHECK(r.missing_count() == 3);
  CHECK(s.report().accepted == 1);
}

TEST_CASE("criteo: a line ending in a tab has a missing last column", "[data][parser]") {
  auto columns = good_columns();
  columns.back() = "";
  columns[0] = "0";
  criteo_record r;
  REQUIRE(mlsd::data::parse_criteo_line(join(columns), r));
  CHECK(join(columns).back() == '\t');
  CHECK(r.label == std::optional<float>(0.0f));
  CHECK_FALSE(r.categories[25].has_value());
  CHECK(r.missing_count() == 4);
  // A line of only missing values (39 tabs after the label) is a record too.
  REQUIRE(mlsd::data::parse_criteo_line("1" + std::string(39, '\t'), r));
  CHECK(r.missing_count() == 39);
}

TEST_CASE("criteo: files without a label column (the challenge's test set)", "[data][parser]") {
  auto columns = good_columns();
  columns.erase(columns.begin());
  criteo_config cfg;
  cfg.has_label = false;
  auto s = from_text(join(columns) + "\n" + join(columns), cfg);
  const auto rows = read_all(s);
  REQUIRE(rows.size() == 2);
  CHECK_FALSE(rows[1].label.has_value());
  CHECK(rows[1].integers[4] == std::optional<std::int64_t>(1382));
  CHECK(rows[1].categories[0] == std::optional<std::uint32_t>(0x68fd1e64u));
  // A labelled line has one column too many for this configuration.
  CHECK(error_of(join(good_columns()), cfg) ==
        "day_0:1:" + std::to_string(column_of(good_columns(), 39)) +
            ": expected 39 tab-separated columns (13 integer, 26 categorical), found '40 columns'");
}

TEST_CASE("criteo: empty file, empty lines, CRLF and a BOM", "[data][parser]") {
  temp_dir dir("shapes");
  {
    criteo_source s(dir.write("empty.tsv", ""));
    std::vector<criteo_record> rows(2);
    CHECK(s.read(rows) == 0);
    CHECK(s.report().accepted == 0);
  }
  const std::string line = join(good_columns());
  criteo_source s(dir.write("day.tsv", "\xEF\xBB\xBF" + line + "\r\n\r\n\n" + line + "\r\n"));
  const auto rows = read_all(s);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == rows[1]);
  CHECK(rows[1].categories[25] == std::optional<std::uint32_t>(0x9727dd16u)); // no '\r' left
  CHECK(s.blank_lines() == 2);
}

TEST_CASE("criteo: bad input fails with file:line:column and column name, or is skipped",
          "[data][parser]") {
  struct bad_case {
    std::size_t column;   // which column to change (0 = label)
    std::string value;    // its new text
    std::string expected; // "expected ..., found ..." part
    std::string field;    // the column's name
  };
  const std::vector<bad_case> cases = {
      {0, "2", "expected a label 0 or 1, found '2'", "label"},
      {0, "", "expected a label 0 or 1", "label"},
      {0, "1.0", "expected a label 0 or 1, found '1.0'", "label"},
      {1, "1.5", "expected an integer or an empty (missing) column, found '1.5'", "I1"},
      {13, "abc", "expected an integer or an empty (missing) column, found 'abc'", "I13"},
      {2, " 3", "expected an integer or an empty (missing) column, found ' 3'", "I2"},
      {14, "68fd1e6g",
       "expected a 32-bit hexadecimal hash (1 to 8 hex digits) or an empty (missing) column, "
       "found '68fd1e6g'",
       "C1"},
      {20, "123456789",
       "expected a 32-bit hexadecimal hash (1 to 8 hex digits) or an empty (missing) column, "
       "found '123456789'",
       "C7"},
      {39, "9727dd16 ", // trailing whitespace: a space is not part of any column
       "expected a 32-bit hexadecimal hash (1 to 8 hex digits) or an empty (missing) column, "
       "found '9727dd16 '",
       "C26"},
      {30, std::string("a8cd\0", 5),
       "expected a 32-bit hexadecimal hash (1 to 8 hex digits) or an empty (missing) column, "
       "found 'a8cd\\x00'",
       "C17"},
  };
  temp_dir dir("bad");
  for (const auto& c : cases) {
    auto columns = good_columns();
    columns[c.column] = c.value;
    const std::string bad = join(columns);
    const std::string message = "day_0:2:" + std::to_string(column_of(columns, c.column)) +
                                ": field '" + c.field + "': " + c.expected;
    INFO("line: " << mlsd::input_error::printable(bad, 400));
    const std::string good = join(good_columns());
    CHECK(error_of(good + "\n" + bad + "\n" + good + "\n") == message);

    const fs::path quarantine = dir.path / "quarantine.tsv";
    fs::remove(quarantine);
    auto s =
        from_text(good + "\n" + bad + "\n" + good + "\n", {}, error_policy::skip(5, quarantine));
    const auto rows = read_all(s);
    REQUIRE(rows.size() == 2);
    CHECK(rows[1].integers[4] == std::optional<std::int64_t>(1382));
    CHECK(s.report().accepted == 2);
    CHECK(s.report().skipped == 1);
    REQUIRE(s.report().first_skipped.size() == 1);
    CHECK(s.report().first_skipped[0].message == message);
    CHECK(slurp(quarantine) == bad + "\n");
  }
}

TEST_CASE("criteo: a wrong number of columns is an error", "[data][parser]") {
  auto few = good_columns();
  few.pop_back(); // 39 columns
  const std::string few_line = join(few);
  CHECK(error_of(few_line) == "day_0:1:" + std::to_string(few_line.size() + 1) +
                                  ": expected 40 tab-separated columns (label, 13 integer, 26 "
                                  "categorical), found '39 columns'");
  CHECK(error_of("1 2 3") == "day_0:1:6: expected 40 tab-separated columns (label, 13 integer, "
                             "26 categorical), found '1 column'");
  auto many = good_columns();
  many.emplace_back("abc");
  CHECK(error_of(join(many)) == "day_0:1:" + std::to_string(column_of(many, 40)) +
                                    ": expected 40 tab-separated columns (label, 13 integer, 26 "
                                    "categorical), found '41 columns'");
  auto s = from_text(join(many) + "\n" + few_line + "\n" + join(good_columns()), {},
                     error_policy::skip());
  CHECK(read_all(s).size() == 1);
  CHECK(s.report().skipped == 2);
}

TEST_CASE("criteo: a line over max_line_bytes is a bad record", "[data][parser]") {
  criteo_config cfg;
  cfg.max_line_bytes = 100;
  cfg.chunk_bytes = 16;
  temp_dir dir("long");
  const std::string line = join(good_columns());
  REQUIRE(line.size() > 100);
  const fs::path input = dir.write("day.tsv", line + "\n");
  {
    criteo_source s(input, cfg);
    std::vector<criteo_record> rows(1);
    CHECK_THROWS_WITH(s.read(rows), input.string() +
                                        ":1: expected a line of at most 100 bytes, found '" +
                                        mlsd::input_error::printable(line.substr(0, 64)) + "'");
  }
  criteo_source s(input, cfg, error_policy::skip());
  std::vector<criteo_record> rows(1);
  CHECK(s.read(rows) == 0);
  CHECK(s.report().skipped == 1);
  CHECK(s.report().first_skipped.at(0).where.line == 1);
}

TEST_CASE("criteo: config JSON round trip and validation", "[data][parser]") {
  criteo_config cfg;
  cfg.has_label = false;
  cfg.chunk_bytes = 1 << 16;
  const nlohmann::json j = cfg;
  CHECK(j.at("has_label") == false);
  CHECK(j.get<criteo_config>() == cfg);
  CHECK(cfg.column_count() == 39);
  CHECK(criteo_config{}.column_count() == 40);
  CHECK_THROWS_WITH(nlohmann::json::parse(R"({"has_label": 1})").get<criteo_config>(),
                    "config field 'criteo_config.has_label': expected true or false, found 1");
  CHECK_THROWS_WITH(nlohmann::json::parse(R"({"chunk_bytes": 0})").get<criteo_config>(),
                    "config field 'criteo_config.chunk_bytes': expected a positive size");
}
