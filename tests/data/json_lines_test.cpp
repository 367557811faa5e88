// The JSON Lines source (include/mlsd/data/json_lines.hpp): keys to typed columns, missing vs
// null vs wrong type, and bad input in fail mode (exact message) and skip mode (quarantine).
#include <mlsd/data/json_lines.hpp>
#include <mlsd/data/memory_source.hpp>

#include "parser_fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

namespace {

using namespace mlsd::data;

// id:int64 (required), score:float64 (optional), text:string (required).
json_lines_config events_config() {
  json_lines_config cfg;
  cfg.schema = record_schema({{"id", column_type::int64},
                              {"score", column_type::float64, true},
                              {"text", column_type::string}});
  return cfg;
}

std::vector<std::int64_t> ids(const std::vector<record>& records) {
  std::vector<std::int64_t> out;
  for (const record& r : records) {
    out.push_back(r.get<std::int64_t>("id"));
  }
  return out;
}

const std::string good_first = "{\"id\": 1, \"text\": \"a\"}\n";
const std::string good_last = "{\"id\": 3, \"text\": \"c\"}\n";

// `bad` (one line, no line end) between two good lines: in fail mode the exact message (with
// line 2), in skip mode ids 1 and 3, one skipped record with that message, `bad` quarantined.
void check_bad(const std::string& bad, const std::string& message,
               const json_lines_config& cfg = events_config()) {
  INFO("line: " << mlsd::input_error::printable(bad, 200));
  const std::string text = good_first + bad + "\n" + good_last;
  {
    auto source = json_lines_source::from_string(text, cfg, {}, "bad.jsonl");
    CHECK_THROWS_WITH(read_all(source), message);
  }
  // One directory per case, so that test cases run in parallel (ctest -j) do not share it;
  // removed at the end.
  const mlsd_test::temp_dir dir("json_lines", std::to_string(std::hash<std::string>{}(message)));
  const auto quarantine = dir.path / "quarantine.jsonl";
  auto source =
      json_lines_source::from_string(text, cfg, error_policy::skip(5, quarantine), "bad.jsonl");
  CHECK(ids(read_all(source)) == std::vector<std::int64_t>{1, 3});
  CHECK(source.report().accepted == 2);
  CHECK(source.report().skipped == 1);
  REQUIRE(source.report().first_skipped.size() == 1);
  CHECK(source.report().first_skipped[0].message == message);
  CHECK(mlsd_test::slurp(quarantine) == bad + "\n");
}

} // namespace

TEST_CASE("json_lines: objects to typed records", "[data][json_lines]") {
  json_lines_config cfg;
  cfg.schema = record_schema({{"id", column_type::int64},
                              {"score", column_type::float64},
                              {"ok", column_type::boolean},
                              {"at", column_type::unix_seconds},
                              {"at_ms", column_type::unix_millis, true},
                              {"text", column_type::string}});
  auto source = json_lines_source::from_string(
      "{\"text\": \"caf\\u00e9 \\\"x\\\"\", \"id\": -7, \"score\": 2, \"ok\": true, "
      "\"at\": 964982703, \"nested\": {\"id\": \"not this one\", \"list\": [1, {\"a\": null}]}}\r\n"
      "{\"id\": 9223372036854775807, \"score\": -1.5e-3, \"ok\": false, \"at\": 0, "
      "\"at_ms\": 1500000000123, \"text\": \"\xE2\x82\xAC\"}\n",
      cfg);
  const auto records = read_all(source);
  REQUIRE(records.size() == 2);
  CHECK(records[0].get<std::int64_t>("id") == -7);
  CHECK(records[0].get<double>("score") == 2.0); // an integer is a float64 number
  CHECK(records[0].get<bool>("ok"));
  CHECK(records[0].get<mlsd::event_time>("at") == mlsd::event_time::from_seconds(964982703));
  CHECK(records[0].is_missing("at_ms"));
  CHECK(records[0].get<std::string>("text") == "caf\xC3\xA9 \"x\"");
  CHECK(records[0].line() == 1);
  CHECK(records[1].get<std::int64_t>(0) == INT64_MAX);
  CHECK(records[1].get<double>(1) == -1.5e-3);
  CHECK_FALSE(records[1].get<bool>(2));
  CHECK(records[1].get<mlsd::event_time>("at_ms").micros() == 1500000000123000);
  CHECK(records[1].get<std::string>("text") == "\xE2\x82\xAC");
  CHECK(records[1].line() == 2);
  CHECK(source.report().accepted == 2);
}

TEST_CASE("json_lines: missing key and null are missing; optional columns accept them (BOM)",
          "[data][json_lines]") {
  auto source = json_lines_source::from_string(
      "\xEF\xBB\xBF{\"id\": 1, \"text\": \"a\"}\n{\"id\": 2, \"score\": null, \"text\": \"b\"}",
      events_config());
  const auto records = read_all(source);
  REQUIRE(records.size() == 2);
  CHECK(records[0].is_missing("score"));
  CHECK(records[1].is_missing("score"));
  CHECK(records[1].value_or<double>("score", 0.25) == 0.25);
}

TEST_CASE("json_lines: a reused record keeps its string storage", "[data][json_lines]") {
  const std::string a(64, 'a');
  const std::string b(40, 'b');
  auto source = json_lines_source::from_string("{\"id\": 1, \"text\": \"" + a +
                                                   "\"}\n{\"id\": 2, \"text\": \"" + b + "\"}\n",
                                               events_config());
  record r;
  REQUIRE(source.next(r));
  const char* storage = r.get<std::string>("text").data();
  REQUIRE(source.next(r));
  CHECK(r.get<std::string>("text") == b);
  CHECK(r.get<std::string>("text").data() == storage);
}

TEST_CASE("json_lines: bad lines, failed or skipped", "[data][json_lines]") {
  SECTION("a missing required key, and null in a required column") {
    check_bad("{\"id\": 2}",
              "bad.jsonl:2:1: field 'text': expected a key 'text' (the column is not optional), "
              "found 'no such key'");
    check_bad("  {\"id\": null, \"text\": \"b\"}",
              "bad.jsonl:2:10: field 'id': expected a JSON integer (int64) (the column is not "
              "optional), found 'null'");
  }
  SECTION("wrong JSON types are not coerced") {
    check_bad("{\"id\": 2.0, \"text\": \"b\"}",
              "bad.jsonl:2:8: field 'id': expected a JSON integer (int64), found '2.0'");
    check_bad("{\"id\": \"2\", \"text\": \"b\"}",
              "bad.jsonl:2:8: field 'id': expected a JSON integer (int64), found 'string \"2\"'");
    check_bad("{\"id\": 2, \"score\": \"4.5\", \"text\": \"b\"}",
              "bad.jsonl:2:20: field 'score': expected a JSON number (float64), found 'string "
              "\"4.5\"'");
    check_bad("{\"id\": 2, \"text\": 5}",
              "bad.jsonl:2:19: field 'text': expected a JSON string, found '5'");
    check_bad("{\"id\": 2, \"text\": [\"b\"]}",
              "bad.jsonl:2:19: field 'text': expected a JSON string, found 'an array'");
    check_bad("{\"id\": 2, \"text\": {\"b\": 1}}",
              "bad.jsonl:2:19: field 'text': expected a JSON string, found 'an object'");
    check_bad("{\"id\":18446744073709551615,\"text\":\"b\"}",
              "bad.jsonl:2:7: field 'id': expected an integer within int64, found "
              "'18446744073709551615'");
  }
  SECTION("a key of the schema twice") {
    check_bad("{\"id\": 2, \"text\": \"b\", \"id\": 4}",
              "bad.jsonl:2:24: field 'id': expected a key that appears once in the object, found "
              "''id' again'");
  }
  SECTION("unknown keys when they are not allowed") {
    json_lines_config strict = events_config();
    strict.allow_unknown_keys = false;
    check_bad("{\"id\": 2, \"txet\": \"b\"}",
              "bad.jsonl:2:11: field 'txet': expected a key of the schema (allow_unknown_keys is "
              "false), found 'txet'",
              strict);
  }
  SECTION("JSON syntax errors name the column where parsing stopped") {
    check_bad("{\"id\": 2, \"text\": \"b\",}",
              "bad.jsonl:2:23: expected valid JSON (syntax error while parsing object key - "
              "unexpected '}'; expected string literal), found '\"b\",}'");
    check_bad("{\"id\": 2, \"text\": \"b\"",
              "bad.jsonl:2:22: expected valid JSON (syntax error while parsing object - unexpected "
              "end of input; expected '}'), found '\"b\"'");
    check_bad("{\"id\": 2, \"text\": \"b\"} 7",
              "bad.jsonl:2:24: expected valid JSON (syntax error while parsing value - unexpected "
              "number literal; expected end of input), found '7'");
    check_bad("{\"id\": 2, \"score\": 1e400, \"text\": \"b\"}",
              "bad.jsonl:2:24: field 'score': expected valid JSON (number overflow parsing "
              "'1e400'), found '1e400'");
  }
  SECTION("not an object, or an empty line") {
    check_bad("[1, 2]", "bad.jsonl:2:1: expected a JSON object, found 'an array'");
    check_bad("42", "bad.jsonl:2:1: expected a JSON object, found 'a number'");
    check_bad("", "bad.jsonl:2:1: expected a JSON object, found 'an empty line'");
  }
  SECTION("invalid UTF-8 and NUL bytes") {
    check_bad("{\"id\": 2, \"text\": \"b\xC0\xAF\"}",
              "bad.jsonl:2:21: field 'text': expected valid UTF-8 (RFC 3629), found 'an overlong "
              "encoding'");
    check_bad("{\"id\": 2, \"text\": \"b\xED\xA0\x80\"}",
              "bad.jsonl:2:21: field 'text': expected valid UTF-8 (RFC 3629), found 'a UTF-16 "
              "surrogate (U+D800..U+DFFF)'");
    check_bad(std::string("{\"id\": 2, \"text\": \"b\0\"}", 23),
              "bad.jsonl:2:21: expected text without NUL bytes, found '\\x00'");
    check_bad("{\"id\": 2, \"text\": \"b\\u0000\"}",
              "bad.jsonl:2:19: field 'text': expected a string without NUL characters, found "
              "'\\u0000'");
  }
  SECTION("a line over max_record_bytes (1 MiB by default)") {
    const std::string big = "{\"id\": 2, \"text\": \"" + std::string(1100000, 'x') + "\"}";
    check_bad(big, "bad.jsonl:2:1: expected a line of at most 1048576 bytes (json_lines "
                   "max_record_bytes), found '1100021 bytes'");
  }
}

TEST_CASE("json_lines: configuration is validated and round-trips through JSON",
          "[data][json_lines]") {
  CHECK_THROWS_WITH(json_lines_source::from_string("{}", json_lines_config{}),
                    "config field 'json_lines.schema': expected at least one column");
  json_lines_config cfg = events_config();
  cfg.allow_unknown_keys = false;
  cfg.max_record_bytes = 100;
  const nlohmann::json j = cfg;
  const auto back = j.get<json_lines_config>();
  CHECK(back.schema == cfg.schema);
  CHECK_FALSE(back.allow_unknown_keys);
  CHECK(back.max_record_bytes == 100);
  CHECK_THROWS_WITH(nlohmann::json::parse(R"({"schema": []})").get<json_lines_config>(),
                    "config field 'json_lines.schema': expected at least one column");
  CHECK_THROWS_WITH(nlohmann::json::parse(R"({"schema": [{"name": "a"}], "max_record_bytes": -1})")
                        .get<json_lines_config>(),
                    "config field 'json_lines.max_record_bytes': expected an integer from 0 to "
                    "18446744073709551615, found -1");
}
