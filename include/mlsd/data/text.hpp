/// @file
/// Text features for classifiers such as harmful-content detection: a normaliser (ASCII
/// lowercasing, URLs and numbers to tokens, whitespace collapsed, UTF-8 checked), a tokeniser, and
/// `hashing_vectorizer`, which hashes unigrams and bigrams into 2^b buckets with XXH3 (feature
/// hashing, Weinberger et al. 2009) and optionally weights them by TF-IDF fitted on training
/// documents, then L2-normalises the row.
///
/// No Unicode tables (no ICU): ASCII letters are lowercased, every valid UTF-8 multi-byte sequence
/// is a word character kept byte for byte ("Naïve café" → "naïve", "café"; "É" stays "É"; an
/// emoji is a word of its own or part of the word it touches). Invalid UTF-8 (RFC 3629: stray
/// continuation bytes, overlong forms, surrogates, code points above U+10FFFF, truncated
/// sequences) is replaced byte by byte with U+FFFD, or is an `input_error` naming the byte column,
/// per `text_normalizer::config::on_invalid_utf8`.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/fitting.hpp>
#include <mlsd/data/detail/xxh3.hpp>
#include <mlsd/data/utf8.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
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

/// ASCII letter, digit or '_', or any byte of a multi-byte UTF-8 sequence (>= 0x80).
[[nodiscard]] constexpr bool is_word_byte(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c >= 0x80;
}

/// ASCII whitespace and the other ASCII control characters, which all separate words.
[[nodiscard]] constexpr bool is_space_byte(unsigned char c) noexcept {
  return c <= 0x20 || c == 0x7f;
}

[[nodiscard]] constexpr bool is_digit_byte(unsigned char c) noexcept {
  return c >= '0' && c <= '9';
}

/// Whether `text` at `i` starts with `prefix`, ASCII case-insensitively (`prefix` is lowercase).
[[nodiscard]] constexpr bool starts_with_nocase(std::string_view text, std::size_t i,
                                                std::string_view prefix) noexcept {
  if (text.size() - i < prefix.size()) {
    return false;
  }
  for (std::size_t k = 0; k < prefix.size(); ++k) {
    auto c = static_cast<unsigned char>(text[i + k]);
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<unsigned char>(c - 'A' + 'a');
    }
    if (c != static_cast<unsigned char>(prefix[k])) {
      return false;
    }
  }
  return true;
}

/// The end of the URL starting at `text[i]`, or `i` when none starts there. A URL starts with
/// `http://`, `https://` or `www.` and runs to the next whitespace, without trailing punctuation
/// (`.,;:!?'"` and closing brackets, which usually belong to the sentence).
[[nodiscard]] constexpr std::size_t url_end(std::string_view text, std::size_t i) noexcept {
  std::size_t prefix = 0;
  if (starts_with_nocase(text, i, "https://")) {
    prefix = 8;
  } else if (starts_with_nocase(text, i, "http://")) {
    prefix = 7;
  } else if (starts_with_nocase(text, i, "www.")) {
    prefix = 4;
  } else {
    return i;
  }
  std::size_t end = i + prefix;
  while (end < text.size() && !is_space_byte(static_cast<unsigned char>(text[end]))) {
    ++end;
  }
  constexpr std::string_view trailing = ".,;:!?'\")]}>";
  while (end > i + prefix && trailing.find(text[end - 1]) != std::string_view::npos) {
    --end;
  }
  return end > i + prefix ? end : i;
}

/// True when `token` is empty or made of ASCII letters, digits and '_' only (so that it stays one
/// token through `tokenize_text`).
[[nodiscard]] constexpr bool is_ascii_word(std::string_view token) noexcept {
  for (const char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || !is_word_byte(u)) {
      return false;
    }
  }
  return true;
}

} // namespace detail

/// What the normaliser does with bytes that are not valid UTF-8.
enum class invalid_utf8_policy {
  replace, ///< each invalid byte becomes U+FFFD (the replacement character), as browsers do
  error,   ///< throw `input_error` naming the byte column (1-based)
};

/// Text normalisation, one pass over the bytes, O(length):
/// 1. URLs (`http://`, `https://`, `www.` up to the next whitespace, trailing punctuation excluded)
///    become `url_token` (or a word break when the token is empty), when `replace_urls`;
/// 2. runs of ASCII digits, with `.` or `,` between digits (`3.14`, `1,000`), become
///    `number_token` (or a word break), when `replace_numbers`;
/// 3. ASCII letters are lowercased, when `lowercase` (other scripts are kept as they are);
/// 4. runs of whitespace and other ASCII control characters become one space; leading and
///    trailing ones are removed;
/// 5. valid UTF-8 sequences are copied; invalid bytes follow `on_invalid_utf8`.
///
/// The call operator is pure and thread-safe; `normalize(text, out)` reuses `out`'s capacity.
class text_normalizer : public stage_tag {
public:
  /// Settings; validated on construction.
  struct config {
    /// Lowercase ASCII letters.
    bool lowercase = true;
    /// Replace URLs with `url_token` (spam and scam messages are full of them; their exact
    /// address rarely generalises).
    bool replace_urls = true;
    /// What a URL becomes: ASCII letters, digits and '_' (one token), or empty to drop URLs.
    std::string url_token = "_url_";
    /// Replace numbers with `number_token`.
    bool replace_numbers = false;
    /// What a number becomes: ASCII letters, digits and '_', or empty to drop numbers.
    std::string number_token = "0";
    /// What invalid UTF-8 does.
    invalid_utf8_policy on_invalid_utf8 = invalid_utf8_policy::replace;

    /// Throws `config_error` naming the bad field.
    void validate() const {
      if (!detail::is_ascii_word(url_token)) {
        throw config_error("text_normalizer.url_token",
                           "ASCII letters, digits and '_' only (or empty to drop URLs)");
      }
      if (!detail::is_ascii_word(number_token)) {
        throw config_error("text_normalizer.number_token",
                           "ASCII letters, digits and '_' only (or empty to drop numbers)");
      }
    }
    /// The settings as JSON.
    [[nodiscard]] nlohmann::json to_json() const {
      return {{"lowercase", lowercase},
              {"replace_urls", replace_urls},
              {"url_token", url_token},
              {"replace_numbers", replace_numbers},
              {"number_token", number_token},
              {"on_invalid_utf8", detail::enum_name(on_invalid_utf8, utf8_policy_names)}};
    }
    /// Settings from JSON (missing keys keep their defaults; unknown keys are errors).
    [[nodiscard]] static config from_json(const nlohmann::json& j) {
      detail::config_reader r(j, "text_normalizer");
      config c;
      r.read("lowercase", c.lowercase);
      r.read("replace_urls", c.replace_urls);
      r.read("url_token", c.url_token);
      r.read("replace_numbers", c.replace_numbers);
      r.read("number_token", c.number_token);
      r.read_enum("on_invalid_utf8", c.on_invalid_utf8, utf8_policy_names);
      r.finish();
      c.validate();
      return c;
    }
    friend void to_json(nlohmann::json& j, const config& c) { j = c.to_json(); }
    friend void from_json(const nlohmann::json& j, config& c) { c = config::from_json(j); }
  };

  using input_type = std::string_view;
  using output_type = std::string;

  /// A normaliser with default settings.
  text_normalizer() = default;
  /// A normaliser; throws `config_error` for invalid settings.
  explicit text_normalizer(config c)
      : config_(std::move(c)) {
    config_.validate();
  }

  /// The normalised text.
  [[nodiscard]] std::string operator()(std::string_view text) const {
    std::string out;
    normalize(text, out);
    return out;
  }

  /// Writes the normalised `text` into `out` (replacing its content, keeping its capacity). With
  /// `invalid_utf8_policy::error`, throws `input_error` at `where` with the column set to the
  /// 1-based byte offset of the first invalid byte.
  void normalize(std::string_view text, std::string& out,
                 const input_position& where = input_position("text_normalizer")) const {
    out.clear();
    bool pending_space = false;
    const auto emit = [&](std::string_view piece) {
      if (pending_space && !out.empty()) {
        out += ' ';
      }
      pending_space = false;
      out += piece;
    };
    const auto word_break_before = [&](std::size_t i) {
      return i == 0 || !detail::is_word_byte(static_cast<unsigned char>(text[i - 1]));
    };
    std::size_t i = 0;
    while (i < text.size()) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (detail::is_space_byte(c)) {
        pending_space = true;
        ++i;
        continue;
      }
      if (config_.replace_urls && (c == 'h' || c == 'H' || c == 'w' || c == 'W') &&
          word_break_before(i)) {
        const std::size_t end = detail::url_end(text, i);
        if (end != i) {
          replace_with(config_.url_token, emit, pending_space);
          i = end;
          continue;
        }
      }
      if (config_.replace_numbers && detail::is_digit_byte(c)) {
        std::size_t end = i + 1;
        while (end < text.size()) {
          const auto d = static_cast<unsigned char>(text[end]);
          if (detail::is_digit_byte(d)) {
            ++end;
          } else if ((d == '.' || d == ',') && end + 1 < text.size() &&
                     detail::is_digit_byte(static_cast<unsigned char>(text[end + 1]))) {
            end += 2;
          } else {
            break;
          }
        }
        replace_with(config_.number_token, emit, pending_space);
        i = end;
        continue;
      }
      if (c < 0x80) {
        const char lower =
            config_.lowercase && c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : text[i];
        emit(std::string_view(&lower, 1));
        ++i;
        continue;
      }
      const utf8_decoded d = decode_utf8(text, i);
      if (d.valid()) {
        emit(text.substr(i, d.length));
        i += d.length;
        continue;
      }
      if (config_.on_invalid_utf8 == invalid_utf8_policy::error) {
        input_position at = where;
        at.column = i + 1;
        static constexpr char hex[] = "0123456789abcdef";
        std::string found = "byte \\x";
        found += hex[c >> 4];
        found += hex[c & 0xf];
        throw input_error(std::move(at), "valid UTF-8 (RFC 3629)", found);
      }
      emit(replacement_character);
      ++i;
    }
  }

  /// The settings.
  [[nodiscard]] const config& settings() const noexcept { return config_; }

  /// U+FFFD in UTF-8.
  static constexpr std::string_view replacement_character = "\xef\xbf\xbd";
  /// The JSON names of `invalid_utf8_policy`.
  static constexpr std::array<std::pair<invalid_utf8_policy, std::string_view>, 2>
      utf8_policy_names = {
          {{invalid_utf8_policy::replace, "replace"}, {invalid_utf8_policy::error, "error"}}};

private:
  // A replacement is a word of its own (so "see:http://x" gives "see:_url_" and tokens "see",
  // "_url_"), and an empty replacement is a word break.
  template <class Emit>
  static void replace_with(const std::string& token, const Emit& emit, bool& pending_space) {
    if (token.empty()) {
      pending_space = true;
    } else {
      emit(token);
    }
  }

  config config_;
};
static_assert(stage<text_normalizer>);

/// Calls `f(token)` for every token of `text`, in order: maximal runs of word bytes (ASCII
/// letters, digits, '_', and bytes of multi-byte UTF-8 sequences); everything else (whitespace,
/// ASCII punctuation) separates tokens and is dropped. "don't" gives "don", "t"; one-character
/// tokens are kept. The tokens are views into `text`. O(length), no allocation.
template <class F>
void for_each_text_token(std::string_view text, F&& f) {
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !detail::is_word_byte(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    const std::size_t start = i;
    while (i < text.size() && detail::is_word_byte(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    if (i > start) {
      f(text.substr(start, i - start));
    }
  }
}

/// The tokens of `text` (see `for_each_text_token`), as views into `text`.
[[nodiscard]] inline std::vector<std::string_view> tokenize_text(std::string_view text) {
  std::vector<std::string_view> tokens;
  for_each_text_token(text, [&](std::string_view t) { tokens.push_back(t); });
  return tokens;
}

/// How a term's count in a document becomes its term frequency.
enum class term_frequency {
  count,  ///< the number of occurrences
  binary, ///< 1 when present (short texts, where repetition is rarely signal)
};

/// How term frequencies are weighted.
enum class term_weighting {
  tf,     ///< term frequency alone
  tf_idf, ///< term frequency × smoothed inverse document frequency, fitted on training documents
};

/// Hashed bag of n-grams: normalise, tokenise, hash each unigram and (optionally) each bigram with
/// XXH3 into 2^`hash_bits` buckets (feature hashing, Weinberger et al. 2009), weight, L2-normalise.
///
/// - A bigram is hashed as its two tokens joined by one space, `"a b"`: tokens never contain a
///   space, so a bigram never hashes the same bytes as a unigram ("a b" vs "ab") or as another
///   bigram ("ab c" vs "a bc"). `bucket("a b")` gives its bucket.
/// - Term frequency is the count of n-grams per bucket, or 1 (`term_frequency::binary`); colliding
///   n-grams share a bucket and add up.
/// - TF-IDF (`term_weighting::tf_idf`) multiplies by scikit-learn's smoothed inverse document
///   frequency, idf = ln((1 + n) / (1 + df)) + 1, with n training documents of which df contain
///   the bucket (Sparck Jones 1972; Salton & Buckley 1988; scikit-learn `TfidfTransformer` with
///   `smooth_idf=True`, Pedregosa et al. 2011): adding one to n and df as if one extra document
///   held every term avoids division by zero, and the "+ 1" keeps terms found in every document.
/// - `min_document_frequency`: buckets found in fewer training documents are dropped at apply
///   time and counted at fit (`pruned_buckets()`). With the default 1, buckets never seen in
///   training are dropped (a vocabulary's out-of-vocabulary rule); 0 keeps them (with the largest
///   idf, ln(1 + n) + 1).
/// - `l2_normalize` divides the row's values by their Euclidean norm (scikit-learn's `norm='l2'`),
///   so that long and short documents score on the same scale; an empty row stays empty.
///
/// Fit is needed when the settings use training statistics (`tf_idf`, or
/// `min_document_frequency > 0`); otherwise the vectorizer is stateless and works unfitted.
/// `encode` appends the features (indices `index_offset + bucket`, sorted, unique) to a row, and
/// allocates nothing once its buffers (the row and a `scratch`) have grown. Apply is
/// O(length + t log t) for t n-grams, pure and thread-safe (one `scratch` per thread).
class hashing_vectorizer : public feature_transform_tag {
public:
  /// Settings; validated on construction.
  struct config {
    /// The feature's name, used in error messages.
    std::string feature{};
    /// Normalisation before tokenising.
    text_normalizer::config normalizer{};
    /// log2 of the number of buckets, from 1 to 32.
    std::uint32_t hash_bits = 18;
    /// The XXH3 seed: another seed, another (independent) set of collisions.
    std::uint64_t seed = 0;
    /// Add bigrams to the unigrams.
    bool bigrams = true;
    /// Counts or presence.
    term_frequency tf = term_frequency::count;
    /// Term frequency alone, or TF-IDF.
    term_weighting weighting = term_weighting::tf_idf;
    /// Divide the row by its L2 norm.
    bool l2_normalize = true;
    /// Minimum number of training documents a bucket must appear in to be kept (0 keeps all).
    std::uint64_t min_document_frequency = 1;
    /// Where the hashed block starts in the sparse feature space.
    std::uint32_t index_offset = 0;

    /// Throws `config_error` naming the bad field.
    void validate() const {
      normalizer.validate();
      if (hash_bits < 1 || hash_bits > 32) {
        throw config_error("hashing_vectorizer.hash_bits", "an integer from 1 to 32");
      }
      const std::uint64_t top = static_cast<std::uint64_t>(index_offset) + bucket_mask(hash_bits);
      if (top > std::numeric_limits<std::uint32_t>::max()) {
        throw config_error("hashing_vectorizer.index_offset",
                           "an offset that leaves room for 2^hash_bits buckets below 2^32");
      }
    }
    /// The settings as JSON.
    [[nodiscard]] nlohmann::json to_json() const {
      return {{"feature", feature},
              {"normalizer", normalizer.to_json()},
              {"hash_bits", hash_bits},
              {"seed", seed},
              {"bigrams", bigrams},
              {"tf", detail::enum_name(tf, tf_names)},
              {"weighting", detail::enum_name(weighting, weighting_names)},
              {"l2_normalize", l2_normalize},
              {"min_document_frequency", min_document_frequency},
              {"index_offset", index_offset}};
    }
    /// Settings from JSON (missing keys keep their defaults; unknown keys are errors).
    [[nodiscard]] static config from_json(const nlohmann::json& j) {
      detail::config_reader r(j, "hashing_vectorizer");
      config c;
      r.read("feature", c.feature);
      nlohmann::json n;
      if (r.read("normalizer", n)) {
        c.normalizer = text_normalizer::config::from_json(n);
      }
      r.read("hash_bits", c.hash_bits);
      r.read("seed", c.seed);
      r.read("bigrams", c.bigrams);
      r.read_enum("tf", c.tf, tf_names);
      r.read_enum("weighting", c.weighting, weighting_names);
      r.read("l2_normalize", c.l2_normalize);
      r.read("min_document_frequency", c.min_document_frequency);
      r.read("index_offset", c.index_offset);
      r.finish();
      c.validate();
      return c;
    }
    friend void to_json(nlohmann::json& j, const config& c) { j = c.to_json(); }
    friend void from_json(const nlohmann::json& j, config& c) { c = config::from_json(j); }
  };

  /// Reusable buffers for `encode`: one per thread, so that encoding allocates nothing once they
  /// have grown to the longest document.
  struct scratch {
    std::string normalized;
    std::string ngram;
    std::vector<std::uint32_t> buckets;
    std::vector<double> weights;
  };

  using input_type = std::string_view;
  using output_type = sparse_row;

  /// An unfitted vectorizer with default settings (2^18 buckets, unigrams and bigrams, TF-IDF,
  /// L2).
  hashing_vectorizer() = default;
  /// An unfitted vectorizer; throws `config_error` for invalid settings.
  explicit hashing_vectorizer(config c)
      : config_(std::move(c))
      , normalizer_(config_.normalizer) {
    config_.validate();
  }

  /// Learns document frequencies from training `documents` (O(total length + t log t)). Throws
  /// `input_error` on an empty span, and on invalid UTF-8 with `invalid_utf8_policy::error`
  /// (naming the document as the line and the byte as the column).
  void fit(std::span<const std::string_view> documents) {
    fit_impl(documents.size(), [&](std::size_t i) { return documents[i]; });
  }
  /// The same for owned strings.
  void fit(std::span<const std::string> documents) {
    fit_impl(documents.size(), [&](std::size_t i) { return std::string_view(documents[i]); });
  }

  /// The features of `text` in a new row (allocates; `encode` is the allocation-free path).
  [[nodiscard]] sparse_row operator()(std::string_view text) const {
    sparse_row row;
    encode(text, row);
    return row;
  }

  /// Appends the features of `text` to `out` (label and other entries untouched).
  void encode(std::string_view text, sparse_row& out) const {
    scratch s;
    encode(text, out, s);
  }

  /// Appends the features of `text` to `out`, using `s` for intermediate buffers. Throws
  /// `not_fitted_error` when the settings need fitting and `fit` has not run.
  void encode(std::string_view text, sparse_row& out, scratch& s) const {
    if (needs_fit() && !fitted_) [[unlikely]] {
      throw not_fitted_error(std::string(name), config_.feature);
    }
    collect_buckets(text, s, input_position(std::string(name), 0, 0, config_.feature));
    std::sort(s.buckets.begin(), s.buckets.end());
    s.weights.clear();
    const std::size_t first = out.nnz();
    double sum_squares = 0.0;
    for (std::size_t i = 0; i < s.buckets.size();) {
      const std::uint32_t b = s.buckets[i];
      std::size_t j = i;
      while (j < s.buckets.size() && s.buckets[j] == b) {
        ++j;
      }
      const auto count = static_cast<double>(j - i);
      i = j;
      double idf = 1.0;
      if (needs_fit()) {
        const auto it = std::lower_bound(buckets_.begin(), buckets_.end(), b);
        const bool seen = it != buckets_.end() && *it == b;
        if (!seen && config_.min_document_frequency > 0) {
          continue; // below the minimum document frequency (counted at fit)
        }
        if (config_.weighting == term_weighting::tf_idf) {
          idf = seen ? idf_[static_cast<std::size_t>(it - buckets_.begin())] : idf_of(0);
        }
      }
      const double w = (config_.tf == term_frequency::binary ? 1.0 : count) * idf;
      sum_squares += w * w;
      s.weights.push_back(w);
      out.push_back(config_.index_offset + b, 0.0f);
    }
    const double scale =
        config_.l2_normalize && sum_squares > 0.0 ? 1.0 / std::sqrt(sum_squares) : 1.0;
    for (std::size_t k = 0; k < s.weights.size(); ++k) {
      out.values[first + k] = static_cast<float>(s.weights[k] * scale);
    }
  }

  /// The bucket (without `index_offset`) of an n-gram: a token, or two tokens joined by a space.
  [[nodiscard]] std::uint32_t bucket(std::string_view ngram) const noexcept {
    return static_cast<std::uint32_t>(detail::xxh3_64(ngram, config_.seed) &
                                      bucket_mask(config_.hash_bits));
  }

  /// Whether the settings use training statistics (`tf_idf` or `min_document_frequency > 0`).
  [[nodiscard]] bool needs_fit() const noexcept {
    return config_.weighting == term_weighting::tf_idf || config_.min_document_frequency > 0;
  }
  /// Whether `fit` (or `from_json` of a fitted vectorizer) has run.
  [[nodiscard]] bool fitted() const noexcept { return fitted_; }
  /// The number of training documents, n.
  [[nodiscard]] std::uint64_t document_count() const noexcept { return documents_; }
  /// The number of training documents that contain bucket `b` (0 when unseen or pruned).
  [[nodiscard]] std::uint64_t document_frequency(std::uint32_t b) const noexcept {
    const auto it = std::lower_bound(buckets_.begin(), buckets_.end(), b);
    return it != buckets_.end() && *it == b ? dfs_[static_cast<std::size_t>(it - buckets_.begin())]
                                            : 0;
  }
  /// The smoothed idf of a bucket with document frequency `df`: ln((1 + n) / (1 + df)) + 1.
  [[nodiscard]] double idf_of(std::uint64_t df) const noexcept {
    return std::log((1.0 + static_cast<double>(documents_)) / (1.0 + static_cast<double>(df))) +
           1.0;
  }
  /// How many buckets the fit kept (seen in at least `max(1, min_document_frequency)` documents).
  [[nodiscard]] std::size_t kept_buckets() const noexcept { return buckets_.size(); }
  /// How many buckets seen in training were dropped by `min_document_frequency`.
  [[nodiscard]] std::uint64_t pruned_buckets() const noexcept { return pruned_; }
  /// The settings.
  [[nodiscard]] const config& settings() const noexcept { return config_; }
  /// The normaliser it applies before tokenising.
  [[nodiscard]] const text_normalizer& normalizer() const noexcept { return normalizer_; }

  /// Settings and document frequencies (of the kept buckets) as JSON.
  [[nodiscard]] nlohmann::json to_json() const {
    nlohmann::json j = {{"transform", name}, {"config", config_.to_json()}, {"fitted", fitted_}};
    if (fitted_) {
      j["document_count"] = documents_;
      j["buckets"] = buckets_;
      j["document_frequencies"] = dfs_;
      j["pruned_buckets"] = pruned_;
    }
    return j;
  }
  /// A vectorizer from `to_json`'s output; throws `config_error` naming a missing or bad key.
  [[nodiscard]] static hashing_vectorizer from_json(const nlohmann::json& j) {
    detail::config_reader r(j, name);
    const bool fitted = detail::read_transform_header(r, name);
    hashing_vectorizer v(config::from_json(r.at("config")));
    if (fitted) {
      r.require("document_count", v.documents_);
      r.require("buckets", v.buckets_);
      r.require("document_frequencies", v.dfs_);
      r.require("pruned_buckets", v.pruned_);
      const std::uint64_t mask = bucket_mask(v.config_.hash_bits);
      for (std::size_t i = 0; i < v.buckets_.size(); ++i) {
        if (v.buckets_[i] > mask || (i > 0 && v.buckets_[i] <= v.buckets_[i - 1])) {
          throw config_error(r.field("buckets"),
                             "strictly increasing bucket numbers below 2^hash_bits");
        }
      }
      if (v.dfs_.size() != v.buckets_.size()) {
        throw config_error(r.field("document_frequencies"), "one count per bucket");
      }
      for (const std::uint64_t df : v.dfs_) {
        if (df == 0 || df > v.documents_) {
          throw config_error(r.field("document_frequencies"), "counts from 1 to document_count");
        }
      }
      v.finish_fit();
    }
    r.finish();
    return v;
  }

  /// The transform's name in JSON and in messages.
  static constexpr std::string_view name = "hashing_vectorizer";
  /// The JSON names of `term_frequency`.
  static constexpr std::array<std::pair<term_frequency, std::string_view>, 2> tf_names = {
      {{term_frequency::count, "count"}, {term_frequency::binary, "binary"}}};
  /// The JSON names of `term_weighting`.
  static constexpr std::array<std::pair<term_weighting, std::string_view>, 2> weighting_names = {
      {{term_weighting::tf, "tf"}, {term_weighting::tf_idf, "tf_idf"}}};

private:
  [[nodiscard]] static constexpr std::uint64_t bucket_mask(std::uint32_t bits) noexcept {
    return bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
  }

  // The buckets of every n-gram of `text`, in order of appearance (with repeats), into s.buckets.
  void collect_buckets(std::string_view text, scratch& s, const input_position& where) const {
    normalizer_.normalize(text, s.normalized, where);
    s.buckets.clear();
    std::string_view previous;
    for_each_text_token(s.normalized, [&](std::string_view token) {
      s.buckets.push_back(bucket(token));
      if (config_.bigrams && !previous.empty()) {
        s.ngram.assign(previous);
        s.ngram += ' ';
        s.ngram += token;
        s.buckets.push_back(bucket(s.ngram));
      }
      previous = token;
    });
  }

  template <class Get>
  void fit_impl(std::size_t n, Get get) {
    if (n == 0) {
      detail::throw_empty_fit(name, config_.feature);
    }
    std::unordered_map<std::uint32_t, std::uint64_t> df;
    scratch s;
    const std::string file = detail::field_path(name, "fit");
    for (std::size_t i = 0; i < n; ++i) {
      collect_buckets(get(i), s, input_position(file, i + 1, 0, config_.feature));
      std::sort(s.buckets.begin(), s.buckets.end());
      s.buckets.erase(std::unique(s.buckets.begin(), s.buckets.end()), s.buckets.end());
      for (const std::uint32_t b : s.buckets) {
        ++df[b];
      }
    }
    std::vector<std::pair<std::uint32_t, std::uint64_t>> kept;
    kept.reserve(df.size());
    const std::uint64_t min_df = std::max<std::uint64_t>(1, config_.min_document_frequency);
    for (const auto& [b, d] : df) {
      if (d >= min_df) {
        kept.emplace_back(b, d);
      }
    }
    std::sort(kept.begin(), kept.end());
    documents_ = n;
    pruned_ = df.size() - kept.size();
    buckets_.clear();
    dfs_.clear();
    for (const auto& [b, d] : kept) {
      buckets_.push_back(b);
      dfs_.push_back(d);
    }
    finish_fit();
  }

  void finish_fit() {
    idf_.resize(dfs_.size());
    for (std::size_t i = 0; i < dfs_.size(); ++i) {
      idf_[i] = idf_of(dfs_[i]);
    }
    fitted_ = true;
  }

  config config_;
  text_normalizer normalizer_;
  std::uint64_t documents_ = 0;
  std::vector<std::uint32_t> buckets_; // sorted, the kept buckets
  std::vector<std::uint64_t> dfs_;     // their document frequencies
  std::vector<double> idf_;            // their idf, derived from dfs_ (not saved)
  std::uint64_t pruned_ = 0;
  bool fitted_ = false;
};
static_assert(feature_transform<hashing_vectorizer>);

} // namespace data
MLSD_END_NAMESPACE
