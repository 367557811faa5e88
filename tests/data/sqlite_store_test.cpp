// The SQLite feature store backend: persistence across reopen, newest-wins in SQL, TTL, batch
// lookups in one transaction, WAL, configuration, and errors that name the file and SQLite's
// message.
#include <mlsd/data/sqlite_store.hpp>

#include "parser_fixtures.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace {

using mlsd::event_time;
using mlsd::known_at_time;
using mlsd::time_span_us;
using mlsd::data::feature_key;
using mlsd::data::manual_clock;
using mlsd::data::sqlite_feature_store;
using mlsd::data::sqlite_store_config;
using mlsd::data::timed_value;

constexpr time_span_us seconds(std::int64_t s) {
  return time_span_us(s * 1'000'000);
}
event_time at_s(std::int64_t s) {
  return event_time::from_seconds(s);
}

template <class T>
timed_value<T> value_at(T v, std::int64_t event_s, std::int64_t known_s,
                        time_span_us ttl = mlsd::data::no_expiry) {
  return {std::move(v), at_s(event_s), known_at_time::from_seconds(known_s), ttl};
}

// A fresh directory per test case, removed at the end.
struct temp_dir : mlsd_test::temp_dir {
  explicit temp_dir(const std::string& name)
      : mlsd_test::temp_dir("sqlite_store", name) {}
};

sqlite_store_config config_for(const std::filesystem::path& file) {
  sqlite_store_config c;
  c.path = file.string();
  return c;
}

const feature_key alice_embedding{{"user", 1}, "embedding"};
const feature_key bob_embedding{{"user", 2}, "embedding"};
const feature_key big_id_ctr{{"ad", 0xfedcba9876543210ULL}, "ctr_7d"}; // above INT64_MAX

} // namespace

TEST_CASE("sqlite_feature_store: values survive close and reopen", "[data][sqlite_store]") {
  temp_dir dir("persist");
  const auto file = dir.path / "features.db";
  using store_type = sqlite_feature_store<std::vector<float>,
                                          mlsd::data::byte_codec<std::vector<float>>, manual_clock>;
  {
    store_type store(config_for(file), manual_clock(at_s(100)));
    CHECK(store.put(alice_embedding, value_at(std::vector<float>{0.5f, -1.25f}, 10, 11)));
    CHECK(store.put(bob_embedding, value_at(std::vector<float>{}, 20, 20, seconds(30))));
    CHECK(store.put(big_id_ctr, value_at(std::vector<float>{3.0f}, 30, 35, seconds(1000))));
    CHECK(store.size() == 3);
  }
  CHECK(std::filesystem::exists(file));
  store_type reopened(config_for(file), manual_clock(at_s(40)));
  CHECK(reopened.size() == 3);
  CHECK(reopened.get(alice_embedding) == value_at(std::vector<float>{0.5f, -1.25f}, 10, 11));
  CHECK(reopened.get(bob_embedding) == value_at(std::vector<float>{}, 20, 20, seconds(30)));
  CHECK(reopened.get(big_id_ctr) == value_at(std::vector<float>{3.0f}, 30, 35, seconds(1000)));
  CHECK_FALSE(reopened.get({{"user", 3}, "embedding"}).has_value());
  CHECK_FALSE(reopened.get({{"user", 1}, "other"}).has_value());
}

TEST_CASE("sqlite_feature_store: newest wins, in SQL", "[data][sqlite_store]") {
  temp_dir dir("newest");
  sqlite_feature_store<double> store(config_for(dir.path / "f.db"));
  const feature_key k{{"user", 7}, "spend"};
  CHECK(store.put(k, value_at(2.0, 20, 21)));
  CHECK_FALSE(store.put(k, value_at(1.0, 10, 30))); // older event, late write
  CHECK(store.get(k, at_s(50))->value == 2.0);
  CHECK(store.put(k, value_at(3.0, 20, 25))); // same event, known later
  CHECK_FALSE(store.put(k, value_at(4.0, 20, 22)));
  CHECK(store.get(k, at_s(50)) == value_at(3.0, 20, 25));
  CHECK(store.put(k, value_at(5.0, 40, 40)));
  CHECK(store.get(k, at_s(50))->value == 5.0);
  const auto st = store.stats();
  CHECK(st.puts_stored == 3);
  CHECK(st.puts_stale == 2);
  CHECK(st.hits == 3);
  // Inconsistent times never reach the table.
  CHECK_THROWS_AS(store.put(k, value_at(6.0, 50, 49)), mlsd::input_error);
  CHECK(store.get(k, at_s(50))->value == 5.0);
}

TEST_CASE("sqlite_feature_store: TTL, erase_expired and get_many", "[data][sqlite_store]") {
  temp_dir dir("ttl");
  sqlite_feature_store<std::int64_t, mlsd::data::byte_codec<std::int64_t>, manual_clock> store(
      config_for(dir.path / "f.db"), manual_clock(at_s(1000)));
  std::vector<feature_key> keys;
  std::vector<std::pair<feature_key, timed_value<std::int64_t>>> batch;
  for (std::uint64_t id = 0; id < 30; ++id) {
    const feature_key k{{"user", id}, "clicks"};
    keys.push_back(k);
    if (id % 3 == 1) {
      batch.emplace_back(k, value_at(static_cast<std::int64_t>(id), 995, 995, seconds(10)));
    } else if (id % 3 == 2) {
      batch.emplace_back(k, value_at(static_cast<std::int64_t>(id), 980, 980, seconds(10)));
    }
  }
  batch.emplace_back(keys[1], value_at(std::int64_t{-1}, 1, 1)); // older: rejected in the batch
  CHECK(store.put_many(batch) == 20);
  CHECK(store.stats().puts_stale == 1);

  std::vector<std::optional<timed_value<std::int64_t>>> out(keys.size());
  store.get_many(keys, out);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    CAPTURE(i);
    if (i % 3 == 1) {
      REQUIRE(out[i].has_value());
      CHECK(out[i]->value == static_cast<std::int64_t>(i));
    } else {
      CHECK_FALSE(out[i].has_value());
    }
    CHECK(out[i] == store.get(keys[i]));
  }
  const auto st = store.stats();
  CHECK(st.hits == 2 * 10);
  CHECK(st.misses == 2 * 10);
  CHECK(st.expired == 2 * 10);
  // Boundary: the value at 980 with ttl 10 s is live at 990 exactly.
  CHECK(store.get(keys[2], at_s(990)).has_value());
  CHECK_FALSE(store.get(keys[2], at_s(990) + time_span_us(1)).has_value());
  std::vector<std::optional<timed_value<std::int64_t>>> short_out(3);
  CHECK_THROWS_AS(store.get_many(keys, short_out), mlsd::input_error);

  CHECK(store.size() == 20);
  CHECK(store.erase_expired(at_s(990)) == 0);
  CHECK(store.erase_expired(at_s(1000)) == 10);
  CHECK(store.size() == 10);
  // A value that never expires survives any now.
  CHECK(store.put({{"user", 99}, "clicks"},
                  {7, event_time::min(), known_at_time::min(), mlsd::data::no_expiry}));
  CHECK(store.erase_expired(event_time::max()) == 10);
  CHECK(store.size() == 1);
}

TEST_CASE("sqlite_feature_store: WAL mode and the schema on disk", "[data][sqlite_store]") {
  temp_dir dir("wal");
  const auto file = dir.path / "f.db";
  sqlite_store_config cfg = config_for(file);
  cfg.table = "online_v2";
  sqlite_feature_store<float> store(cfg);
  store.put({{"user", 1}, "x"}, value_at(1.0f, 1, 1));
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))) == "wal");
  sqlite3_finalize(s);
  REQUIRE(sqlite3_prepare_v2(db,
                             "SELECT entity_kind, entity_id, feature, known_at_us FROM online_v2",
                             -1, &s, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))) == "user");
  CHECK(sqlite3_column_int64(s, 1) == 1);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 2))) == "x");
  CHECK(sqlite3_column_int64(s, 3) == 1'000'000);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST_CASE("sqlite_feature_store: errors name the file and carry SQLite's message",
          "[data][sqlite_store]") {
  temp_dir dir("errors");
  const auto missing_dir = dir.path / "no_such_dir" / "f.db";
  try {
    sqlite_feature_store<float> store(config_for(missing_dir));
    FAIL("expected sqlite_error");
  } catch (const mlsd::data::sqlite_error& e) {
    CHECK(e.path() == missing_dir.string());
    CHECK(e.operation() == "open");
    CHECK((e.code() & 0xff) == SQLITE_CANTOPEN);
    const std::string what = e.what();
    CHECK(what.find(missing_dir.string()) != std::string::npos);
    CHECK(what.find("unable to open database file") != std::string::npos);
  }

  const auto garbage = dir.path / "garbage.db";
  std::ofstream(garbage, std::ios::binary) << std::string(4096, 'x');
  try {
    sqlite_feature_store<float> store(config_for(garbage));
    FAIL("expected sqlite_error");
  } catch (const mlsd::data::sqlite_error& e) {
    CHECK(e.path() == garbage.string());
    CHECK((e.code() & 0xff) == SQLITE_NOTADB);
    CHECK(std::string(e.what()).find("file is not a database") != std::string::npos);
  }

  // A value written as float (4 bytes) read back as double (8 bytes): an input error naming the
  // file, the field and the key.
  const auto file = dir.path / "typed.db";
  {
    sqlite_feature_store<float> floats(config_for(file));
    floats.put(alice_embedding, value_at(1.0f, 1, 1));
  }
  sqlite_feature_store<double> doubles(config_for(file));
  try {
    (void)doubles.get(alice_embedding, at_s(2));
    FAIL("expected input_error");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().file == file.string());
    CHECK(e.where().field == "value");
    CHECK(e.found() == "4 bytes");
    CHECK(std::string(e.what()).find("user:1:embedding") != std::string::npos);
  }
  // The failed batch rolled back its transaction: the store still works.
  std::vector<std::optional<timed_value<double>>> out(1);
  CHECK_THROWS_AS(doubles.get_many(std::span<const feature_key>(&alice_embedding, 1), out, at_s(2)),
                  mlsd::input_error);
  CHECK(doubles.put(bob_embedding, value_at(2.0, 1, 1)));
  CHECK(doubles.get(bob_embedding, at_s(2))->value == 2.0);
}

TEST_CASE("sqlite_store_config: validation and JSON round trip", "[data][sqlite_store][config]") {
  sqlite_store_config c;
  const auto field_of = [](const sqlite_store_config& bad) {
    try {
      bad.validate();
    } catch (const mlsd::config_error& e) {
      return e.field();
    }
    return std::string("(valid)");
  };
  CHECK(field_of(c) == "sqlite_store_config.path");
  c.path = ":memory:";
  CHECK(field_of(c) == "(valid)");
  c.table = "features; DROP TABLE x";
  CHECK(field_of(c) == "sqlite_store_config.table");
  c.table = "1abc";
  CHECK(field_of(c) == "sqlite_store_config.table");
  c.table = "user_features_2";
  c.synchronous = "SOMETIMES";
  CHECK(field_of(c) == "sqlite_store_config.synchronous");
  c.synchronous = "FULL";
  c.wal = false;
  c.busy_timeout_ms = 250;
  const nlohmann::json j = c.to_json();
  CHECK(j == nlohmann::json{{"path", ":memory:"},
                            {"table", "user_features_2"},
                            {"wal", false},
                            {"synchronous", "FULL"},
                            {"busy_timeout_ms", 250}});
  CHECK(sqlite_store_config::from_json(j) == c);
  try {
    (void)sqlite_store_config::from_json(nlohmann::json{{"path", "a.db"}, {"wal", "yes"}});
    FAIL("expected config_error");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "sqlite_store_config.wal");
  }
  CHECK_THROWS_AS(sqlite_store_config::from_json(nlohmann::json::object()), mlsd::config_error);

  // An in-memory database works and needs no file.
  sqlite_feature_store<float> memory(c);
  CHECK(memory.put(alice_embedding, value_at(1.0f, 1, 1)));
  CHECK(memory.get(alice_embedding, at_s(1))->value == 1.0f);
}
