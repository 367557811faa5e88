/// @file
/// Categorical vocabularies: fitted on training data, a vocabulary gives each frequent value of a
/// field its own index and sends everything else (rare values, values first seen at serving time)
/// to out-of-vocabulary (OOV) buckets. Unlike the hashing trick (data/hashing.hpp), frequent
/// values never collide, at the price of a state to fit, store and ship with the model; the JSON
/// round trip keeps the exact mapping, so training and serving agree. docs/features.md compares
/// the two.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/xxh3.hpp>
#include <mlsd/data/hashing.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

namespace detail {

// XXH3 as a transparent hash, so that maps keyed by std::string are searched with a
// std::string_view without building a string (no allocation on the serving path).
struct transparent_string_hash {
  using is_transparent = void;
  [[nodiscard]] std::size_t operator()(std::string_view s) const noexcept {
    return static_cast<std::size_t>(xxh3_64(s, 0));
  }
};

template <class Value>
using string_map = std::unordered_map<std::string, Value, transparent_string_hash, std::equal_to<>>;

} // namespace detail

/// Configuration of a `vocabulary`. `fields` must be given; everything else has a default. The
/// thresholds apply to every field.
struct vocabulary_config {
  /// The input fields, in the order of the values in an input row.
  std::vector<std::string> fields;
  /// A value gets its own index when it occurs at least this often in the training data (>= 1).
  std::uint64_t min_count = 1;
  /// At most this many values per field keep their own index, the most frequent ones; 0 means
  /// no limit.
  std::uint64_t max_size = 0;
  /// The number of OOV indices per field (>= 1). With 1, every unknown value maps to the field's
  /// index 0; with k > 1, an unknown value maps to `xxh3_64(value, xxh3_64(field, seed)) mod k`,
  /// so that rare values keep some identity (a small hashing trick behind the vocabulary).
  std::uint32_t oov_buckets = 1;
  /// The XXH3 seed of the OOV buckets.
  std::uint64_t seed = 0;
  /// Also output each feature's field id (the field's position in `fields`), for FFM.
  bool output_fields = false;
  /// An empty input value is missing (the fit report counts it either way). When this token is
  /// empty, a missing value produces no feature and is no value for `fit`; otherwise the token
  /// stands in its place, at fit and at serving time alike, and gets an index of its own when it is
  /// frequent enough.
  std::string missing_token;

  friend bool operator==(const vocabulary_config&, const vocabulary_config&) = default;

  /// Throws `config_error` naming the first invalid field (e.g. `vocabulary.min_count`).
  void validate() const {
    detail::validate_field_names(fields, "vocabulary.fields");
    if (min_count < 1) {
      throw config_error("vocabulary.min_count", "a count of at least 1, found 0");
    }
    if (oov_buckets < 1) {
      throw config_error("vocabulary.oov_buckets", "at least 1 out-of-vocabulary bucket, found 0");
    }
    if (std::uint64_t{oov_buckets} * fields.size() > std::numeric_limits<std::uint32_t>::max()) {
      throw config_error("vocabulary.oov_buckets",
                         "at most 2^32 - 1 OOV indices over all fields together");
    }
  }

  /// The configuration as JSON (every key written).
  [[nodiscard]] nlohmann::json to_json() const {
    return nlohmann::json{{"fields", fields},
                          {"min_count", min_count},
                          {"max_size", max_size},
                          {"oov_buckets", oov_buckets},
                          {"seed", seed},
                          {"output_fields", output_fields},
                          {"missing_token", missing_token}};
  }

  /// Reads a configuration written by `to_json` (absent keys take their defaults, except
  /// `fields`), validates it, and throws `config_error` naming the field that is wrong.
  [[nodiscard]] static vocabulary_config from_json(const nlohmann::json& j) {
    constexpr auto u64_max = std::numeric_limits<std::uint64_t>::max();
    detail::config_reader r(j, "vocabulary");
    vocabulary_config c;
    r.require("fields", c.fields);
    r.read("min_count", c.min_count, std::uint64_t{1}, u64_max);
    r.read("max_size", c.max_size);
    r.read("oov_buckets", c.oov_buckets, std::uint32_t{1},
           std::numeric_limits<std::uint32_t>::max());
    r.read("seed", c.seed);
    r.read("output_fields", c.output_fields);
    r.read("missing_token", c.missing_token);
    r.finish();
    c.validate();
    return c;
  }
};

/// What `vocabulary::fit` did to one field: nothing it dropped goes unreported.
struct vocabulary_field_report {
  /// Distinct values seen (after the missing token stood in for missing values).
  std::uint64_t distinct = 0;
  /// Values that got their own index.
  std::uint64_t kept = 0;
  /// Distinct values sent to OOV (below `min_count` or beyond `max_size`), and their occurrences.
  std::uint64_t oov_values = 0;
  std::uint64_t oov_occurrences = 0;
  /// Missing (empty) values seen.
  std::uint64_t missing = 0;
};

/// What `vocabulary::fit` saw: the number of rows and a report per field.
struct vocabulary_fit_report {
  std::uint64_t rows = 0;
  std::vector<vocabulary_field_report> fields;
};

/// Per-field categorical vocabularies as a feature transform: a row of values (one per field, as
/// `std::string_view`) becomes a sparse row with one index per present field, value 1.
///
/// Field `f` owns the index block `[offset(f), offset(f) + oov_buckets + size(f))`, so fields never
/// overlap: first its `oov_buckets` OOV indices, then its values ordered by training count
/// (descending), ties broken by the value (ascending bytes), so that the same data always gives
/// the same indices. Serving an unseen value gives an OOV index and never throws. The fitted
/// values (and their counts) round-trip through JSON exactly.
///
/// `fit` replaces the whole state. Calling and encoding are thread-safe (`const`, no scratch).
/// Complexity: `fit` O(n + d log d) for n values and d distinct values per field; a lookup is one
/// XXH3 of the value plus expected O(1) hash-table probes.
class vocabulary : public feature_transform_tag {
public:
  using config = vocabulary_config;
  /// One value per configured field, in `fields` order; an empty value is missing.
  using input_type = std::span<const std::string_view>;
  using output_type = sparse_row;

  /// Validates `cfg` (throws `config_error` naming the field). Before `fit`, every value is OOV.
  explicit vocabulary(config cfg)
      : cfg_(std::move(cfg)) {
    cfg_.validate();
    fields_.resize(cfg_.fields.size());
    for (std::size_t f = 0; f < fields_.size(); ++f) {
      fields_[f].oov_seed = detail::xxh3_64(cfg_.fields[f], cfg_.seed);
    }
    update_offsets();
  }

  /// Counts the values of each field over `rows` and keeps, per field, the values seen at least
  /// `min_count` times, most frequent first, at most `max_size`. Replaces any earlier fit. Throws
  /// `input_error` naming the row (as line, from 1) when a row has the wrong width, or when the
  /// indices would not fit in 32 bits.
  vocabulary_fit_report fit(std::span<const input_type> rows) {
    std::vector<detail::string_map<std::uint64_t>> counts(cfg_.fields.size());
    vocabulary_fit_report report;
    report.fields.resize(cfg_.fields.size());
    for (std::size_t r = 0; r < rows.size(); ++r) {
      check_width(rows[r].size(), r + 1);
      for (std::size_t f = 0; f < rows[r].size(); ++f) {
        const std::string_view raw = rows[r][f];
        report.fields[f].missing += raw.empty() ? 1 : 0;
        const std::string_view v = value_or_token(raw);
        if (v.empty()) {
          continue;
        }
        if (const auto it = counts[f].find(v); it != counts[f].end()) {
          ++it->second;
        } else {
          counts[f].emplace(std::string(v), 1);
        }
      }
    }
    report.rows = rows.size();

    std::vector<field_vocabulary> fitted(cfg_.fields.size());
    for (std::size_t f = 0; f < cfg_.fields.size(); ++f) {
      std::vector<std::pair<std::string, std::uint64_t>> entries;
      entries.reserve(counts[f].size());
      auto& rep = report.fields[f];
      rep.distinct = counts[f].size();
      for (auto& [value, count] : counts[f]) {
        if (count >= cfg_.min_count) {
          entries.emplace_back(value, count);
        } else {
          ++rep.oov_values;
          rep.oov_occurrences += count;
        }
      }
      std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
      });
      if (cfg_.max_size != 0 && entries.size() > cfg_.max_size) {
        for (std::size_t i = static_cast<std::size_t>(cfg_.max_size); i < entries.size(); ++i) {
          ++rep.oov_values;
          rep.oov_occurrences += entries[i].second;
        }
        entries.resize(static_cast<std::size_t>(cfg_.max_size));
      }
      rep.kept = entries.size();
      auto& fv = fitted[f];
      fv.oov_seed = fields_[f].oov_seed;
      fv.values.reserve(entries.size());
      fv.counts.reserve(entries.size());
      for (auto& [value, count] : entries) {
        fv.values.push_back(std::move(value));
        fv.counts.push_back(count);
      }
    }
    check_dimension(fitted, "<vocabulary fit>");
    for (auto& fv : fitted) {
      fv.build_index();
    }
    fields_ = std::move(fitted);
    update_offsets();
    return report;
  }

  /// The features of `row` as a new sparse row (label 0). Allocates the row; use `encode` on a
  /// reused row in a hot loop. Throws `input_error` only when `row` has the wrong width.
  [[nodiscard]] output_type operator()(input_type row) const {
    sparse_row out;
    out.indices.reserve(cfg_.fields.size());
    out.values.reserve(cfg_.fields.size());
    if (cfg_.output_fields) {
      out.fields.reserve(cfg_.fields.size());
    }
    encode(row, out);
    return out;
  }

  /// Appends the features of `row` to `out` (its label and earlier entries are kept):
  /// allocation-free once `out` has the capacity. Returns the number of missing values skipped
  /// (always 0 when `missing_token` is set). Throws `input_error` when the width is wrong.
  std::size_t encode(input_type row, sparse_row& out) const {
    check_width(row.size(), 0);
    std::size_t skipped = 0;
    for (std::size_t f = 0; f < row.size(); ++f) {
      const std::string_view v = value_or_token(row[f]);
      if (v.empty()) {
        ++skipped;
        continue;
      }
      const std::uint32_t index = lookup(f, v);
      if (cfg_.output_fields) {
        out.push_back(static_cast<std::uint32_t>(f), index, 1.0f);
      } else {
        out.push_back(index, 1.0f);
      }
    }
    return skipped;
  }

  /// The index of `value` in field `f` (0-based position in `fields`): its own index when it is
  /// in the vocabulary, else one of the field's OOV indices. Never throws for any value.
  [[nodiscard]] std::uint32_t index(std::size_t f, std::string_view value) const noexcept {
    return lookup(f, value);
  }
  /// True when `value` has its own index in field `f`.
  [[nodiscard]] bool contains(std::size_t f, std::string_view value) const noexcept {
    return fields_[f].index.find(value) != fields_[f].index.end();
  }
  /// The OOV index of `value` in field `f` (whether or not the value is in the vocabulary).
  [[nodiscard]] std::uint32_t oov_index(std::size_t f, std::string_view value) const noexcept {
    const std::uint64_t bucket =
        cfg_.oov_buckets == 1 ? 0 : detail::xxh3_64(value, fields_[f].oov_seed) % cfg_.oov_buckets;
    return offsets_[f] + static_cast<std::uint32_t>(bucket);
  }

  /// The number of values with their own index in field `f`.
  [[nodiscard]] std::size_t size(std::size_t f) const noexcept { return fields_[f].values.size(); }
  /// The first index of field `f`'s block (its first OOV index).
  [[nodiscard]] std::uint32_t offset(std::size_t f) const noexcept { return offsets_[f]; }
  /// The total number of indices over all fields: the dimension of the output space.
  [[nodiscard]] std::uint64_t dimension() const noexcept { return offsets_.back(); }
  /// Field `f`'s values in index order: value `i` has index `offset(f) + oov_buckets + i`.
  [[nodiscard]] std::span<const std::string> values(std::size_t f) const noexcept {
    return fields_[f].values;
  }
  /// The training counts of `values(f)`, in the same order.
  [[nodiscard]] std::span<const std::uint64_t> counts(std::size_t f) const noexcept {
    return fields_[f].counts;
  }
  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }

  /// The whole state as JSON: `{"transform": "vocabulary", "config": {...}, "vocabularies":
  /// [{"field": name, "values": [...], "counts": [...]}, ...]}`, values in index order.
  [[nodiscard]] nlohmann::json to_json() const {
    nlohmann::json vocabularies = nlohmann::json::array();
    for (std::size_t f = 0; f < fields_.size(); ++f) {
      vocabularies.push_back(nlohmann::json{
          {"field", cfg_.fields[f]}, {"values", fields_[f].values}, {"counts", fields_[f].counts}});
    }
    return nlohmann::json{
        {"transform", "vocabulary"}, {"config", cfg_.to_json()}, {"vocabularies", vocabularies}};
  }

  /// Loads a vocabulary written by `to_json`, with exactly its mapping. Throws `config_error`
  /// for a bad configuration and `input_error` naming the JSON path (e.g.
  /// `vocabularies[1].values[3]`) for a bad vocabulary (wrong field, repeated or empty value).
  [[nodiscard]] static vocabulary from_json(const nlohmann::json& j) {
    detail::config_reader r(j, "vocabulary");
    r.require_transform("vocabulary");
    vocabulary v(config::from_json(r.at("config")));
    const std::size_t n = v.cfg_.fields.size();
    const auto bad = [](std::string path, std::string expected, std::string found = {}) {
      return input_error({"<vocabulary JSON>", 0, 0, std::move(path)}, std::move(expected),
                         std::move(found));
    };
    const nlohmann::json* vocabularies = r.find("vocabularies");
    r.finish();
    if (vocabularies == nullptr || !vocabularies->is_array() || vocabularies->size() != n) {
      std::string expected = "an array of ";
      expected += std::to_string(n);
      expected += " vocabularies, one per field";
      throw bad("vocabularies", expected);
    }
    std::vector<field_vocabulary> loaded(n);
    for (std::size_t f = 0; f < n; ++f) {
      const nlohmann::json& e = (*vocabularies)[f];
      const std::string path = detail::indexed_path("vocabularies", f);
      if (!e.is_object() || !e.contains("field") || !e["field"].is_string() ||
          e["field"].get<std::string>() != v.cfg_.fields[f]) {
        std::string expected = "an object for field '";
        expected += v.cfg_.fields[f];
        expected += '\'';
        throw bad(path, expected, e.dump());
      }
      if (!e.contains("values") || !e["values"].is_array() || !e.contains("counts") ||
          !e["counts"].is_array() || e["counts"].size() != e["values"].size()) {
        throw bad(path, "arrays \"values\" and \"counts\" of the same length");
      }
      if (v.cfg_.max_size != 0 && e["values"].size() > v.cfg_.max_size) {
        std::string expected = "at most max_size = ";
        expected += std::to_string(v.cfg_.max_size);
        expected += " values";
        throw bad(path, expected, std::to_string(e["values"].size()));
      }
      auto& fv = loaded[f];
      fv.oov_seed = v.fields_[f].oov_seed;
      for (std::size_t i = 0; i < e["values"].size(); ++i) {
        const nlohmann::json& value = e["values"][i];
        const nlohmann::json& count = e["counts"][i];
        const std::string item = detail::indexed_path(detail::field_path(path, "values"), i);
        if (!value.is_string() || value.get<std::string>().empty()) {
          throw bad(item, "a non-empty string", value.dump());
        }
        if (!count.is_number_unsigned() &&
            !(count.is_number_integer() && count.get<std::int64_t>() >= 0)) {
          throw bad(detail::indexed_path(detail::field_path(path, "counts"), i),
                    "a non-negative integer", count.dump());
        }
        fv.values.push_back(value.get<std::string>());
        fv.counts.push_back(count.get<std::uint64_t>());
      }
      if (const std::size_t dup = fv.build_index(); dup != fv.values.size()) {
        throw bad(detail::indexed_path(detail::field_path(path, "values"), dup),
                  "a value not listed before", fv.values[dup]);
      }
    }
    v.check_dimension(loaded, "<vocabulary JSON>");
    v.fields_ = std::move(loaded);
    v.update_offsets();
    return v;
  }

  /// Same configuration and same values and counts in the same order (so the same mapping).
  friend bool operator==(const vocabulary& a, const vocabulary& b) {
    if (!(a.cfg_ == b.cfg_)) {
      return false;
    }
    for (std::size_t f = 0; f < a.fields_.size(); ++f) {
      if (a.fields_[f].values != b.fields_[f].values ||
          a.fields_[f].counts != b.fields_[f].counts) {
        return false;
      }
    }
    return true;
  }

private:
  struct field_vocabulary {
    std::vector<std::string> values;
    std::vector<std::uint64_t> counts;
    detail::string_map<std::uint32_t> index; // value -> position in `values`
    std::uint64_t oov_seed = 0;

    // Builds `index`; returns the position of the first repeated value, or values.size().
    std::size_t build_index() {
      index.clear();
      index.reserve(values.size());
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (!index.emplace(values[i], static_cast<std::uint32_t>(i)).second) {
          return i;
        }
      }
      return values.size();
    }
  };

  [[nodiscard]] std::uint32_t lookup(std::size_t f, std::string_view v) const noexcept {
    const auto& fv = fields_[f];
    if (const auto it = fv.index.find(v); it != fv.index.end()) {
      return offsets_[f] + cfg_.oov_buckets + it->second;
    }
    return oov_index(f, v);
  }

  [[nodiscard]] std::string_view value_or_token(std::string_view v) const noexcept {
    return v.empty() ? std::string_view(cfg_.missing_token) : v;
  }

  void update_offsets() {
    offsets_.assign(fields_.size() + 1, 0);
    for (std::size_t f = 0; f < fields_.size(); ++f) {
      offsets_[f + 1] =
          offsets_[f] + cfg_.oov_buckets + static_cast<std::uint32_t>(fields_[f].values.size());
    }
  }

  // Every index must fit in 32 bits (checked before any state changes).
  void check_dimension(const std::vector<field_vocabulary>& fitted, const char* source) const {
    std::uint64_t total = 0;
    for (const auto& fv : fitted) {
      total += cfg_.oov_buckets + static_cast<std::uint64_t>(fv.values.size());
    }
    if (total > std::numeric_limits<std::uint32_t>::max()) {
      std::string found = std::to_string(total);
      found += " indices";
      throw input_error({source}, "at most 2^32 - 1 indices over all fields (set max_size)", found);
    }
  }

  void check_width(std::size_t width, std::uint64_t line) const {
    detail::check_row_width(width, cfg_.fields, "<vocabulary row>", line);
  }

  config cfg_;
  std::vector<field_vocabulary> fields_;
  std::vector<std::uint32_t> offsets_; // fields + 1 entries; the last is the dimension
};

static_assert(feature_transform<vocabulary>);

} // namespace data
MLSD_END_NAMESPACE
