/// @file
/// The online feature store: feature values keyed by entity and feature name, each carrying its
/// event time, the time it became known and a time to live (TTL); the backend concept every store
/// models (in memory here, SQLite in <mlsd/data/sqlite_store.hpp>, a Redis backend would model the
/// same); the byte codecs a store that serialises values uses; and `sharded_feature_store`, the
/// default in-memory store: N shards, each a hash map behind a `std::shared_mutex`.
///
/// Two rules hold for every store (docs/feature-store.md):
/// - **TTL**: a value is live at `now` when `now - value.event <= value.ttl` (inclusive); a store
///   returns nothing for a value that is not live. `now` is passed in or read from the store's
///   clock policy; there is no hidden global clock.
/// - **Newest wins**: `put` keeps the value with the latest event time; a late write of an older
///   event does not overwrite a newer one (ties: the later known-at time, then the later write).
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/time.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/random.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

// --- keys ---------------------------------------------------------------------------------------

/// An entity a feature describes: its kind (`"user"`, `"item"`, `"ad"`; Feast's *entity*) and its
/// id. Ids are 64-bit integers (hash string ids with XXH3 first). Ordered by kind, then id.
// entity_key and feature_key have constructors rather than being aggregates: g++ 12 at -O2 and
// above reports a false -Wmaybe-uninitialized on the nested aggregate initialisation of their
// strings (`feature_key{{"user", 42}, "ctr_7d"}`), which would break users' -Werror builds.
struct entity_key {
  entity_key() = default;
  entity_key(std::string entity_kind, std::uint64_t entity_id)
      : kind(std::move(entity_kind))
      , id(entity_id) {}

  std::string kind;
  std::uint64_t id = 0;

  friend bool operator==(const entity_key&, const entity_key&) = default;
  friend std::strong_ordering operator<=>(const entity_key&, const entity_key&) = default;
};

/// The key of one feature value: the entity and the feature's name. The name may carry its
/// feature view (Feast's group of features computed together), e.g. `"user_stats.ctr_7d"`.
/// Ordered by entity, then feature name.
struct feature_key {
  feature_key() = default;
  feature_key(entity_key of, std::string name)
      : entity(std::move(of))
      , feature(std::move(name)) {}

  entity_key entity;
  std::string feature;

  friend bool operator==(const feature_key&, const feature_key&) = default;
  friend std::strong_ordering operator<=>(const feature_key&, const feature_key&) = default;

  /// `kind:id:feature`, e.g. `user:42:ctr_7d`: for messages, and the key a Redis backend would
  /// use (unambiguous as long as kinds contain no `:`).
  [[nodiscard]] std::string to_string() const {
    std::string out = entity.kind;
    out += ':';
    out += std::to_string(entity.id);
    out += ':';
    out += feature;
    return out;
  }
};

/// Hash of an `entity_key` (kind and id combined); for unordered containers.
struct entity_key_hash {
  [[nodiscard]] std::size_t operator()(const entity_key& k) const noexcept {
    const std::uint64_t h = std::hash<std::string_view>{}(k.kind);
    return static_cast<std::size_t>(detail::splitmix64::mix(h ^ detail::splitmix64::mix(k.id)));
  }
};

/// Hash of a `feature_key` (entity and feature name combined); for unordered containers.
struct feature_key_hash {
  [[nodiscard]] std::size_t operator()(const feature_key& k) const noexcept {
    const std::uint64_t e = entity_key_hash{}(k.entity);
    const std::uint64_t f = std::hash<std::string_view>{}(k.feature);
    return static_cast<std::size_t>(
        detail::splitmix64::mix(e + detail::splitmix64::golden_gamma * (f | 1)));
  }
};

// --- timed values -------------------------------------------------------------------------------

/// The TTL of a value that never expires (Feast's `ttl = 0`; mlsd spells it out).
inline constexpr time_span_us no_expiry = time_span_us::max();

/// A feature value with its times: when the event it describes happened (`event`), when the
/// system learned it (`known_at`, never before `event`), and how long it stays valid (`ttl`,
/// measured from `event`). What every store keeps and returns.
template <class T>
struct timed_value {
  T value{};
  event_time event;
  known_at_time known_at;
  time_span_us ttl = no_expiry;

  /// True when the value may be served for an event at `now`: `now - event <= ttl` (the bound is
  /// inclusive; a value whose event is after `now` is live; a value with `ttl == no_expiry` is live
  /// at any time). O(1), no overflow for any times.
  [[nodiscard]] constexpr bool is_live_at(event_time now) const noexcept {
    if (now <= event || ttl == no_expiry) {
      return true;
    }
    // now > event, so the difference is positive; in unsigned arithmetic it cannot overflow.
    const auto age =
        static_cast<std::uint64_t>(now.micros()) - static_cast<std::uint64_t>(event.micros());
    return ttl.count() >= 0 && age <= static_cast<std::uint64_t>(ttl.count());
  }

  friend bool operator==(const timed_value&, const timed_value&) = default;
};

/// True for `timed_value<T>`.
template <class V>
inline constexpr bool is_timed_value_v = false;
template <class T>
inline constexpr bool is_timed_value_v<timed_value<T>> = true;

/// The newest-wins order: `incoming` replaces `current` when its event is later, or at the same
/// event when it is known at the same time or later (so an identical replay is idempotent and the
/// last of two identical-time writes wins). O(1).
template <class T>
[[nodiscard]] constexpr bool supersedes(const timed_value<T>& incoming,
                                        const timed_value<T>& current) noexcept {
  return incoming.event > current.event ||
         (incoming.event == current.event && incoming.known_at >= current.known_at);
}

namespace detail {
/// Throws `input_error` at `file` (field `out`) unless `get_many` has one output per key.
inline void check_get_many_sizes(std::size_t keys, std::size_t outputs, const std::string& file) {
  if (outputs != keys) {
    std::string expected = "out.size() == keys.size() (";
    expected += std::to_string(keys);
    expected += ')';
    throw input_error({file, 0, 0, "out"}, std::move(expected), std::to_string(outputs));
  }
}

/// Throws `input_error` at `where` (with the offending field) when `v`'s times are inconsistent: a
/// negative TTL, or known before its event (a value cannot be learned before it happened; see
/// core/time.hpp).
template <class T>
void check_times(const timed_value<T>& v, input_position where, const feature_key& key) {
  if (v.ttl.count() < 0) {
    std::string expected = "a non-negative TTL for ";
    expected += key.to_string();
    std::string found = std::to_string(v.ttl.count());
    found += "us";
    where.field = "ttl";
    throw input_error(std::move(where), std::move(expected), std::move(found));
  }
  if (v.known_at.micros() < v.event.micros()) {
    std::string expected = "known_at at or after the event time for ";
    expected += key.to_string();
    std::string found = "known_at ";
    found += std::to_string(v.known_at.micros());
    found += "us < event ";
    found += std::to_string(v.event.micros());
    found += "us";
    where.field = "known_at";
    throw input_error(std::move(where), std::move(expected), std::move(found));
  }
}
} // namespace detail

// --- clock policies -----------------------------------------------------------------------------

/// A clock policy: `c.now()` is the event time of the request being served, the `now` a store's
/// one-argument `get` checks TTLs against. Must be safe to call from many threads at once.
template <class C>
concept clock_policy = requires(const C& c) {
  { c.now() } -> std::same_as<event_time>;
};

/// Reads `std::chrono::system_clock` (the host's UTC wall clock). For serving.
struct wall_clock {
  [[nodiscard]] event_time now() const noexcept {
    return event_time(
        std::chrono::time_point_cast<time_resolution>(std::chrono::system_clock::now()));
  }
};

/// A clock that stands still until it is set or advanced: for tests, replays and simulations.
/// `now`, `set` and `advance` are atomic, so one thread may move it while others read it.
class manual_clock {
public:
  explicit manual_clock(event_time start = {}) noexcept
      : us_(start.micros()) {}
  manual_clock(const manual_clock& other) noexcept
      : us_(other.us_.load(std::memory_order_relaxed)) {}
  manual_clock& operator=(const manual_clock& other) noexcept {
    us_.store(other.us_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    return *this;
  }

  [[nodiscard]] event_time now() const noexcept {
    return event_time::from_micros(us_.load(std::memory_order_acquire));
  }
  /// Moves the clock to `t` (backwards too: a replay may restart).
  void set(event_time t) noexcept { us_.store(t.micros(), std::memory_order_release); }
  /// Moves the clock forward by `d`.
  void advance(time_span_us d) noexcept { us_.fetch_add(d.count(), std::memory_order_acq_rel); }

private:
  std::atomic<std::int64_t> us_;
};

static_assert(clock_policy<wall_clock>);
static_assert(clock_policy<manual_clock>);

// --- the backend concept ------------------------------------------------------------------------

/// A feature store backend: a `data::feature_store` (core/roles.hpp) keyed by `feature_key` whose
/// values are `timed_value`s, with the time of the lookup explicit:
///
/// - `s.get(key, now)` / `s.get_many(keys, out, now)`: the value, or nothing when there is none or
///   it is not live at `now` (the TTL rule); `get(key)` / `get_many(keys, out)` use the store's
///   clock policy. `get_many` writes one optional per key into `out` (`out.size() == keys.size()`)
///   and is the batch a remote backend turns into one round trip (SQLite: one transaction; Redis:
///   one `MGET`).
/// - `s.put(key, value)`: newest wins (`supersedes`); returns whether the value was stored.
///
/// Callers written against this concept do not change when the backend does. Models:
/// `sharded_feature_store`, `sqlite_feature_store` (<mlsd/data/sqlite_store.hpp>).
template <class S>
concept feature_store_backend = feature_store<S> &&
    std::same_as<typename S::key_type, feature_key> && is_timed_value_v<typename S::value_type> &&
    requires(S& s, const S& cs, const feature_key& key, typename S::value_type value,
             std::span<const feature_key> keys,
             std::span<std::optional<typename S::value_type>> out, event_time now) {
  { cs.get(key, now) } -> std::same_as<std::optional<typename S::value_type>>;
  cs.get_many(keys, out, now);
  { s.put(key, std::move(value)) } -> std::same_as<bool>;
};

/// What a store counted since it was built: lookups that found a live value, found nothing, or
/// found only an expired one, and writes stored or rejected as older than what the store holds.
/// Nothing is dropped silently: every rejected write and every expired read is counted here.
struct feature_store_stats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t expired = 0;
  std::uint64_t puts_stored = 0;
  std::uint64_t puts_stale = 0;

  friend bool operator==(const feature_store_stats&, const feature_store_stats&) = default;
};

// --- byte codecs ---------------------------------------------------------------------------------

/// A value codec: how a store that keeps bytes (SQLite, Redis) serialises `T`.
/// `C::encode(v, out)` appends `v`'s bytes to `out`; `C::decode(bytes)` reads them back, or returns
/// `std::nullopt` when they are not a valid encoding (the store then throws `input_error` naming
/// the file and the key). `decode(encode(v)) == v`.
template <class C, class T>
concept value_codec = requires(const T& v, std::string& out, std::string_view bytes) {
  C::encode(v, out);
  { C::decode(bytes) } -> std::same_as<std::optional<T>>;
};

namespace detail {
template <class A>
void append_little_endian(A x, std::string& out) {
  char bytes[sizeof(A)];
  std::memcpy(bytes, &x, sizeof(A));
  if constexpr (std::endian::native == std::endian::big) {
    std::reverse(bytes, bytes + sizeof(A));
  }
  out.append(bytes, sizeof(A));
}
template <class A>
[[nodiscard]] A read_little_endian(const char* p) noexcept {
  char bytes[sizeof(A)];
  std::memcpy(bytes, p, sizeof(A));
  if constexpr (std::endian::native == std::endian::big) {
    std::reverse(bytes, bytes + sizeof(A));
  }
  A x;
  std::memcpy(&x, bytes, sizeof(A));
  return x;
}
template <class T>
concept wire_number =
    std::is_arithmetic_v<T> && !std::same_as<T, bool> && !std::same_as<T, long double>;
} // namespace detail

/// The default codec: little-endian fixed-width bytes for numbers (IEEE 754 for floating point),
/// raw bytes for `std::string`, and the elements back to back for `std::vector` of numbers. The
/// byte order is fixed, so files and caches move between machines.
template <class T>
struct byte_codec;

template <detail::wire_number T>
struct byte_codec<T> {
  static void encode(T v, std::string& out) { detail::append_little_endian(v, out); }
  [[nodiscard]] static std::optional<T> decode(std::string_view bytes) {
    if (bytes.size() != sizeof(T)) {
      return std::nullopt;
    }
    return detail::read_little_endian<T>(bytes.data());
  }
};

template <>
struct byte_codec<std::string> {
  static void encode(const std::string& v, std::string& out) { out += v; }
  [[nodiscard]] static std::optional<std::string> decode(std::string_view bytes) {
    return std::string(bytes);
  }
};

template <detail::wire_number E>
struct byte_codec<std::vector<E>> {
  static void encode(const std::vector<E>& v, std::string& out) {
    out.reserve(out.size() + v.size() * sizeof(E));
    for (const E x : v) {
      detail::append_little_endian(x, out);
    }
  }
  [[nodiscard]] static std::optional<std::vector<E>> decode(std::string_view bytes) {
    if (bytes.size() % sizeof(E) != 0) {
      return std::nullopt;
    }
    std::vector<E> v(bytes.size() / sizeof(E));
    for (std::size_t i = 0; i < v.size(); ++i) {
      v[i] = detail::read_little_endian<E>(bytes.data() + i * sizeof(E));
    }
    return v;
  }
};

/// The byte size of the header `encode_timed_value` writes before the value: event, known-at and
/// TTL, each a little-endian signed 64-bit count of microseconds.
inline constexpr std::size_t timed_value_header_bytes = 24;

/// Appends `v` to `out` as one byte string: the 24-byte header (event, known_at, ttl) then
/// `Codec`'s bytes for the value. The form for a key-value backend that stores one blob per key
/// (Redis `SET key blob`). O(size of the value).
template <class T, class Codec = byte_codec<T>>
requires value_codec<Codec, T>
void encode_timed_value(const timed_value<T>& v, std::string& out) {
  detail::append_little_endian(v.event.micros(), out);
  detail::append_little_endian(v.known_at.micros(), out);
  detail::append_little_endian(static_cast<std::int64_t>(v.ttl.count()), out);
  Codec::encode(v.value, out);
}

/// Reads what `encode_timed_value` wrote, or `std::nullopt` when `bytes` is shorter than the
/// header or the value's bytes do not decode.
template <class T, class Codec = byte_codec<T>>
requires value_codec<Codec, T>
[[nodiscard]] std::optional<timed_value<T>> decode_timed_value(std::string_view bytes) {
  if (bytes.size() < timed_value_header_bytes) {
    return std::nullopt;
  }
  std::optional<T> value = Codec::decode(bytes.substr(timed_value_header_bytes));
  if (!value) {
    return std::nullopt;
  }
  timed_value<T> v;
  v.value = std::move(*value);
  v.event = event_time::from_micros(detail::read_little_endian<std::int64_t>(bytes.data()));
  v.known_at =
      known_at_time::from_micros(detail::read_little_endian<std::int64_t>(bytes.data() + 8));
  v.ttl = time_span_us(detail::read_little_endian<std::int64_t>(bytes.data() + 16));
  return v;
}

// --- the sharded in-memory store ----------------------------------------------------------------

/// Configuration of `sharded_feature_store`.
struct sharded_store_config {
  /// Number of shards (each a hash map behind its own `std::shared_mutex`): more shards, less
  /// contention between writers; from 1 to `max_shards`. A few times the number of writer threads
  /// is enough.
  std::size_t shard_count = 16;
  /// The largest accepted `shard_count`.
  static constexpr std::size_t max_shards = std::size_t{1} << 16;
  /// Keys expected in total, to reserve the hash maps up front (0: grow on demand).
  std::size_t expected_keys = 0;

  /// Throws `config_error` naming the field when a value is out of range.
  void validate() const {
    if (shard_count == 0 || shard_count > max_shards) {
      throw config_error("sharded_store_config.shard_count", "between 1 and 65536 shards");
    }
  }

  /// `{"shard_count": 16, "expected_keys": 0}`.
  template <class Json = nlohmann::json>
  [[nodiscard]] Json to_json() const {
    return Json{{"shard_count", shard_count}, {"expected_keys", expected_keys}};
  }
  /// Reads the form `to_json` writes; absent fields keep their defaults, unknown ones are errors.
  /// Throws `config_error` naming the field when one has the wrong type or an invalid value.
  template <class Json = nlohmann::json>
  [[nodiscard]] static sharded_store_config from_json(const Json& j) {
    detail::config_reader r(j, "sharded_store_config");
    sharded_store_config c;
    r.read("shard_count", c.shard_count);
    r.read("expected_keys", c.expected_keys);
    r.finish();
    c.validate();
    return c;
  }

  friend bool operator==(const sharded_store_config&, const sharded_store_config&) = default;
};

/// The default online feature store: in memory, `config.shard_count` shards, each an
/// `std::unordered_map<feature_key, timed_value<T>>` behind a `std::shared_mutex`; a key's shard
/// is picked from its hash.
///
/// Rules: `get` returns nothing for a value that is not live at `now` (the TTL rule of
/// `timed_value::is_live_at`); `put` keeps the newest value (`supersedes`): a late write of an
/// older event is rejected, returns false and is counted in `stats().puts_stale`. Expired values
/// stay in memory until `erase_expired(now)` removes them.
///
/// Thread-safety: every member function except construction, destruction and moves may be called
/// from any number of threads at once (the clock policy's `now` must be thread-safe, as
/// `manual_clock`'s and `wall_clock`'s are). Lookups (`get`, `get_many`, `size`, `stats`) take
/// shard locks in shared mode, so readers never wait for each other; `put` and `erase_expired`
/// take one shard's lock exclusively, so a writer blocks only the readers of that shard, for one
/// map update. A lookup returns a copy made under the lock: readers only ever see a value exactly
/// as some `put` stored it, never a torn one. `get_many` is
/// consistent per shard (all keys of one shard are read under one lock) but not across shards: a
/// concurrent `put` may be visible for some keys of a batch and not for others. Counters are
/// relaxed atomics: exact once writers have stopped.
///
/// Complexity: `get` and `put` expected O(1) plus the copy of the value; `get_many` O(n +
/// shard_count) and locks each shard at most once; `erase_expired` and `size` O(keys).
template <class T, clock_policy Clock = wall_clock>
class sharded_feature_store : public feature_store_tag {
public:
  using key_type = feature_key;
  using value_type = timed_value<T>;
  using mapped_type = T;
  using config = sharded_store_config;
  using clock_type = Clock;

  /// An empty store. Throws `config_error` for an invalid `cfg`.
  explicit sharded_feature_store(config cfg = {}, Clock clock = {})
      : cfg_((cfg.validate(), cfg))
      , clock_(std::move(clock))
      , shards_(std::make_unique<shard[]>(cfg_.shard_count)) {
    if (cfg_.expected_keys != 0) {
      const std::size_t per_shard = cfg_.expected_keys / cfg_.shard_count + 1;
      for (std::size_t i = 0; i < cfg_.shard_count; ++i) {
        shards_[i].map.reserve(per_shard);
      }
    }
  }

  /// The value of `key` if there is one and it is live at `now`.
  [[nodiscard]] std::optional<value_type> get(const key_type& key, event_time now) const {
    const std::size_t h = feature_key_hash{}(key);
    const shard& s = shards_[shard_of(h)];
    std::shared_lock lock(s.mutex);
    return s.lookup(key, now);
  }
  /// `get(key, clock().now())`.
  [[nodiscard]] std::optional<value_type> get(const key_type& key) const {
    return get(key, clock_.now());
  }

  /// Looks up `keys` at `now` into `out` (`out[i]` for `keys[i]`; same sizes, else `input_error`).
  /// Groups the keys by shard and locks each shard once.
  void get_many(std::span<const key_type> keys, std::span<std::optional<value_type>> out,
                event_time now) const {
    detail::check_get_many_sizes(keys.size(), out.size(), "sharded_feature_store::get_many");
    const std::size_t n = keys.size();
    const std::size_t shards = cfg_.shard_count;
    if (n <= 1 || shards == 1) {
      if (n == 0) {
        return;
      }
      const shard& s = shards_[n == 1 ? shard_of(feature_key_hash{}(keys[0])) : 0];
      std::shared_lock lock(s.mutex);
      for (std::size_t i = 0; i < n; ++i) {
        out[i] = s.lookup(keys[i], now);
      }
      return;
    }
    // Counting sort of the key positions by shard: O(n + shards), one lock per touched shard.
    std::vector<std::uint32_t> shard_index(n);
    std::vector<std::size_t> start(shards + 1, 0);
    for (std::size_t i = 0; i < n; ++i) {
      shard_index[i] = static_cast<std::uint32_t>(shard_of(feature_key_hash{}(keys[i])));
      ++start[shard_index[i] + 1];
    }
    for (std::size_t s = 0; s < shards; ++s) {
      start[s + 1] += start[s];
    }
    std::vector<std::size_t> order(n);
    {
      std::vector<std::size_t> next(start.begin(), start.end() - 1);
      for (std::size_t i = 0; i < n; ++i) {
        order[next[shard_index[i]]++] = i;
      }
    }
    for (std::size_t s = 0; s < shards; ++s) {
      if (start[s] == start[s + 1]) {
        continue;
      }
      const shard& sh = shards_[s];
      std::shared_lock lock(sh.mutex);
      for (std::size_t k = start[s]; k < start[s + 1]; ++k) {
        out[order[k]] = sh.lookup(keys[order[k]], now);
      }
    }
  }
  /// `get_many(keys, out, clock().now())`.
  void get_many(std::span<const key_type> keys, std::span<std::optional<value_type>> out) const {
    get_many(keys, out, clock_.now());
  }

  /// Stores `value` under `key` unless the store holds a newer one (`supersedes`); returns whether
  /// it was stored. Throws `input_error` for a negative TTL or a value known before its event.
  bool put(const key_type& key, value_type value) {
    detail::check_times(value, {"sharded_feature_store::put"}, key);
    const std::size_t h = feature_key_hash{}(key);
    shard& s = shards_[shard_of(h)];
    std::unique_lock lock(s.mutex);
    auto it = s.map.find(key);
    if (it == s.map.end()) {
      s.map.emplace(key, std::move(value));
    } else if (supersedes(value, it->second)) {
      it->second = std::move(value);
    } else {
      s.puts_stale.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    s.puts_stored.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  /// Removes every value not live at `now` and returns how many; O(keys), one shard at a time.
  std::size_t erase_expired(event_time now) {
    std::size_t erased = 0;
    for (std::size_t i = 0; i < cfg_.shard_count; ++i) {
      shard& s = shards_[i];
      std::unique_lock lock(s.mutex);
      erased += std::erase_if(s.map, [now](const auto& kv) { return !kv.second.is_live_at(now); });
    }
    return erased;
  }

  /// Number of values held (live or not); each shard is counted under its lock, so with
  /// concurrent writers the sum is not a snapshot.
  [[nodiscard]] std::size_t size() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < cfg_.shard_count; ++i) {
      std::shared_lock lock(shards_[i].mutex);
      n += shards_[i].map.size();
    }
    return n;
  }

  /// The counters of all shards, summed.
  [[nodiscard]] feature_store_stats stats() const {
    feature_store_stats st;
    for (std::size_t i = 0; i < cfg_.shard_count; ++i) {
      const shard& s = shards_[i];
      st.hits += s.hits.load(std::memory_order_relaxed);
      st.misses += s.misses.load(std::memory_order_relaxed);
      st.expired += s.expired.load(std::memory_order_relaxed);
      st.puts_stored += s.puts_stored.load(std::memory_order_relaxed);
      st.puts_stale += s.puts_stale.load(std::memory_order_relaxed);
    }
    return st;
  }

  /// The shard `key` lives in, in `[0, shard_count)`: for tests and for callers that batch by
  /// shard themselves.
  [[nodiscard]] std::size_t shard_of(const key_type& key) const noexcept {
    return shard_of(feature_key_hash{}(key));
  }

  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }
  /// The clock policy (e.g. to move a `manual_clock`).
  [[nodiscard]] Clock& clock() noexcept { return clock_; }
  [[nodiscard]] const Clock& clock() const noexcept { return clock_; }

private:
  // One cache line at least per shard, so that two shards' locks never share a line.
  struct alignas(64) shard {
    mutable std::shared_mutex mutex;
    std::unordered_map<feature_key, value_type, feature_key_hash> map;
    mutable std::atomic<std::uint64_t> hits{0};
    mutable std::atomic<std::uint64_t> misses{0};
    mutable std::atomic<std::uint64_t> expired{0};
    std::atomic<std::uint64_t> puts_stored{0};
    std::atomic<std::uint64_t> puts_stale{0};

    // Called with `mutex` held (shared is enough).
    [[nodiscard]] std::optional<value_type> lookup(const key_type& key, event_time now) const {
      const auto it = map.find(key);
      if (it == map.end()) {
        misses.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
      }
      if (!it->second.is_live_at(now)) {
        expired.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
      }
      hits.fetch_add(1, std::memory_order_relaxed);
      return it->second;
    }
  };

  [[nodiscard]] std::size_t shard_of(std::size_t hash) const noexcept {
    // The map uses the low bits of the hash for its buckets; pick the shard from a remix so that
    // keys of one shard still spread over all buckets.
    return static_cast<std::size_t>(detail::splitmix64::mix(hash) % cfg_.shard_count);
  }

  config cfg_;
  Clock clock_;
  std::unique_ptr<shard[]> shards_;
};

static_assert(feature_store<sharded_feature_store<float>>);
static_assert(feature_store_backend<sharded_feature_store<float>>);
static_assert(feature_store_backend<sharded_feature_store<std::vector<float>, manual_clock>>);

} // namespace data
MLSD_END_NAMESPACE

/// `std::hash` for the key types, so they work in standard unordered containers as they are.
template <>
struct std::hash<mlsd::data::entity_key> : mlsd::data::entity_key_hash {};
template <>
struct std::hash<mlsd::data::feature_key> : mlsd::data::feature_key_hash {};
