// The in-memory source and read_all (include/mlsd/data/memory_source.hpp).
#include <mlsd/data/csv.hpp>
#include <mlsd/data/memory_source.hpp>
#include <mlsd/data/record.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {
using namespace mlsd::data;

std::shared_ptr<const record_schema> user_schema() {
  return std::make_shared<const record_schema>(
      record_schema({{"user", column_type::int64}, {"name", column_type::string, true}}));
}
} // namespace

static_assert(mlsd::data::source<memory_source<record>>);
static_assert(mlsd::data::source<memory_source<double>>);

TEST_CASE("memory_source: serves its records in order, in chunks, and rewinds",
          "[data][memory_source]") {
  memory_source<int> source({1, 2, 3, 4, 5});
  std::vector<int> batch(2);
  CHECK(source.read(batch) == 2);
  CHECK(batch == std::vector<int>{1, 2});
  CHECK(source.remaining() == 3);
  CHECK(source.read(batch) == 2);
  CHECK(batch == std::vector<int>{3, 4});
  CHECK(source.read(batch) == 1);
  CHECK(batch[0] == 5);
  CHECK(source.read(batch) == 0);
  CHECK(source.read(std::span<int>()) == 0);
  CHECK(source.report().accepted == 5);
  source.rewind();
  CHECK(read_all(source, 3) == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(source.report().accepted == 10);
  CHECK(source.report().skipped == 0);
}

TEST_CASE("memory_source: records built in memory are checked against the schema",
          "[data][memory_source]") {
  const auto schema = user_schema();
  const record alice(schema, {std::int64_t{1}, std::string("alice")});
  const record nameless(schema, {std::int64_t{2}, std::monostate{}});
  CHECK_THROWS_WITH(record(schema, {std::string("3"), std::monostate{}}),
                    "mlsd::data::record: column 'user' expects int64, got string");
  CHECK_THROWS_WITH(record(schema, {std::int64_t{3}, 4.0}),
                    "mlsd::data::record: column 'name' expects missing or string, got float64");
  CHECK_THROWS_AS(record(schema, {std::int64_t{3}}), std::invalid_argument);

  memory_source source(std::vector<record>{alice, nameless});
  std::vector<record> out(4);
  REQUIRE(source.read(out) == 2);
  CHECK(out[0] == alice);
  CHECK(out[1].get<std::int64_t>("user") == 2);
  CHECK(out[1].is_missing("name"));
  CHECK_THROWS_WITH(out[1].get<std::string>("name"),
                    "<record>: field 'name': expected a value of type string, found 'missing'");
}

TEST_CASE("memory_source: a file read once serves again from memory", "[data][memory_source]") {
  csv_config cfg;
  cfg.schema = record_schema({{"user", column_type::int64}, {"name", column_type::string, true}});
  auto file = csv_source::from_string("user,name\n1,alice\n2,\n", cfg);
  memory_source cached(read_all(file));
  CHECK(cached.size() == 2);
  const auto first = read_all(cached);
  cached.rewind();
  const auto second = read_all(cached);
  REQUIRE(first.size() == 2);
  CHECK(first == second);
  CHECK(first[0] == record(user_schema(), {std::int64_t{1}, std::string("alice")}));
  CHECK(first[1] == record(user_schema(), {std::int64_t{2}, std::monostate{}}));
  CHECK(first[1].line() == 3); // the line it came from survives the copy
}
