/// @file
/// `record_encoder`: the one feature transform a model owns. It turns a typed `record` (a row of a
/// CSV or JSON Lines file, or a serving request) into one `sparse_row`, from a list of column
/// specs, each handled by the single transforms of data/: numeric columns are imputed and scaled
/// (`imputer`, `standard_scaler`, `min_max_scaler`, `log1p_transform`) or bucketised
/// (`quantile_bucketizer`), categorical columns hashed (`feature_hasher`, with crosses) or looked
/// up (`vocabulary`), integer ids hashed, a text column vectorised (`hashing_vectorizer`), and the
/// label column mapped to `sparse_row::label`. It plays the role of scikit-learn's
/// `ColumnTransformer` (Pedregosa et al. 2011) or the `preprocessing_fn` of TensorFlow Transform
/// (Baylor et al. 2017, "TFX: A TensorFlow-Based Production-Scale Machine Learning Platform", KDD):
/// fitted once on training data, saved with its configuration as ONE JSON document, and loaded by
/// the serving process, so that training and serving encode every record identically.
///
/// Each spec becomes a *block* of indices; blocks are stacked in spec order at increasing offsets,
/// so indices of different blocks never overlap and `dimension()` is their total.
/// docs/features.md ("Putting it together") explains the layout and the trade-offs.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/hashing.hpp>
#include <mlsd/data/missing.hpp>
#include <mlsd/data/numeric.hpp>
#include <mlsd/data/record.hpp>
#include <mlsd/data/text.hpp>
#include <mlsd/data/vocabulary.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

/// What a column spec does with a missing value (a missing cell, or NaN in a float64 column that
/// allows it; for categorical columns also an empty string).
enum class missing_policy {
  error,  ///< an `input_error` naming the column and the record's line (the default)
  skip,   ///< no feature for that column (counted: `encode_stats::skipped`, the fit report)
  impute, ///< numeric: the spec's `impute` statistic; categorical: `missing_token` stands in
};

/// How a numeric column becomes a feature.
enum class numeric_scaling {
  none,             ///< the value as it is
  standard,         ///< `standard_scaler`: (x - mean) / population std
  min_max,          ///< `min_max_scaler` to [0, 1]
  log1p,            ///< `log1p_transform`: ln(1 + x)
  quantile_buckets, ///< `quantile_bucketizer`: one-hot bucket of `buckets` equal-mass buckets
};

/// How a categorical column becomes a feature.
enum class categorical_encoding {
  hashed,     ///< `feature_hasher`: 2^bits buckets, no state, crosses allowed
  vocabulary, ///< `vocabulary`: an index per frequent value, OOV buckets for the rest
};

/// Numeric columns (float64, int64 or bool; bool is 0 or 1). Each column gets `1 + indicator`
/// indices, or `buckets + indicator` with `quantile_buckets`: the value, then the missing
/// indicator (value 1, present only when the value was missing).
struct numeric_spec {
  /// The record columns, each its own feature.
  std::vector<std::string> columns{};
  /// The scaling applied after imputation.
  numeric_scaling scaling = numeric_scaling::standard;
  /// What a missing value does.
  missing_policy missing = missing_policy::error;
  /// The statistic of `missing_policy::impute` (learnt on the observed training values).
  impute_strategy impute = impute_strategy::mean;
  /// The fill value of `impute_strategy::constant`.
  double fill_value = 0.0;
  /// Add a missing indicator per column (with `impute` or `skip`): missingness can be signal.
  bool indicator = false;
  /// The number of equal-mass buckets of `quantile_buckets` (>= 2).
  std::uint32_t buckets = 10;
  /// `min_max`: clamp serving values to [0, 1].
  bool clip = false;
  /// `log1p`: what a negative value does.
  negative_policy on_negative = negative_policy::error;
};

/// Categorical columns (string, int64 or bool; an integer is read as its decimal text, a bool as
/// "true" / "false"), hashed together into one block of 2^bits indices with optional crosses, or
/// one `vocabulary` block (one index range per column).
struct categorical_spec {
  /// The record columns (at most 64 per spec).
  std::vector<std::string> columns{};
  /// Hashing or a vocabulary.
  categorical_encoding encoding = categorical_encoding::hashed;
  /// What a missing (or empty) value does; `impute` lets `missing_token` stand in.
  missing_policy missing = missing_policy::error;
  /// The value that stands in for a missing one with `missing_policy::impute`.
  std::string missing_token = "<missing>";
  /// Hashed: log2 of the number of buckets, 1 to 32.
  std::uint32_t bits = 20;
  /// Hashed: the XXH3 seed; vocabulary: the seed of the OOV buckets.
  std::uint64_t seed = 0;
  /// Hashed: feature crosses, each two or more of `columns`.
  std::vector<std::vector<std::string>> crosses{};
  /// Hashed: values ±1 from a sign hash (Weinberger et al. 2009).
  bool sign_hash = false;
  /// Vocabulary: training occurrences a value needs for its own index.
  std::uint64_t min_count = 1;
  /// Vocabulary: most values per column (the most frequent), 0 for no limit.
  std::uint64_t max_size = 0;
  /// Vocabulary: OOV indices per column.
  std::uint32_t oov_buckets = 1;
};

/// Integer id columns (int64: user id, ad id), each hashed as its 8 little-endian bytes
/// (`feature_hasher::bucket(f, id)`) into one shared block of 2^bits indices. A negative id is
/// hashed as its two's-complement bits.
struct id_spec {
  /// The record columns.
  std::vector<std::string> columns{};
  /// log2 of the number of buckets, 1 to 32.
  std::uint32_t bits = 20;
  /// The XXH3 seed.
  std::uint64_t seed = 0;
  /// Values ±1 from a sign hash.
  bool sign_hash = false;
  /// `error` or `skip` (an id has nothing to impute).
  missing_policy missing = missing_policy::error;
};

/// A text column (string) through a `hashing_vectorizer` (2^hash_bits indices). The vectorizer's
/// `index_offset` must stay 0 (the encoder places blocks) and an empty `feature` takes the column's
/// name.
struct text_spec {
  /// The record column.
  std::string column{};
  /// The vectorizer's settings (normaliser, n-grams, TF-IDF, L2).
  hashing_vectorizer::config vectorizer{};
  /// `error` or `skip` (a skipped text gives no features and is no training document).
  missing_policy missing = missing_policy::error;
};

/// One column spec of a `record_encoder`.
using column_spec = std::variant<numeric_spec, categorical_spec, id_spec, text_spec>;

/// The label column and how its value becomes `sparse_row::label`.
///
/// - string column: 1 for a value in `positive`, 0 for one in `negative`; any other value is an
///   `input_error`, unless `negative` is empty (then everything not positive is 0);
/// - int64, float64 or bool column: with `threshold`, 1 when the value is >= it, else 0; without,
///   the value itself (bool: 1 or 0), for regression.
///
/// A missing label value (a serving request, whose schema has the label column as optional) gives
/// label 0 and is reported (`encode_stats::label_missing`, `missing_labels` at fit): a training
/// file should declare the label column non-optional, so that its source rejects such rows.
struct label_spec {
  /// The label column; empty for no label (every label 0).
  std::string column{};
  /// String labels that map to 1.
  std::vector<std::string> positive{};
  /// String labels that map to 0 (empty: every value not positive).
  std::vector<std::string> negative{};
  /// Numeric labels: the threshold of the positive class.
  std::optional<double> threshold{};
};

/// Configuration of a `record_encoder`: the schema of its input records, the label, and the column
/// specs in block order. Validated on construction (`config_error` naming the field, e.g.
/// `record_encoder.columns[1].columns[0]`), and saved in the encoder's JSON.
struct record_encoder_config {
  /// The records' schema (e.g. `*csv_source::schema()`): names are resolved once, here.
  record_schema schema{};
  /// The label column.
  label_spec label{};
  /// The blocks, in index order.
  std::vector<column_spec> columns{};
  /// Also output FFM field ids: one per numeric, categorical and id column, one per cross, one
  /// per text column, numbered in spec order.
  bool output_fields = false;
  /// Quantile buckets and median / most-frequent imputation keep a uniform sample of at most this
  /// many values per column during fit (reservoir sampling, Vitter 1985); exact when the training
  /// column has at most this many values.
  std::uint64_t sample_size = std::uint64_t{1} << 20;
  /// The seed of the reservoir sampling (fits are reproducible).
  std::uint64_t sample_seed = 0;

  /// Throws `config_error` naming the first invalid field.
  void validate() const;
  /// The configuration as JSON (every key written).
  [[nodiscard]] nlohmann::json to_json() const;
  /// Reads and validates a configuration written by `to_json`; unknown keys are errors.
  [[nodiscard]] static record_encoder_config from_json(const nlohmann::json& j);
};

/// What `record_encoder::fit` saw; nothing it dropped goes unreported.
struct record_encoder_fit_report {
  /// Training records.
  std::uint64_t rows = 0;
  /// The input columns the specs use (each once, in first-use order) and their missing values.
  std::vector<std::string> columns{};
  std::vector<std::uint64_t> missing{};
  /// Records without a label value, and records with label > 0.
  std::uint64_t missing_labels = 0;
  std::uint64_t positive_labels = 0;
  /// Numeric columns whose quantiles or median came from a sample (more than `sample_size`
  /// values), per spec: "columns[i].name".
  std::vector<std::string> sampled{};
  /// Per vocabulary column ("columns[i].name"): distinct values and those sent to OOV.
  std::vector<std::string> vocabulary_columns{};
  std::vector<vocabulary_field_report> vocabularies{};
  /// Per text spec: buckets dropped by `min_document_frequency`.
  std::vector<std::uint64_t> pruned_text_buckets{};
};

/// What `record_encoder::encode` did with one record.
struct encode_stats {
  /// Features not emitted because a value was missing under `missing_policy::skip` (hashed
  /// crosses with a missing member included).
  std::size_t skipped = 0;
  /// The record had no label value (label set to 0).
  bool label_missing = false;
};

namespace detail::encoding {

// JSON reading for the encoder's config: errors name `where.key`, unknown keys are rejected. Kept
// apart from the other headers' helpers, which are internal to them.
class encoder_json_object {
public:
  encoder_json_object(const nlohmann::json& j, std::string where,
                      std::initializer_list<std::string_view> known)
      : j_(j)
      , where_(std::move(where)) {
    if (!j.is_object()) {
      std::string expected = "a JSON object, found ";
      expected += j.type_name();
      throw config_error(where_, expected);
    }
    for (const auto& item : j.items()) {
      if (std::find(known.begin(), known.end(), std::string_view(item.key())) == known.end()) {
        std::string expected = "one of the keys";
        for (const std::string_view k : known) {
          expected += ' ';
          expected += k;
        }
        throw config_error(field(item.key()), expected);
      }
    }
  }

  [[nodiscard]] std::string field(std::string_view key) const {
    std::string f = where_;
    f += '.';
    f += key;
    return f;
  }
  [[nodiscard]] const nlohmann::json* find(std::string_view key) const {
    const auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  [[nodiscard]] const nlohmann::json& require(std::string_view key) const {
    const nlohmann::json* v = find(key);
    if (v == nullptr) {
      throw config_error(field(key), "a value (the key is required)");
    }
    return *v;
  }
  void read(std::string_view key, bool& out) const {
    if (const nlohmann::json* v = find(key)) {
      if (!v->is_boolean()) {
        throw config_error(field(key), "true or false");
      }
      out = v->get<bool>();
    }
  }
  void read(std::string_view key, double& out) const {
    if (const nlohmann::json* v = find(key)) {
      if (!v->is_number() || !std::isfinite(v->get<double>())) {
        throw config_error(field(key), "a finite number");
      }
      out = v->get<double>();
    }
  }
  template <std::unsigned_integral T>
  void read(std::string_view key, T& out) const {
    if (const nlohmann::json* v = find(key)) {
      const bool ok =
          v->is_number_unsigned() || (v->is_number_integer() && v->get<std::int64_t>() >= 0);
      if (!ok || v->get<std::uint64_t>() > std::numeric_limits<T>::max()) {
        std::string expected = "an integer from 0 to ";
        expected += std::to_string(std::numeric_limits<T>::max());
        throw config_error(field(key), expected);
      }
      out = static_cast<T>(v->get<std::uint64_t>());
    }
  }
  void read(std::string_view key, std::string& out) const {
    if (const nlohmann::json* v = find(key)) {
      if (!v->is_string()) {
        throw config_error(field(key), "a string");
      }
      out = v->get<std::string>();
    }
  }
  void read(std::string_view key, std::vector<std::string>& out) const {
    if (const nlohmann::json* v = find(key)) {
      out = strings(*v, field(key));
    }
  }
  template <class E, std::size_t N>
  void read_enum(std::string_view key, E& out,
                 const std::array<std::pair<E, std::string_view>, N>& names) const {
    if (const nlohmann::json* v = find(key)) {
      if (v->is_string()) {
        for (const auto& [value, name] : names) {
          if (name == v->get<std::string>()) {
            out = value;
            return;
          }
        }
      }
      std::string expected = "one of";
      for (const auto& [value, name] : names) {
        expected += ' ';
        expected += name;
      }
      throw config_error(field(key), expected);
    }
  }

  [[nodiscard]] static std::vector<std::string> strings(const nlohmann::json& v,
                                                        const std::string& field) {
    if (!v.is_array()) {
      throw config_error(field, "an array of strings");
    }
    std::vector<std::string> out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) {
        std::string f = field;
        f += '[';
        f += std::to_string(i);
        f += ']';
        throw config_error(f, "a string");
      }
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }

private:
  const nlohmann::json& j_;
  std::string where_;
};

inline constexpr std::array<std::pair<missing_policy, std::string_view>, 3> missing_policy_names = {
    {{missing_policy::error, "error"},
     {missing_policy::skip, "skip"},
     {missing_policy::impute, "impute"}}};
inline constexpr std::array<std::pair<numeric_scaling, std::string_view>, 5> numeric_scaling_names =
    {{{numeric_scaling::none, "none"},
      {numeric_scaling::standard, "standard"},
      {numeric_scaling::min_max, "min_max"},
      {numeric_scaling::log1p, "log1p"},
      {numeric_scaling::quantile_buckets, "quantile_buckets"}}};
inline constexpr std::array<std::pair<categorical_encoding, std::string_view>, 2>
    categorical_encoding_names = {{{categorical_encoding::hashed, "hashed"},
                                   {categorical_encoding::vocabulary, "vocabulary"}}};
inline constexpr std::array<std::pair<negative_policy, std::string_view>, 2> negative_policy_names =
    {{{negative_policy::error, "error"}, {negative_policy::signed_log, "signed_log"}}};

template <class E, std::size_t N>
[[nodiscard]] std::string_view
enum_name(E e, const std::array<std::pair<E, std::string_view>, N>& names) {
  for (const auto& [value, name] : names) {
    if (value == e) {
      return name;
    }
  }
  return "?";
}

[[nodiscard]] inline std::string indexed_field(std::string_view base, std::string_view member,
                                               std::size_t i) {
  std::string f(base);
  f += member;
  f += '[';
  f += std::to_string(i);
  f += ']';
  return f;
}

// The input_error position of a record during fit or encode: the record's line, or its 1-based
// position in the fit input when it has none.
[[nodiscard]] inline input_position encoder_position(std::string_view what, std::uint64_t line,
                                                     std::string column) {
  std::string file = "record_encoder.";
  file += what;
  return input_position(std::move(file), line, 0, std::move(column));
}

[[nodiscard]] inline bool is_missing_value(const value& v) noexcept {
  if (v.index() == 0) {
    return true;
  }
  const double* d = std::get_if<double>(&v);
  return d != nullptr && std::isnan(*d);
}

// A numeric value as a double (int64 exactly up to 2^53, bool as 0/1); the caller checked missing.
[[nodiscard]] inline double numeric_value(const value& v) noexcept {
  if (const double* d = std::get_if<double>(&v)) {
    return *d;
  }
  if (const std::int64_t* i = std::get_if<std::int64_t>(&v)) {
    return static_cast<double>(*i);
  }
  if (const bool* b = std::get_if<bool>(&v)) {
    return *b ? 1.0 : 0.0;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

// A categorical value as text, into `buffer` for integers; empty for missing.
[[nodiscard]] inline std::string_view categorical_text(const value& v,
                                                       std::array<char, 24>& buffer) noexcept {
  if (const std::string* s = std::get_if<std::string>(&v)) {
    return *s;
  }
  if (const std::int64_t* i = std::get_if<std::int64_t>(&v)) {
    const auto r = std::to_chars(buffer.data(), buffer.data() + buffer.size(), *i);
    return std::string_view(buffer.data(), static_cast<std::size_t>(r.ptr - buffer.data()));
  }
  if (const bool* b = std::get_if<bool>(&v)) {
    return *b ? std::string_view("true") : std::string_view("false");
  }
  return {};
}

// SplitMix64 (Steele, Lea & Flood 2014): the reservoir's random numbers, reproducible by seed.
[[nodiscard]] inline std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct string_view_hash {
  using is_transparent = void;
  [[nodiscard]] std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

inline constexpr std::size_t max_categorical_columns = 64;

// Concatenation without `"literal" + std::string` (a false -Wrestrict in GCC 12, bug 105329).
[[nodiscard]] inline std::string concat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (const std::string_view p : parts) {
    out += p;
  }
  return out;
}

} // namespace detail::encoding

/// One typed record → one sparse row: the column transformer a model owns (see the file comment).
///
/// Layout: block `b` (spec `b`) owns indices `[block_offset(b), block_offset(b) + block_width(b))`;
/// a numeric spec of k columns is k consecutive groups of `1 + indicator` indices (value, then
/// indicator) or `buckets + indicator` (one-hot bucket, then indicator); a hashed categorical or
/// id spec is 2^bits indices shared by its columns (and crosses); a vocabulary spec is the
/// vocabulary's fitted `dimension()`; a text spec is 2^hash_bits indices. Features come in spec
/// order; hashed blocks may hold the same index twice (a collision: the values add up).
///
/// Fit (`fit(span)` or `fit(source)`, one code path) reads each record once and keeps, per
/// column: Welford moments and the min / max (numeric), a reservoir sample of at most
/// `sample_size` values (quantile buckets, median and most-frequent imputation only), value counts
/// (vocabulary: O(distinct values)), document frequencies (TF-IDF: O(distinct buckets)), and one
/// chunk of records. Memory is therefore bounded by the configuration and the number of distinct
/// categorical values, not by the number of records. The fitted state replaces the old one only
/// when the whole fit succeeds.
///
/// Encoding (`operator()`, `encode`) is `const`, pure and thread-safe; `encode(r, out, scratch)`
/// with one `scratch` per thread allocates nothing once the row and the scratch have grown.
/// Complexity per record: O(columns + text length + t log t for t n-grams). Models
/// `data::feature_transform` with `input_type = const record&`.
class record_encoder : public feature_transform_tag {
public:
  using config = record_encoder_config;
  using input_type = const record&;
  using output_type = sparse_row;

  /// Reusable buffers for `encode` (the text vectorizer's): one per thread.
  struct scratch {
    hashing_vectorizer::scratch text;
  };

  /// Validates `cfg` against its schema (throws `config_error` naming the field). Unfitted:
  /// encoding throws `mlsd::not_fitted_error` until `fit` or `from_json`.
  explicit record_encoder(config cfg)
      : cfg_(std::move(cfg)) {
    cfg_.validate();
    schema_ = std::make_shared<const record_schema>(cfg_.schema);
    build();
    update_layout();
  }

  /// Fits every block on `rows` (see the class comment) and returns what it saw. Throws
  /// `input_error` naming the column and the record's line (or its 1-based position when it has
  /// none) for a missing value under `missing_policy::error`, a non-finite number, a record of
  /// another schema, a label outside `positive` / `negative`; and when there are no records.
  record_encoder_fit_report fit(std::span<const record> rows) {
    fit_state state(*this);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      state.add(rows[i], i + 1);
    }
    return finish(state);
  }

  /// Fits on everything `src` yields, reading `chunk` records at a time: a file larger than memory
  /// can be fitted (see the class comment for what is kept). Bad records are handled by the
  /// source's error policy; the same errors as `fit(span)` otherwise.
  template <class Source>
  requires source<Source> && std::same_as<typename Source::record_type, record>
      record_encoder_fit_report fit(Source& src, std::size_t chunk = 4096) {
    fit_state state(*this);
    std::vector<record> buffer(std::max<std::size_t>(chunk, 1));
    std::uint64_t position = 0;
    while (const std::size_t n = src.read(buffer)) {
      for (std::size_t i = 0; i < n; ++i) {
        state.add(buffer[i], ++position);
      }
    }
    return finish(state);
  }

  /// The encoded record as a new row. Allocates; use `encode` in a hot loop.
  [[nodiscard]] output_type operator()(input_type r) const {
    sparse_row out;
    scratch s;
    encode(r, out, s);
    return out;
  }

  /// Appends the features of `r` to `out` and sets `out.label` (call `out.clear()` first for a
  /// fresh row). Allocates only the text vectorizer's buffers (none without a text spec). Throws
  /// `mlsd::not_fitted_error` before fit, `input_error` naming the column and `r.line()` for a
  /// record of another schema, a missing value under `missing_policy::error`, a non-finite number,
  /// or a label outside the configured values.
  encode_stats encode(input_type r, sparse_row& out) const {
    scratch s;
    return encode(r, out, s);
  }

  /// The same with caller-owned buffers: allocation-free once `out` and `s` have grown.
  encode_stats encode(input_type r, sparse_row& out, scratch& s) const {
    if (!fitted_) [[unlikely]] {
      throw not_fitted_error("record_encoder");
    }
    check_schema(r, "encode", r.line());
    encode_stats stats;
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
      std::visit([&](const auto& bl) { encode_block(bl, b, r, out, s, stats); }, blocks_[b]);
    }
    stats.label_missing = !write_label(r, out, "encode", r.line());
    return stats;
  }

  /// The total number of indices: every index is below it.
  [[nodiscard]] std::uint64_t dimension() const noexcept { return dimension_; }
  /// The number of blocks (column specs).
  [[nodiscard]] std::size_t block_count() const noexcept { return blocks_.size(); }
  /// The first index of block `b`.
  [[nodiscard]] std::uint32_t block_offset(std::size_t b) const noexcept { return offsets_[b]; }
  /// The number of indices of block `b` (a vocabulary block's is known after fit).
  [[nodiscard]] std::uint64_t block_width(std::size_t b) const noexcept { return widths_[b]; }
  /// The first FFM field id of block `b`.
  [[nodiscard]] std::uint32_t block_field(std::size_t b) const noexcept { return field_bases_[b]; }
  /// The number of FFM field ids.
  [[nodiscard]] std::uint32_t field_count() const noexcept { return field_count_; }
  /// Whether `fit` or `from_json` of a fitted encoder has run.
  [[nodiscard]] bool fitted() const noexcept { return fitted_; }
  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }
  /// The schema records must have (shared, so that records can be built with it).
  [[nodiscard]] const std::shared_ptr<const record_schema>& schema() const noexcept {
    return schema_;
  }

  /// The fitted single transforms of block `b`, for inspection (e.g. a scaler's mean):
  /// `transform<standard_scaler>(b, k)` is column k's scaler; `transform<feature_hasher>(b)`,
  /// `transform<vocabulary>(b)`, `transform<hashing_vectorizer>(b)`, `transform<imputer>(b, k)`,
  /// `transform<quantile_bucketizer>(b, k)`, ... Throws `std::invalid_argument` when block `b` has
  /// no such transform.
  template <class T>
  [[nodiscard]] const T& transform(std::size_t b, std::size_t k = 0) const {
    const T* found = nullptr;
    std::visit([&](const auto& bl) { found = bl.template find<T>(k); }, blocks_.at(b));
    if (found == nullptr) {
      std::string message = "mlsd::data::record_encoder::transform: block ";
      message += std::to_string(b);
      message += " has no such transform";
      throw std::invalid_argument(message);
    }
    return *found;
  }

  /// The whole encoder as ONE JSON document: `{"transform": "record_encoder", "config": {...},
  /// "fitted": bool, "dimension": n, "blocks": [each block's transforms' own JSON]}`. This is what
  /// a model file embeds; doubles round-trip exactly.
  [[nodiscard]] nlohmann::json to_json() const {
    nlohmann::json j = {{"transform", "record_encoder"},
                        {"config", cfg_.to_json()},
                        {"fitted", fitted_},
                        {"dimension", dimension_}};
    nlohmann::json blocks = nlohmann::json::array();
    for (const auto& item : blocks_) {
      blocks.push_back(std::visit([](const auto& bl) { return bl.state_json(); }, item));
    }
    j["blocks"] = std::move(blocks);
    return j;
  }

  /// Loads an encoder written by `to_json`: it encodes every record exactly as the saved one did.
  /// Throws `config_error` naming the field that is missing, invalid, or inconsistent with the
  /// configuration (a transform saved with other settings, a wrong dimension).
  [[nodiscard]] static record_encoder from_json(const nlohmann::json& j) {
    const detail::encoding::encoder_json_object o(
        j, "record_encoder", {"transform", "config", "fitted", "dimension", "blocks"});
    if (!o.require("transform").is_string() ||
        o.require("transform").get<std::string>() != "record_encoder") {
      throw config_error(o.field("transform"), "\"record_encoder\"");
    }
    record_encoder e(config::from_json(o.require("config")));
    bool fitted = false;
    o.read("fitted", fitted);
    const nlohmann::json& blocks = o.require("blocks");
    if (!blocks.is_array() || blocks.size() != e.blocks_.size()) {
      std::string expected = "an array of ";
      expected += std::to_string(e.blocks_.size());
      expected += " block states, one per column spec";
      throw config_error(o.field("blocks"), expected);
    }
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      std::visit([&](auto& bl) { bl.load_state(blocks[b], b); }, e.blocks_[b]);
    }
    e.update_layout();
    std::uint64_t dimension = 0;
    o.read("dimension", dimension);
    if (dimension != e.dimension_) {
      std::string expected = "the dimension of the loaded blocks, ";
      expected += std::to_string(e.dimension_);
      throw config_error(o.field("dimension"), expected);
    }
    e.fitted_ = fitted;
    return e;
  }

private:
  // ---- blocks ---------------------------------------------------------------------------------

  struct numeric_block {
    numeric_spec spec;
    std::vector<std::size_t> positions;
    std::vector<imputer> imputers; // one per column with missing_policy::impute
    std::vector<standard_scaler> standard;
    std::vector<min_max_scaler> min_max;
    std::vector<log1p_transform> log;
    std::vector<quantile_bucketizer> buckets;
    std::uint32_t group = 1; // indices per column

    template <class T>
    [[nodiscard]] const T* find(std::size_t k) const {
      const auto pick = [k](const auto& v) -> const T* {
        if constexpr (std::is_same_v<typename std::decay_t<decltype(v)>::value_type, T>) {
          return k < v.size() ? &v[k] : nullptr;
        } else {
          return nullptr;
        }
      };
      for (const T* p : {pick(imputers), pick(standard), pick(min_max), pick(log), pick(buckets)}) {
        if (p != nullptr) {
          return p;
        }
      }
      return nullptr;
    }

    [[nodiscard]] nlohmann::json state_json() const {
      nlohmann::json j = nlohmann::json::object();
      const auto save = [&](const char* key, const auto& v) {
        if (!v.empty()) {
          nlohmann::json a = nlohmann::json::array();
          for (const auto& t : v) {
            a.push_back(t.to_json());
          }
          j[key] = std::move(a);
        }
      };
      save("imputers", imputers);
      save("standard_scalers", standard);
      save("min_max_scalers", min_max);
      save("log1p_transforms", log);
      save("quantile_bucketizers", buckets);
      return j;
    }

    void load_state(const nlohmann::json& j, std::size_t b) {
      const std::string where = detail::encoding::indexed_field("record_encoder", ".blocks", b);
      const detail::encoding::encoder_json_object o(j, where,
                                                    {"imputers", "standard_scalers",
                                                     "min_max_scalers", "log1p_transforms",
                                                     "quantile_bucketizers"});
      load_all(o, "imputers", imputers);
      load_all(o, "standard_scalers", standard);
      load_all(o, "min_max_scalers", min_max);
      load_all(o, "log1p_transforms", log);
      load_all(o, "quantile_bucketizers", buckets);
    }
  };

  struct categorical_block {
    categorical_spec spec;
    std::vector<std::size_t> positions;
    std::optional<feature_hasher> hasher;
    std::optional<vocabulary> vocab;

    template <class T>
    [[nodiscard]] const T* find(std::size_t) const {
      if constexpr (std::is_same_v<T, feature_hasher>) {
        return hasher ? &*hasher : nullptr;
      } else if constexpr (std::is_same_v<T, vocabulary>) {
        return vocab ? &*vocab : nullptr;
      } else {
        return nullptr;
      }
    }
    [[nodiscard]] nlohmann::json state_json() const {
      return hasher ? hasher->to_json() : vocab->to_json();
    }
    void load_state(const nlohmann::json& j, std::size_t b) {
      const std::string where = detail::encoding::indexed_field("record_encoder", ".blocks", b);
      if (hasher) {
        load_one(j, where, *hasher);
      } else {
        load_one(j, where, *vocab);
      }
    }
  };

  struct id_block {
    id_spec spec;
    std::vector<std::size_t> positions;
    std::optional<feature_hasher> hasher;

    template <class T>
    [[nodiscard]] const T* find(std::size_t) const {
      if constexpr (std::is_same_v<T, feature_hasher>) {
        return &*hasher;
      } else {
        return nullptr;
      }
    }
    [[nodiscard]] nlohmann::json state_json() const { return hasher->to_json(); }
    void load_state(const nlohmann::json& j, std::size_t b) {
      load_one(j, detail::encoding::indexed_field("record_encoder", ".blocks", b), *hasher);
    }
  };

  struct text_block {
    text_spec spec;
    std::size_t position = 0;
    hashing_vectorizer vectorizer;

    template <class T>
    [[nodiscard]] const T* find(std::size_t) const {
      if constexpr (std::is_same_v<T, hashing_vectorizer>) {
        return &vectorizer;
      } else {
        return nullptr;
      }
    }
    [[nodiscard]] nlohmann::json state_json() const { return vectorizer.to_json(); }
    void load_state(const nlohmann::json& j, std::size_t b) {
      load_one(j, detail::encoding::indexed_field("record_encoder", ".blocks", b), vectorizer);
    }
  };

  using block = std::variant<numeric_block, categorical_block, id_block, text_block>;

  // Loads a transform saved in a block's state, after checking that it was saved with exactly the
  // settings this configuration derives (so a hand-edited state cannot disagree with the config).
  template <class T>
  static void load_one(const nlohmann::json& j, const std::string& where, T& expected) {
    T loaded = T::from_json(j);
    if (loaded.to_json()["config"] != expected.to_json()["config"]) {
      throw config_error(where, "a transform saved with the settings the config derives");
    }
    expected = std::move(loaded);
  }
  template <class T>
  static void load_all(const detail::encoding::encoder_json_object& o, const char* key,
                       std::vector<T>& expected) {
    const nlohmann::json* v = o.find(key);
    const std::size_t n = v == nullptr ? 0 : v->size();
    if ((v != nullptr && !v->is_array()) || n != expected.size()) {
      std::string want = "an array of ";
      want += std::to_string(expected.size());
      want += " saved transforms";
      throw config_error(o.field(key), want);
    }
    for (std::size_t k = 0; k < n; ++k) {
      load_one((*v)[k], detail::encoding::indexed_field(o.field(key), "", k), expected[k]);
    }
  }

  // Builds the (unfitted) transforms of every block from the validated config.
  void build() {
    const record_schema& s = *schema_;
    for (const column_spec& spec : cfg_.columns) {
      if (const auto* n = std::get_if<numeric_spec>(&spec)) {
        numeric_block b{*n, {}, {}, {}, {}, {}, {}, 1};
        for (const std::string& name : n->columns) {
          b.positions.push_back(s.index(name));
          if (n->missing == missing_policy::impute) {
            b.imputers.emplace_back(imputer::config{
                .feature = name, .strategy = n->impute, .fill_value = n->fill_value});
          }
          switch (n->scaling) {
          case numeric_scaling::none:
            break;
          case numeric_scaling::standard:
            b.standard.emplace_back(standard_scaler::config{.feature = name});
            break;
          case numeric_scaling::min_max:
            b.min_max.emplace_back(min_max_scaler::config{.feature = name, .clip = n->clip});
            break;
          case numeric_scaling::log1p:
            b.log.emplace_back(
                log1p_transform::config{.feature = name, .on_negative = n->on_negative});
            break;
          case numeric_scaling::quantile_buckets:
            b.buckets.emplace_back(quantile_bucketizer::config{
                .feature = name,
                .quantiles = quantile_bucketizer::config::evenly_spaced(n->buckets)});
            break;
          }
        }
        b.group = (n->scaling == numeric_scaling::quantile_buckets ? n->buckets : 1) +
                  (n->indicator ? 1 : 0);
        blocks_.emplace_back(std::move(b));
      } else if (const auto* c = std::get_if<categorical_spec>(&spec)) {
        categorical_block b{*c, {}, {}, {}};
        for (const std::string& name : c->columns) {
          b.positions.push_back(s.index(name));
        }
        const std::string token = c->missing == missing_policy::impute ? c->missing_token : "";
        if (c->encoding == categorical_encoding::hashed) {
          b.hasher.emplace(feature_hasher_config{.bits = c->bits,
                                                 .seed = c->seed,
                                                 .fields = c->columns,
                                                 .crosses = c->crosses,
                                                 .sign_hash = c->sign_hash,
                                                 .output_fields = cfg_.output_fields,
                                                 .missing_token = token});
        } else {
          b.vocab.emplace(vocabulary_config{.fields = c->columns,
                                            .min_count = c->min_count,
                                            .max_size = c->max_size,
                                            .oov_buckets = c->oov_buckets,
                                            .seed = c->seed,
                                            .output_fields = cfg_.output_fields,
                                            .missing_token = token});
        }
        blocks_.emplace_back(std::move(b));
      } else if (const auto* d = std::get_if<id_spec>(&spec)) {
        id_block b{*d, {}, {}};
        for (const std::string& name : d->columns) {
          b.positions.push_back(s.index(name));
        }
        b.hasher.emplace(feature_hasher_config{.bits = d->bits,
                                               .seed = d->seed,
                                               .fields = d->columns,
                                               .crosses = {},
                                               .sign_hash = d->sign_hash,
                                               .output_fields = false,
                                               .missing_token = {}});
        blocks_.emplace_back(std::move(b));
      } else {
        const auto& t = std::get<text_spec>(spec);
        hashing_vectorizer::config vc = t.vectorizer;
        if (vc.feature.empty()) {
          vc.feature = t.column;
        }
        blocks_.emplace_back(text_block{t, s.index(t.column), hashing_vectorizer(std::move(vc))});
      }
      for (const std::size_t p : positions_of(blocks_.back())) {
        if (std::find(used_.begin(), used_.end(), p) == used_.end()) {
          used_.push_back(p);
        }
      }
    }
    if (!cfg_.label.column.empty()) {
      label_position_ = s.index(cfg_.label.column);
      used_.push_back(*label_position_);
    }
  }

  [[nodiscard]] static std::vector<std::size_t> positions_of(const block& b) {
    return std::visit(
        [](const auto& bl) -> std::vector<std::size_t> {
          if constexpr (std::is_same_v<std::decay_t<decltype(bl)>, text_block>) {
            return {bl.position};
          } else {
            return bl.positions;
          }
        },
        b);
  }

  // Offsets, widths and field ids from the blocks (a vocabulary's width is its fitted dimension).
  void update_layout() {
    offsets_.clear();
    widths_.clear();
    field_bases_.clear();
    std::uint64_t offset = 0;
    std::uint64_t field = 0;
    for (const block& b : blocks_) {
      std::uint64_t width = 0;
      std::uint64_t fields = 0;
      if (const auto* n = std::get_if<numeric_block>(&b)) {
        width = std::uint64_t{n->group} * n->positions.size();
        fields = n->positions.size();
      } else if (const auto* c = std::get_if<categorical_block>(&b)) {
        width = c->hasher ? c->hasher->dimension() : c->vocab->dimension();
        fields = c->hasher ? c->hasher->field_count() : c->positions.size();
      } else if (const auto* d = std::get_if<id_block>(&b)) {
        width = d->hasher->dimension();
        fields = d->positions.size();
      } else {
        width = std::uint64_t{1} << std::get<text_block>(b).vectorizer.settings().hash_bits;
        fields = 1;
      }
      if (offset + width > (std::uint64_t{1} << 32)) {
        throw config_error("record_encoder.columns",
                           "blocks whose widths add up to at most 2^32 indices (32-bit indices)");
      }
      offsets_.push_back(static_cast<std::uint32_t>(offset));
      widths_.push_back(width);
      field_bases_.push_back(static_cast<std::uint32_t>(field));
      offset += width;
      field += fields;
    }
    dimension_ = offset;
    field_count_ = static_cast<std::uint32_t>(field);
  }

  // ---- encoding -------------------------------------------------------------------------------

  [[noreturn]] void throw_missing(std::string_view what, std::uint64_t line,
                                  std::size_t position) const {
    throw input_error(detail::encoding::encoder_position(what, line, (*schema_)[position].name),
                      "a value (the column spec's missing policy is 'error')", "missing");
  }

  void check_schema(const record& r, std::string_view what, std::uint64_t line) const {
    if (r.schema_ptr().get() == schema_.get()) {
      return;
    }
    const record_schema& s = r.schema();
    for (const std::size_t p : used_) {
      const column& want = (*schema_)[p];
      if (p >= s.size() || s[p].name != want.name || s[p].type != want.type) {
        std::string expected = "a record of the encoder's schema: column '";
        expected += want.name;
        expected += "' of type ";
        expected += to_string(want.type);
        expected += " at position ";
        expected += std::to_string(p);
        std::string found = "no such position";
        if (p < s.size()) {
          found = s[p].name;
          found += " (";
          found += to_string(s[p].type);
          found += ')';
        }
        throw input_error(detail::encoding::encoder_position(what, line, want.name),
                          std::move(expected), std::move(found));
      }
    }
  }

  [[nodiscard]] double finite_number(const value& v, std::string_view what, std::uint64_t line,
                                     std::size_t position) const {
    const double x = detail::encoding::numeric_value(v);
    if (!std::isfinite(x)) {
      throw input_error(detail::encoding::encoder_position(what, line, (*schema_)[position].name),
                        "a finite number", to_string(v));
    }
    return x;
  }

  void emit(sparse_row& out, std::uint32_t field, std::uint32_t index, float v) const {
    if (cfg_.output_fields) {
      out.push_back(field, index, v);
    } else {
      out.push_back(index, v);
    }
  }

  // Shifts the entries appended since `first` into block `b`'s range (and field ids, or adds them).
  void place(sparse_row& out, std::size_t first, std::size_t b, bool has_fields,
             std::uint32_t field) const {
    for (std::size_t i = first; i < out.indices.size(); ++i) {
      out.indices[i] += offsets_[b];
    }
    if (cfg_.output_fields) {
      if (has_fields) {
        for (std::size_t i = first; i < out.fields.size(); ++i) {
          out.fields[i] += field_bases_[b];
        }
      } else {
        out.fields.resize(out.indices.size(), field_bases_[b] + field);
      }
    }
  }

  void encode_block(const numeric_block& bl, std::size_t b, const record& r, sparse_row& out,
                    scratch&, encode_stats& stats) const {
    const numeric_spec& spec = bl.spec;
    for (std::size_t k = 0; k < bl.positions.size(); ++k) {
      const std::size_t p = bl.positions[k];
      const auto base = static_cast<std::uint32_t>(offsets_[b] + k * bl.group);
      const auto field = static_cast<std::uint32_t>(field_bases_[b] + k);
      const std::uint32_t indicator = base + bl.group - 1;
      const value& v = r[p];
      double x = 0.0;
      const bool missing = detail::encoding::is_missing_value(v);
      if (missing) {
        if (spec.missing == missing_policy::error) {
          throw_missing("encode", r.line(), p);
        }
        if (spec.missing == missing_policy::skip) {
          ++stats.skipped;
          if (spec.indicator) {
            emit(out, field, indicator, 1.0f);
          }
          continue;
        }
        x = bl.imputers[k](std::nullopt);
      } else {
        x = finite_number(v, "encode", r.line(), p);
      }
      switch (spec.scaling) {
      case numeric_scaling::none:
        break;
      case numeric_scaling::standard:
        x = bl.standard[k](x);
        break;
      case numeric_scaling::min_max:
        x = bl.min_max[k](x);
        break;
      case numeric_scaling::log1p:
        x = log_value(bl.log[k], x, r.line(), p);
        break;
      case numeric_scaling::quantile_buckets:
        emit(out, field, base + bl.buckets[k](x), 1.0f);
        break;
      }
      if (spec.scaling != numeric_scaling::quantile_buckets) {
        emit(out, field, base, static_cast<float>(x));
      }
      if (spec.indicator && missing) {
        emit(out, field, indicator, 1.0f);
      }
    }
  }

  [[nodiscard]] double log_value(const log1p_transform& t, double x, std::uint64_t line,
                                 std::size_t position) const {
    if (x < 0.0 && t.settings().on_negative == negative_policy::error) {
      throw input_error(
          detail::encoding::encoder_position("encode", line, (*schema_)[position].name),
          "a non-negative number (log1p with on_negative = error)", to_string(value(x)));
    }
    return t(x);
  }

  void encode_block(const categorical_block& bl, std::size_t b, const record& r, sparse_row& out,
                    scratch&, encode_stats& stats) const {
    std::array<std::string_view, detail::encoding::max_categorical_columns> row;
    std::array<std::array<char, 24>, detail::encoding::max_categorical_columns> buffers;
    const std::size_t n = bl.positions.size();
    for (std::size_t k = 0; k < n; ++k) {
      row[k] = detail::encoding::categorical_text(r[bl.positions[k]], buffers[k]);
      if (row[k].empty() && bl.spec.missing == missing_policy::error) {
        throw_missing("encode", r.line(), bl.positions[k]);
      }
    }
    const std::size_t first = out.nnz();
    const std::span<const std::string_view> values(row.data(), n);
    stats.skipped += bl.hasher ? bl.hasher->encode(values, out) : bl.vocab->encode(values, out);
    place(out, first, b, true, 0);
  }

  void encode_block(const id_block& bl, std::size_t b, const record& r, sparse_row& out, scratch&,
                    encode_stats& stats) const {
    for (std::size_t k = 0; k < bl.positions.size(); ++k) {
      const std::size_t p = bl.positions[k];
      const auto* id = std::get_if<std::int64_t>(&r[p]);
      if (id == nullptr) {
        if (bl.spec.missing == missing_policy::error) {
          throw_missing("encode", r.line(), p);
        }
        ++stats.skipped;
        continue;
      }
      const auto u = static_cast<std::uint64_t>(*id);
      const float sign = bl.spec.sign_hash && (bl.hasher->hash(k, u) >> 63) != 0 ? -1.0f : 1.0f;
      emit(out, static_cast<std::uint32_t>(field_bases_[b] + k),
           offsets_[b] + bl.hasher->bucket(k, u), sign);
    }
  }

  void encode_block(const text_block& bl, std::size_t b, const record& r, sparse_row& out,
                    scratch& s, encode_stats& stats) const {
    const auto* text = std::get_if<std::string>(&r[bl.position]);
    if (text == nullptr) {
      if (bl.spec.missing == missing_policy::error) {
        throw_missing("encode", r.line(), bl.position);
      }
      ++stats.skipped;
      return;
    }
    const std::size_t first = out.nnz();
    bl.vectorizer.encode(*text, out, s.text);
    place(out, first, b, false, 0);
  }

  // Sets out.label; returns false when the label value is missing (label 0).
  bool write_label(const record& r, sparse_row& out, std::string_view what,
                   std::uint64_t line) const {
    out.label = 0.0f;
    if (!label_position_) {
      return true;
    }
    const value& v = r[*label_position_];
    if (detail::encoding::is_missing_value(v)) {
      return false;
    }
    const label_spec& spec = cfg_.label;
    if (const auto* s = std::get_if<std::string>(&v)) {
      if (std::find(spec.positive.begin(), spec.positive.end(), *s) != spec.positive.end()) {
        out.label = 1.0f;
      } else if (!spec.negative.empty() &&
                 std::find(spec.negative.begin(), spec.negative.end(), *s) == spec.negative.end()) {
        std::string expected = "one of the configured labels (positive:";
        for (const std::string& p : spec.positive) {
          expected += ' ';
          expected += p;
        }
        expected += "; negative:";
        for (const std::string& p : spec.negative) {
          expected += ' ';
          expected += p;
        }
        expected += ')';
        throw input_error(detail::encoding::encoder_position(what, line, spec.column),
                          std::move(expected), *s);
      }
      return true;
    }
    const double x = finite_number(v, what, line, *label_position_);
    out.label = spec.threshold ? (x >= *spec.threshold ? 1.0f : 0.0f) : static_cast<float>(x);
    return true;
  }

  // ---- fitting --------------------------------------------------------------------------------

  // Per-column statistics of a numeric spec.
  struct numeric_accumulator {
    running_moments observed;
    double min = std::numeric_limits<double>::infinity();
    double max = -std::numeric_limits<double>::infinity();
    std::uint64_t missing = 0;
    std::uint64_t seen = 0;     // values offered to the reservoir
    std::vector<double> sample; // NaN stands for a missing value to be imputed
  };

  // Everything one fit accumulates; the encoder's state is replaced only by `finish`.
  class fit_state {
  public:
    explicit fit_state(const record_encoder& e)
        : e_(e)
        , rng_(e.cfg_.sample_seed) {
      report_.columns.reserve(e.used_.size());
      for (const std::size_t p : e.used_) {
        if (!e.label_position_ || p != *e.label_position_) {
          report_.columns.push_back((*e.schema_)[p].name);
        }
      }
      report_.missing.assign(report_.columns.size(), 0);
      for (const std::size_t p : e.used_) {
        if (e.label_position_ && p == *e.label_position_) {
          continue;
        }
        categorical_.push_back(std::any_of(e.blocks_.begin(), e.blocks_.end(), [p](const block& b) {
          const auto* cb = std::get_if<categorical_block>(&b);
          return cb != nullptr &&
                 std::find(cb->positions.begin(), cb->positions.end(), p) != cb->positions.end();
        }));
      }
      numeric_.resize(e.blocks_.size());
      counts_.resize(e.blocks_.size());
      df_.resize(e.blocks_.size());
      documents_.assign(e.blocks_.size(), 0);
      for (std::size_t b = 0; b < e.blocks_.size(); ++b) {
        if (const auto* n = std::get_if<numeric_block>(&e.blocks_[b])) {
          numeric_[b].resize(n->positions.size());
        } else if (const auto* c = std::get_if<categorical_block>(&e.blocks_[b])) {
          if (c->vocab) {
            counts_[b].resize(c->positions.size());
          }
        } else if (const auto* t = std::get_if<text_block>(&e.blocks_[b])) {
          hashing_vectorizer::config probe = t->vectorizer.settings();
          probe.tf = term_frequency::binary;
          probe.weighting = term_weighting::tf;
          probe.l2_normalize = false;
          probe.min_document_frequency = 0;
          probes_.emplace(b, hashing_vectorizer(std::move(probe)));
        }
      }
    }

    void add(const record& r, std::uint64_t position) {
      const std::uint64_t line = r.line() != 0 ? r.line() : position;
      e_.check_schema(r, "fit", line);
      ++report_.rows;
      // report_.columns follows used_ without the label; an empty categorical string is missing.
      std::size_t c = 0;
      for (const std::size_t p : e_.used_) {
        if (e_.label_position_ && p == *e_.label_position_) {
          continue;
        }
        const auto* text = std::get_if<std::string>(&r[p]);
        const bool empty_category = text != nullptr && text->empty() && categorical_[c];
        report_.missing[c++] += detail::encoding::is_missing_value(r[p]) || empty_category ? 1 : 0;
      }
      for (std::size_t b = 0; b < e_.blocks_.size(); ++b) {
        std::visit([&](const auto& bl) { add_block(bl, b, r, line); }, e_.blocks_[b]);
      }
      sparse_row label_row;
      if (!e_.write_label(r, label_row, "fit", line)) {
        ++report_.missing_labels;
      } else if (label_row.label > 0.0f) {
        ++report_.positive_labels;
      }
    }

    const record_encoder& e_;
    record_encoder_fit_report report_;
    std::vector<std::vector<numeric_accumulator>> numeric_;
    std::vector<std::vector<std::unordered_map<
        std::string, std::uint64_t, detail::encoding::string_view_hash, std::equal_to<>>>>
        counts_;
    std::vector<std::unordered_map<std::uint32_t, std::uint64_t>> df_;
    std::vector<std::uint64_t> documents_;
    std::unordered_map<std::size_t, hashing_vectorizer> probes_;
    std::uint64_t rng_;
    sparse_row probe_row_;
    hashing_vectorizer::scratch probe_scratch_;

  private:
    std::vector<bool> categorical_; // per report column: read by a categorical spec

    void offer(numeric_accumulator& a, double x) {
      const std::uint64_t k = e_.cfg_.sample_size;
      if (a.seen < k) {
        a.sample.push_back(x);
      } else {
        // Algorithm R (Vitter 1985): the t-th value replaces a random slot with probability k/t.
        const std::uint64_t j = detail::encoding::splitmix64(rng_) % (a.seen + 1);
        if (j < k) {
          a.sample[static_cast<std::size_t>(j)] = x;
        }
      }
      ++a.seen;
    }

    void add_block(const numeric_block& bl, std::size_t b, const record& r, std::uint64_t line) {
      const numeric_spec& spec = bl.spec;
      const bool keep_sample = spec.scaling == numeric_scaling::quantile_buckets ||
                               (spec.missing == missing_policy::impute &&
                                (spec.impute == impute_strategy::median ||
                                 spec.impute == impute_strategy::most_frequent));
      for (std::size_t k = 0; k < bl.positions.size(); ++k) {
        const std::size_t p = bl.positions[k];
        numeric_accumulator& a = numeric_[b][k];
        const value& v = r[p];
        if (detail::encoding::is_missing_value(v)) {
          if (spec.missing == missing_policy::error) {
            e_.throw_missing("fit", line, p);
          }
          ++a.missing;
          if (spec.missing == missing_policy::impute && keep_sample) {
            offer(a, std::numeric_limits<double>::quiet_NaN());
          }
          continue;
        }
        const double x = e_.finite_number(v, "fit", line, p);
        if (spec.scaling == numeric_scaling::log1p && x < 0.0 &&
            spec.on_negative == negative_policy::error) {
          throw input_error(detail::encoding::encoder_position("fit", line, (*e_.schema_)[p].name),
                            "a non-negative number (log1p with on_negative = error)", to_string(v));
        }
        a.observed.add(x);
        a.min = std::min(a.min, x);
        a.max = std::max(a.max, x);
        if (keep_sample) {
          offer(a, x);
        }
      }
    }

    void add_block(const categorical_block& bl, std::size_t b, const record& r,
                   std::uint64_t line) {
      std::array<char, 24> buffer;
      for (std::size_t k = 0; k < bl.positions.size(); ++k) {
        std::string_view text = detail::encoding::categorical_text(r[bl.positions[k]], buffer);
        if (text.empty()) {
          if (bl.spec.missing == missing_policy::error) {
            e_.throw_missing("fit", line, bl.positions[k]);
          }
          if (bl.spec.missing == missing_policy::skip) {
            continue;
          }
          text = bl.spec.missing_token;
        }
        if (bl.vocab) {
          auto& counts = counts_[b][k];
          if (const auto it = counts.find(text); it != counts.end()) {
            ++it->second;
          } else {
            counts.emplace(std::string(text), 1);
          }
        }
      }
    }

    void add_block(const id_block& bl, std::size_t, const record& r, std::uint64_t line) {
      for (const std::size_t p : bl.positions) {
        if (r[p].index() == 0 && bl.spec.missing == missing_policy::error) {
          e_.throw_missing("fit", line, p);
        }
      }
    }

    void add_block(const text_block& bl, std::size_t b, const record& r, std::uint64_t line) {
      const auto* text = std::get_if<std::string>(&r[bl.position]);
      if (text == nullptr) {
        if (bl.spec.missing == missing_policy::error) {
          e_.throw_missing("fit", line, bl.position);
        }
        return;
      }
      probe_row_.clear();
      try {
        probes_.at(b).encode(*text, probe_row_, probe_scratch_);
      } catch (const input_error& err) {
        // The vectorizer names the byte; the record's line and column are added here.
        throw input_error(detail::encoding::encoder_position("fit", line, bl.spec.column),
                          err.expected(), err.found());
      }
      ++documents_[b];
      for (const std::uint32_t bucket : probe_row_.indices) {
        ++df_[b][bucket];
      }
    }
  };

  // Builds the fitted transforms from the accumulated statistics, then swaps them in.
  record_encoder_fit_report finish(fit_state& st) {
    if (st.report_.rows == 0) {
      throw input_error(detail::encoding::encoder_position("fit", 0, ""),
                        "at least one training record", "none");
    }
    std::vector<block> fitted = blocks_;
    for (std::size_t b = 0; b < fitted.size(); ++b) {
      if (auto* n = std::get_if<numeric_block>(&fitted[b])) {
        finish_numeric(*n, b, st.numeric_[b], st.report_);
      } else if (auto* c = std::get_if<categorical_block>(&fitted[b]); c != nullptr && c->vocab) {
        finish_vocabulary(*c, b, st.counts_[b], st.report_);
      } else if (auto* t = std::get_if<text_block>(&fitted[b])) {
        finish_text(*t, st.df_[b], st.documents_[b], st.report_);
      }
    }
    const std::vector<block> old = std::exchange(blocks_, std::move(fitted));
    try {
      update_layout();
    } catch (...) {
      blocks_ = old;
      update_layout();
      throw;
    }
    fitted_ = true;
    return std::move(st.report_);
  }

  void finish_numeric(numeric_block& bl, std::size_t b, std::vector<numeric_accumulator>& acc,
                      record_encoder_fit_report& report) const {
    const numeric_spec& spec = bl.spec;
    for (std::size_t k = 0; k < bl.positions.size(); ++k) {
      numeric_accumulator& a = acc[k];
      const std::string& name = spec.columns[k];
      if (a.observed.count() == 0 &&
          (spec.missing == missing_policy::impute || spec.scaling != numeric_scaling::none)) {
        throw input_error(detail::encoding::encoder_position("fit", 0, name),
                          "at least one observed (not missing) training value",
                          "all values missing");
      }
      if (a.seen > cfg_.sample_size) {
        std::string s = detail::encoding::indexed_field("columns", "", b);
        s += '.';
        s += name;
        report.sampled.push_back(std::move(s));
      }
      double statistic = 0.0;
      const bool imputed = spec.missing == missing_policy::impute;
      if (imputed) {
        switch (spec.impute) {
        case impute_strategy::mean:
          statistic = a.observed.mean();
          break;
        case impute_strategy::median:
        case impute_strategy::most_frequent: {
          std::vector<double> observed;
          observed.reserve(a.sample.size());
          std::copy_if(a.sample.begin(), a.sample.end(), std::back_inserter(observed),
                       [](double x) { return !std::isnan(x); });
          imputer probe(bl.imputers[k].settings());
          probe.fit(std::span<const double>(observed));
          statistic = probe.statistic();
          break;
        }
        case impute_strategy::constant:
          statistic = spec.fill_value;
          break;
        }
        bl.imputers[k] =
            imputer::from_json(nlohmann::json{{"transform", "imputer"},
                                              {"missing_indicator", false},
                                              {"config", bl.imputers[k].settings().to_json()},
                                              {"fitted", true},
                                              {"statistic", statistic},
                                              {"observed", a.observed.count()},
                                              {"missing", a.missing}});
      }
      // The scaling is fitted on the training values after imputation.
      const std::uint64_t filled = imputed ? a.missing : 0;
      switch (spec.scaling) {
      case numeric_scaling::none:
        break;
      case numeric_scaling::standard: {
        running_moments m = a.observed;
        for (std::uint64_t i = 0; i < filled; ++i) {
          m.add(statistic);
        }
        bl.standard[k] = standard_scaler::from_json(
            nlohmann::json{{"transform", "standard_scaler"},
                           {"config", bl.standard[k].settings().to_json()},
                           {"fitted", true},
                           {"count", m.count()},
                           {"mean", m.mean()},
                           {"std", std::sqrt(m.population_variance())}});
        break;
      }
      case numeric_scaling::min_max: {
        const double lo = filled > 0 ? std::min(a.min, statistic) : a.min;
        const double hi = filled > 0 ? std::max(a.max, statistic) : a.max;
        const std::array<double, 2> range = {lo, hi};
        bl.min_max[k].fit(range);
        break;
      }
      case numeric_scaling::log1p: {
        std::vector<double> extremes = {a.min, a.max};
        if (filled > 0) {
          extremes.push_back(statistic);
        }
        bl.log[k].fit(extremes);
        break;
      }
      case numeric_scaling::quantile_buckets: {
        std::vector<double> sample = std::move(a.sample);
        for (double& x : sample) {
          x = std::isnan(x) ? statistic : x;
        }
        bl.buckets[k].fit(sample);
        break;
      }
      }
    }
  }

  template <class Counts>
  void finish_vocabulary(categorical_block& bl, std::size_t b, std::vector<Counts>& counts,
                         record_encoder_fit_report& report) const {
    const categorical_spec& spec = bl.spec;
    nlohmann::json vocabularies = nlohmann::json::array();
    for (std::size_t k = 0; k < counts.size(); ++k) {
      // The rule of vocabulary::fit: at least min_count occurrences, most frequent first (ties by
      // value), at most max_size.
      std::vector<std::pair<std::string, std::uint64_t>> entries;
      vocabulary_field_report rep;
      rep.distinct = counts[k].size();
      for (const auto& [v, n] : counts[k]) {
        if (n >= spec.min_count) {
          entries.emplace_back(v, n);
        } else {
          ++rep.oov_values;
          rep.oov_occurrences += n;
        }
      }
      std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
      });
      if (spec.max_size != 0 && entries.size() > spec.max_size) {
        for (std::size_t i = static_cast<std::size_t>(spec.max_size); i < entries.size(); ++i) {
          ++rep.oov_values;
          rep.oov_occurrences += entries[i].second;
        }
        entries.resize(static_cast<std::size_t>(spec.max_size));
      }
      rep.kept = entries.size();
      nlohmann::json values = nlohmann::json::array();
      nlohmann::json value_counts = nlohmann::json::array();
      for (const auto& [v, n] : entries) {
        values.push_back(v);
        value_counts.push_back(n);
      }
      vocabularies.push_back(
          {{"field", spec.columns[k]}, {"values", values}, {"counts", value_counts}});
      std::string name = "columns[";
      name += std::to_string(b);
      name += "].";
      name += spec.columns[k];
      report.vocabulary_columns.push_back(std::move(name));
      report.vocabularies.push_back(rep);
    }
    try {
      bl.vocab =
          vocabulary::from_json(nlohmann::json{{"transform", "vocabulary"},
                                               {"config", bl.vocab->configuration().to_json()},
                                               {"vocabularies", vocabularies}});
    } catch (const input_error& err) {
      throw input_error(detail::encoding::encoder_position("fit", 0, err.where().field),
                        err.expected(), err.found());
    }
  }

  static void finish_text(text_block& bl,
                          const std::unordered_map<std::uint32_t, std::uint64_t>& df,
                          std::uint64_t documents, record_encoder_fit_report& report) {
    if (documents == 0) {
      if (bl.vectorizer.needs_fit()) {
        throw input_error(detail::encoding::encoder_position("fit", 0, bl.spec.column),
                          "at least one training document", "none");
      }
      report.pruned_text_buckets.push_back(0);
      return;
    }
    // The rule of hashing_vectorizer::fit: keep buckets in at least max(1, min_df) documents.
    const std::uint64_t min_df =
        std::max<std::uint64_t>(1, bl.vectorizer.settings().min_document_frequency);
    std::vector<std::pair<std::uint32_t, std::uint64_t>> kept;
    for (const auto& [b, d] : df) {
      if (d >= min_df) {
        kept.emplace_back(b, d);
      }
    }
    std::sort(kept.begin(), kept.end());
    nlohmann::json buckets = nlohmann::json::array();
    nlohmann::json dfs = nlohmann::json::array();
    for (const auto& [b, d] : kept) {
      buckets.push_back(b);
      dfs.push_back(d);
    }
    const std::uint64_t pruned = df.size() - kept.size();
    bl.vectorizer =
        hashing_vectorizer::from_json(nlohmann::json{{"transform", "hashing_vectorizer"},
                                                     {"config", bl.vectorizer.settings().to_json()},
                                                     {"fitted", true},
                                                     {"document_count", documents},
                                                     {"buckets", buckets},
                                                     {"document_frequencies", dfs},
                                                     {"pruned_buckets", pruned}});
    report.pruned_text_buckets.push_back(pruned);
  }

  config cfg_;
  std::shared_ptr<const record_schema> schema_;
  std::vector<block> blocks_;
  std::vector<std::size_t> used_; // schema positions read (features, then the label)
  std::optional<std::size_t> label_position_;
  std::vector<std::uint32_t> offsets_;
  std::vector<std::uint64_t> widths_;
  std::vector<std::uint32_t> field_bases_;
  std::uint64_t dimension_ = 0;
  std::uint32_t field_count_ = 0;
  bool fitted_ = false;
};

static_assert(feature_transform<record_encoder>);

// ---- record_encoder_config ----------------------------------------------------------------------

inline void record_encoder_config::validate() const {
  const auto find_column = [&](const std::string& name, const std::string& field) -> const column& {
    if (const auto i = schema.index_of(name)) {
      return schema[*i];
    }
    std::string expected = "a column of the schema, found '";
    expected += name;
    expected += "' (columns:";
    for (const column& c : schema) {
      expected += ' ';
      expected += c.name;
    }
    expected += ')';
    throw config_error(field, expected);
  };
  const auto require_type = [](const column& c, const std::string& field, bool ok,
                               std::string_view wanted) {
    if (!ok) {
      std::string expected(wanted);
      expected += ", found column '";
      expected += c.name;
      expected += "' of type ";
      expected += to_string(c.type);
      throw config_error(field, expected);
    }
  };
  const auto check_names = [&](const std::vector<std::string>& names, const std::string& where,
                               auto&& check_type) {
    if (names.empty()) {
      throw config_error(where + ".columns", "at least one column");
    }
    for (std::size_t k = 0; k < names.size(); ++k) {
      const std::string field = detail::encoding::indexed_field(where, ".columns", k);
      const column& c = find_column(names[k], field);
      check_type(c, field);
      if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(k), names[k]) !=
          names.begin() + static_cast<std::ptrdiff_t>(k)) {
        throw config_error(field,
                           detail::encoding::concat(
                               {"a column not already in this spec, found '", names[k], "'"}));
      }
      if (names[k] == label.column) {
        throw config_error(
            field, detail::encoding::concat({"a column other than the label '", label.column,
                                             "' (a label used as a feature leaks it)"}));
      }
    }
  };
  const auto check_bits = [](std::uint32_t bits, const std::string& field) {
    if (bits < 1 || bits > 32) {
      throw config_error(field, "an integer from 1 to 32");
    }
  };
  if (columns.empty()) {
    throw config_error("record_encoder.columns", "at least one column spec");
  }
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const std::string where = detail::encoding::indexed_field("record_encoder", ".columns", i);
    if (const auto* n = std::get_if<numeric_spec>(&columns[i])) {
      check_names(n->columns, where, [&](const column& c, const std::string& field) {
        require_type(c, field,
                     c.type == column_type::float64 || c.type == column_type::int64 ||
                         c.type == column_type::boolean,
                     "a numeric column (float64, int64 or bool)");
      });
      if (n->scaling == numeric_scaling::quantile_buckets && n->buckets < 2) {
        throw config_error(where + ".buckets", "at least 2 buckets");
      }
      if (n->indicator && n->missing == missing_policy::error) {
        throw config_error(where + ".indicator",
                           "false when missing is 'error' (no value can be missing)");
      }
      if (!std::isfinite(n->fill_value)) {
        throw config_error(where + ".fill_value", "a finite number");
      }
    } else if (const auto* c = std::get_if<categorical_spec>(&columns[i])) {
      check_names(c->columns, where, [&](const column& col, const std::string& field) {
        require_type(col, field,
                     col.type == column_type::string || col.type == column_type::int64 ||
                         col.type == column_type::boolean,
                     "a categorical column (string, int64 or bool)");
      });
      if (c->columns.size() > detail::encoding::max_categorical_columns) {
        throw config_error(where + ".columns",
                           "at most 64 columns per categorical spec (split it into several)");
      }
      if (c->missing == missing_policy::impute && c->missing_token.empty()) {
        throw config_error(where + ".missing_token", "a non-empty token when missing is 'impute'");
      }
      if (c->encoding == categorical_encoding::hashed) {
        check_bits(c->bits, where + ".bits");
      } else {
        if (!c->crosses.empty()) {
          throw config_error(where + ".crosses", "no crosses with a vocabulary (hash them)");
        }
        if (c->min_count < 1) {
          throw config_error(where + ".min_count", "at least 1");
        }
        if (c->oov_buckets < 1) {
          throw config_error(where + ".oov_buckets", "at least 1");
        }
      }
      for (std::size_t x = 0; x < c->crosses.size(); ++x) {
        const std::string cross = detail::encoding::indexed_field(where, ".crosses", x);
        if (c->crosses[x].size() < 2) {
          throw config_error(cross, "at least two columns");
        }
        for (std::size_t k = 0; k < c->crosses[x].size(); ++k) {
          if (std::find(c->columns.begin(), c->columns.end(), c->crosses[x][k]) ==
              c->columns.end()) {
            throw config_error(detail::encoding::indexed_field(cross, "", k),
                               detail::encoding::concat(
                                   {"one of this spec's columns, found '", c->crosses[x][k], "'"}));
          }
        }
      }
    } else if (const auto* d = std::get_if<id_spec>(&columns[i])) {
      check_names(d->columns, where, [&](const column& col, const std::string& field) {
        require_type(col, field, col.type == column_type::int64, "an int64 id column");
      });
      check_bits(d->bits, where + ".bits");
      if (d->missing == missing_policy::impute) {
        throw config_error(where + ".missing", "'error' or 'skip' (an id cannot be imputed)");
      }
    } else {
      const auto& t = std::get<text_spec>(columns[i]);
      const column& col = find_column(t.column, where + ".column");
      require_type(col, where + ".column", col.type == column_type::string, "a string column");
      if (t.column == label.column) {
        throw config_error(where + ".column", "a column other than the label");
      }
      if (t.missing == missing_policy::impute) {
        throw config_error(where + ".missing", "'error' or 'skip' (a text cannot be imputed)");
      }
      if (t.vectorizer.index_offset != 0) {
        throw config_error(where + ".vectorizer.index_offset",
                           "0 (the encoder places each block at its offset)");
      }
      t.vectorizer.validate();
    }
  }
  if (!label.column.empty()) {
    const column& c = find_column(label.column, "record_encoder.label.column");
    if (c.type == column_type::string) {
      if (label.positive.empty()) {
        throw config_error("record_encoder.label.positive",
                           "at least one positive value for a string label");
      }
      if (label.threshold) {
        throw config_error("record_encoder.label.threshold", "no threshold for a string label");
      }
      for (std::size_t k = 0; k < label.negative.size(); ++k) {
        if (std::find(label.positive.begin(), label.positive.end(), label.negative[k]) !=
            label.positive.end()) {
          throw config_error(
              detail::encoding::indexed_field("record_encoder.label", ".negative", k),
              "a value that is not also positive");
        }
      }
    } else if (c.type == column_type::int64 || c.type == column_type::float64 ||
               c.type == column_type::boolean) {
      if (!label.positive.empty() || !label.negative.empty()) {
        throw config_error("record_encoder.label.positive",
                           "no positive / negative values for a numeric label (use threshold)");
      }
      if (label.threshold && !std::isfinite(*label.threshold)) {
        throw config_error("record_encoder.label.threshold", "a finite number");
      }
    } else {
      throw config_error(
          "record_encoder.label.column",
          detail::encoding::concat(
              {"a string, int64, float64 or bool column, found ", to_string(c.type)}));
    }
  } else if (!label.positive.empty() || !label.negative.empty() || label.threshold) {
    throw config_error("record_encoder.label.column", "a column name when label values are set");
  }
  if (sample_size < 1) {
    throw config_error("record_encoder.sample_size", "at least 1");
  }
}

inline nlohmann::json record_encoder_config::to_json() const {
  nlohmann::json specs = nlohmann::json::array();
  for (const column_spec& spec : columns) {
    if (const auto* n = std::get_if<numeric_spec>(&spec)) {
      specs.push_back(
          {{"kind", "numeric"},
           {"columns", n->columns},
           {"scaling",
            detail::encoding::enum_name(n->scaling, detail::encoding::numeric_scaling_names)},
           {"missing",
            detail::encoding::enum_name(n->missing, detail::encoding::missing_policy_names)},
           {"impute", detail::encoding::enum_name(n->impute, imputer::strategy_names)},
           {"fill_value", n->fill_value},
           {"indicator", n->indicator},
           {"buckets", n->buckets},
           {"clip", n->clip},
           {"on_negative",
            detail::encoding::enum_name(n->on_negative, detail::encoding::negative_policy_names)}});
    } else if (const auto* c = std::get_if<categorical_spec>(&spec)) {
      specs.push_back(
          {{"kind", "categorical"},
           {"columns", c->columns},
           {"encoding",
            detail::encoding::enum_name(c->encoding, detail::encoding::categorical_encoding_names)},
           {"missing",
            detail::encoding::enum_name(c->missing, detail::encoding::missing_policy_names)},
           {"missing_token", c->missing_token},
           {"bits", c->bits},
           {"seed", c->seed},
           {"crosses", c->crosses},
           {"sign_hash", c->sign_hash},
           {"min_count", c->min_count},
           {"max_size", c->max_size},
           {"oov_buckets", c->oov_buckets}});
    } else if (const auto* d = std::get_if<id_spec>(&spec)) {
      specs.push_back({{"kind", "id"},
                       {"columns", d->columns},
                       {"bits", d->bits},
                       {"seed", d->seed},
                       {"sign_hash", d->sign_hash},
                       {"missing", detail::encoding::enum_name(
                                       d->missing, detail::encoding::missing_policy_names)}});
    } else {
      const auto& t = std::get<text_spec>(spec);
      specs.push_back({{"kind", "text"},
                       {"column", t.column},
                       {"vectorizer", t.vectorizer.to_json()},
                       {"missing", detail::encoding::enum_name(
                                       t.missing, detail::encoding::missing_policy_names)}});
    }
  }
  nlohmann::json schema_json;
  data::to_json(schema_json, schema);
  return {{"schema", std::move(schema_json)},
          {"label",
           {{"column", label.column},
            {"positive", label.positive},
            {"negative", label.negative},
            {"threshold", label.threshold ? nlohmann::json(*label.threshold) : nlohmann::json()}}},
          {"columns", std::move(specs)},
          {"output_fields", output_fields},
          {"sample_size", sample_size},
          {"sample_seed", sample_seed}};
}

inline record_encoder_config record_encoder_config::from_json(const nlohmann::json& j) {
  const detail::encoding::encoder_json_object o(
      j, "record_encoder.config",
      {"schema", "label", "columns", "output_fields", "sample_size", "sample_seed"});
  record_encoder_config c;
  data::from_json(o.require("schema"), c.schema);
  if (const nlohmann::json* l = o.find("label")) {
    const detail::encoding::encoder_json_object lo(*l, "record_encoder.label",
                                                   {"column", "positive", "negative", "threshold"});
    lo.read("column", c.label.column);
    lo.read("positive", c.label.positive);
    lo.read("negative", c.label.negative);
    if (const nlohmann::json* t = lo.find("threshold"); t != nullptr && !t->is_null()) {
      double threshold = 0.0;
      lo.read("threshold", threshold);
      c.label.threshold = threshold;
    }
  }
  const nlohmann::json& specs = o.require("columns");
  if (!specs.is_array()) {
    throw config_error("record_encoder.columns", "an array of column specs");
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const std::string where = detail::encoding::indexed_field("record_encoder", ".columns", i);
    const nlohmann::json& s = specs[i];
    const auto kind = s.is_object() && s.contains("kind") && s["kind"].is_string()
                          ? s["kind"].get<std::string>()
                          : std::string();
    if (kind == "numeric") {
      const detail::encoding::encoder_json_object so(s, where,
                                                     {"kind", "columns", "scaling", "missing",
                                                      "impute", "fill_value", "indicator",
                                                      "buckets", "clip", "on_negative"});
      numeric_spec n;
      so.read("columns", n.columns);
      so.read_enum("scaling", n.scaling, detail::encoding::numeric_scaling_names);
      so.read_enum("missing", n.missing, detail::encoding::missing_policy_names);
      so.read_enum("impute", n.impute, imputer::strategy_names);
      so.read("fill_value", n.fill_value);
      so.read("indicator", n.indicator);
      so.read("buckets", n.buckets);
      so.read("clip", n.clip);
      so.read_enum("on_negative", n.on_negative, detail::encoding::negative_policy_names);
      c.columns.emplace_back(std::move(n));
    } else if (kind == "categorical") {
      const detail::encoding::encoder_json_object so(
          s, where,
          {"kind", "columns", "encoding", "missing", "missing_token", "bits", "seed", "crosses",
           "sign_hash", "min_count", "max_size", "oov_buckets"});
      categorical_spec n;
      so.read("columns", n.columns);
      so.read_enum("encoding", n.encoding, detail::encoding::categorical_encoding_names);
      so.read_enum("missing", n.missing, detail::encoding::missing_policy_names);
      so.read("missing_token", n.missing_token);
      so.read("bits", n.bits);
      so.read("seed", n.seed);
      if (const nlohmann::json* x = so.find("crosses")) {
        if (!x->is_array()) {
          throw config_error(so.field("crosses"), "an array of arrays of column names");
        }
        for (std::size_t k = 0; k < x->size(); ++k) {
          n.crosses.push_back(detail::encoding::encoder_json_object::strings(
              (*x)[k], detail::encoding::indexed_field(so.field("crosses"), "", k)));
        }
      }
      so.read("sign_hash", n.sign_hash);
      so.read("min_count", n.min_count);
      so.read("max_size", n.max_size);
      so.read("oov_buckets", n.oov_buckets);
      c.columns.emplace_back(std::move(n));
    } else if (kind == "id") {
      const detail::encoding::encoder_json_object so(
          s, where, {"kind", "columns", "bits", "seed", "sign_hash", "missing"});
      id_spec n;
      so.read("columns", n.columns);
      so.read("bits", n.bits);
      so.read("seed", n.seed);
      so.read("sign_hash", n.sign_hash);
      so.read_enum("missing", n.missing, detail::encoding::missing_policy_names);
      c.columns.emplace_back(std::move(n));
    } else if (kind == "text") {
      const detail::encoding::encoder_json_object so(s, where,
                                                     {"kind", "column", "vectorizer", "missing"});
      text_spec n;
      so.read("column", n.column);
      if (const nlohmann::json* v = so.find("vectorizer")) {
        n.vectorizer = hashing_vectorizer::config::from_json(*v);
      }
      so.read_enum("missing", n.missing, detail::encoding::missing_policy_names);
      c.columns.emplace_back(std::move(n));
    } else {
      throw config_error(where + ".kind", "one of numeric, categorical, id, text");
    }
  }
  o.read("output_fields", c.output_fields);
  o.read("sample_size", c.sample_size);
  o.read("sample_seed", c.sample_seed);
  c.validate();
  return c;
}

} // namespace data
MLSD_END_NAMESPACE
