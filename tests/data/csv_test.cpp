// The CSV source (include/mlsd/data/csv.hpp): RFC 4180 quoting, headers and typed columns, and
// every kind of bad input in fail mode (exact message) and skip mode (counts, quarantine file).
#include <mlsd/data/csv.hpp>
#include <mlsd/data/memory_source.hpp>

#include "parser_fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace mlsd::data;

// id:int64, name:string, score:float64 (all required).
csv_config scores_config() {
  csv_config cfg;
  cfg.schema = record_schema(
      {{"id", column_type::int64}, {"name", column_type::string}, {"score", column_type::float64}});
  return cfg;
}

std::vector<record> read_text(const std::string& text, const csv_config& cfg = scores_config()) {
  auto source = csv_source::from_string(text, cfg, {}, "t.csv");
  return read_all(source);
}

std::vector<std::int64_t> ids(const std::vector<record>& records) {
  std::vector<std::int64_t> out;
  for (const record& r : records) {
    out.push_back(r.get<std::int64_t>("id"));
  }
  return out;
}

// One bad input, read twice: in fail mode the exact error message; in skip mode the ids of the
// good records, one skipped record with that message, and the quarantine file's exact content.
void check_bad(const std::string& text, const std::string& message,
               const std::vector<std::int64_t>& good_ids, const std::string& quarantined,
               const csv_config& cfg = scores_config()) {
  INFO("input: " << mlsd::input_error::printable(text, 200));
  {
    auto source = csv_source::from_string(text, cfg, {}, "bad.csv");
    CHECK_THROWS_WITH(read_all(source), message);
  }
  // One directory per case, so that test cases run in parallel (ctest -j) do not share it;
  // removed at the end.
  const mlsd_test::temp_dir dir("csv", std::to_string(std::hash<std::string>{}(message)));
  const auto quarantine = dir.path / "quarantine.csv";
  auto source = csv_source::from_string(text, cfg, error_policy::skip(5, quarantine), "bad.csv");
  const auto records = read_all(source);
  CHECK(ids(records) == good_ids);
  CHECK(source.report().accepted == good_ids.size());
  CHECK(source.report().skipped == 1);
  REQUIRE(source.report().first_skipped.size() == 1);
  CHECK(source.report().first_skipped[0].message == message);
  CHECK(mlsd_test::slurp(quarantine) == quarantined);
}

} // namespace

TEST_CASE("csv: a header and typed columns give typed records", "[data][csv]") {
  const auto records = read_text("id,name,score\n1,alpha,0.5\n2,beta,-1e3\n-3,gamma,+7\n");
  REQUIRE(records.size() == 3);
  CHECK(records[0].get<std::int64_t>(0) == 1);
  CHECK(records[0].get<std::string>("name") == "alpha");
  CHECK(records[0].get<double>("score") == 0.5);
  CHECK(records[1].get<double>(2) == -1000.0);
  CHECK(records[2].get<std::int64_t>("id") == -3);
  CHECK(records[2].get<double>("score") == 7.0);
  CHECK(records[0].line() == 2);
  CHECK(records[2].line() == 4);
  CHECK(records[1].schema()[2].name == "score");
}

TEST_CASE("csv: RFC 4180 quoting", "[data][csv]") {
  SECTION("quoted delimiters, doubled quotes and an empty quoted field") {
    const auto records =
        read_text("id,name,score\n1,\"Hello, world\",1\n2,\"say \"\"hi\"\"\",2\n3,\"\",\"3.5\"\n");
    REQUIRE(records.size() == 3);
    CHECK(records[0].get<std::string>(1) == "Hello, world");
    CHECK(records[1].get<std::string>(1) == "say \"hi\"");
    CHECK(records[2].get<std::string>(1).empty());
    CHECK(records[2].get<double>(2) == 3.5);
  }
  SECTION("a quoted field spanning lines; the next record has its own line number") {
    const auto records =
        read_text("id,name,score\n1,\"two\nlines, \"\"quoted\"\"\n and three\",1\n2,b,2\n");
    REQUIRE(records.size() == 2);
    CHECK(records[0].get<std::string>(1) == "two\nlines, \"quoted\"\n and three");
    CHECK(records[0].line() == 2);
    CHECK(records[1].line() == 5);
    CHECK(records[1].get<std::string>(1) == "b");
  }
  SECTION("the same file read through a 16-byte chunk") {
    const std::string text = "id,name,score\n1,\"a long, quoted\nfield\",1\n2,\"x\"\"y\",2\n";
    csv_config cfg = scores_config();
    cfg.reader.chunk_bytes = 16;
    const mlsd_test::temp_dir dir("csv", "chunks");
    const auto path = dir.write("chunks.csv", text);
    csv_source source(path, cfg);
    const auto records = read_all(source, 1);
    REQUIRE(records.size() == 2);
    CHECK(records[0].get<std::string>(1) == "a long, quoted\nfield");
    CHECK(records[1].get<std::string>(1) == "x\"y");
    CHECK(records == read_text(text));
  }
  SECTION("a stray quote inside an unquoted field") {
    check_bad("id,name,score\n1,a,1\n2,b\"c,2\n3,c,3\n",
              "bad.csv:3:4: field 'name': expected no quote inside an unquoted field (RFC 4180: "
              "quote the whole field and double its quotes), found '\"c,2'",
              {1, 3}, "2,b\"c,2\n");
  }
  SECTION("text after a closing quote") {
    check_bad("id,name,score\n1,a,1\n2,\"b\"c,2\n",
              "bad.csv:3:6: field 'score': expected a delimiter or the end of the record after a "
              "closing quote, found 'c,2'",
              {1}, "2,\"b\"c,2\n");
  }
}

TEST_CASE("csv: delimiters, quoting off, no header", "[data][csv]") {
  SECTION("semicolon") {
    csv_config cfg = scores_config();
    cfg.delimiter = ';';
    const auto records = read_text("id;name;score\n1;a,b;2.5\n", cfg);
    REQUIRE(records.size() == 1);
    CHECK(records[0].get<std::string>(1) == "a,b");
  }
  SECTION("tab, no quoting, no header: quotes are ordinary bytes") {
    csv_config cfg;
    cfg.delimiter = '\t';
    cfg.quoting = false;
    cfg.has_header = false;
    cfg.schema = record_schema({{"label", column_type::string}, {"text", column_type::string}});
    const auto records = read_text("ham\tsay \"hi\nspam\t\"WIN\" now, \"\"free\"\n", cfg);
    REQUIRE(records.size() == 2);
    CHECK(records[0].get<std::string>("text") == "say \"hi");
    CHECK(records[1].get<std::string>("label") == "spam");
    CHECK(records[1].get<std::string>("text") == "\"WIN\" now, \"\"free\"");
  }
}

TEST_CASE("csv: columns selected by name, inferred schema", "[data][csv]") {
  SECTION("a subset of the header, in another order; other columns are not converted") {
    csv_config cfg;
    cfg.schema = record_schema({{"score", column_type::float64}, {"id", column_type::int64}});
    const auto records = read_text("id,name,score\n7,not a number,2.25\n", cfg);
    REQUIRE(records.size() == 1);
    CHECK(records[0].size() == 2);
    CHECK(records[0].get<double>(0) == 2.25);
    CHECK(records[0].get<std::int64_t>(1) == 7);
  }
  SECTION("no schema: every header column as an optional string") {
    auto source = csv_source::from_string("a,b\n1,\n,\"\"\n");
    CHECK(source.header() == std::vector<std::string>{"a", "b"});
    REQUIRE(source.schema()->size() == 2);
    CHECK((*source.schema())[1] == column{"b", column_type::string, true, false});
    const auto records = read_all(source);
    REQUIRE(records.size() == 2);
    CHECK(records[0].get<std::string>("a") == "1");
    CHECK(records[0].is_missing("b")); // an unquoted empty field is missing
    CHECK(records[1].is_missing("a"));
    CHECK(records[1].get<std::string>("b").empty()); // a quoted empty field is the empty string
  }
  SECTION("no header: the schema maps by position") {
    csv_config cfg = scores_config();
    cfg.has_header = false;
    const auto records = read_text("1,a,0.5\n2,b,1.5\n", cfg);
    CHECK(ids(records) == std::vector<std::int64_t>{1, 2});
  }
}

TEST_CASE("csv: column types", "[data][csv]") {
  csv_config cfg;
  cfg.schema = record_schema({{"flag", column_type::boolean},
                              {"at", column_type::unix_seconds},
                              {"at_ms", column_type::unix_millis},
                              {"x", column_type::float64, true, true},
                              {"n", column_type::int64, true}});
  const auto records = read_text("flag,at,at_ms,x,n\n"
                                 "true,964982703,1500000000123,nan,\n"
                                 "0,-1,-1,-inf,9223372036854775807\n"
                                 "FALSE,0,0,1e400,-9223372036854775808\n"
                                 "1,0,0,,+5\n",
                                 cfg);
  REQUIRE(records.size() == 4);
  CHECK(records[0].get<bool>("flag"));
  CHECK(records[0].get<mlsd::event_time>("at") == mlsd::event_time::from_seconds(964982703));
  CHECK(records[0].get<mlsd::event_time>("at_ms").micros() == 1500000000123000);
  CHECK(std::isnan(records[0].get<double>("x")));
  CHECK(records[0].is_missing("n"));
  CHECK_FALSE(records[1].get<bool>(0));
  CHECK(records[1].get<mlsd::event_time>(1).micros() == -1000000);
  CHECK(records[1].get<double>("x") == -INFINITY);
  CHECK(records[1].get<std::int64_t>("n") == INT64_MAX);
  CHECK_FALSE(records[2].get<bool>(0));
  CHECK(records[2].get<double>("x") == INFINITY); // overflow rounds to infinity (IEEE 754)
  CHECK(records[2].get<std::int64_t>("n") == INT64_MIN);
  CHECK(records[3].is_missing("x"));
  CHECK(records[3].get<std::int64_t>("n") == 5);
  CHECK(records[3].value_or<double>("x", -2.0) == -2.0);
  CHECK(records[3].value_or<std::int64_t>("n", 0) == 5);
}

TEST_CASE("csv: record access is checked", "[data][csv]") {
  const auto records = read_text("id,name,score\n1,a,0.5\n");
  REQUIRE(records.size() == 1);
  const record& r = records[0];
  CHECK_THROWS_WITH(
      r.get<std::int64_t>("score"),
      "<record>:2: field 'score': expected a value of type int64, found 'float64 0.5'");
  CHECK_THROWS_AS(r.get<double>("nope"), std::out_of_range);
  CHECK_THROWS_WITH(r.get<double>("nope"), "mlsd::data::record_schema: no column named 'nope' "
                                           "(columns: id name score)");
  CHECK_THROWS_AS(r.at(3), std::out_of_range);
  CHECK(r.get_if<double>(0) == nullptr);
  REQUIRE(r.get_if<double>(2) != nullptr);
  CHECK(*r.get_if<double>(2) == 0.5);
}

TEST_CASE("csv: records are reused without reallocating their strings", "[data][csv]") {
  const std::string long_a(100, 'a');
  const std::string long_b(80, 'b');
  auto source = csv_source::from_string("id,name,score\n1," + long_a + ",1\n2," + long_b + ",2\n",
                                        scores_config());
  record r;
  REQUIRE(source.next(r));
  const char* storage = r.get<std::string>(1).data();
  REQUIRE(source.next(r));
  CHECK(r.get<std::string>(1) == long_b);
  CHECK(r.get<std::string>(1).data() == storage);
  CHECK_FALSE(source.next(r));
}

TEST_CASE("csv: read fills a prefix of the span, 0 at the end", "[data][csv]") {
  auto source = csv_source::from_string("id,name,score\n1,a,1\n2,b,2\n3,c,3\n", scores_config());
  std::vector<record> batch(2);
  CHECK(source.read(batch) == 2);
  CHECK(batch[1].get<std::int64_t>(0) == 2);
  CHECK(source.read(batch) == 1);
  CHECK(batch[0].get<std::int64_t>(0) == 3);
  CHECK(source.read(batch) == 0);
  CHECK(source.report().accepted == 3);
  CHECK(source.report().skipped == 0);
}

TEST_CASE("csv: line ends and byte-order marks", "[data][csv]") {
  SECTION("CRLF, also inside a quoted field (stored as LF)") {
    const auto records = read_text("id,name,score\r\n1,a,0.5\r\n2,\"x\r\ny\",1\r\n");
    REQUIRE(records.size() == 2);
    CHECK(records[0].get<std::string>(1) == "a");
    CHECK(records[0].get<double>(2) == 0.5);
    CHECK(records[1].get<std::string>(1) == "x\ny");
  }
  SECTION("a UTF-8 BOM before the header") {
    auto source = csv_source::from_string("\xEF\xBB\xBFid,name,score\n1,a,0.5\n", scores_config());
    CHECK(source.header()[0] == "id");
    CHECK(ids(read_all(source)) == std::vector<std::int64_t>{1});
  }
  SECTION("a last line without a line end") {
    CHECK(ids(read_text("id,name,score\n1,a,0.5\n2,b,1")) == std::vector<std::int64_t>{1, 2});
  }
}

TEST_CASE("csv: empty files", "[data][csv]") {
  SECTION("a header is expected: an empty file is an error, whatever the policy") {
    CHECK_THROWS_WITH(csv_source::from_string("", scores_config(), {}, "e.csv"),
                      "e.csv:1:1: expected a header row, found 'an empty file'");
    CHECK_THROWS_WITH(
        csv_source::from_string("\xEF\xBB\xBF", scores_config(), error_policy::skip(), "e.csv"),
        "e.csv:1:1: expected a header row, found 'an empty line'");
  }
  SECTION("a header only: no records") {
    CHECK(read_text("id,name,score\n").empty());
  }
  SECTION("no header expected: no records") {
    csv_config cfg = scores_config();
    cfg.has_header = false;
    CHECK(read_text("", cfg).empty());
  }
}

TEST_CASE("csv: bad records, failed or skipped", "[data][csv]") {
  const std::string header = "id,name,score\n1,a,1\n";
  SECTION("a non-numeric value in a numeric column") {
    check_bad(header + "2,b,abc\n3,c,3\n",
              "bad.csv:3:5: field 'score': expected a float64 number, found 'abc'", {1, 3},
              "2,b,abc\n");
    check_bad(header + "2.5,b,2\n",
              "bad.csv:3:1: field 'id': expected an int64 integer, found '2.5'", {1}, "2.5,b,2\n");
    check_bad(header + "9223372036854775808,b,2\n",
              "bad.csv:3:1: field 'id': expected an int64 integer, found '9223372036854775808'",
              {1}, "9223372036854775808,b,2\n");
    check_bad(header + "2,b, 2\n",
              "bad.csv:3:5: field 'score': expected a float64 number, found ' 2'", {1}, "2,b, 2\n");
  }
  SECTION("NaN and infinity where the column does not allow them") {
    for (const std::string bad : {"nan", "NaN", "inf", "-inf", "1e400"}) {
      check_bad(header + "2,b," + bad + "\n",
                "bad.csv:3:5: field 'score': expected a finite float64 number (NaN and infinities "
                "are not allowed in this column), found '" +
                    bad + "'",
                {1}, "2,b," + bad + "\n");
    }
  }
  SECTION("a wrong number of fields") {
    check_bad(header + "2,b\n3,c,3\n",
              "bad.csv:3:4: field 'score': expected 3 fields (as in the header), found '2 fields'",
              {1, 3}, "2,b\n");
    check_bad(header + "2,b,2,x\n",
              "bad.csv:3:7: field '#4': expected 3 fields (as in the header), found '4 fields'",
              {1}, "2,b,2,x\n");
    check_bad(header + "\n3,c,3\n",
              "bad.csv:3:1: field 'name': expected 3 fields (as in the header), found '1 field'",
              {1, 3}, "\n");
  }
  SECTION("a truncated last line") {
    check_bad(header + "2,b",
              "bad.csv:3:4: field 'score': expected 3 fields (as in the header), "
              "found '2 fields'",
              {1}, "2,b\n");
  }
  SECTION("an unterminated quote at the end of the input") {
    check_bad(header + "2,\"b,2\n3,c,3",
              "bad.csv:3:3: field 'name': expected a closing quote before the end of the input, "
              "found '\"b,2\\x0a3,c,3'",
              {1}, "2,\"b,2\n3,c,3\n");
  }
  SECTION("a missing value in a required column") {
    check_bad(header + "2,,2\n",
              "bad.csv:3:3: field 'name': expected a string value (the column is not optional), "
              "found 'an empty field'",
              {1}, "2,,2\n");
    check_bad(header + "2,b,\"\"\n",
              "bad.csv:3:5: field 'score': expected a float64 value (the column is not optional), "
              "found 'an empty field'",
              {1}, "2,b,\"\"\n");
  }
  SECTION("an embedded NUL byte") {
    const std::string line = std::string("2,b") + '\0' + "c,2";
    check_bad(header + line + "\n",
              "bad.csv:3:4: field 'name': expected text without NUL bytes, found '\\x00'", {1},
              line + "\n");
  }
  SECTION("invalid UTF-8 in a text column, named by its byte column") {
    check_bad(header + "2,ok \xC3(,2\n",
              "bad.csv:3:6: field 'name': expected valid UTF-8 (RFC 3629), found 'a truncated "
              "sequence (bytes C3 28)'",
              {1}, "2,ok \xC3(,2\n");
    check_bad(header + "2,\"x\xC0\xAF\",2\n",
              "bad.csv:3:5: field 'name': expected valid UTF-8 (RFC 3629), found 'an overlong "
              "encoding (bytes C0 AF 22)'",
              {1}, "2,\"x\xC0\xAF\",2\n");
    check_bad(header + "2,\xED\xA0\x80,2\n",
              "bad.csv:3:3: field 'name': expected valid UTF-8 (RFC 3629), found 'a UTF-16 "
              "surrogate (U+D800..U+DFFF) (bytes ED A0 80)'",
              {1}, "2,\xED\xA0\x80,2\n");
    check_bad(header + "2,\xF4\x90\x80\x80,2\n",
              "bad.csv:3:3: field 'name': expected valid UTF-8 (RFC 3629), found 'a code point "
              "above U+10FFFF (bytes F4 90 80 80)'",
              {1}, "2,\xF4\x90\x80\x80,2\n");
    check_bad(header + "2,\"line\n\xE2\x82\",2\n",
              "bad.csv:4:1: field 'name': expected valid UTF-8 (RFC 3629), found 'a truncated "
              "sequence (bytes E2 82 22)'",
              {1}, "2,\"line\n\xE2\x82\",2\n");
  }
  SECTION("a record over max_record_bytes (1 MiB by default)") {
    const std::string big(1500000, 'x');
    check_bad(header + "2," + big + ",2\n3,c,3\n",
              "bad.csv:3:1: expected a record of at most 1048576 bytes (csv max_record_bytes), "
              "found '1500004 bytes'",
              {1, 3}, "2," + big + ",2\n");
    csv_config roomy = scores_config();
    roomy.max_record_bytes = std::size_t{4} << 20;
    const auto records = read_text(header + "2," + big + ",2\n", roomy);
    REQUIRE(records.size() == 2);
    CHECK(records[1].get<std::string>(1) == big);
  }
  SECTION("a quoted field that would grow past max_record_bytes") {
    csv_config small = scores_config();
    small.max_record_bytes = 16;
    check_bad(header + "2,\"0123456789\n0123456789\",2\n",
              "bad.csv:3:1: expected a record of at most 16 bytes (csv max_record_bytes), found "
              "'27 bytes'",
              {1}, "2,\"0123456789\n", small);
  }
}

TEST_CASE("csv: the first skipped records are kept, all are counted", "[data][csv]") {
  auto source = csv_source::from_string("id,name,score\n1,a,x\n2,b,y\n3,c,3\n4,d,z\n",
                                        scores_config(), error_policy::skip(2), "s.csv");
  CHECK(ids(read_all(source)) == std::vector<std::int64_t>{3});
  CHECK(source.report().skipped == 3);
  REQUIRE(source.report().first_skipped.size() == 2);
  CHECK(source.report().first_skipped[1].where.line == 3);
  CHECK(source.report().first_skipped[1].where.column == 5);
  CHECK(source.report().first_skipped[1].where.field == "score");
  CHECK(source.report().first_skipped[1].text == "2,b,y");
  CHECK(source.report().summary() ==
        "read 1 records, skipped 3 (first: s.csv:2:5: field 'score': expected a float64 number, "
        "found 'x')");
}

TEST_CASE("csv: header errors always throw", "[data][csv]") {
  for (const error_policy& policy : {error_policy{}, error_policy::skip()}) {
    CHECK_THROWS_WITH(csv_source::from_string("id,name,id\n1,a,2\n", {}, policy, "h.csv"),
                      "h.csv:1:9: field 'id': expected a column name that is not already in the "
                      "header, found ''id' again (first at column 1)'");
    CHECK_THROWS_WITH(csv_source::from_string("id,name\n1,a\n", scores_config(), policy, "h.csv"),
                      "h.csv:1:8: field 'score': expected a header column named 'score' (required "
                      "by the schema), found 'id,name'");
    CHECK_THROWS_WITH(csv_source::from_string("id,,x\n", {}, policy, "h.csv"),
                      "h.csv:1:4: field '#2': expected a non-empty column name in the header (or "
                      "a configured schema), found 'an empty name'");
  }
}

TEST_CASE("csv: a file that cannot be opened", "[data][csv]") {
  const mlsd_test::temp_dir dir("csv", "missing");
  CHECK_THROWS_AS(csv_source(dir.path / "does_not_exist.csv"), mlsd::input_error);
}

TEST_CASE("csv: configuration is validated and round-trips through JSON", "[data][csv]") {
  csv_config quote;
  quote.delimiter = '"';
  CHECK_THROWS_WITH(csv_source::from_string("a\n", quote),
                    "config field 'csv.delimiter': expected a byte other than '\"' when quoting "
                    "is on");
  csv_config headless;
  headless.has_header = false;
  CHECK_THROWS_AS(csv_source::from_string("a\n", headless), mlsd::config_error);
  CHECK_THROWS_WITH(record_schema({{"a"}, {"a", column_type::int64}}),
                    "config field 'schema.columns[1].name': expected a name not used by another "
                    "column ('a' is also columns[0])");
  CHECK_THROWS_AS(record_schema({{"a", column_type::int64, false, true}}), mlsd::config_error);

  csv_config cfg = scores_config();
  cfg.delimiter = '\t';
  cfg.quoting = false;
  cfg.max_record_bytes = 4096;
  const nlohmann::json j = cfg;
  CHECK(j["delimiter"] == "\t");
  CHECK(j["schema"][2]["type"] == "float64");
  const auto back = j.get<csv_config>();
  CHECK(back.delimiter == '\t');
  CHECK_FALSE(back.quoting);
  CHECK(back.max_record_bytes == 4096);
  CHECK(back.schema == cfg.schema);
  const auto parsed = nlohmann::json::parse(
      R"({"delimiter": ";", "schema": [{"name": "x", "type": "bool", "optional": true}]})");
  const auto from = parsed.get<csv_config>();
  CHECK(from.delimiter == ';');
  CHECK(from.schema[0] == column{"x", column_type::boolean, true, false});
  CHECK_THROWS_WITH(
      nlohmann::json::parse(R"({"schema": [{"name": "x", "type": "int"}]})").get<csv_config>(),
      "config field 'column.type': expected one of string, int64, float64, bool, "
      "unix_seconds, unix_millis, found \"int\"");
  CHECK_THROWS_WITH(nlohmann::json::parse(R"({"delimiter": ",,"})").get<csv_config>(),
                    "config field 'csv.delimiter': expected a string of one byte, found \",,\"");
}
