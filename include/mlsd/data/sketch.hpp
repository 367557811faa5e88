/// @file
/// Distinct counting in bounded memory: `hyperloglog` (Flajolet, Fusy, Gandouet, Meunier 2007,
/// with Ertl's 2017 improved estimator) and `distinct_counter`, which is exact up to a small
/// threshold and switches to a HyperLogLog sketch above it. Items are hashed with XXH3
/// (data/detail/xxh3.hpp). Used by the windowed real-time features (data/windowed.hpp), one
/// counter per time bucket, merged by register max.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/xxh3.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

namespace detail {

// σ and τ of Ertl (2017), "New cardinality estimation algorithms for HyperLogLog sketches",
// arXiv:1702.01284, Algorithm 6: series that correct the raw estimate for registers at 0 (small
// cardinalities) and at their maximum q + 1 (very large ones), so no empirical bias table is
// needed.
[[nodiscard]] inline double hll_sigma(double x) noexcept {
  if (x == 1.0) {
    return std::numeric_limits<double>::infinity();
  }
  double y = 1.0;
  double z = x;
  double previous = 0.0;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z != previous);
  return z;
}

[[nodiscard]] inline double hll_tau(double x) noexcept {
  if (x == 0.0 || x == 1.0) {
    return 0.0;
  }
  double y = 1.0;
  double z = 1.0 - x;
  double previous = 0.0;
  do {
    x = std::sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
  } while (z != previous);
  return z / 3.0;
}

} // namespace detail

/// A HyperLogLog sketch (Flajolet, Fusy, Gandouet, Meunier 2007, "HyperLogLog: the analysis of a
/// near-optimal cardinality estimation algorithm") over 64-bit hashes: `m = 2^precision` one-byte
/// registers, each the largest "leading zeros + 1" seen among the hashes routed to it. The estimate
/// is Ertl's (2017) improved raw estimator, unbiased from 0 to far beyond 2^32 without a bias
/// table; its relative standard error is about `1.04 / sqrt(m)`. Two sketches of the same precision
/// merge by register-wise max, and the merge equals the sketch of the union. Memory: `m` bytes.
/// `add_hash` is O(1) and `noexcept`; `estimate` is O(m). Not thread-safe for writes.
class hyperloglog {
public:
  static constexpr unsigned min_precision = 4;  ///< 16 registers, 26% error
  static constexpr unsigned max_precision = 18; ///< 256 KiB, 0.2% error

  /// An empty sketch of `2^precision` registers; throws `config_error` outside [4, 18].
  explicit hyperloglog(unsigned precision = 12)
      : precision_(precision) {
    if (precision < min_precision || precision > max_precision) {
      throw config_error("precision", "an integer between 4 and 18");
    }
    registers_.assign(std::size_t{1} << precision, 0);
  }

  /// Adds one hashed item (the hash must be uniform over 64 bits, e.g. XXH3).
  void add_hash(std::uint64_t hash) noexcept {
    const unsigned q = 64 - precision_;
    const auto index = static_cast<std::size_t>(hash >> q);
    const std::uint64_t rest = hash << precision_;
    // rest == 0 means all q remaining bits are zero: the largest rank, q + 1.
    const auto rank = static_cast<std::uint8_t>(
        rest == 0 ? q + 1 : static_cast<unsigned>(std::countl_zero(rest)) + 1);
    registers_[index] = std::max(registers_[index], rank);
  }

  /// Register-wise max with `other`: afterwards this sketch is the sketch of both inputs.
  /// Throws `config_error` when the precisions differ.
  void merge(const hyperloglog& other) {
    if (other.precision_ != precision_) {
      throw config_error("precision", "two HyperLogLog sketches of the same precision");
    }
    for (std::size_t i = 0; i < registers_.size(); ++i) {
      registers_[i] = std::max(registers_[i], other.registers_[i]);
    }
  }

  /// The estimated number of distinct hashes added (0 for an empty sketch). O(m).
  [[nodiscard]] double estimate() const noexcept {
    const unsigned q = 64 - precision_;
    std::array<std::uint32_t, 66> histogram{};
    for (const std::uint8_t r : registers_) {
      ++histogram[r];
    }
    const auto m = static_cast<double>(registers_.size());
    if (histogram[0] == registers_.size()) {
      return 0.0;
    }
    double z = m * detail::hll_tau(1.0 - histogram[q + 1] / m);
    for (unsigned k = q; k >= 1; --k) {
      z = 0.5 * (z + histogram[k]);
    }
    z += m * detail::hll_sigma(histogram[0] / m);
    constexpr double alpha_infinity = 0.72134752044448170368; // 1 / (2 ln 2)
    return alpha_infinity * m * m / z;
  }

  /// The relative standard error `1.04 / sqrt(m)` of the estimate (Flajolet et al. 2007).
  [[nodiscard]] double relative_standard_error() const noexcept {
    return 1.04 / std::sqrt(static_cast<double>(registers_.size()));
  }

  [[nodiscard]] unsigned precision() const noexcept { return precision_; }
  /// The registers, for serialisation and tests.
  [[nodiscard]] std::span<const std::uint8_t> registers() const noexcept { return registers_; }
  /// Heap bytes held: `m`.
  [[nodiscard]] std::size_t memory_bytes() const noexcept { return registers_.capacity(); }

  friend bool operator==(const hyperloglog&, const hyperloglog&) = default;

private:
  unsigned precision_;
  std::vector<std::uint8_t> registers_;
};

/// Settings of a `distinct_counter`: exact up to `exact_threshold` distinct items, a HyperLogLog
/// sketch of `2^precision` registers above it, items hashed with XXH3 and `seed`.
struct distinct_config {
  /// Distinct items counted exactly (their 64-bit hashes are kept, 8 bytes each). 0 sketches
  /// from the first item.
  std::uint32_t exact_threshold = 64;
  /// log2 of the sketch's register count, in [4, 18]: error about 1.04 / sqrt(2^precision)
  /// (1.6% at 12), memory 2^precision bytes.
  unsigned precision = 12;
  /// Seed of the XXH3 hash of items.
  std::uint64_t seed = 0;

  /// Largest accepted `exact_threshold` (64 Ki hashes, 512 KiB).
  static constexpr std::uint32_t max_exact_threshold = std::uint32_t{1} << 16;

  /// Throws `config_error` naming the field (prefixed by `prefix`) that is out of range.
  void validate(const std::string& prefix = "distinct") const {
    if (exact_threshold > max_exact_threshold) {
      std::string field = prefix;
      field += ".exact_threshold";
      throw config_error(field, "at most 65536");
    }
    if (precision < hyperloglog::min_precision || precision > hyperloglog::max_precision) {
      std::string field = prefix;
      field += ".precision";
      throw config_error(field, "an integer between 4 and 18");
    }
  }

  /// The most heap memory one counter holds: `max(8 * exact_threshold, 2^precision)` bytes.
  [[nodiscard]] std::size_t max_memory_bytes() const noexcept {
    return std::max(std::size_t{8} * exact_threshold, std::size_t{1} << precision);
  }

  friend bool operator==(const distinct_config&, const distinct_config&) = default;
};

/// Counts distinct items: exactly (a sorted set of 64-bit XXH3 hashes, so exact up to hash
/// collisions, probability about n²/2^65) while there are at most `exact_threshold` of them, then
/// with a HyperLogLog sketch (relative standard error 1.04/sqrt(2^precision)). Two counters with
/// the same config merge into the counter of the union, exact when the union is small enough.
/// Memory is bounded by `distinct_config::max_memory_bytes()` whatever the number of items.
/// `add` is O(log threshold + threshold) while exact, O(1) once sketching. Not thread-safe.
class distinct_counter {
public:
  /// An empty, exact counter; throws `config_error` for an invalid `cfg`.
  explicit distinct_counter(const distinct_config& cfg = {})
      : cfg_(cfg) {
    cfg_.validate();
  }

  /// Adds an item by its integer id.
  void add(std::uint64_t item) { add_hash(detail::xxh3_64(&item, sizeof item, cfg_.seed)); }
  /// Adds an item by its text.
  void add(std::string_view item) { add_hash(detail::xxh3_64(item, cfg_.seed)); }

  /// Adds an already hashed item (the hash must come from the same seed as the other items).
  void add_hash(std::uint64_t hash) {
    if (sketch_) {
      sketch_->add_hash(hash);
      return;
    }
    const auto it = std::lower_bound(exact_.begin(), exact_.end(), hash);
    if (it != exact_.end() && *it == hash) {
      return;
    }
    if (exact_.size() < cfg_.exact_threshold) {
      if (exact_.capacity() == 0) {
        // Reserved once, exactly, so a counter never holds more than the bound.
        const auto at = it - exact_.begin();
        exact_.reserve(cfg_.exact_threshold);
        exact_.insert(exact_.begin() + at, hash);
      } else {
        exact_.insert(it, hash);
      }
      return;
    }
    start_sketch();
    sketch_->add_hash(hash);
  }

  /// Adds every item of `other` (same config, else `config_error`): the result counts the union.
  void merge(const distinct_counter& other) {
    if (!(other.cfg_ == cfg_)) {
      throw config_error("distinct",
                         "two counters with the same exact_threshold, precision and seed");
    }
    if (other.sketch_) {
      start_sketch();
      sketch_->merge(*other.sketch_);
      return;
    }
    for (const std::uint64_t hash : other.exact_) {
      add_hash(hash);
    }
  }

  /// Forgets every item; the counter is exact again. Keeps the exact set's reserved memory.
  void clear() noexcept {
    exact_.clear();
    sketch_.reset();
  }

  /// True while the count is exact (at most `exact_threshold` distinct items so far).
  [[nodiscard]] bool is_exact() const noexcept { return !sketch_.has_value(); }
  /// The number of distinct items: exact, or the sketch's estimate.
  [[nodiscard]] double estimate() const noexcept {
    return sketch_ ? sketch_->estimate() : static_cast<double>(exact_.size());
  }
  /// `estimate()` rounded to the nearest integer.
  [[nodiscard]] std::uint64_t count() const noexcept {
    return static_cast<std::uint64_t>(std::llround(estimate()));
  }
  [[nodiscard]] const distinct_config& config() const noexcept { return cfg_; }
  /// Heap bytes held, at most `config().max_memory_bytes()`.
  [[nodiscard]] std::size_t memory_bytes() const noexcept {
    return exact_.capacity() * sizeof(std::uint64_t) + (sketch_ ? sketch_->memory_bytes() : 0);
  }

private:
  void start_sketch() {
    if (sketch_) {
      return;
    }
    sketch_.emplace(cfg_.precision);
    for (const std::uint64_t hash : exact_) {
      sketch_->add_hash(hash);
    }
    std::vector<std::uint64_t>().swap(exact_); // free it: the bound is the larger of the two
  }

  distinct_config cfg_;
  std::vector<std::uint64_t> exact_; // sorted
  std::optional<hyperloglog> sketch_;
};

namespace detail {

// Reads a `distinct_config` (every field required, unknown keys rejected) whose fields are named
// `parent.key` (`key` alone for an empty parent), and validates it.
template <class Json>
[[nodiscard]] distinct_config read_distinct_config(const Json& j, std::string_view parent) {
  config_reader r(j, parent);
  distinct_config c;
  r.require("exact_threshold", c.exact_threshold, std::uint32_t{0},
            distinct_config::max_exact_threshold);
  r.require("precision", c.precision, 0u, hyperloglog::max_precision);
  r.require("seed", c.seed);
  r.finish();
  c.validate(parent.empty() ? std::string("distinct") : std::string(parent));
  return c;
}

} // namespace detail

// The JSON functions are templates over the JSON type (always `nlohmann::json`) so that their
// bodies are compiled only where they are used; nlohmann_json finds them by argument-dependent
// lookup: `nlohmann::json j = cfg;` and `j.get<mlsd::data::distinct_config>()`.

/// `distinct_config` as `{"exact_threshold": 64, "precision": 12, "seed": 0}`.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void to_json(Json& j, const distinct_config& c) {
  j = Json{{"exact_threshold", c.exact_threshold}, {"precision", c.precision}, {"seed", c.seed}};
}

/// Reads a `distinct_config`; every field is required, unknown keys are errors. Throws
/// `config_error` naming the field.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void from_json(const Json& j, distinct_config& c) {
  c = detail::read_distinct_config(j, "");
}

} // namespace data
MLSD_END_NAMESPACE
