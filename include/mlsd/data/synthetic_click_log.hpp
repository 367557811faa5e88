/// @file
/// A seeded generator of a Criteo-like click log whose click model is known: every record carries
/// the true click probability, so that a model's calibration can be checked against the truth and
/// a benchmark can run on data of any size without a download.
///
/// ```cpp
/// mlsd::data::synthetic_click_log_config cfg;
/// cfg.rows = 1'000'000;
/// mlsd::data::synthetic_click_log log(cfg);
/// const mlsd::data::click_log_hasher hasher({.bits = 20});
/// mlsd::sparse_row x;
/// std::string line;
/// for (std::uint64_t i = 0; i < log.size(); ++i) {
///   const mlsd::data::synthetic_click c = log.record(i);   // pure: any row, any order
///   hasher.encode(c.features, x);                          // 39 hashed features with fields
///   mlsd::data::append_libffm_line(line, x);
/// }
/// ```
///
/// Each record has the Criteo layout (`criteo_record`: a 0/1 label, 13 count-like integers
/// `I1`..`I13`, 26 categorical values `C1`..`C26` written as 32-bit hashes), and:
/// - `C1` is a user id, `C2` an ad id, `C3` the position (1 = top) the ad was shown at;
/// - categorical values follow Zipf laws (rank `r` of `n` has probability ∝ r^-s), sampled by
///   rejection-inversion (Hörmann and Derflinger 1996), in O(1) time and memory per draw;
/// - integers are log-normal counts, `floor(exp(mu + sd·z))` with z ≈ N(0, 1), some missing;
/// - a time stamp grows with the row index (one row every `mean_gap_us` on average).
///
/// The click probability is `sigmoid(η)` with
///
/// ```text
/// η = base_logit + trend(t) + daily(t)                            (time)
///   + Σ_numeric  beta_j · z_j  (or a per-field constant when the value is missing)
///   + Σ_categ.   w_f(value_f)   (w_f(v) ≈ N(0, sigma_f²), drawn once per value)
///   + Σ_pairs    scale_p · <u_{f,p}(value_f), u_{g,p}(value_g)> / sqrt(4)
///   - position_bias · ln(position)
/// ```
///
/// The pairwise terms are field-aware factorised interactions of rank 4 (each field has one latent
/// vector per pair it is in, as in FFM: Juan et al. 2016), so an FM (Rendle 2010) or an FFM can
/// fit what a linear model cannot. The position term is an examination bias (Craswell et al. 2008,
/// "An experimental comparison of click position-bias models", WSDM). Optionally the last
/// `drift_fraction` of the rows drifts: the ads' effects are re-drawn (blended by
/// `drift_strength`) and the popular ads change (concept and covariate drift).
///
/// Every random number of row `i` comes from SplitMix64 seeded with `hash(seed, i)`, and every
/// effect from a hash of (seed, field, value), so a record is a pure function of (config, i):
/// generation streams in O(1) memory, can start anywhere, and can be split across threads. The
/// same seed gives the same log wherever `std::exp`, `std::log`, `std::log1p`, `std::expm1`,
/// `std::pow` and `std::sin` return the same doubles (the C library's business: they are not
/// required to be correctly rounded).
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/time.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/criteo.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/random.hpp>
#include <mlsd/data/hashing.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numbers>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

/// A Zipf distribution on the ranks `1..n`: `P(k) = k^-s / H(n, s)`, with `H(n, s) = Σ_{i=1..n}
/// i^-s`. Sampled by rejection-inversion (W. Hörmann and G. Derflinger, "Rejection-inversion to
/// generate variates from monotone discrete distributions", ACM TOMACS 6(3), 1996): O(1) expected
/// time and O(1) memory whatever `n`, no table. Immutable and thread-safe; the generator is the
/// caller's.
class zipf_distribution {
public:
  /// `n >= 1` ranks, exponent `s > 0`. Throws `config_error` otherwise.
  zipf_distribution(std::uint64_t n, double s)
      : n_(n)
      , s_(s) {
    if (n == 0) {
      throw config_error("zipf_distribution.n", "at least 1");
    }
    if (!(s > 0.0 && std::isfinite(s))) {
      throw config_error("zipf_distribution.s", "a finite exponent > 0");
    }
    h_x1_ = big_h(1.5) - 1.0;
    h_n_ = big_h(static_cast<double>(n_) + 0.5);
    squeeze_ = 2.0 - big_h_inverse(big_h(2.5) - h(2.0));
  }

  [[nodiscard]] std::uint64_t n() const noexcept { return n_; }
  [[nodiscard]] double exponent() const noexcept { return s_; }

  /// `P(k)` for `1 <= k <= n` (0 outside), summing the normaliser exactly: O(n) per call, for
  /// tests and reports, not for sampling.
  [[nodiscard]] double probability(std::uint64_t k) const noexcept {
    if (k == 0 || k > n_) {
      return 0.0;
    }
    double norm = 0.0;
    for (std::uint64_t i = n_; i >= 1; --i) { // smallest terms first: less rounding
      norm += h(static_cast<double>(i));
    }
    return h(static_cast<double>(k)) / norm;
  }

  /// One rank in `1..n`, drawing uniforms from `rng` (any type with `double uniform()`).
  template <class Rng>
  [[nodiscard]] std::uint64_t operator()(Rng& rng) const noexcept {
    for (;;) {
      // u uniform in (H(n + 1/2), H(3/2) - 1]: the area under the hat function.
      const double u = h_n_ + rng.uniform() * (h_x1_ - h_n_);
      const double x = big_h_inverse(u);
      double k = std::floor(x + 0.5);
      k = std::clamp(k, 1.0, static_cast<double>(n_));
      // Accept at once inside the squeeze, else compare against the hat's integral.
      if (k - x <= squeeze_ || u >= big_h(k + 0.5) - h(k)) {
        return static_cast<std::uint64_t>(k);
      }
    }
  }

private:
  // h(x) = x^-s, the unnormalised density; H its antiderivative (x^(1-s) - 1) / (1 - s), written
  // with expm1/log1p so that s near 1 (where H -> ln x) loses no precision.
  [[nodiscard]] double h(double x) const noexcept { return std::exp(-s_ * std::log(x)); }
  [[nodiscard]] double big_h(double x) const noexcept {
    const double log_x = std::log(x);
    const double t = (1.0 - s_) * log_x;
    return (std::abs(t) < 1e-8 ? 1.0 + t * (0.5 + t / 6.0) : std::expm1(t) / t) * log_x;
  }
  [[nodiscard]] double big_h_inverse(double y) const noexcept {
    double t = y * (1.0 - s_);
    t = std::max(t, -1.0); // H's range ends there; rounding may step past it
    const double l = std::abs(t) < 1e-8 ? 1.0 - t * (0.5 - t / 3.0) : std::log1p(t) / t;
    return std::exp(l * y);
  }

  std::uint64_t n_;
  double s_;
  double h_x1_ = 0.0;
  double h_n_ = 0.0;
  double squeeze_ = 0.0;
};

/// Settings of a `synthetic_click_log`. Validated on construction (`config_error` naming the
/// field); round-trips through JSON.
struct synthetic_click_log_config {
  /// Rows in the log (the time trend and the drift are laid out over them).
  std::uint64_t rows = 1'000'000;
  /// The seed of everything: effects, category values, and each row's draws.
  std::uint64_t seed = 1;
  /// Distinct users (`C1`, Zipf exponent 1.05) and ads (`C2`, exponent 1.1).
  std::uint64_t users = 100'000;
  std::uint64_t ads = 20'000;
  /// Positions 1..positions (`C3`), shown with probability ∝ position_decay^(position - 1).
  std::uint32_t positions = 10;
  double position_decay = 0.7;
  /// The examination bias: η gets `-position_bias · ln(position)`.
  double position_bias = 0.6;
  /// The intercept of η (before time, feature and position terms).
  double base_logit = -1.2;
  /// Multiplies every per-field main effect (0 leaves only the bias, time, position and pairs).
  double main_effect_scale = 1.0;
  /// Multiplies every pairwise interaction (0 makes the log exactly logistic in one-hot features).
  double interaction_scale = 1.0;
  /// Caps the number of distinct values of every categorical field but `C1` (users), `C2` (ads)
  /// and `C3` (positions), which have their own settings; 0 (the default) keeps each field's
  /// Criteo-like cardinality (up to 200,000). A cap makes every value frequent enough to learn
  /// from a modest log, so that the models' distance to the ground truth measures what they can
  /// represent (the pairwise interactions) rather than how rare the long tail is.
  std::uint64_t max_cardinality = 0;
  /// The time stamp of row 0, in microseconds since the Unix epoch (2024-01-01 by default).
  std::int64_t start_time_us = 1'704'067'200'000'000;
  /// The mean gap between consecutive rows; row i's time is in [i·gap, (i+1)·gap) after the start.
  std::int64_t mean_gap_us = 50'000;
  /// The logit moves linearly by this much from the first row to the last (centred: half before).
  double time_trend = -0.2;
  /// Amplitude of the time-of-day term `daily_amplitude · sin(2π · hour / 24)`.
  double daily_amplitude = 0.15;
  /// The last fraction of rows, in [0, 1), where the ads drift; 0 (the default) means no drift.
  double drift_fraction = 0.0;
  /// How far ad effects move in the drifted part, in [0, 1]: `w = (1-a)·w_old + a·w_new`; the ad
  /// popularity ranks also rotate by half the ads when `drift_strength > 0`.
  double drift_strength = 1.0;

  friend bool operator==(const synthetic_click_log_config&,
                         const synthetic_click_log_config&) = default;

  /// Throws `config_error` naming the first invalid field.
  void validate() const {
    const auto need = [](bool ok, const char* field, const char* rule) {
      if (!ok) {
        std::string name = "synthetic_click_log.";
        name += field;
        throw config_error(name, rule);
      }
    };
    need(rows >= 1, "rows", "at least 1");
    need(users >= 1 && users <= 0xffffffffULL, "users", "an integer from 1 to 2^32 - 1");
    need(ads >= 1 && ads <= 0xffffffffULL, "ads", "an integer from 1 to 2^32 - 1");
    need(positions >= 1, "positions", "at least 1");
    need(position_decay > 0.0 && position_decay <= 1.0, "position_decay", "a number in (0, 1]");
    need(std::isfinite(position_bias), "position_bias", "a finite number");
    need(std::isfinite(base_logit), "base_logit", "a finite number");
    need(std::isfinite(main_effect_scale) && main_effect_scale >= 0.0, "main_effect_scale",
         "a finite number >= 0");
    need(std::isfinite(interaction_scale) && interaction_scale >= 0.0, "interaction_scale",
         "a finite number >= 0");
    need(max_cardinality <= 0xffffffffULL, "max_cardinality",
         "0 (no cap) or an integer from 1 to 2^32 - 1");
    need(mean_gap_us >= 1, "mean_gap_us", "at least 1 microsecond");
    need(std::isfinite(time_trend), "time_trend", "a finite number");
    need(std::isfinite(daily_amplitude), "daily_amplitude", "a finite number");
    need(drift_fraction >= 0.0 && drift_fraction < 1.0, "drift_fraction", "a number in [0, 1)");
    need(drift_strength >= 0.0 && drift_strength <= 1.0, "drift_strength", "a number in [0, 1]");
    const double span_us = static_cast<double>(rows) * static_cast<double>(mean_gap_us);
    need(static_cast<double>(start_time_us) + span_us < 9.0e18, "mean_gap_us",
         "a gap whose rows · gap after start_time_us fits in 64-bit microseconds");
  }

  /// Every key, so that a saved config documents the log it makes.
  [[nodiscard]] nlohmann::json to_json() const {
    return nlohmann::json{{"rows", rows},
                          {"seed", seed},
                          {"users", users},
                          {"ads", ads},
                          {"positions", positions},
                          {"position_decay", position_decay},
                          {"position_bias", position_bias},
                          {"base_logit", base_logit},
                          {"main_effect_scale", main_effect_scale},
                          {"interaction_scale", interaction_scale},
                          {"max_cardinality", max_cardinality},
                          {"start_time_us", start_time_us},
                          {"mean_gap_us", mean_gap_us},
                          {"time_trend", time_trend},
                          {"daily_amplitude", daily_amplitude},
                          {"drift_fraction", drift_fraction},
                          {"drift_strength", drift_strength}};
  }

  /// Reads a config (absent keys keep their defaults), validates it; throws `config_error`
  /// naming the key for an unknown key, a wrong type or an invalid value.
  [[nodiscard]] static synthetic_click_log_config from_json(const nlohmann::json& j) {
    detail::config_reader r(j, "synthetic_click_log");
    synthetic_click_log_config c;
    r.read("rows", c.rows);
    r.read("seed", c.seed);
    r.read("users", c.users);
    r.read("ads", c.ads);
    r.read("positions", c.positions);
    r.read("position_decay", c.position_decay);
    r.read("position_bias", c.position_bias);
    r.read("base_logit", c.base_logit);
    r.read("main_effect_scale", c.main_effect_scale);
    r.read("interaction_scale", c.interaction_scale);
    r.read("max_cardinality", c.max_cardinality);
    r.read("start_time_us", c.start_time_us);
    r.read("mean_gap_us", c.mean_gap_us);
    r.read("time_trend", c.time_trend);
    r.read("daily_amplitude", c.daily_amplitude);
    r.read("drift_fraction", c.drift_fraction);
    r.read("drift_strength", c.drift_strength);
    r.finish();
    c.validate();
    return c;
  }
};

/// One generated impression: the Criteo-layout features and label, and the truth behind them.
struct synthetic_click {
  /// The row's index in the log (from 0).
  std::uint64_t row = 0;
  /// Label (0 or 1, always present), `I1`..`I13`, `C1`..`C26` as Criteo has them.
  criteo_record features;
  /// The true click probability `sigmoid(η)` the label was drawn from.
  double true_probability = 0.0;
  /// The true logit η.
  double true_logit = 0.0;
  /// When the impression happened (row order is time order).
  event_time time;
  /// The user id (1..users, 1 the most active), the ad id (1..ads, 1 the most shown before any
  /// drift) and the position (1..positions) behind `C1`, `C2` and `C3`.
  std::uint64_t user = 0;
  std::uint64_t ad = 0;
  std::uint32_t position = 0;
  /// Whether the row lies in the drifted part of the log.
  bool drifted = false;

  [[nodiscard]] bool clicked() const noexcept { return features.label.value_or(0.0f) > 0.0f; }
};

namespace detail {

/// The ground truth's per-field constants: documented here, used by the generator and the docs.
struct click_numeric_field {
  double mu, sd, missing_rate, beta, missing_effect;
};
struct click_categorical_field {
  std::uint64_t cardinality; // 0: from the config (users, ads, positions)
  double zipf_exponent, sigma, missing_rate;
};
struct click_interaction {
  std::uint32_t field_a, field_b; // categorical field positions (0 = C1)
  double scale;
};

// I1..I13: log-normal counts; missing rates and ranges in the spirit of the Criteo Kaggle data.
inline constexpr std::array<click_numeric_field, criteo_record::integer_count> click_numeric_fields{
    {{0.5, 1.0, 0.45, 0.25, -0.10},
     {2.0, 1.5, 0.00, 0.10, 0.0},
     {2.5, 1.2, 0.20, -0.15, 0.05},
     {1.5, 0.9, 0.20, 0.00, 0.0},
     {7.5, 2.0, 0.03, -0.20, 0.10},
     {3.5, 1.6, 0.22, 0.00, 0.0},
     {1.8, 1.3, 0.04, 0.30, -0.05},
     {2.2, 1.0, 0.00, 0.05, 0.0},
     {3.8, 1.3, 0.04, 0.10, 0.0},
     {0.3, 0.6, 0.45, 0.20, -0.05},
     {1.0, 1.0, 0.04, 0.25, 0.0},
     {0.2, 1.0, 0.76, 0.10, 0.0},
     {2.0, 1.1, 0.20, 0.00, 0.0}}};

// C1..C26. C1 = user, C2 = ad, C3 = position (its own distribution, no main effect: the
// position bias is the `position_bias` term). Several fields carry no signal, as in real logs.
inline constexpr std::array<click_categorical_field, criteo_record::categorical_count>
    click_categorical_fields{
        {{0, 1.05, 0.4, 0.0},       {0, 1.1, 0.5, 0.0},     {0, 0.0, 0.0, 0.0},
         {1000, 1.1, 0.3, 0.0},     {300, 1.2, 0.2, 0.0},   {20, 1.0, 0.3, 0.0},
         {12000, 1.1, 0.2, 0.03},   {600, 1.2, 0.2, 0.0},   {3, 1.0, 0.1, 0.0},
         {60000, 1.1, 0.3, 0.0},    {5000, 1.1, 0.1, 0.0},  {200000, 1.05, 0.2, 0.03},
         {3000, 1.1, 0.0, 0.0},     {27, 1.0, 0.2, 0.0},    {10000, 1.1, 0.1, 0.0},
         {150000, 1.05, 0.0, 0.03}, {10, 1.0, 0.2, 0.0},    {4000, 1.1, 0.1, 0.0},
         {2000, 1.1, 0.0, 0.44},    {4, 1.0, 0.1, 0.44},    {180000, 1.05, 0.1, 0.03},
         {15, 1.0, 0.0, 0.76},      {15, 1.0, 0.2, 0.0},    {50000, 1.1, 0.1, 0.03},
         {80, 1.2, 0.1, 0.44},      {40000, 1.1, 0.0, 0.44}}};

// Pairs with a field-aware rank-4 interaction: user x ad, ad x C6, C4 x C8, C10 x C14, C5 x C17.
inline constexpr std::array<click_interaction, 5> click_interactions{
    {{0, 1, 0.5}, {1, 5, 0.6}, {3, 7, 0.6}, {9, 13, 0.5}, {4, 16, 0.5}}};

inline constexpr std::size_t click_interaction_rank = 4;

// Domain tags that keep the hash streams of effects, values and rows apart.
inline constexpr std::uint64_t click_effect_stream = 0x6566666563747321ULL; // "effects!"
inline constexpr std::uint64_t click_value_stream = 0x76616c7565732121ULL;  // "values!!"
inline constexpr std::uint64_t click_latent_stream = 0x6c6174656e747321ULL; // "latents!"
inline constexpr std::uint64_t click_drift_stream = 0x6472696674656421ULL;  // "drifted!"
inline constexpr std::uint64_t click_row_stream = 0x726f777321212121ULL;    // "rows!!!!"

/// A number of mean 0 and variance 1, approximately normal, from 64 random bits: the Irwin–Hall
/// sum of the four 16-bit quarters as uniforms, centred and scaled by √3 (bounded by ±2√3 ≈ 3.46;
/// its density is within 0.015 of the normal density everywhere). No transcendental function,
/// so the generator spends its time on the Zipf draws, and the result is the same on every
/// platform. Pure: the same bits give the same number.
[[nodiscard]] inline double normal_from_bits(std::uint64_t bits) noexcept {
  const double sum = static_cast<double>((bits & 0xffff) + ((bits >> 16) & 0xffff) +
                                         ((bits >> 32) & 0xffff) + (bits >> 48)) +
                     2.0; // each quarter as (q + 1/2) / 2^16, a uniform on (0, 1)
  return (sum * 0x1.0p-16 - 2.0) * std::numbers::sqrt3;
}

[[nodiscard]] inline double sigmoid(double z) noexcept {
  return z >= 0.0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
}

} // namespace detail

/// The generator: the ground-truth click model of the file comment, with random access to any
/// row (`record(i)`, pure) and a streaming `data::source` interface (`read`, which advances a
/// cursor). Memory is O(1) per record (no tables: effects are hashes of their values).
/// `record` is thread-safe; `read` is not (one cursor per object; copy the object per thread).
/// Complexity: O(39 + pairs · rank) per record.
class synthetic_click_log : public data_source_tag {
public:
  using config = synthetic_click_log_config;
  using record_type = synthetic_click;

  /// Validates `cfg` (throws `config_error` naming the field).
  explicit synthetic_click_log(config cfg = {})
      : cfg_(validated(cfg))
      , zipf_(popularity_laws(cfg_, std::make_index_sequence<criteo_record::categorical_count>{})) {
    drift_start_ = cfg_.drift_fraction > 0.0
                       ? static_cast<std::uint64_t>(std::floor(static_cast<double>(cfg_.rows) *
                                                               (1.0 - cfg_.drift_fraction)))
                       : cfg_.rows;
  }

  [[nodiscard]] const config& settings() const noexcept { return cfg_; }
  /// The number of rows, `settings().rows`.
  [[nodiscard]] std::uint64_t size() const noexcept { return cfg_.rows; }
  /// The first row of the drifted part (`size()` when there is no drift).
  [[nodiscard]] std::uint64_t drift_start() const noexcept { return drift_start_; }
  /// The number of distinct values categorical field `f` (0 = `C1`) takes.
  [[nodiscard]] std::uint64_t cardinality(std::size_t f) const noexcept {
    return f == 2 ? cfg_.positions : zipf_[f].n();
  }
  /// The Zipf law of categorical field `f` (0 = `C1`; `C3`, the position, is not Zipf).
  [[nodiscard]] const zipf_distribution& popularity(std::size_t f) const noexcept {
    return zipf_[f];
  }
  /// The 32-bit value written in categorical field `f` for the value of rank `rank` (from 1).
  /// A bijection of the rank for a given field and seed would need a table; a hash is enough:
  /// two ranks share a value with probability 2^-32.
  [[nodiscard]] std::uint32_t category_value(std::size_t f, std::uint64_t rank) const noexcept {
    return static_cast<std::uint32_t>(
        detail::splitmix64::hash(cfg_.seed ^ detail::click_value_stream, (rank << 5) | f));
  }

  /// Row `i` (`i < size()`), a pure function of the config and `i`.
  [[nodiscard]] synthetic_click record(std::uint64_t i) const {
    synthetic_click c;
    generate(i, c);
    return c;
  }

  /// Writes row `i` into `out` (reusing it; allocation-free).
  void generate(std::uint64_t i, synthetic_click& out) const {
    detail::splitmix64 rng(detail::splitmix64::hash(cfg_.seed ^ detail::click_row_stream, i));
    out.row = i;
    out.drifted = i >= drift_start_;
    const double frac =
        cfg_.rows > 1 ? static_cast<double>(i) / static_cast<double>(cfg_.rows - 1) : 0.0;
    const std::int64_t offset =
        static_cast<std::int64_t>(i) * cfg_.mean_gap_us +
        static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(cfg_.mean_gap_us)));
    out.time = event_time::from_micros(cfg_.start_time_us + offset);
    const std::int64_t day_us = 86'400'000'000LL;
    const double hour =
        static_cast<double>(((cfg_.start_time_us + offset) % day_us + day_us) % day_us) / 3.6e9;
    double eta = cfg_.base_logit + cfg_.time_trend * (frac - 0.5) +
                 cfg_.daily_amplitude * std::sin(2.0 * std::numbers::pi * hour / 24.0);

    for (std::size_t j = 0; j < criteo_record::integer_count; ++j) {
      const auto& spec = detail::click_numeric_fields[j];
      const double z = detail::normal_from_bits(rng.next());
      if (rng.uniform() < spec.missing_rate) {
        out.features.integers[j].reset();
        eta += cfg_.main_effect_scale * spec.missing_effect;
      } else {
        out.features.integers[j] =
            static_cast<std::int64_t>(std::floor(std::exp(spec.mu + spec.sd * z)));
        eta += cfg_.main_effect_scale * spec.beta * z;
      }
    }

    std::array<std::uint64_t, criteo_record::categorical_count> rank{};
    for (std::size_t f = 0; f < criteo_record::categorical_count; ++f) {
      const auto& spec = detail::click_categorical_fields[f];
      if (f == 2) {
        rank[f] = draw_position(rng);
      } else {
        rank[f] = zipf_[f](rng);
        if (f == 1 && out.drifted && cfg_.drift_strength > 0.0) {
          rank[f] = (rank[f] - 1 + cfg_.ads / 2) % cfg_.ads + 1; // new ads become popular
        }
      }
      if (spec.missing_rate > 0.0 && rng.uniform() < spec.missing_rate) {
        rank[f] = 0;
        out.features.categories[f].reset();
        continue;
      }
      out.features.categories[f] = category_value(f, rank[f]);
      if (spec.sigma > 0.0) {
        double w = spec.sigma * effect(detail::click_effect_stream, f, rank[f]);
        if (f == 1 && out.drifted) {
          const double a = cfg_.drift_strength;
          w = (1.0 - a) * w + a * spec.sigma * effect(detail::click_drift_stream, f, rank[f]);
        }
        eta += cfg_.main_effect_scale * w;
      }
    }
    for (std::size_t p = 0; p < detail::click_interactions.size(); ++p) {
      const auto& pair = detail::click_interactions[p];
      const std::uint64_t ra = rank[pair.field_a], rb = rank[pair.field_b];
      if (ra == 0 || rb == 0 || cfg_.interaction_scale == 0.0) {
        continue; // a missing value takes no part in the pair
      }
      double dot = 0.0;
      for (std::size_t d = 0; d < detail::click_interaction_rank; ++d) {
        dot += latent(p, 0, ra, d) * latent(p, 1, rb, d);
      }
      eta += cfg_.interaction_scale * pair.scale * dot /
             std::sqrt(static_cast<double>(detail::click_interaction_rank));
    }
    eta -= cfg_.position_bias * std::log(static_cast<double>(rank[2]));

    out.user = rank[0];
    out.ad = rank[1];
    out.position = static_cast<std::uint32_t>(rank[2]);
    out.true_logit = eta;
    out.true_probability = detail::sigmoid(eta);
    out.features.label = rng.uniform() < out.true_probability ? 1.0f : 0.0f;
  }

  /// The next records from the cursor (which starts at row 0): fills `out` and returns how many
  /// were written, 0 at the end of the log.
  std::size_t read(std::span<synthetic_click> out) {
    std::size_t n = 0;
    while (n < out.size() && cursor_ < cfg_.rows) {
      generate(cursor_++, out[n++]);
    }
    return n;
  }
  /// Moves the cursor to row `i` (clamped to `size()`).
  void seek(std::uint64_t i) noexcept { cursor_ = std::min(i, cfg_.rows); }
  /// The row `read` returns next.
  [[nodiscard]] std::uint64_t position() const noexcept { return cursor_; }

private:
  [[nodiscard]] static const config& validated(const config& cfg) {
    cfg.validate();
    return cfg;
  }
  // One Zipf law per categorical field; C3 (the position) gets a placeholder, never sampled.
  template <std::size_t... F>
  [[nodiscard]] static std::array<zipf_distribution, sizeof...(F)>
  popularity_laws(const config& cfg, std::index_sequence<F...>) {
    const auto law = [&cfg](std::size_t f) {
      const auto& spec = detail::click_categorical_fields[f];
      if (f == 2) {
        return zipf_distribution(1, 1.0);
      }
      const std::uint64_t capped = cfg.max_cardinality == 0
                                       ? spec.cardinality
                                       : std::min(spec.cardinality, cfg.max_cardinality);
      return zipf_distribution(f == 0 ? cfg.users : f == 1 ? cfg.ads : capped, spec.zipf_exponent);
    };
    return {law(F)...};
  }
  // P(position = k) ∝ decay^(k-1), k = 1..positions, by inverting the truncated geometric CDF.
  [[nodiscard]] std::uint64_t draw_position(detail::splitmix64& rng) const noexcept {
    const double u = rng.uniform();
    const double d = cfg_.position_decay;
    if (d >= 1.0) {
      return 1 + static_cast<std::uint64_t>(u * cfg_.positions);
    }
    const double tail = 1.0 - std::pow(d, static_cast<double>(cfg_.positions));
    const double k = std::floor(std::log1p(-u * tail) / std::log(d));
    return 1 + std::min(static_cast<std::uint64_t>(k), std::uint64_t{cfg_.positions} - 1);
  }
  [[nodiscard]] double effect(std::uint64_t stream, std::size_t f,
                              std::uint64_t rank) const noexcept {
    return detail::normal_from_bits(detail::splitmix64::hash(cfg_.seed ^ stream, (rank << 5) | f));
  }
  [[nodiscard]] double latent(std::size_t pair, std::size_t side, std::uint64_t rank,
                              std::size_t d) const noexcept {
    const std::uint64_t key = (((rank << 3) | pair) << 3 | (side << 2) | d);
    return detail::normal_from_bits(
        detail::splitmix64::hash(cfg_.seed ^ detail::click_latent_stream, key));
  }

  config cfg_;
  std::array<zipf_distribution, criteo_record::categorical_count> zipf_;
  std::uint64_t drift_start_ = 0;
  std::uint64_t cursor_ = 0;
};

static_assert(source<synthetic_click_log>);

/// The numeric preprocessing of the Criteo winners (Juan, Zhuang, Chin and Lin, "3 Idiots'
/// approach for display advertising challenge", 2014, and libffm's Criteo scripts): an integer
/// `v > 2` becomes `floor(ln(v)²)`, smaller ones (including negatives) stay themselves, and the
/// result is treated as a category. It keeps counts' order of magnitude and makes a linear
/// model's effect of a count a step function of it.
[[nodiscard]] inline std::int64_t criteo_numeric_bucket(std::int64_t v) noexcept {
  if (v <= 2) {
    return v;
  }
  const double l = std::log(static_cast<double>(v));
  return static_cast<std::int64_t>(std::floor(l * l));
}

/// Settings of a `click_log_hasher`.
struct click_log_hasher_config {
  /// 2^bits buckets, 1 to 32.
  std::uint32_t bits = 20;
  /// The hash seed (a different seed is an independent hash function).
  std::uint64_t seed = 0;

  friend bool operator==(const click_log_hasher_config&, const click_log_hasher_config&) = default;

  /// Throws `config_error` naming the field.
  void validate() const {
    if (bits < 1 || bits > 32) {
      throw config_error("click_log_hasher.bits", "an integer from 1 to 32");
    }
  }
  [[nodiscard]] nlohmann::json to_json() const {
    return nlohmann::json{{"bits", bits}, {"seed", seed}};
  }
  /// Reads a config written by `to_json` (absent keys keep their defaults), validated.
  [[nodiscard]] static click_log_hasher_config from_json(const nlohmann::json& j) {
    detail::config_reader r(j, "click_log_hasher");
    click_log_hasher_config c;
    r.read("bits", c.bits, std::uint32_t{1}, std::uint32_t{32});
    r.read("seed", c.seed);
    r.finish();
    c.validate();
    return c;
  }
};

/// The usual Criteo preprocessing as a feature transform: each of the 39 columns becomes exactly
/// one hashed feature with value 1 and field id = column (0..12 for `I1`..`I13`, 13..38 for
/// `C1`..`C26`): integers through `criteo_numeric_bucket`, categories by their 32-bit value, and
/// a missing column as its own "missing" feature of that field. Hashing is `feature_hasher`'s
/// (XXH3, one namespace per column named as Criteo names it); an integer bucket hashes as its
/// 8 bytes, a category as its value, "missing" as 2^32 + 1 (neither can produce it). Two columns
/// of a row may share a bucket; both entries stay (libffm keeps them; `merge_duplicate_indices`
/// sums them for LIBSVM). Thread-safe; O(39) per row.
class click_log_hasher : public feature_transform_tag {
public:
  using config = click_log_hasher_config;
  using input_type = const criteo_record&;
  using output_type = sparse_row;

  /// The 64-bit id that stands for a missing column (not a bucket of a real integer, not a
  /// 32-bit category).
  static constexpr std::uint64_t missing_id = (std::uint64_t{1} << 32) + 1;

  explicit click_log_hasher(config cfg = {})
      : cfg_(cfg)
      , hasher_(make_hasher(cfg)) {}

  /// Replaces `out` by the row's 39 entries (field, bucket, 1) in column order; its label is
  /// the record's (0 when absent).
  void encode(const criteo_record& r, sparse_row& out) const {
    out.clear();
    out.label = r.label.value_or(0.0f);
    std::array<std::uint64_t, column_count> ids{};
    for (std::size_t j = 0; j < criteo_record::integer_count; ++j) {
      ids[j] = r.integers[j] ? static_cast<std::uint64_t>(criteo_numeric_bucket(*r.integers[j]))
                             : missing_id;
    }
    for (std::size_t f = 0; f < criteo_record::categorical_count; ++f) {
      ids[criteo_record::integer_count + f] = r.categories[f] ? *r.categories[f] : missing_id;
    }
    hasher_.encode_ids(ids, out);
  }
  /// The encoded record as a new row.
  [[nodiscard]] output_type operator()(input_type r) const {
    sparse_row out;
    encode(r, out);
    return out;
  }
  /// Nothing to learn: hashing is stateless. Returns the number of records seen.
  std::size_t fit(std::span<const criteo_record> rows) const noexcept { return rows.size(); }

  /// 2^bits, the dimension of the feature space.
  [[nodiscard]] std::uint64_t dimension() const noexcept { return hasher_.dimension(); }
  /// 39: one field per column.
  static constexpr std::size_t column_count =
      criteo_record::integer_count + criteo_record::categorical_count;

  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }
  /// `{"transform": "click_log_hasher", "config": {...}}`.
  [[nodiscard]] nlohmann::json to_json() const {
    return nlohmann::json{{"transform", "click_log_hasher"}, {"config", cfg_.to_json()}};
  }
  /// Loads a hasher written by `to_json`; throws `config_error` naming what is wrong.
  [[nodiscard]] static click_log_hasher from_json(const nlohmann::json& j) {
    detail::config_reader r(j, "click_log_hasher");
    r.require_transform("click_log_hasher");
    click_log_hasher h(config::from_json(r.at("config")));
    r.finish();
    return h;
  }

private:
  [[nodiscard]] static feature_hasher make_hasher(const config& cfg) {
    cfg.validate();
    feature_hasher_config h;
    h.bits = cfg.bits;
    h.seed = cfg.seed;
    h.output_fields = true;
    for (std::size_t c = 0; c < column_count; ++c) {
      h.fields.push_back(detail::criteo_column_name(c));
    }
    return feature_hasher(std::move(h));
  }

  config cfg_;
  feature_hasher hasher_;
};

/// Sorts `row`'s entries by index and merges entries that share an index into one whose value is
/// their sum (the hashed feature map's definition: Weinberger et al. 2009), dropping the fields
/// (a merged entry has no single field). LIBSVM readers want strictly increasing indices.
/// Returns the number of entries merged away. O(nnz log nnz).
inline std::size_t merge_duplicate_indices(sparse_row& row) {
  const std::size_t n = row.nnz();
  std::vector<std::pair<std::uint32_t, float>> entries(n);
  for (std::size_t i = 0; i < n; ++i) {
    entries[i] = {row.indices[i], row.values[i]};
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  row.indices.clear();
  row.values.clear();
  row.fields.clear();
  for (const auto& [index, value] : entries) {
    if (!row.indices.empty() && row.indices.back() == index) {
      row.values.back() += value;
    } else {
      row.push_back(index, value);
    }
  }
  return n - row.nnz();
}

namespace detail {

inline void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}
inline void append_number(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}
// The shortest text that reads back as the same float.
inline void append_number(std::string& out, float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

} // namespace detail

/// Appends `row` as one LIBSVM / libFM line, `label index:value ...` and a newline, indices
/// counted from `index_base` (1 for LIBSVM, 0 for libFM); the label is written as a number (`1`,
/// `0`). Writes entries as they are: call `merge_duplicate_indices` first for a strict reader.
inline void append_libsvm_line(std::string& out, sparse_row_view row,
                               std::uint32_t index_base = 1) {
  detail::append_number(out, row.label);
  for (std::size_t i = 0; i < row.nnz(); ++i) {
    out += ' ';
    detail::append_number(out, std::uint64_t{row.indices[i]} + index_base);
    out += ':';
    detail::append_number(out, row.values[i]);
  }
  out += '\n';
}

/// Appends `row` (which must have fields) as one libffm line, `label field:index:value ...` and a
/// newline, fields and indices counted from 0 as libffm writes them. Throws `input_error` when
/// the row has entries but no fields.
inline void append_libffm_line(std::string& out, sparse_row_view row) {
  if (row.nnz() != 0 && row.fields.size() != row.nnz()) {
    throw input_error({"<append_libffm_line row>"}, "one field per entry",
                      std::to_string(row.fields.size()) + " fields");
  }
  detail::append_number(out, row.label);
  for (std::size_t i = 0; i < row.nnz(); ++i) {
    out += ' ';
    detail::append_number(out, std::uint64_t{row.fields[i]});
    out += ':';
    detail::append_number(out, std::uint64_t{row.indices[i]});
    out += ':';
    detail::append_number(out, row.values[i]);
  }
  out += '\n';
}

/// Appends `r` as one line of the Criteo TSV format (`criteo.hpp`): the label when present (`0`
/// or `1`), then `I1`..`I13` in base 10 and `C1`..`C26` as 8 lowercase hex digits, tab-separated,
/// a missing column empty; then a newline. `criteo_source` reads the line back into `r`.
inline void append_criteo_tsv_line(std::string& out, const criteo_record& r) {
  static constexpr char hex[] = "0123456789abcdef";
  if (r.label) {
    out += *r.label > 0.0f ? '1' : '0';
    out += '\t';
  }
  for (std::size_t j = 0; j < criteo_record::integer_count; ++j) {
    if (r.integers[j]) {
      detail::append_number(out, *r.integers[j]);
    }
    out += '\t';
  }
  for (std::size_t f = 0; f < criteo_record::categorical_count; ++f) {
    if (r.categories[f]) {
      const std::uint32_t v = *r.categories[f];
      for (int s = 28; s >= 0; s -= 4) {
        out += hex[(v >> s) & 0xf];
      }
    }
    out += f + 1 == criteo_record::categorical_count ? '\n' : '\t';
  }
}

} // namespace data
MLSD_END_NAMESPACE
