// The libffm source and line parser (include/mlsd/data/libffm.hpp).
#include <mlsd/data/libffm.hpp>

#include "parser_fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using mlsd::sparse_row;
using mlsd::data::error_policy;
using mlsd::data::libffm_config;
using mlsd::data::libffm_source;
using mlsd::data::line_reader;

using mlsd_test::slurp;

/// A fresh directory for one test case, removed at the end.
struct temp_dir : mlsd_test::temp_dir {
  explicit temp_dir(std::string_view tag)
      : mlsd_test::temp_dir("libffm", tag) {}
};

libffm_source from_text(const std::string& text, libffm_config cfg = {}, error_policy policy = {}) {
  return libffm_source(line_reader::from_string(text, "mem.ffm"), cfg, std::move(policy));
}

/// Every record of `s`, read 2 at a time (so that reads span several calls).
std::vector<sparse_row> read_all(libffm_source& s) {
  return mlsd_test::read_all(s, 2);
}

/// The message of the `input_error` reading `text` throws, or "" when none is thrown.
std::string error_of(const std::string& text, libffm_config cfg = {}) {
  return mlsd_test::error_of(from_text(text, cfg), 2);
}

using u32s = std::vector<std::uint32_t>;
using floats = std::vector<float>;

} // namespace

TEST_CASE("libffm: label and field:index:value entries, in file order", "[data][parser]") {
  auto s = from_text("1 0:5:1 1:3:0.5 0:2:-2\n"
                     "0 2:7:1 # comment 9:9:x\r\n"
                     "\n"
                     "-1\t3:1:+0.25 \t\n"
                     "1 1:1:1");
  const auto rows = read_all(s);
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].label == 1.0f);
  CHECK(rows[0].fields == u32s{0, 1, 0});
  CHECK(rows[0].indices == u32s{5, 3, 2}); // not sorted: libffm keeps the file's order
  CHECK(rows[0].values == floats{1.0f, 0.5f, -2.0f});
  CHECK(rows[1].fields == u32s{2});
  CHECK(rows[1].indices == u32s{7});
  CHECK(rows[2].label == -1.0f);
  CHECK(rows[2].fields == u32s{3});
  CHECK(rows[2].values == floats{0.25f});
  CHECK(rows[3].indices == u32s{1});
  CHECK(s.blank_lines() == 1);
  CHECK(s.report().accepted == 4);
}

TEST_CASE("libffm: a BOM only counts at the start of the file", "[data][parser]") {
  // A BOM anywhere else is text: here it is part of line 2's label, which does not parse.
  CHECK(error_of("1 0:1:1\n\xEF\xBB\xBF"
                 "0 1:1:1\n") ==
        "mem.ffm:2:1: field 'label': expected a number as the label, found '\xEF\xBB\xBF"
        "0'");
  auto s = from_text("\xEF\xBB\xBF"
                     "1 0:1:1\n");
  CHECK(read_all(s).size() == 1);
}

TEST_CASE("libffm: index base 1 counts fields and indices from 1", "[data][parser]") {
  libffm_config cfg;
  cfg.index_base = 1;
  sparse_row row;
  REQUIRE(mlsd::data::parse_libffm_line("1 1:1:2 3:10:1", row, cfg));
  CHECK(row.fields == u32s{0, 2});
  CHECK(row.indices == u32s{0, 9});
  CHECK(error_of("1 0:1:1", cfg) == "mem.ffm:1:3: expected a field of at least 1, found '0'");
  CHECK(error_of("1 1:0:1", cfg) ==
        "mem.ffm:1:5: expected a feature index of at least 1, found '0'");
}

TEST_CASE("libffm: an empty file has no records", "[data][parser]") {
  temp_dir dir("empty");
  libffm_source s(dir.write("empty.ffm", ""));
  std::vector<sparse_row> rows(2);
  CHECK(s.read(rows) == 0);
  CHECK(s.report().accepted == 0);
}

TEST_CASE("libffm: bad input fails with file:line:column or is skipped and quarantined",
          "[data][parser]") {
  struct bad_case {
    std::string line;
    std::string message; // after "mem.ffm:2:"
  };
  const std::vector<bad_case> cases = {
      {"1 3:1", "5: expected 'field:index:value' (a ':' after the feature index), found '1'"},
      {"1 0:3:", "3: expected a value after the second ':', found '0:3:'"},
      {"1 0:3: 1:1:1", "3: expected a value after the second ':', found '0:3:'"},
      {"1 x:3:1", "3: expected a field (base-10 digits), found 'x'"},
      {"1 -1:3:1", "3: expected a non-negative field, found '-1'"},
      {"1 0:-3:1", "5: expected a non-negative feature index, found '-3'"},
      {"1 0:3:abc", "7: expected a number as the feature value, found 'abc'"},
      {"1 0:3:nan", "7: expected a finite number as the feature value, found 'nan'"},
      {"1 0:3:inf", "7: expected a finite number as the feature value, found 'inf'"},
      {"inf 0:3:1", "1: field 'label': expected a finite number as the label, found 'inf'"},
      {std::string("1 0:3\0:1", 8), "5: expected a feature index (base-10 digits), found '3\\x00'"},
  };
  temp_dir dir("bad");
  for (const auto& c : cases) {
    INFO("line: " << mlsd::input_error::printable(c.line));
    CHECK(error_of("1 0:1:1\n" + c.line + "\n0 1:2:2\n") == "mem.ffm:2:" + c.message);

    const fs::path quarantine = dir.path / "quarantine.ffm";
    fs::remove(quarantine);
    auto s = from_text("1 0:1:1\n" + c.line + "\n0 1:2:2\n", {}, error_policy::skip(5, quarantine));
    const auto rows = read_all(s);
    REQUIRE(rows.size() == 2);
    CHECK(rows[1].fields == u32s{1});
    CHECK(rows[1].indices == u32s{2});
    CHECK(s.report().skipped == 1);
    REQUIRE(s.report().first_skipped.size() == 1);
    CHECK(s.report().first_skipped[0].message == "mem.ffm:2:" + c.message);
    CHECK(slurp(quarantine) == c.line + "\n");
  }
}

TEST_CASE("libffm: read_batch keeps fields in CSR", "[data][parser]") {
  auto s = from_text("1 0:1:1 1:2:2\n0 2:3:3\n");
  mlsd::sparse_batch batch;
  REQUIRE(s.read_batch(batch, 10) == 2);
  CHECK(batch.has_fields());
  CHECK(std::vector<std::uint32_t>(batch.fields().begin(), batch.fields().end()) == u32s{0, 1, 2});
  CHECK(batch[1].fields[0] == 2);
  CHECK(batch[1].indices[0] == 3);
}

TEST_CASE("libffm: config validation and JSON round trip", "[data][parser]") {
  libffm_config bad;
  bad.index_base = 5;
  CHECK_THROWS_WITH(from_text("", bad), "config field 'libffm_config.index_base': expected 0 or 1");
  bad = {};
  bad.max_line_bytes = 0;
  CHECK_THROWS_WITH(libffm_source("/nonexistent/never.ffm", bad),
                    "config field 'libffm_config.max_line_bytes': expected a positive size");
  libffm_config cfg;
  cfg.index_base = 1;
  cfg.max_line_bytes = 1000;
  const nlohmann::json j = cfg;
  CHECK(j.at("index_base") == 1);
  CHECK(j.at("max_line_bytes") == 1000);
  CHECK(j.get<libffm_config>() == cfg);
  CHECK(nlohmann::json::object().get<libffm_config>() == libffm_config{});
  CHECK_THROWS_WITH(nlohmann::json::parse(R"({"chunk_bytes": "big"})").get<libffm_config>(),
                    "config field 'libffm_config.chunk_bytes': expected an integer from 0 to "
                    "18446744073709551615, found \"big\"");
  CHECK_THROWS_WITH(nlohmann::json::parse(R"({"index_base": 0, "fields": 3})").get<libffm_config>(),
                    "config field 'libffm_config.fields': expected one of the known keys "
                    "(index_base, chunk_bytes, max_line_bytes)");
}
