// Input and configuration errors say where and what was expected.
#include <mlsd/core/error.hpp>

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("input_error names file, line, column, field, expected and found", "[core][error]") {
  const mlsd::input_error e({"train.csv", 12, 7, "price"}, "a number", "abc");
  CHECK(std::string(e.what()) == "train.csv:12:7: field 'price': expected a number, found 'abc'");
  CHECK(e.where().line == 12);
  CHECK(e.where().column == 7);
  CHECK(e.expected() == "a number");
  CHECK(e.found() == "abc");
}

TEST_CASE("input_error leaves out what it does not know", "[core][error]") {
  CHECK(std::string(mlsd::input_error({"a.svm", 3}, "a label").what()) ==
        "a.svm:3: expected a label");
  CHECK(std::string(mlsd::input_error({}, "an object").what()) == "<input>: expected an object");
  CHECK(std::string(mlsd::input_error({"f", 0, 0, "k"}, "x").what()) == "f: field 'k': expected x");
}

TEST_CASE("input_error escapes control bytes and shortens what it quotes", "[core][error]") {
  using namespace std::string_literals;
  CHECK(mlsd::input_error::printable("a\0b\tc\x7f"s) == "a\\x00b\\x09c\\x7f");
  CHECK(mlsd::input_error::printable(std::string(100, 'x'), 4) == "xxxx...");
  const mlsd::input_error e({"f", 1, 2}, "a digit", "\x01");
  CHECK(std::string(e.what()) == "f:1:2: expected a digit, found '\\x01'");
}

TEST_CASE("config_error names the field", "[core][error]") {
  const mlsd::config_error e("hashing.bits", "an integer from 1 to 32");
  CHECK(std::string(e.what()) == "config field 'hashing.bits': expected an integer from 1 to 32");
  CHECK(e.field() == "hashing.bits");
}
