// The online feature store: keys, timed values and the TTL rule, newest-wins, the byte codecs, and
// the sharded in-memory store (multi-get across shards, counters, concurrent readers and writers).
#include <mlsd/data/feature_store.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace {

using mlsd::event_time;
using mlsd::known_at_time;
using mlsd::time_span_us;
using mlsd::data::entity_key;
using mlsd::data::feature_key;
using mlsd::data::timed_value;

constexpr time_span_us seconds(std::int64_t s) {
  return time_span_us(s * 1'000'000);
}
event_time at_s(std::int64_t s) {
  return event_time::from_seconds(s);
}
known_at_time known_s(std::int64_t s) {
  return known_at_time::from_seconds(s);
}

feature_key user_feature(std::uint64_t id, std::string feature) {
  return {{"user", id}, std::move(feature)};
}

template <class T>
timed_value<T> value_at(T v, std::int64_t event_s, std::int64_t known_s_,
                        time_span_us ttl = mlsd::data::no_expiry) {
  return {std::move(v), at_s(event_s), known_s(known_s_), ttl};
}

} // namespace

TEST_CASE("feature_key: equality, order, hash and text form", "[data][feature_store]") {
  const feature_key a = user_feature(42, "ctr_7d");
  const feature_key same = user_feature(42, "ctr_7d");
  const feature_key other_kind{{"item", 42}, "ctr_7d"};
  const feature_key other_feature = user_feature(42, "ctr_30d");
  CHECK(a == same);
  CHECK(a != other_kind);
  CHECK(a != other_feature);
  CHECK(other_kind < a);    // "item" < "user"
  CHECK(other_feature < a); // same entity, "ctr_30d" < "ctr_7d"
  CHECK(a.to_string() == "user:42:ctr_7d");
  CHECK(mlsd::data::feature_key_hash{}(a) == mlsd::data::feature_key_hash{}(same));
  std::unordered_set<feature_key> set{a, same, other_kind, other_feature};
  CHECK(set.size() == 3);
  // 1000 distinct keys hash to (nearly) 1000 distinct values.
  std::set<std::size_t> hashes;
  for (std::uint64_t id = 0; id < 1000; ++id) {
    hashes.insert(std::hash<feature_key>{}(user_feature(id, "f")));
  }
  CHECK(hashes.size() >= 999);
}

TEST_CASE("timed_value: the TTL bound is inclusive and never overflows", "[data][feature_store]") {
  const auto v = value_at(1.0f, 100, 100, seconds(10));
  CHECK(v.is_live_at(at_s(100)));
  CHECK(v.is_live_at(at_s(110))); // now - event == ttl: live
  CHECK_FALSE(v.is_live_at(at_s(110) + time_span_us(1)));
  CHECK(v.is_live_at(at_s(50))); // event in the future of `now`
  const auto zero_ttl = value_at(1.0f, 100, 100, time_span_us(0));
  CHECK(zero_ttl.is_live_at(at_s(100)));
  CHECK_FALSE(zero_ttl.is_live_at(at_s(100) + time_span_us(1)));
  timed_value<float> forever{1.0f, event_time::min(), known_at_time::min(), mlsd::data::no_expiry};
  CHECK(forever.is_live_at(event_time::max()));
  timed_value<float> short_lived{1.0f, event_time::min(), known_at_time::min(), seconds(1)};
  CHECK_FALSE(short_lived.is_live_at(event_time::max()));
}

TEST_CASE("supersedes: newest event wins, then the latest known_at", "[data][feature_store]") {
  using mlsd::data::supersedes;
  const auto old_event = value_at(1, 10, 50);
  const auto new_event = value_at(2, 20, 21);
  CHECK(supersedes(new_event, old_event));
  CHECK_FALSE(supersedes(old_event, new_event)); // a late write of an older event loses
  const auto restated = value_at(3, 20, 30);     // same event, learned again later
  CHECK(supersedes(restated, new_event));
  CHECK_FALSE(supersedes(new_event, restated));
  CHECK(supersedes(new_event, new_event)); // an identical replay is accepted (idempotent)
}

TEST_CASE("byte_codec: fixed little-endian bytes, round trips, bad lengths",
          "[data][feature_store][codec]") {
  using mlsd::data::byte_codec;
  std::string bytes;
  byte_codec<float>::encode(1.0f, bytes); // IEEE 754: 0x3f800000
  CHECK(bytes == std::string("\x00\x00\x80\x3f", 4));
  bytes.clear();
  byte_codec<std::int32_t>::encode(0x01020304, bytes);
  CHECK(bytes == std::string("\x04\x03\x02\x01", 4));
  CHECK(byte_codec<std::int32_t>::decode(bytes) == 0x01020304);
  CHECK_FALSE(byte_codec<std::int32_t>::decode(std::string_view(bytes).substr(1)).has_value());
  CHECK_FALSE(byte_codec<double>::decode(bytes).has_value());

  bytes.clear();
  const std::vector<double> vec{1.5, -2.25, 0.0};
  byte_codec<std::vector<double>>::encode(vec, bytes);
  CHECK(bytes.size() == 24);
  CHECK(byte_codec<std::vector<double>>::decode(bytes) == vec);
  CHECK_FALSE(byte_codec<std::vector<double>>::decode(std::string_view(bytes).substr(0, 23)));
  CHECK(byte_codec<std::vector<double>>::decode("")->empty());

  bytes.clear();
  byte_codec<std::string>::encode(std::string("a\0b", 3), bytes);
  CHECK(byte_codec<std::string>::decode(bytes) == std::string("a\0b", 3));

  // The blob a key-value backend (Redis) stores: 24-byte header, then the value.
  const timed_value<std::vector<float>> tv{{0.5f, 2.0f}, at_s(7), known_s(9), seconds(3)};
  std::string blob;
  mlsd::data::encode_timed_value(tv, blob);
  REQUIRE(blob.size() == mlsd::data::timed_value_header_bytes + 8);
  CHECK(blob.substr(0, 8) ==
        std::string("\xc0\xcf\x6a\x00\x00\x00\x00\x00", 8)); // 7e6 = 0x6acfc0 us
  CHECK(mlsd::data::decode_timed_value<std::vector<float>>(blob) == tv);
  CHECK_FALSE(mlsd::data::decode_timed_value<std::vector<float>>(blob.substr(0, 20)));
  CHECK_FALSE(mlsd::data::decode_timed_value<std::vector<float>>(blob.substr(0, 27)));
}

TEST_CASE("sharded_store_config: validation and JSON round trip", "[data][feature_store][config]") {
  using mlsd::data::sharded_store_config;
  sharded_store_config c;
  c.shard_count = 0;
  CHECK_THROWS_AS(c.validate(), mlsd::config_error);
  try {
    mlsd::data::sharded_feature_store<float> s(c);
    FAIL("expected config_error");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "sharded_store_config.shard_count");
  }
  c.shard_count = 7;
  c.expected_keys = 1000;
  const nlohmann::json j = c.to_json();
  CHECK(j == nlohmann::json{{"shard_count", 7}, {"expected_keys", 1000}});
  CHECK(sharded_store_config::from_json(j) == c);
  CHECK(sharded_store_config::from_json(nlohmann::json::object()) == sharded_store_config{});
  try {
    (void)sharded_store_config::from_json(nlohmann::json{{"shard_count", "many"}});
    FAIL("expected config_error");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "sharded_store_config.shard_count");
  }
  CHECK_THROWS_AS(sharded_store_config::from_json(nlohmann::json{{"shard_count", 0}}),
                  mlsd::config_error);
  try { // a misspelt key is an error, not a silently ignored setting
    (void)sharded_store_config::from_json(nlohmann::json{{"shard_cuont", 4}});
    FAIL("expected config_error");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "sharded_store_config.shard_cuont");
  }
}

TEST_CASE("sharded_feature_store: TTL against the clock policy or an explicit now",
          "[data][feature_store]") {
  mlsd::data::sharded_feature_store<float, mlsd::data::manual_clock> store(
      {}, mlsd::data::manual_clock(at_s(100)));
  const feature_key k = user_feature(1, "ctr_7d");
  CHECK_FALSE(store.get(k).has_value());
  CHECK(store.put(k, value_at(0.25f, 100, 100, seconds(60))));
  REQUIRE(store.get(k).has_value());
  CHECK(store.get(k)->value == 0.25f);
  store.clock().set(at_s(160)); // exactly at the TTL: still live
  CHECK(store.get(k).has_value());
  store.clock().advance(time_span_us(1));
  CHECK_FALSE(store.get(k).has_value());
  // An explicit `now` overrides the clock.
  CHECK(store.get(k, at_s(130)).has_value());
  CHECK_FALSE(store.get(k, at_s(161)).has_value());
  // 1 miss, then hits at 100 (twice), 160, 130; expired at 160+1us and 161.
  const auto st = store.stats();
  CHECK(st.misses == 1);
  CHECK(st.hits == 4);
  CHECK(st.expired == 2);
  CHECK(st.puts_stored == 1);
  CHECK(st.puts_stale == 0);
  CHECK(store.size() == 1);
  CHECK(store.erase_expired(at_s(130)) == 0);
  CHECK(store.erase_expired(at_s(161)) == 1);
  CHECK(store.size() == 0);
}

TEST_CASE("sharded_feature_store: newest wins, late older writes are counted",
          "[data][feature_store]") {
  mlsd::data::sharded_feature_store<std::string, mlsd::data::manual_clock> store(
      {}, mlsd::data::manual_clock(at_s(1000)));
  const feature_key k = user_feature(7, "last_query");
  CHECK(store.put(k, value_at(std::string("shoes"), 20, 21)));
  CHECK_FALSE(store.put(k, value_at(std::string("hats"), 10, 30))); // older event, arrives late
  CHECK(store.get(k)->value == "shoes");
  CHECK(store.put(k, value_at(std::string("boots"), 20, 25))); // same event, known later
  CHECK(store.get(k)->value == "boots");
  CHECK_FALSE(store.put(k, value_at(std::string("socks"), 20, 22))); // same event, known earlier
  CHECK(store.put(k, value_at(std::string("coats"), 40, 40)));
  const auto got = store.get(k);
  REQUIRE(got.has_value());
  CHECK(*got == value_at(std::string("coats"), 40, 40));
  CHECK(store.stats().puts_stored == 3);
  CHECK(store.stats().puts_stale == 2);
}

TEST_CASE("sharded_feature_store: inconsistent times are input errors", "[data][feature_store]") {
  mlsd::data::sharded_feature_store<float> store;
  const feature_key k = user_feature(3, "ctr");
  try {
    store.put(k, value_at(1.0f, 10, 9));
    FAIL("expected input_error");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().field == "known_at");
    CHECK(std::string(e.what()).find("user:3:ctr") != std::string::npos);
  }
  try {
    store.put(k, value_at(1.0f, 10, 10, time_span_us(-1)));
    FAIL("expected input_error");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().field == "ttl");
  }
  CHECK(store.size() == 0);
}

TEST_CASE("sharded_feature_store: get_many across shards equals one get per key",
          "[data][feature_store]") {
  using store_type = mlsd::data::sharded_feature_store<std::int64_t, mlsd::data::manual_clock>;
  for (const std::size_t shards : {std::size_t{1}, std::size_t{8}}) {
    CAPTURE(shards);
    store_type store({shards, 100}, mlsd::data::manual_clock(at_s(1000)));
    // ids 0..299: id % 3 == 0 absent, == 1 live, == 2 expired at 1000 (ttl 10 s from 980).
    std::vector<feature_key> keys;
    for (std::uint64_t id = 0; id < 300; ++id) {
      const feature_key k{{id % 2 == 0 ? "user" : "ad", id}, "f"};
      keys.push_back(k);
      if (id % 3 == 1) {
        store.put(k, value_at(static_cast<std::int64_t>(id) * 10, 995, 995, seconds(10)));
      } else if (id % 3 == 2) {
        store.put(k, value_at(static_cast<std::int64_t>(id) * 10, 980, 980, seconds(10)));
      }
    }
    keys.push_back(keys[4]); // a duplicate key in a batch
    std::set<std::size_t> touched;
    for (const auto& k : keys) {
      touched.insert(store.shard_of(k));
      CHECK(store.shard_of(k) < shards);
    }
    CHECK(touched.size() == shards); // 300 keys reach every shard

    std::vector<std::optional<timed_value<std::int64_t>>> out(keys.size());
    store.get_many(keys, out);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const std::uint64_t id = keys[i].entity.id;
      CAPTURE(id);
      if (id % 3 == 1) {
        REQUIRE(out[i].has_value());
        CHECK(out[i]->value == static_cast<std::int64_t>(id) * 10);
      } else {
        CHECK_FALSE(out[i].has_value());
      }
      CHECK(out[i] == store.get(keys[i]));
    }
    // 301 lookups in get_many + 301 gets: ids % 3 == 1 are 100 (+1 duplicate of id 4).
    const auto st = store.stats();
    CHECK(st.hits == 2 * 101);
    CHECK(st.misses == 2 * 100);
    CHECK(st.expired == 2 * 100);
    // Empty batch and mismatched sizes.
    store.get_many({}, {});
    std::vector<std::optional<timed_value<std::int64_t>>> short_out(2);
    CHECK_THROWS_AS(store.get_many(keys, short_out), mlsd::input_error);
  }
}

TEST_CASE("sharded_feature_store: concurrent readers see only values that were put",
          "[data][feature_store][concurrency]") {
  // Every value written for version v is a vector of 8 copies of v with event time v seconds: a
  // torn read would show mixed elements or an element that disagrees with the event time.
  using value_vector = std::vector<std::int64_t>;
  using store_type = mlsd::data::sharded_feature_store<value_vector, mlsd::data::manual_clock>;
  constexpr std::uint64_t key_count = 64;
  constexpr std::int64_t versions = 200;
  constexpr int reader_count = 3;
  store_type store({4, key_count}, mlsd::data::manual_clock(at_s(1'000'000)));
  std::vector<feature_key> keys;
  for (std::uint64_t id = 0; id < key_count; ++id) {
    keys.push_back(user_feature(id, "embedding"));
  }
  const auto make = [](std::int64_t v) {
    return timed_value<value_vector>{value_vector(8, v), at_s(v), known_s(v),
                                     mlsd::data::no_expiry};
  };

  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> bad_reads{0};
  std::atomic<std::uint64_t> went_back{0};
  std::atomic<std::uint64_t> lookups{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < reader_count; ++r) {
    readers.emplace_back([&, r] {
      std::vector<std::int64_t> last_seen(key_count, 0);
      std::vector<std::optional<timed_value<value_vector>>> out(key_count);
      std::uint64_t local_lookups = 0;
      const auto check = [&](std::size_t i, const std::optional<timed_value<value_vector>>& got) {
        if (!got) {
          return;
        }
        const std::int64_t v = got->value.empty() ? -1 : got->value[0];
        bool ok = got->value.size() == 8 && v >= 1 && v <= versions && got->event == at_s(v) &&
                  got->known_at == known_s(v);
        for (const auto x : got->value) {
          ok = ok && x == v;
        }
        if (!ok) {
          bad_reads.fetch_add(1);
        }
        if (v < last_seen[i]) {
          went_back.fetch_add(1); // newest wins: a key's version never decreases
        }
        last_seen[i] = v;
      };
      for (int round = 0; !done.load() || round < 3; ++round) {
        if ((round + r) % 2 == 0) {
          store.get_many(keys, out);
          local_lookups += key_count;
          for (std::size_t i = 0; i < key_count; ++i) {
            check(i, out[i]);
          }
        } else {
          for (std::size_t i = 0; i < key_count; ++i) {
            check(i, store.get(keys[i]));
            ++local_lookups;
          }
        }
      }
      lookups.fetch_add(local_lookups);
    });
  }
  std::uint64_t stale_writes = 0;
  std::thread writer([&] {
    for (std::int64_t v = 1; v <= versions; ++v) {
      for (const auto& k : keys) {
        store.put(k, make(v));
        if (v % 10 == 0) {
          store.put(k, make(v - 5)); // a late, older write: must be rejected
          ++stale_writes;
        }
      }
    }
    done.store(true);
  });
  writer.join();
  for (auto& t : readers) {
    t.join();
  }
  CHECK(bad_reads.load() == 0);
  CHECK(went_back.load() == 0);
  CHECK(stale_writes == key_count * (versions / 10));
  const auto st = store.stats();
  CHECK(st.puts_stored == key_count * versions);
  CHECK(st.puts_stale == stale_writes);
  CHECK(st.hits + st.misses + st.expired == lookups.load());
  CHECK(st.expired == 0);
  for (const auto& k : keys) {
    const auto got = store.get(k);
    REQUIRE(got.has_value());
    CHECK(*got == make(versions));
  }
  CHECK(store.size() == key_count);
}
