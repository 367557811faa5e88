// The LIBSVM / libFM source and line parser (include/mlsd/data/libsvm.hpp).
#include <mlsd/data/libsvm.hpp>

#include "parser_fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using mlsd::sparse_row;
using mlsd::data::error_policy;
using mlsd::data::libsvm_config;
using mlsd::data::libsvm_source;
using mlsd::data::line_reader;

using mlsd_test::slurp;

/// A fresh directory for one test case, removed at the end.
struct temp_dir : mlsd_test::temp_dir {
  explicit temp_dir(std::string_view tag)
      : mlsd_test::temp_dir("libsvm", tag) {}
};

libsvm_source from_text(const std::string& text, libsvm_config cfg = {}, error_policy policy = {}) {
  return libsvm_source(line_reader::from_string(text, "mem.svm"), cfg, std::move(policy));
}

/// Every record of `s`, read 3 at a time (so that reads span several calls).
std::vector<sparse_row> read_all(libsvm_source& s) {
  return mlsd_test::read_all(s, 3);
}

/// The message of the `input_error` reading `text` throws, or "" when none is thrown.
std::string error_of(const std::string& text, libsvm_config cfg = {}) {
  return mlsd_test::error_of(from_text(text, cfg), 3);
}

using idx = std::vector<std::uint32_t>;
using val = std::vector<float>;

} // namespace

TEST_CASE("libsvm: labels, 1-based indices stored from 0, values, comments", "[data][parser]") {
  auto s = from_text("+1 1:0.5 3:-2\n"
                     "-1 2:1e-3\n"
                     "0 5:1 # a comment 7:abc\n"
                     "1\n"
                     "3.5 1:+0.25 10:0\n");
  const auto rows = read_all(s);
  REQUIRE(rows.size() == 5);
  CHECK(rows[0].label == 1.0f);
  CHECK(rows[0].indices == idx{0, 2});
  CHECK(rows[0].values == val{0.5f, -2.0f});
  CHECK(rows[1].label == -1.0f);
  CHECK(rows[1].indices == idx{1});
  CHECK(rows[1].values == val{1e-3f});
  CHECK(rows[2].label == 0.0f);
  CHECK(rows[2].indices == idx{4});
  CHECK(rows[3].label == 1.0f);
  CHECK(rows[3].nnz() == 0); // a label alone is a row with no features
  CHECK(rows[4].label == 3.5f);
  CHECK(rows[4].indices == idx{0, 9});
  CHECK(rows[4].values == val{0.25f, 0.0f}); // explicit zeros are kept
  CHECK(rows[0].fields.empty());
  CHECK(s.report().accepted == 5);
  CHECK(s.report().skipped == 0);
  CHECK(s.blank_lines() == 0);
  CHECK(s.unsorted_rows() == 0);
  std::vector<sparse_row> one(1);
  CHECK(s.read(one) == 0); // exhausted, and stays so
  CHECK(s.read(one) == 0);
}

TEST_CASE("libsvm: values and indices parse exactly as strtof and strtoul do", "[data][parser]") {
  // The parser's fast paths (whole words of digits, Clinger's exact float division) against the
  // C library on many shapes of number: short and long, with and without a point, negative,
  // with leading zeros, with exponents, near the end of a line and far from it.
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> digits(0, 12);
  std::uniform_int_distribution<int> shape(0, 9);
  std::vector<std::string> values;
  std::vector<std::uint32_t> indices;
  std::uint32_t index = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string v = shape(rng) == 0 ? "-" : "";
    if (shape(rng) < 3) { // "0.ddd", the most common shape of all, with 1 to 10 digits
      v += "0.";
      const int fraction = 1 + digits(rng) % 10;
      for (int k = 0; k < fraction; ++k) {
        v += static_cast<char>('0' + rng() % 10);
      }
      values.push_back(v);
      index += 1 + static_cast<std::uint32_t>(rng() % 1000);
      indices.push_back(index);
      continue;
    }
    const int whole = digits(rng) % 9;
    for (int k = 0; k < whole; ++k) {
      v += static_cast<char>('0' + rng() % 10);
    }
    if (whole == 0 || shape(rng) < 7) {
      v += '.';
      const int fraction = 1 + digits(rng);
      for (int k = 0; k < fraction; ++k) {
        v += static_cast<char>('0' + rng() % 10);
      }
    }
    if (shape(rng) == 1) {
      v += "e-";
      v += std::to_string(rng() % 30);
    }
    values.push_back(v);
    index += 1 + static_cast<std::uint32_t>(rng() % (i % 3 == 0 ? 10 : 200000));
    indices.push_back(index);
  }
  for (std::size_t begin = 0; begin < values.size(); begin += 37) {
    const std::size_t end = std::min(values.size(), begin + 37);
    std::string line = "1";
    for (std::size_t i = begin; i < end; ++i) {
      line += ' ';
      line += std::to_string(indices[i]);
      line += ':';
      line += values[i];
    }
    sparse_row row;
    REQUIRE(mlsd::data::parse_libsvm_line(line, row));
    REQUIRE(row.nnz() == end - begin);
    for (std::size_t i = begin; i < end; ++i) {
      INFO(indices[i] << ':' << values[i]);
      CHECK(row.indices[i - begin] == indices[i] - 1);
      const float expected = std::strtof(values[i].c_str(), nullptr);
      CHECK(std::memcmp(&row.values[i - begin], &expected, sizeof expected) == 0); // same bits
    }
  }
}

TEST_CASE("libsvm: libFM files count indices from 0", "[data][parser]") {
  auto s = from_text("4.5 0:1 7:2.5\n", libsvm_config::libfm());
  const auto rows = read_all(s);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].indices == idx{0, 7});
  CHECK(rows[0].values == val{1.0f, 2.5f});
  CHECK(error_of("1 -1:1\n", libsvm_config::libfm()) ==
        "mem.svm:1:3: expected a non-negative feature index, found '-1'");
  // The largest index that fits: 2^32 - 1 counted from 0, 2^32 counted from 1.
  sparse_row row;
  REQUIRE(mlsd::data::parse_libsvm_line("1 4294967296:1", row));
  CHECK(row.indices == idx{4294967295u});
  REQUIRE(mlsd::data::parse_libsvm_line("1 4294967295:1", row, libsvm_config::libfm()));
  CHECK(row.indices == idx{4294967295u});
}

TEST_CASE("libsvm: an empty file has no records and no error", "[data][parser]") {
  temp_dir dir("empty");
  libsvm_source s(dir.write("empty.svm", ""));
  std::vector<sparse_row> rows(4);
  CHECK(s.read(rows) == 0);
  CHECK(s.report().accepted == 0);
  CHECK(s.report().skipped == 0);
  CHECK(s.blank_lines() == 0);
}

TEST_CASE("libsvm: empty, blank and comment-only lines hold no record and are counted",
          "[data][parser]") {
  auto s = from_text("\n1 1:1\n\n  \t\n# only a comment\n-1 2:1\n\n");
  const auto rows = read_all(s);
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].indices == idx{1});
  CHECK(s.blank_lines() == 5);
  CHECK(s.report().accepted == 2);
  sparse_row row;
  row.push_back(3, 1.0f);
  CHECK_FALSE(mlsd::data::parse_libsvm_line("   # nothing", row));
  CHECK(row.nnz() == 0);
}

TEST_CASE("libsvm: tabs, repeated blanks and trailing whitespace separate fields",
          "[data][parser]") {
  auto s = from_text("\t1\t1:1  \t 2:2 \t \n  -1 3:3 ");
  const auto rows = read_all(s);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].indices == idx{0, 1});
  CHECK(rows[0].values == val{1.0f, 2.0f});
  CHECK(rows[1].label == -1.0f);
  CHECK(rows[1].indices == idx{2});
}

TEST_CASE("libsvm: CRLF line ends and a UTF-8 byte-order mark", "[data][parser]") {
  auto s = from_text("\xEF\xBB\xBF+1 1:1 2:0.5\r\n-1 3:2\r\n");
  const auto rows = read_all(s);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].label == 1.0f);
  CHECK(rows[0].values == val{1.0f, 0.5f});
  CHECK(rows[1].indices == idx{2});
  CHECK(rows[1].values == val{2.0f}); // not "2\r"
  // The column of an error on the first line counts from after the BOM.
  CHECK(error_of("\xEF\xBB\xBF"
                 "1 x:1\r\n") ==
        "mem.svm:1:3: expected a feature index (base-10 digits), found 'x'");
}

TEST_CASE("libsvm: a last line without a line end", "[data][parser]") {
  SECTION("complete: parsed") {
    auto s = from_text("1 1:1\n-1 2:1 3:4");
    const auto rows = read_all(s);
    REQUIRE(rows.size() == 2);
    CHECK(rows[1].indices == idx{1, 2});
    CHECK(rows[1].values == val{1.0f, 4.0f});
  }
  SECTION("cut in the middle of a pair: an error naming the pair") {
    CHECK(error_of("1 1:1\n-1 2:1 3:") == "mem.svm:2:8: expected a value after ':', found '3:'");
    auto s = from_text("1 1:1\n-1 2:1 3:", {}, error_policy::skip());
    CHECK(read_all(s).size() == 1);
    CHECK(s.report().skipped == 1);
    CHECK(s.report().first_skipped.at(0).text == "-1 2:1 3:");
  }
}

TEST_CASE("libsvm: indices out of order are sorted and counted", "[data][parser]") {
  auto s = from_text("1 5:0.5 2:0.2 9:0.9 1:0.1\n-1 1:1 2:2\n");
  const auto rows = read_all(s);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].indices == idx{0, 1, 4, 8});
  CHECK(rows[0].values == val{0.1f, 0.2f, 0.5f, 0.9f}); // values follow their index
  CHECK(s.unsorted_rows() == 1);
  CHECK(s.report().accepted == 2);
}

// Each bad line, read in fail mode (the exact message: file:line:column, what was expected, what
// was found) and in skip mode between two good lines (counted, kept, quarantined as written).
TEST_CASE("libsvm: bad input fails with file:line:column or is skipped and quarantined",
          "[data][parser]") {
  struct bad_case {
    std::string line;
    std::string message; // after "mem.svm:2:"
  };
  const std::vector<bad_case> cases = {
      {"1 3:abc", "5: expected a number as the feature value, found 'abc'"},
      {"1 3:1:2", "5: expected a number as the feature value, found '1:2'"},
      {"1 3:1e", "5: expected a number as the feature value, found '1e'"},
      {"1 3:1#note", "5: expected a number as the feature value, found '1#note'"}, // '#' in a field
      {"1#note 3:1", "1: field 'label': expected a number as the label, found '1#note'"},
      {"1 0:1", "3: expected a feature index of at least 1, found '0'"},
      {"1 -2:1", "3: expected a positive feature index, found '-2'"},
      {"1 3a:1", "3: expected a feature index (base-10 digits), found '3a'"},
      {"1 +3:1", "3: expected a feature index (base-10 digits), found '+3'"},
      {"1 4294967297:1", "3: expected a feature index of at most 4294967296, found '4294967297'"},
      {"1 3", "3: expected 'index:value' (a ':' after the feature index), found '3'"},
      {"1 3: 4:1", "3: expected a value after ':', found '3:'"},
      {"1 3:1 3:2", "7: expected each feature index at most once in a row, found '3'"},
      {"1 5:1 3:1 5:2", "11: expected each feature index at most once in a row, found '5'"},
      {"1 3:nan", "5: expected a finite number as the feature value, found 'nan'"},
      {"1 3:inf", "5: expected a finite number as the feature value, found 'inf'"},
      {"1 3:-inf", "5: expected a finite number as the feature value, found '-inf'"},
      {"1 3:1e999", "5: expected a finite number as the feature value, found '1e999'"},
      {"nan 3:1", "1: field 'label': expected a finite number as the label, found 'nan'"},
      {"abc 3:1", "1: field 'label': expected a number as the label, found 'abc'"},
      {std::string("1 3:1\0 4:1", 10), "5: expected a number as the feature value, found '1\\x00'"},
      {std::string("1 \0", 3), "3: expected a feature index (base-10 digits), found '\\x00'"},
  };
  temp_dir dir("bad");
  for (const auto& c : cases) {
    INFO("line: " << mlsd::input_error::printable(c.line));
    CHECK(error_of("1 1:1\n" + c.line + "\n-1 2:1\n") == "mem.svm:2:" + c.message);

    const fs::path quarantine = dir.path / "quarantine.svm";
    fs::remove(quarantine);
    auto s = from_text("1 1:1\n" + c.line + "\n-1 2:1\n", {}, error_policy::skip(5, quarantine));
    const auto rows = read_all(s);
    REQUIRE(rows.size() == 2);
    CHECK(rows[1].label == -1.0f);
    CHECK(rows[1].indices == idx{1}); // the row after a bad one is whole
    CHECK(s.report().accepted == 2);
    CHECK(s.report().skipped == 1);
    REQUIRE(s.report().first_skipped.size() == 1);
    CHECK(s.report().first_skipped[0].where.line == 2);
    CHECK(s.report().first_skipped[0].message == "mem.svm:2:" + c.message);
    CHECK(slurp(quarantine) == c.line + "\n");
  }
}

TEST_CASE("libsvm: skip mode counts every bad row, keeps the first ones, quarantines all",
          "[data][parser]") {
  temp_dir dir("skip");
  const fs::path input =
      dir.write("in.svm", "1 1:1\r\nx 1:1\r\n-1 2:1\r\n1 0:1\r\n1 2:z\r\n0 3:3\r\n");
  const fs::path quarantine = dir.path / "bad.svm";
  libsvm_source s(input, {}, error_policy::skip(2, quarantine));
  const auto rows = read_all(s);
  REQUIRE(rows.size() == 3);
  CHECK(rows[2].label == 0.0f);
  CHECK(s.report().accepted == 3);
  CHECK(s.report().skipped == 3);
  REQUIRE(s.report().first_skipped.size() == 2); // keep_first = 2, the count stays exact
  CHECK(s.report().first_skipped[0].where.to_string() == input.string() + ":2:1: field 'label'");
  CHECK(s.report().first_skipped[1].where.line == 4);
  CHECK(slurp(quarantine) == "x 1:1\n1 0:1\n1 2:z\n"); // as written, without the CR
  CHECK(s.report().summary().rfind("read 3 records, skipped 3 (first: " + input.string() + ":2:1",
                                   0) == 0);
}

TEST_CASE("libsvm: errors from a file name the file", "[data][parser]") {
  temp_dir dir("file");
  const fs::path input = dir.write("bad.svm", "1 1:1\n1 2:1 2:3\n");
  libsvm_source s(input);
  std::vector<sparse_row> rows(8);
  try {
    (void)s.read(rows);
    FAIL("no error");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().file == input.string());
    CHECK(e.where().line == 2);
    CHECK(e.where().column == 7);
    CHECK(e.expected() == "each feature index at most once in a row");
    CHECK(e.found() == "2");
  }
  CHECK_THROWS_AS(libsvm_source(dir.path / "missing.svm"), mlsd::input_error);
}

TEST_CASE("libsvm: a line over 1 MB parses; a line over max_line_bytes is a bad record",
          "[data][parser]") {
  temp_dir dir("long");
  std::string long_line = "-1";
  const std::uint32_t n = 150'000; // about 1.9 MB, more than the default 1 MB chunk
  for (std::uint32_t i = 1; i <= n; ++i) {
    long_line += ' ';
    long_line += std::to_string(i);
    long_line += ":0.5";
  }
  REQUIRE(long_line.size() > (std::size_t{1} << 20));
  const fs::path input = dir.write("long.svm", "1 1:1\n" + long_line + "\n0 2:2\n");
  {
    libsvm_source s(input);
    const auto rows = read_all(s);
    REQUIRE(rows.size() == 3);
    REQUIRE(rows[1].nnz() == n);
    CHECK(rows[1].indices.front() == 0);
    CHECK(rows[1].indices.back() == n - 1);
    CHECK(rows[1].values[n / 2] == 0.5f);
    CHECK(rows[2].indices == idx{1});
    CHECK(s.bytes_read() == fs::file_size(input));
  }
  libsvm_config small;
  small.chunk_bytes = 64;
  small.max_line_bytes = 1000;
  {
    // Fail: the over-long line is an error naming its line, with its first bytes.
    libsvm_source s(input, small);
    std::vector<sparse_row> rows(8);
    try {
      (void)s.read(rows);
      FAIL("no error");
    } catch (const mlsd::input_error& e) {
      CHECK(std::string(e.what()) == input.string() +
                                         ":2: expected a line of at most 1000 bytes, found '" +
                                         long_line.substr(0, 64) + "'");
    }
  }
  {
    // Skip: the reader steps past it (its memory stays bounded) and the line is counted.
    libsvm_source s(input, small, error_policy::skip());
    const auto rows = read_all(s);
    REQUIRE(rows.size() == 2);
    CHECK(rows[1].indices == idx{1});
    CHECK(s.report().skipped == 1);
    CHECK(s.report().first_skipped.at(0).where.line == 2);
  }
}

TEST_CASE("libsvm: reading through tiny chunks gives the same rows", "[data][parser]") {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text += (i % 3 == 0 ? "+1" : "-1");
    for (int k = 0; k <= i % 7; ++k) {
      text += ' ';
      text += std::to_string(1 + k * 13 + i % 11);
      text += ':';
      text += std::to_string(i * 0.25 - k);
    }
    text += i % 5 == 0 ? "\r\n" : "\n";
  }
  temp_dir dir("chunks");
  const fs::path input = dir.write("in.svm", text);
  auto whole = from_text(text);
  const auto expected = read_all(whole);
  REQUIRE(expected.size() == 200);
  for (const std::size_t chunk : {1u, 7u, 64u, 4096u}) {
    libsvm_config cfg;
    cfg.chunk_bytes = chunk;
    libsvm_source s(input, cfg);
    const auto rows = read_all(s);
    REQUIRE(rows.size() == expected.size());
    for (std::size_t r = 0; r < rows.size(); ++r) {
      INFO("chunk " << chunk << ", row " << r);
      CHECK(rows[r].label == expected[r].label);
      CHECK(rows[r].indices == expected[r].indices);
      CHECK(rows[r].values == expected[r].values);
    }
  }
  // Spot check one row against the text: row 12 is "+1 2:3.000000 15:2.000000 ... 67:-2.000000".
  CHECK(expected[12].label == 1.0f);
  CHECK(expected[12].indices == idx{1, 14, 27, 40, 53, 66});
  CHECK(expected[12].values == val{3.0f, 2.0f, 1.0f, 0.0f, -1.0f, -2.0f});
}

TEST_CASE("libsvm: read_batch fills a CSR batch", "[data][parser]") {
  auto s = from_text("1 1:1 3:3\nbad\n-1\n0 2:2 4:4 6:6\n1 5:5\n", {}, error_policy::skip());
  mlsd::sparse_batch batch;
  REQUIRE(s.read_batch(batch, 3) == 3);
  CHECK(batch.size() == 3);
  CHECK(std::vector<std::size_t>(batch.offsets().begin(), batch.offsets().end()) ==
        std::vector<std::size_t>{0, 2, 2, 5});
  CHECK(std::vector<float>(batch.labels().begin(), batch.labels().end()) == val{1.0f, -1.0f, 0.0f});
  CHECK(std::vector<std::uint32_t>(batch.indices().begin(), batch.indices().end()) ==
        idx{0, 2, 1, 3, 5});
  CHECK(batch[2].values[1] == 4.0f);
  REQUIRE(s.read_batch(batch, 3) == 1); // the batch is cleared first
  CHECK(batch.size() == 1);
  CHECK(batch[0].indices[0] == 4);
  CHECK(s.read_batch(batch, 3) == 0);
  CHECK(batch.empty());
  CHECK(s.report().skipped == 1);
  CHECK(s.report().accepted == 4);
}

TEST_CASE("libsvm: rows read again reuse their capacity", "[data][parser]") {
  auto s = from_text("1 1:1 2:2 3:3 4:4\n-1 1:1 2:2 3:3 4:4\n1 5:5\n1 6:6 7:7\n");
  std::vector<sparse_row> rows(2);
  REQUIRE(s.read(rows) == 2);
  const auto* indices0 = rows[0].indices.data();
  const auto* values1 = rows[1].values.data();
  REQUIRE(s.read(rows) == 2);
  CHECK(rows[0].indices == idx{4});
  CHECK(rows[1].indices == idx{5, 6});
  CHECK(rows[0].indices.data() == indices0); // no reallocation for shorter rows
  CHECK(rows[1].values.data() == values1);
}

TEST_CASE("libsvm: parse_libsvm_line on text in memory", "[data][parser]") {
  sparse_row row;
  REQUIRE(mlsd::data::parse_libsvm_line("-1 3:1.5 1:2", row));
  CHECK(row.label == -1.0f);
  CHECK(row.indices == idx{0, 2});
  CHECK(row.values == val{2.0f, 1.5f});
  try {
    (void)mlsd::data::parse_libsvm_line("1 2:x", row, {}, {"request", 7});
    FAIL("no error");
  } catch (const mlsd::input_error& e) {
    CHECK(std::string(e.what()) ==
          "request:7:5: expected a number as the feature value, found 'x'");
  }
  CHECK(row.nnz() == 0); // cleared after an error
  try { // without a line number the message has no position, but the error keeps the column
    (void)mlsd::data::parse_libsvm_line("1 2:1 2:1", row);
    FAIL("no error");
  } catch (const mlsd::input_error& e) {
    CHECK(std::string(e.what()) ==
          "<input>: expected each feature index at most once in a row, found '2'");
    CHECK(e.where().column == 7);
  }
}

TEST_CASE("libsvm: config validation and JSON round trip", "[data][parser]") {
  libsvm_config bad;
  bad.index_base = 2;
  CHECK_THROWS_WITH(from_text("", bad), "config field 'libsvm_config.index_base': expected 0 or 1");
  bad = {};
  bad.chunk_bytes = 0;
  CHECK_THROWS_WITH(from_text("", bad),
                    "config field 'libsvm_config.chunk_bytes': expected a positive size");

  libsvm_config cfg = libsvm_config::libfm();
  cfg.chunk_bytes = 4096;
  const nlohmann::json j = cfg;
  CHECK(j == nlohmann::json{{"index_base", 0},
                            {"chunk_bytes", 4096},
                            {"max_line_bytes", std::size_t{64} << 20},
                            {"fast_paths", true}});
  CHECK(j.get<libsvm_config>() == cfg);
  CHECK(nlohmann::json::parse(R"({"index_base": 0})").get<libsvm_config>() ==
        libsvm_config::libfm());
  CHECK_THROWS_WITH(nlohmann::json::parse(R"({"index_base": 3})").get<libsvm_config>(),
                    "config field 'libsvm_config.index_base': expected 0 or 1");
  CHECK_THROWS_WITH(nlohmann::json::parse(R"({"index_base": -1})").get<libsvm_config>(),
                    "config field 'libsvm_config.index_base': expected an integer from 0 to "
                    "4294967295, found -1");
  CHECK_THROWS_WITH(nlohmann::json::parse(R"({"base": 0})").get<libsvm_config>(),
                    "config field 'libsvm_config.base': expected one of the known keys "
                    "(index_base, chunk_bytes, max_line_bytes, fast_paths)");
  CHECK_THROWS_WITH(nlohmann::json::parse(R"({"fast_paths": 1})").get<libsvm_config>(),
                    "config field 'libsvm_config.fast_paths': expected true or false, found 1");
  CHECK_THROWS_WITH(nlohmann::json::parse("[1]").get<libsvm_config>(),
                    "config field 'libsvm_config': expected a JSON object, found [1]");
}

TEST_CASE("libsvm: the fast paths change nothing but the speed", "[data][parser]") {
  // Rows of many shapes (plain decimals of every length, exponents, signs, long indices, the
  // last pair of a line, CRLF) parsed with and without the word-at-a-time fast paths.
  std::mt19937_64 rng(7);
  std::string text;
  const char* const shapes[] = {"0.5",       "1",        "-0.25",      "1e-3", "+2",
                                "0.1234567", "12345678", "3.14159265", ".5",   "-7",
                                "0.000001",  "1E5",      "16777217",   "0"};
  for (int r = 0; r < 3000; ++r) {
    text += (rng() & 1) != 0 ? "+1" : "-1";
    std::uint32_t index = 0;
    const auto nnz = static_cast<int>(rng() % 12);
    for (int k = 0; k < nnz; ++k) {
      index += 1 + static_cast<std::uint32_t>(rng() % (k % 3 == 0 ? 10'000'000 : 50));
      text += ' ';
      text += std::to_string(index);
      text += ':';
      if (rng() % 3 == 0) {
        text += shapes[rng() % std::size(shapes)];
      } else {
        char buf[32];
        text.append(buf, std::to_chars(buf, buf + sizeof buf,
                                       static_cast<float>(rng() % 100000) / 997.0f,
                                       std::chars_format::general, 1 + static_cast<int>(rng() % 8))
                             .ptr);
      }
    }
    text += (r % 5 == 0) ? "\r\n" : "\n";
  }
  libsvm_config slow;
  slow.fast_paths = false;
  auto fast_source = libsvm_source(line_reader::from_string(text, "fast"));
  auto slow_source = libsvm_source(line_reader::from_string(text, "slow"), slow);
  const auto fast_rows = read_all(fast_source);
  const auto slow_rows = read_all(slow_source);
  REQUIRE(fast_rows.size() == 3000);
  REQUIRE(slow_rows.size() == fast_rows.size());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < fast_rows.size(); ++i) {
    differing += fast_rows[i].label != slow_rows[i].label ||
                 fast_rows[i].indices != slow_rows[i].indices ||
                 fast_rows[i].values != slow_rows[i].values;
  }
  CHECK(differing == 0);
}
