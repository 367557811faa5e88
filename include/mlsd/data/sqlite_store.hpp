/// @file
/// A feature store backend on SQLite (the `sqlite3` C API): one file, one table, values persisted
/// across restarts. It models `data::feature_store_backend` like the in-memory
/// `sharded_feature_store`, with the same TTL and newest-wins rules, so callers switch between
/// the two without change. For a single-host store that must survive restarts, for tests and
/// small deployments, and as the offline copy of what the online store served.
///
/// Needs SQLite: link the CMake target `mlsd::sqlite` (or `-lsqlite3`). No umbrella header
/// includes this file.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/time.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/feature_store.hpp>

#include <nlohmann/json.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

/// An error reported by SQLite: `what()` reads `<file>: <operation>: <SQLite's message> (SQLite
/// error <code>)`, and the parts are available one by one.
class sqlite_error : public std::runtime_error {
public:
  sqlite_error(std::string path, std::string operation, int code, std::string message)
      : std::runtime_error(format(path, operation, code, message))
      , path_(std::move(path))
      , operation_(std::move(operation))
      , code_(code)
      , message_(std::move(message)) {}

  /// The database file.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// What the store was doing, e.g. "open", "get_many".
  [[nodiscard]] const std::string& operation() const noexcept { return operation_; }
  /// SQLite's (extended) result code, e.g. `SQLITE_CANTOPEN`.
  [[nodiscard]] int code() const noexcept { return code_; }
  /// SQLite's message (`sqlite3_errmsg`).
  [[nodiscard]] const std::string& message() const noexcept { return message_; }

private:
  static std::string format(const std::string& path, const std::string& operation, int code,
                            const std::string& message) {
    std::string out = path;
    out += ": ";
    out += operation;
    out += ": ";
    out += message;
    out += " (SQLite error ";
    out += std::to_string(code);
    out += ')';
    return out;
  }

  std::string path_;
  std::string operation_;
  int code_;
  std::string message_;
};

/// Configuration of `sqlite_feature_store`.
struct sqlite_store_config {
  /// The database file (created if missing); `":memory:"` for a private in-memory database.
  std::string path;
  /// The table (created if missing): letters, digits and `_`, not starting with a digit.
  std::string table = "feature_values";
  /// Write-ahead logging (`PRAGMA journal_mode=WAL`): readers in other processes do not block the
  /// writer and the writer does not block them.
  bool wal = true;
  /// `PRAGMA synchronous`: `"OFF"`, `"NORMAL"` (the usual choice with WAL: durable up to the last
  /// checkpoint, never corrupt), `"FULL"` or `"EXTRA"`.
  std::string synchronous = "NORMAL";
  /// How long a statement waits for a lock held by another connection before failing (ms).
  std::uint32_t busy_timeout_ms = 5000;

  /// Throws `config_error` naming the field when a value is invalid.
  void validate() const {
    if (path.empty()) {
      throw config_error("sqlite_store_config.path", "a file path or \":memory:\"");
    }
    const bool valid_table = !table.empty() && !(table[0] >= '0' && table[0] <= '9') &&
                             std::all_of(table.begin(), table.end(), [](char c) {
                               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                      (c >= '0' && c <= '9') || c == '_';
                             });
    if (!valid_table) {
      throw config_error("sqlite_store_config.table",
                         "letters, digits and '_', not starting with a digit");
    }
    if (synchronous != "OFF" && synchronous != "NORMAL" && synchronous != "FULL" &&
        synchronous != "EXTRA") {
      throw config_error("sqlite_store_config.synchronous", "one of OFF, NORMAL, FULL, EXTRA");
    }
  }

  /// `{"path": ..., "table": ..., "wal": ..., "synchronous": ..., "busy_timeout_ms": ...}`.
  template <class Json = nlohmann::json>
  [[nodiscard]] Json to_json() const {
    return Json{{"path", path},
                {"table", table},
                {"wal", wal},
                {"synchronous", synchronous},
                {"busy_timeout_ms", busy_timeout_ms}};
  }
  /// Reads the form `to_json` writes (unknown keys are errors); `path` is required, other fields
  /// keep their defaults when absent. Throws `config_error` naming the field for a wrong type or an
  /// invalid value.
  template <class Json = nlohmann::json>
  [[nodiscard]] static sqlite_store_config from_json(const Json& j) {
    detail::config_reader r(j, "sqlite_store_config");
    sqlite_store_config c;
    r.read("path", c.path);
    r.read("table", c.table);
    r.read("wal", c.wal);
    r.read("synchronous", c.synchronous);
    r.read("busy_timeout_ms", c.busy_timeout_ms);
    r.finish();
    c.validate();
    return c;
  }

  friend bool operator==(const sqlite_store_config&, const sqlite_store_config&) = default;
};

namespace detail {
struct sqlite_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct sqlite_finalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using sqlite_handle = std::unique_ptr<sqlite3, sqlite_closer>;
using sqlite_statement = std::unique_ptr<sqlite3_stmt, sqlite_finalizer>;
} // namespace detail

/// A feature store backend on one SQLite file: table `config.table` with columns `entity_kind`
/// (TEXT), `entity_id` (INTEGER, the 64-bit id's bits), `feature` (TEXT), `event_us`,
/// `known_at_us`, `ttl_us` (INTEGER microseconds) and `value` (BLOB, `Codec`'s bytes), primary key
/// (entity_kind, entity_id, feature), created if missing. Times are typed columns so that SQL can
/// apply the newest-wins rule and tools can query them; the value is a blob so any `T` with a codec
/// fits.
///
/// Rules: the TTL rule of `timed_value::is_live_at` on every read; newest wins on every write
/// (`supersedes`, applied by the upsert's `WHERE`, so it holds across processes sharing the file).
/// `get_many` reads all keys in one read transaction: a consistent snapshot of the batch.
///
/// Thread-safety: one connection per store, guarded by a mutex: every member function may be
/// called from any thread, and calls run one at a time. For parallel readers open one store per
/// thread on the same file (WAL lets them read while one writes). Not movable.
///
/// Errors: SQLite failures throw `sqlite_error` with the file and SQLite's message; a stored value
/// that does not decode throws `input_error` naming the file and the key.
///
/// Complexity: `get` and `put` O(log keys) (B-tree) plus I/O; each `put` is its own transaction
/// (durable when it returns, per `synchronous`); `put_many` writes a batch in one transaction.
template <class T, class Codec = byte_codec<T>, clock_policy Clock = wall_clock>
requires value_codec<Codec, T>
class sqlite_feature_store : public feature_store_tag {
public:
  using key_type = feature_key;
  using value_type = timed_value<T>;
  using mapped_type = T;
  using config = sqlite_store_config;
  using clock_type = Clock;

  /// Opens (or creates) the database and the table. Throws `config_error` for an invalid `cfg`,
  /// `sqlite_error` when SQLite cannot open or set up the file.
  explicit sqlite_feature_store(config cfg, Clock clock = {})
      : cfg_((cfg.validate(), std::move(cfg)))
      , clock_(std::move(clock)) {
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(cfg_.path.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(raw); // closed on every path, also when open failed
    if (rc != SQLITE_OK) {
      fail("open", rc);
    }
    sqlite3_extended_result_codes(db_.get(), 1);
    sqlite3_busy_timeout(
        db_.get(), static_cast<int>(std::min<std::uint32_t>(cfg_.busy_timeout_ms, INT32_MAX)));
    if (cfg_.wal && cfg_.path != ":memory:") {
      exec("PRAGMA journal_mode=WAL", "open (journal_mode=WAL)");
    }
    std::string sync = "PRAGMA synchronous=";
    sync += cfg_.synchronous;
    exec(sync.c_str(), "open (synchronous)");
    std::string schema = "CREATE TABLE IF NOT EXISTS ";
    schema += cfg_.table;
    schema += " (entity_kind TEXT NOT NULL, entity_id INTEGER NOT NULL, feature TEXT NOT NULL, "
              "event_us INTEGER NOT NULL, known_at_us INTEGER NOT NULL, ttl_us INTEGER NOT NULL, "
              "value BLOB NOT NULL, PRIMARY KEY (entity_kind, entity_id, feature)) WITHOUT ROWID";
    exec(schema.c_str(), "open (create table)");

    std::string select = "SELECT event_us, known_at_us, ttl_us, value FROM ";
    select += cfg_.table;
    select += " WHERE entity_kind = ?1 AND entity_id = ?2 AND feature = ?3";
    select_ = prepare(select, "open (prepare get)");
    std::string upsert = "INSERT INTO ";
    upsert += cfg_.table;
    upsert += " (entity_kind, entity_id, feature, event_us, known_at_us, ttl_us, value) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
              "ON CONFLICT (entity_kind, entity_id, feature) DO UPDATE SET "
              "event_us = excluded.event_us, known_at_us = excluded.known_at_us, "
              "ttl_us = excluded.ttl_us, value = excluded.value "
              "WHERE excluded.event_us > event_us OR "
              "(excluded.event_us = event_us AND excluded.known_at_us >= known_at_us)";
    upsert_ = prepare(upsert, "open (prepare put)");
    std::string count = "SELECT count(*) FROM ";
    count += cfg_.table;
    count_ = prepare(count, "open (prepare size)");
    std::string erase = "DELETE FROM ";
    erase += cfg_.table;
    // Not live at now (timed_value::is_live_at): now > event, ttl is not no_expiry (INT64_MAX) and
    // now - event > ttl. SQLite turns
    // an integer subtraction that overflows into a floating-point one, which still compares right.
    erase += " WHERE ?1 > event_us AND ttl_us < 9223372036854775807 AND ?1 - event_us > ttl_us";
    erase_ = prepare(erase, "open (prepare erase_expired)");
    begin_ = prepare("BEGIN", "open (prepare begin)");
    commit_ = prepare("COMMIT", "open (prepare commit)");
    rollback_ = prepare("ROLLBACK", "open (prepare rollback)");
  }

  sqlite_feature_store(const sqlite_feature_store&) = delete;
  sqlite_feature_store& operator=(const sqlite_feature_store&) = delete;

  /// The value of `key` if there is one and it is live at `now`.
  [[nodiscard]] std::optional<value_type> get(const key_type& key, event_time now) const {
    std::lock_guard lock(mutex_);
    return lookup(key, now, "get");
  }
  /// `get(key, clock().now())`.
  [[nodiscard]] std::optional<value_type> get(const key_type& key) const {
    return get(key, clock_.now());
  }

  /// Looks up `keys` at `now` into `out` (same sizes, else `input_error`), in one read transaction.
  void get_many(std::span<const key_type> keys, std::span<std::optional<value_type>> out,
                event_time now) const {
    detail::check_get_many_sizes(keys.size(), out.size(), cfg_.path);
    std::lock_guard lock(mutex_);
    transaction tx(*this, "get_many");
    for (std::size_t i = 0; i < keys.size(); ++i) {
      out[i] = lookup(keys[i], now, "get_many");
    }
    tx.commit();
  }
  /// `get_many(keys, out, clock().now())`.
  void get_many(std::span<const key_type> keys, std::span<std::optional<value_type>> out) const {
    get_many(keys, out, clock_.now());
  }

  /// Stores `value` under `key` unless the table holds a newer one (`supersedes`); returns whether
  /// it was stored. Throws `input_error` for a negative TTL or a value known before its event.
  bool put(const key_type& key, value_type value) {
    detail::check_times(value, {cfg_.path}, key);
    std::lock_guard lock(mutex_);
    return store(key, value, "put");
  }

  /// Stores a batch in one transaction (all or nothing on error), with `put`'s rule for each;
  /// returns how many were stored.
  std::size_t put_many(std::span<const std::pair<key_type, value_type>> items) {
    for (const auto& [key, value] : items) {
      detail::check_times(value, {cfg_.path}, key);
    }
    std::lock_guard lock(mutex_);
    transaction tx(*this, "put_many");
    std::size_t stored = 0;
    for (const auto& [key, value] : items) {
      stored += store(key, value, "put_many") ? 1 : 0;
    }
    tx.commit();
    return stored;
  }

  /// Deletes every value not live at `now`; returns how many.
  std::size_t erase_expired(event_time now) {
    std::lock_guard lock(mutex_);
    sqlite3_stmt* s = erase_.get();
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, now.micros());
    step_done(s, "erase_expired");
    return static_cast<std::size_t>(sqlite3_changes(db_.get()));
  }

  /// Number of values in the table (live or not).
  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock(mutex_);
    sqlite3_stmt* s = count_.get();
    sqlite3_reset(s);
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
      fail_and_reset(s, "size", rc);
    }
    const auto n = static_cast<std::size_t>(sqlite3_column_int64(s, 0));
    sqlite3_reset(s);
    return n;
  }

  /// What this store counted since it was opened (not persisted).
  [[nodiscard]] feature_store_stats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }
  /// The clock policy (e.g. to move a `manual_clock`).
  [[nodiscard]] Clock& clock() noexcept { return clock_; }
  [[nodiscard]] const Clock& clock() const noexcept { return clock_; }

private:
  // A transaction on the store's connection; rolls back unless committed. Called with mutex_ held.
  class transaction {
  public:
    transaction(const sqlite_feature_store& store, const char* operation)
        : store_(store)
        , operation_(operation) {
      store_.step_done(store_.begin_.get(), operation_);
    }
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    void commit() {
      store_.step_done(store_.commit_.get(), operation_);
      open_ = false;
    }
    ~transaction() {
      if (open_) {
        sqlite3_reset(store_.rollback_.get());
        sqlite3_step(store_.rollback_.get()); // best effort: the error being thrown says why
        sqlite3_reset(store_.rollback_.get());
      }
    }

  private:
    const sqlite_feature_store& store_;
    const char* operation_;
    bool open_ = true;
  };

  [[noreturn]] void fail(const char* operation, int rc) const {
    std::string message = db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
    throw sqlite_error(cfg_.path, operation, rc, std::move(message));
  }

  // Reads the message before the reset (which may replace it), then throws.
  [[noreturn]] void fail_and_reset(sqlite3_stmt* s, const char* operation, int rc) const {
    std::string message = sqlite3_errmsg(db_.get());
    sqlite3_reset(s);
    throw sqlite_error(cfg_.path, operation, rc, std::move(message));
  }

  void exec(const char* sql, const char* operation) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
      std::string message = error != nullptr ? error : sqlite3_errstr(rc);
      sqlite3_free(error);
      throw sqlite_error(cfg_.path, operation, rc, std::move(message));
    }
  }

  [[nodiscard]] detail::sqlite_statement prepare(const std::string& sql, const char* operation) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql.c_str(), static_cast<int>(sql.size() + 1),
                                      SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    detail::sqlite_statement s(raw);
    if (rc != SQLITE_OK) {
      fail(operation, rc);
    }
    return s;
  }

  // Runs a statement that returns no rows, then resets it.
  void step_done(sqlite3_stmt* s, const char* operation) const {
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
      fail_and_reset(s, operation, rc);
    }
    sqlite3_reset(s);
  }

  void bind_key(sqlite3_stmt* s, const key_type& key) const {
    sqlite3_bind_text(s, 1, key.entity.kind.data(), static_cast<int>(key.entity.kind.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, std::bit_cast<std::int64_t>(key.entity.id));
    sqlite3_bind_text(s, 3, key.feature.data(), static_cast<int>(key.feature.size()),
                      SQLITE_STATIC);
  }

  // Called with mutex_ held.
  [[nodiscard]] std::optional<value_type> lookup(const key_type& key, event_time now,
                                                 const char* operation) const {
    sqlite3_stmt* s = select_.get();
    sqlite3_reset(s);
    bind_key(s, key);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
      sqlite3_reset(s);
      ++stats_.misses;
      return std::nullopt;
    }
    if (rc != SQLITE_ROW) {
      fail_and_reset(s, operation, rc);
    }
    value_type v;
    v.event = event_time::from_micros(sqlite3_column_int64(s, 0));
    v.known_at = known_at_time::from_micros(sqlite3_column_int64(s, 1));
    v.ttl = time_span_us(sqlite3_column_int64(s, 2));
    if (!v.is_live_at(now)) {
      sqlite3_reset(s);
      ++stats_.expired;
      return std::nullopt;
    }
    const void* blob = sqlite3_column_blob(s, 3);
    const int bytes = sqlite3_column_bytes(s, 3);
    std::optional<T> decoded = Codec::decode(
        std::string_view(static_cast<const char*>(blob), static_cast<std::size_t>(bytes)));
    sqlite3_reset(s);
    if (!decoded) {
      std::string expected = "a valid encoded value for ";
      expected += key.to_string();
      std::string found = std::to_string(bytes);
      found += " bytes";
      throw input_error({cfg_.path, 0, 0, "value"}, std::move(expected), std::move(found));
    }
    v.value = std::move(*decoded);
    ++stats_.hits;
    return v;
  }

  // Called with mutex_ held.
  bool store(const key_type& key, const value_type& value, const char* operation) {
    buffer_.clear();
    Codec::encode(value.value, buffer_);
    sqlite3_stmt* s = upsert_.get();
    sqlite3_reset(s);
    bind_key(s, key);
    sqlite3_bind_int64(s, 4, value.event.micros());
    sqlite3_bind_int64(s, 5, value.known_at.micros());
    sqlite3_bind_int64(s, 6, static_cast<std::int64_t>(value.ttl.count()));
    sqlite3_bind_blob(s, 7, buffer_.data(), static_cast<int>(buffer_.size()), SQLITE_STATIC);
    step_done(s, operation);
    // An upsert whose DO UPDATE ... WHERE is false changes no row.
    if (sqlite3_changes(db_.get()) == 0) {
      ++stats_.puts_stale;
      return false;
    }
    ++stats_.puts_stored;
    return true;
  }

  config cfg_;
  Clock clock_;
  mutable std::mutex mutex_;
  detail::sqlite_handle db_;
  detail::sqlite_statement select_;
  detail::sqlite_statement upsert_;
  detail::sqlite_statement count_;
  detail::sqlite_statement erase_;
  detail::sqlite_statement begin_;
  detail::sqlite_statement commit_;
  detail::sqlite_statement rollback_;
  std::string buffer_;
  mutable feature_store_stats stats_;
};

static_assert(feature_store<sqlite_feature_store<float>>);
static_assert(
    feature_store_backend<
        sqlite_feature_store<std::vector<float>, byte_codec<std::vector<float>>, manual_clock>>);

} // namespace data
MLSD_END_NAMESPACE
