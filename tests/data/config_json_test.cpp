// The config reader every data/ header uses (include/mlsd/data/detail/config_json.hpp): field
// names, the expected / found wording, integer ranges, unknown keys, arrays and enumerations.
#include <mlsd/data/detail/config_json.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using mlsd::data::detail::config_reader;

enum class colour { red, green };
constexpr std::array<std::pair<colour, std::string_view>, 2> colour_names = {
    {{colour::red, "red"}, {colour::green, "green"}}};

// The full message of the config_error `f` throws, or "<no error>".
template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const mlsd::config_error& e) {
    return e.what();
  }
  return "<no error>";
}

} // namespace

TEST_CASE("config_reader: values, defaults and required keys", "[data][config]") {
  const auto j = nlohmann::json::parse(
      R"({"on": true, "rate": 0.25, "count": 7, "offset": -3, "name": "x", "tags": ["a", "b"],
          "nested": [[1, 2], [3]], "colour": "green", "raw": {"k": 1}})");
  config_reader r(j, "thing");
  bool on = false;
  double rate = 0;
  std::uint32_t count = 0;
  std::int64_t offset = 0;
  std::string name;
  std::vector<std::string> tags;
  std::vector<std::vector<int>> nested;
  colour c = colour::red;
  nlohmann::json raw;
  int absent = 42;
  CHECK(r.read("on", on));
  r.require("rate", rate);
  CHECK(r.read("count", count, std::uint32_t{1}, std::uint32_t{10}));
  r.require("offset", offset);
  r.require("name", name);
  r.require("tags", tags);
  r.require("nested", nested);
  r.require_enum("colour", c, colour_names);
  r.require("raw", raw);
  CHECK_FALSE(r.read("absent", absent));
  r.finish();
  CHECK(on);
  CHECK(rate == 0.25);
  CHECK(count == 7);
  CHECK(offset == -3);
  CHECK(name == "x");
  CHECK(tags == std::vector<std::string>{"a", "b"});
  CHECK(nested == std::vector<std::vector<int>>{{1, 2}, {3}});
  CHECK(c == colour::green);
  CHECK(raw == nlohmann::json{{"k", 1}});
  CHECK(absent == 42); // an absent key keeps its default
  CHECK(r.field("rate") == "thing.rate");

  // A non-negative integer assigned in C++ is a signed JSON integer; it is accepted as unsigned.
  const nlohmann::json by_hand = {{"n", 5}};
  config_reader h(by_hand, "");
  std::uint64_t n = 0;
  h.require("n", n);
  CHECK(n == 5);
  CHECK(h.field("n") == "n"); // no prefix: the key alone
}

TEST_CASE("config_reader: every error names the field, what was expected and what was found",
          "[data][config]") {
  const auto read = [](const char* text, auto out) {
    return message_of([&] {
      const auto j = nlohmann::json::parse(text);
      config_reader r(j, "p");
      r.require("k", out);
      r.finish();
    });
  };
  CHECK(read("[]", true) == "config field 'p': expected a JSON object, found []");
  CHECK(read("{}", true) == "config field 'p.k': expected a value (the key is missing)");
  CHECK(read(R"({"k": 1})", true) == "config field 'p.k': expected true or false, found 1");
  CHECK(read(R"({"k": "1"})", 1.0) == "config field 'p.k': expected a number, found \"1\"");
  CHECK(read(R"({"k": 3})", std::string()) == "config field 'p.k': expected a string, found 3");
  CHECK(read(R"({"k": -1})", std::uint8_t{0}) ==
        "config field 'p.k': expected an integer from 0 to 255, found -1");
  CHECK(read(R"({"k": 256})", std::uint8_t{0}) ==
        "config field 'p.k': expected an integer from 0 to 255, found 256");
  CHECK(read(R"({"k": 2.0})", std::int8_t{0}) ==
        "config field 'p.k': expected an integer from -128 to 127, found 2.0");
  CHECK(read(R"({"k": 9223372036854775808})", std::int64_t{0}) ==
        "config field 'p.k': expected an integer from -9223372036854775808 to "
        "9223372036854775807, found 9223372036854775808");
  CHECK(read(R"({"k": {}})", std::vector<int>()) ==
        "config field 'p.k': expected an array, found {}");
  CHECK(read(R"({"k": [1, "2"]})", std::vector<int>()) ==
        "config field 'p.k[1]': expected an integer from -2147483648 to 2147483647, found \"2\"");
  CHECK(read(R"({"k": true, "kk": 1})", true) ==
        "config field 'p.kk': expected one of the known keys (k)");

  CHECK(message_of([] {
          const nlohmann::json j = {{"k", 40}};
          config_reader r(j, "p");
          unsigned bits = 0;
          r.read("k", bits, 1u, 32u);
        }) == "config field 'p.k': expected an integer from 1 to 32, found 40");
  CHECK(message_of([] {
          const nlohmann::json j = {{"k", "blue"}};
          config_reader r(j, "p");
          colour c = colour::red;
          r.read_enum("k", c, colour_names);
        }) == "config field 'p.k': expected one of 'red', 'green', found \"blue\"");
  CHECK(message_of([] {
          const nlohmann::json j = {{"transform", "b"}};
          config_reader r(j, "a");
          r.require_transform("a");
        }) == "config field 'a.transform': expected 'a' (the JSON of another transform), found "
              "\"b\"");
  CHECK(message_of([] {
          const nlohmann::json j = 3;
          config_reader r(j, "");
        }) == "config field '(top level)': expected a JSON object, found 3");
}

TEST_CASE("not_fitted_error names the transform and the feature", "[data][config]") {
  const mlsd::not_fitted_error e("imputer", "age");
  CHECK(e.transform() == "imputer");
  CHECK(e.feature() == "age");
  CHECK(std::string(e.what()) ==
        "imputer 'age': apply before fit (fit it on training data or load a fitted one)");
  const std::logic_error& base = e; // a programming error, catchable as std::logic_error
  CHECK(std::string(base.what()).find("before fit") != std::string::npos);
}
