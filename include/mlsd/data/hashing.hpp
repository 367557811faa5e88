/// @file
/// The hashing trick for categorical features, and feature crosses: each (field, value) pair is
/// hashed with XXH3 into one of 2^b buckets, with no vocabulary to fit, store or keep in sync
/// between training and serving (Weinberger et al. 2009, "Feature Hashing for Large Scale
/// Multitask Learning", ICML; Shi et al. 2009, "Hash Kernels for Structured Data", JMLR).
///
/// Each field is its own namespace: the field's name is hashed first and that hash seeds the hash
/// of the value (as Vowpal Wabbit does with namespaces), so "US" in `country` and "US" in
/// `language` are different features. A cross (`country x device`) hashes the values of its
/// fields in order, chained the same way, in a namespace of its own (Chapelle et al. 2014,
/// "Simple and Scalable Response Prediction for Display Advertising", ACM TIST, hash such
/// conjunctions into the same space). An optional sign hash gives each feature the value +1 or -1,
/// which makes the inner product of hashed vectors an unbiased estimate of the original one
/// (Weinberger et al. 2009, Lemma 2). docs/features.md explains the trade-offs.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/xxh3.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

namespace detail {

// Field names: non-empty and distinct. Returns nothing; throws naming `where[i]`.
inline void validate_field_names(const std::vector<std::string>& fields, const std::string& where) {
  if (fields.empty()) {
    throw config_error(where, "at least one field");
  }
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string name = indexed_path(where, i);
    if (fields[i].empty()) {
      throw config_error(name, "a non-empty field name");
    }
    for (std::size_t k = 0; k < i; ++k) {
      if (fields[k] == fields[i]) {
        std::string expected = "a name not used by an earlier field, found '";
        expected += fields[i];
        expected += "' again";
        throw config_error(name, expected);
      }
    }
  }
}

// Throws `input_error` at `source` (line `line`, 0 when not known) unless a row has one value per
// field: `width` values against `fields.size()`, listing the fields.
inline void check_row_width(std::size_t width, const std::vector<std::string>& fields,
                            const char* source, std::uint64_t line) {
  if (width != fields.size()) {
    std::string expected = std::to_string(fields.size());
    expected += " values, one per field (";
    for (std::size_t f = 0; f < fields.size(); ++f) {
      if (f != 0) {
        expected += ", ";
      }
      expected += fields[f];
    }
    expected += ')';
    std::string found = std::to_string(width);
    found += " values";
    throw input_error({source, line}, expected, found);
  }
}

// The 8 bytes of `id` in little-endian order, so that hashed ids are the same on every platform.
inline void little_endian_bytes(std::uint64_t id, unsigned char (&out)[8]) noexcept {
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<unsigned char>(id >> (8 * i));
  }
}

// Seeds the hash of a cross's namespace apart from any field's namespace: fields are seeded with
// xxh3(name, seed), crosses with a chain that starts from this tag.
inline constexpr std::string_view cross_namespace_tag = "mlsd.cross";

} // namespace detail

/// Configuration of a `feature_hasher`. `fields` must be given; everything else has a default.
struct feature_hasher_config {
  /// The number of buckets is 2^bits, from 1 to 32 (indices are `std::uint32_t`).
  std::uint32_t bits = 20;
  /// The XXH3 seed: a different seed is a different (independent) hash function.
  std::uint64_t seed = 0;
  /// The input fields, in the order of the values in an input row; each is its own namespace.
  std::vector<std::string> fields;
  /// Feature crosses: each a tuple of two or more distinct field names, hashed together.
  std::vector<std::vector<std::string>> crosses;
  /// Give each feature the value +1 or -1 from an independent bit of its hash (Weinberger et
  /// al. 2009), instead of 1: collisions then cancel in expectation instead of adding up.
  bool sign_hash = false;
  /// Also output each feature's field id, for field-aware models (FFM): a field's position in
  /// `fields`, and `fields.size() + c` for cross `c`.
  bool output_fields = false;
  /// An empty input value is missing. When this token is empty, a missing value produces no
  /// feature (nor do the crosses it belongs to); otherwise the token is hashed in its place, so
  /// "missing" becomes a feature of its own in each field.
  std::string missing_token;

  friend bool operator==(const feature_hasher_config&, const feature_hasher_config&) = default;

  /// Throws `config_error` naming the first invalid field (e.g. `feature_hasher.crosses[0][1]`).
  void validate() const {
    if (bits < 1 || bits > 32) {
      std::string expected = "an integer from 1 to 32, found ";
      expected += std::to_string(bits);
      throw config_error("feature_hasher.bits", expected);
    }
    detail::validate_field_names(fields, "feature_hasher.fields");
    for (std::size_t c = 0; c < crosses.size(); ++c) {
      std::string where = "feature_hasher.crosses[";
      where += std::to_string(c);
      where += ']';
      if (crosses[c].size() < 2) {
        throw config_error(where, "a tuple of at least two field names");
      }
      for (std::size_t k = 0; k < crosses[c].size(); ++k) {
        std::string name = where;
        name += '[';
        name += std::to_string(k);
        name += ']';
        if (std::find(fields.begin(), fields.end(), crosses[c][k]) == fields.end()) {
          std::string expected = "the name of a configured field, found '";
          expected += crosses[c][k];
          expected += '\'';
          throw config_error(name, expected);
        }
        if (std::find(crosses[c].begin(), crosses[c].begin() + static_cast<std::ptrdiff_t>(k),
                      crosses[c][k]) != crosses[c].begin() + static_cast<std::ptrdiff_t>(k)) {
          std::string expected = "a field not already in this cross, found '";
          expected += crosses[c][k];
          expected += "' twice";
          throw config_error(name, expected);
        }
      }
      for (std::size_t e = 0; e < c; ++e) {
        if (crosses[e] == crosses[c]) {
          std::string expected = "a cross not configured before (same as crosses[";
          expected += std::to_string(e);
          expected += "])";
          throw config_error(where, expected);
        }
      }
    }
  }

  /// The configuration as JSON (every key written, so the file documents itself).
  [[nodiscard]] nlohmann::json to_json() const {
    return nlohmann::json{{"bits", bits},
                          {"seed", seed},
                          {"fields", fields},
                          {"crosses", crosses},
                          {"sign_hash", sign_hash},
                          {"output_fields", output_fields},
                          {"missing_token", missing_token}};
  }

  /// Reads a configuration written by `to_json` (absent keys take their defaults, except
  /// `fields`), validates it, and throws `config_error` naming the field that is wrong.
  [[nodiscard]] static feature_hasher_config from_json(const nlohmann::json& j) {
    detail::config_reader r(j, "feature_hasher");
    feature_hasher_config c;
    r.read("bits", c.bits, std::uint32_t{1}, std::uint32_t{32});
    r.read("seed", c.seed);
    r.require("fields", c.fields);
    r.read("crosses", c.crosses);
    r.read("sign_hash", c.sign_hash);
    r.read("output_fields", c.output_fields);
    r.read("missing_token", c.missing_token);
    r.finish();
    c.validate();
    return c;
  }
};

/// What `feature_hasher::fit` saw: the number of rows and, per field, how many values were
/// missing (empty). Hashing learns nothing, but missing values are counted, not dropped silently.
struct hashing_fit_report {
  std::uint64_t rows = 0;
  std::vector<std::uint64_t> missing;
};

/// The hashing trick as a feature transform: a row of categorical values (one per configured
/// field, as `std::string_view`) becomes a sparse row of bucket indices in [0, 2^bits), one per
/// present field and one per cross whose fields are all present.
///
/// Bucket of value `v` in field `f`: `h = xxh3_64(v, xxh3_64(name_f, seed))`, index
/// `h mod 2^bits` (the low bits), sign `+1` if bit 63 of `h` is 0, else `-1`. Cross of fields
/// `(f1, ..., fk)`: `s = xxh3_64(name_fk, ... xxh3_64(name_f1, xxh3_64("mlsd.cross", seed)))`,
/// then `h = xxh3_64(v_k, ... xxh3_64(v_1, s))`, chained value by value so that ("a", "bc") and
/// ("ab", "c") differ. An integer id hashes as its 8 little-endian bytes instead of its text.
/// Two features of one row that share a bucket both stay in the row (the duplicates add up, as in
/// the definition of the hashed feature map).
///
/// Nothing to fit: `fit` only checks row widths and counts missing values. The configuration is
/// the whole state and round-trips through JSON. Thread-safe (all members `const` after
/// construction). Complexity: O(total bytes of the row's values × (1 + crosses per field)).
class feature_hasher : public feature_transform_tag {
public:
  using config = feature_hasher_config;
  /// One value per configured field, in `fields` order; an empty value is missing.
  using input_type = std::span<const std::string_view>;
  using output_type = sparse_row;

  /// Validates `cfg` (throws `config_error` naming the field) and precomputes each namespace seed.
  explicit feature_hasher(config cfg)
      : cfg_(std::move(cfg)) {
    cfg_.validate();
    mask_ = cfg_.bits == 32 ? 0xffffffffu : (std::uint64_t{1} << cfg_.bits) - 1;
    field_seeds_.reserve(cfg_.fields.size());
    for (const std::string& name : cfg_.fields) {
      field_seeds_.push_back(detail::xxh3_64(name, cfg_.seed));
    }
    cross_seeds_.reserve(cfg_.crosses.size());
    cross_fields_.reserve(cfg_.crosses.size());
    for (const auto& cross : cfg_.crosses) {
      std::uint64_t s = detail::xxh3_64(detail::cross_namespace_tag, cfg_.seed);
      std::vector<std::uint32_t> members;
      for (const std::string& name : cross) {
        s = detail::xxh3_64(name, s);
        members.push_back(static_cast<std::uint32_t>(
            std::find(cfg_.fields.begin(), cfg_.fields.end(), name) - cfg_.fields.begin()));
      }
      cross_seeds_.push_back(s);
      cross_fields_.push_back(std::move(members));
    }
  }

  /// The hashed features of `row` as a new sparse row (label 0). Allocates the row; use `encode`
  /// on a reused row in a hot loop. Throws `input_error` when `row` has the wrong width.
  [[nodiscard]] output_type operator()(input_type row) const {
    sparse_row out;
    out.indices.reserve(field_count());
    out.values.reserve(field_count());
    if (cfg_.output_fields) {
      out.fields.reserve(field_count());
    }
    encode(row, out);
    return out;
  }

  /// Appends the hashed features of `row` to `out` (its label and earlier entries are kept):
  /// allocation-free once `out` has the capacity. Returns the number of features not emitted
  /// because a value was missing (always 0 when `missing_token` is set). Throws `input_error`
  /// when `row.size()` is not the number of fields.
  std::size_t encode(input_type row, sparse_row& out) const {
    check_width(row.size(), 0);
    std::size_t skipped = 0;
    for (std::size_t f = 0; f < row.size(); ++f) {
      const std::string_view v = value_or_token(row[f]);
      if (v.empty()) {
        ++skipped;
        continue;
      }
      emit(static_cast<std::uint32_t>(f), detail::xxh3_64(v, field_seeds_[f]), out);
    }
    for (std::size_t c = 0; c < cross_seeds_.size(); ++c) {
      std::uint64_t h = cross_seeds_[c];
      bool present = true;
      for (const std::uint32_t f : cross_fields_[c]) {
        const std::string_view v = value_or_token(row[f]);
        if (v.empty()) {
          present = false;
          break;
        }
        h = detail::xxh3_64(v, h);
      }
      if (!present) {
        ++skipped;
        continue;
      }
      emit(static_cast<std::uint32_t>(cfg_.fields.size() + c), h, out);
    }
    return skipped;
  }

  /// Appends the hashed features of a row of integer ids (one per field; no id is missing) to
  /// `out`, hashing each id's 8 little-endian bytes instead of formatting it as text. A field fed
  /// ids should always be fed ids: the id 7 and the text "7" are different features.
  void encode_ids(std::span<const std::uint64_t> ids, sparse_row& out) const {
    check_width(ids.size(), 0);
    for (std::size_t f = 0; f < ids.size(); ++f) {
      emit(static_cast<std::uint32_t>(f), hash_id(ids[f], field_seeds_[f]), out);
    }
    for (std::size_t c = 0; c < cross_seeds_.size(); ++c) {
      std::uint64_t h = cross_seeds_[c];
      for (const std::uint32_t f : cross_fields_[c]) {
        h = hash_id(ids[f], h);
      }
      emit(static_cast<std::uint32_t>(cfg_.fields.size() + c), h, out);
    }
  }

  /// Checks that every training row has one value per field and counts missing values; learns
  /// nothing. Throws `input_error` naming the row (as line, from 1) of the first bad row.
  hashing_fit_report fit(std::span<const input_type> rows) {
    hashing_fit_report report;
    report.missing.assign(cfg_.fields.size(), 0);
    for (std::size_t r = 0; r < rows.size(); ++r) {
      check_width(rows[r].size(), r + 1);
      for (std::size_t f = 0; f < rows[r].size(); ++f) {
        report.missing[f] += rows[r][f].empty() ? 1 : 0;
      }
    }
    report.rows = rows.size();
    return report;
  }

  /// The 64-bit hash of `value` in field `f` (its bucket is the low `bits` bits, its sign bit 63).
  [[nodiscard]] std::uint64_t hash(std::size_t f, std::string_view value) const noexcept {
    return detail::xxh3_64(value, field_seeds_[f]);
  }
  /// The 64-bit hash of integer id `id` in field `f`.
  [[nodiscard]] std::uint64_t hash(std::size_t f, std::uint64_t id) const noexcept {
    return hash_id(id, field_seeds_[f]);
  }
  /// The bucket of `value` in field `f` (0-based position in `fields`), in [0, 2^bits).
  [[nodiscard]] std::uint32_t bucket(std::size_t f, std::string_view value) const noexcept {
    return static_cast<std::uint32_t>(hash(f, value) & mask_);
  }
  /// The bucket of integer id `id` in field `f`.
  [[nodiscard]] std::uint32_t bucket(std::size_t f, std::uint64_t id) const noexcept {
    return static_cast<std::uint32_t>(hash(f, id) & mask_);
  }

  /// The number of buckets, 2^bits: the dimension of the output space (the model's size).
  [[nodiscard]] std::uint64_t dimension() const noexcept { return std::uint64_t{1} << cfg_.bits; }
  /// The number of field ids in the output, one per field and one per cross: also the most
  /// features a row can produce.
  [[nodiscard]] std::size_t field_count() const noexcept {
    return cfg_.fields.size() + cfg_.crosses.size();
  }
  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }

  /// The whole state as JSON: `{"transform": "feature_hasher", "config": {...}}`.
  [[nodiscard]] nlohmann::json to_json() const {
    return nlohmann::json{{"transform", "feature_hasher"}, {"config", cfg_.to_json()}};
  }
  /// Loads a hasher written by `to_json`; it maps every input exactly as the saved one did.
  /// Throws `config_error` naming the field that is missing or invalid.
  [[nodiscard]] static feature_hasher from_json(const nlohmann::json& j) {
    detail::config_reader r(j, "feature_hasher");
    r.require_transform("feature_hasher");
    feature_hasher h(config::from_json(r.at("config")));
    r.finish();
    return h;
  }

  friend bool operator==(const feature_hasher& a, const feature_hasher& b) noexcept {
    return a.cfg_ == b.cfg_;
  }

private:
  [[nodiscard]] static std::uint64_t hash_id(std::uint64_t id, std::uint64_t seed) noexcept {
    unsigned char bytes[8];
    detail::little_endian_bytes(id, bytes);
    return detail::xxh3_64(bytes, sizeof bytes, seed);
  }

  [[nodiscard]] std::string_view value_or_token(std::string_view v) const noexcept {
    return v.empty() ? std::string_view(cfg_.missing_token) : v;
  }

  void emit(std::uint32_t field, std::uint64_t h, sparse_row& out) const {
    const auto index = static_cast<std::uint32_t>(h & mask_);
    const float value = cfg_.sign_hash && (h >> 63) != 0 ? -1.0f : 1.0f;
    if (cfg_.output_fields) {
      out.push_back(field, index, value);
    } else {
      out.push_back(index, value);
    }
  }

  void check_width(std::size_t width, std::uint64_t line) const {
    detail::check_row_width(width, cfg_.fields, "<feature_hasher row>", line);
  }

  config cfg_;
  std::uint64_t mask_ = 0;
  std::vector<std::uint64_t> field_seeds_;
  std::vector<std::uint64_t> cross_seeds_;
  std::vector<std::vector<std::uint32_t>> cross_fields_;
};

static_assert(feature_transform<feature_hasher>);

} // namespace data
MLSD_END_NAMESPACE
