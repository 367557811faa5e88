/// @file
/// Per-coordinate optimizers for sparse models: SGD, AdaGrad and FTRL-Proximal, as small policies
/// that update one weight (and its optimizer state) from one gradient. A sparse model calls them
/// for the coordinates an example touches only, so a step costs O(nnz), whatever the table size.
///
/// | policy          | state per weight | step                                            | pick it
/// for |
/// |-----------------|------------------|-------------------------------------------------|-------------|
/// | `sgd`           | none             | `w -= η (g + λ2 w)`, then the L1 prox           | a
/// baseline  | | `adagrad`       | `n = Σ g²`       | `w -= η g / sqrt(n + ε)`, then the L1 prox |
/// FM / FFM    | | `ftrl_proximal` | `z`, `n`         | closed-form `w(z, n)`; exact zeros under L1
/// | sparse online ads models |
///
/// Regularisation is applied to the coordinates a step touches ("lazy" regularisation, as in
/// libffm, xLearn and Vowpal Wabbit): a feature that is absent from an example is not shrunk by
/// it. Every step takes a `regularise` flag that a model clears for its bias. The configs
/// validate on construction (throwing `mlsd::config_error` naming the field) and round-trip
/// through JSON; `optimizer_config` holds the choice among them (`--optimizer sgd|adagrad|ftrl`).
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

MLSD_BEGIN_NAMESPACE
namespace model {

/// Which optimizer a model trains with.
enum class optimizer_kind { sgd, adagrad, ftrl };

/// "sgd", "adagrad" or "ftrl": the names of configs, model files and the CLI's `--optimizer`.
[[nodiscard]] constexpr std::string_view to_string(optimizer_kind k) noexcept {
  switch (k) {
  case optimizer_kind::sgd:
    return "sgd";
  case optimizer_kind::adagrad:
    return "adagrad";
  case optimizer_kind::ftrl:
    return "ftrl";
  }
  return "sgd";
}

/// Parses "sgd", "adagrad" or "ftrl" (also "ftrl_proximal").
/// @throws mlsd::config_error naming `field` for anything else.
[[nodiscard]] inline optimizer_kind parse_optimizer_kind(std::string_view name,
                                                         std::string_view field = "optimizer") {
  if (name == "sgd") {
    return optimizer_kind::sgd;
  }
  if (name == "adagrad") {
    return optimizer_kind::adagrad;
  }
  if (name == "ftrl" || name == "ftrl_proximal") {
    return optimizer_kind::ftrl;
  }
  throw config_error(std::string(field), "\"sgd\", \"adagrad\" or \"ftrl\"");
}

namespace detail {

inline void require_positive(double v, std::string_view owner, std::string_view name) {
  if (!(v > 0.0 && std::isfinite(v))) {
    throw config_error(data::detail::field_path(owner, name), "a finite number > 0");
  }
}
inline void require_non_negative(double v, std::string_view owner, std::string_view name) {
  if (!(v >= 0.0 && std::isfinite(v))) {
    throw config_error(data::detail::field_path(owner, name), "a finite number >= 0");
  }
}

// The L1 proximal step (soft thresholding): the minimiser of `(w - u)^2 / 2 + t |w|`, which is
// exactly 0 when |u| <= t. FOBOS (Duchi and Singer 2009) for SGD, composite mirror descent for
// AdaGrad (Duchi, Hazan and Singer 2011, eq. 24).
[[nodiscard]] inline float soft_threshold(float u, float t) noexcept {
  const float shrunk = std::fabs(u) - t;
  return shrunk > 0.0f ? std::copysign(shrunk, u) : 0.0f;
}

} // namespace detail

// ---------------------------------------------------------------------------------------------
// SGD
// ---------------------------------------------------------------------------------------------

/// The settings of plain SGD.
struct sgd_config {
  /// η, the step size (scaled by the trainer's schedule multiplier).
  float learning_rate = 0.1f;
  /// λ1: L1 strength (a proximal step, so weights become exactly 0).
  float l1 = 0.0f;
  /// λ2: L2 strength.
  float l2 = 0.0f;

  /// @throws mlsd::config_error naming `sgd.<field>`.
  void validate() const {
    detail::require_positive(learning_rate, "sgd", "learning_rate");
    detail::require_non_negative(l1, "sgd", "l1");
    detail::require_non_negative(l2, "sgd", "l2");
  }
  friend bool operator==(const sgd_config&, const sgd_config&) = default;
};

/// JSON: `{"learning_rate": η, "l1": λ1, "l2": λ2}`.
inline void to_json(nlohmann::json& j, const sgd_config& c) {
  j = nlohmann::json{{"learning_rate", c.learning_rate}, {"l1", c.l1}, {"l2", c.l2}};
}
/// Reads `to_json`'s form (missing keys keep their defaults, unknown keys are errors) and
/// validates it. @throws mlsd::config_error naming the field.
inline void from_json(const nlohmann::json& j, sgd_config& c) {
  data::detail::config_reader r(j, "sgd");
  sgd_config out;
  r.read("learning_rate", out.learning_rate);
  r.read("l1", out.l1);
  r.read("l2", out.l2);
  r.finish();
  out.validate();
  c = out;
}

/// Stochastic gradient descent on one coordinate: `u = w - η m (g + λ2 w)`, then
/// `w = sign(u) max(|u| - η m λ1, 0)` (FOBOS, Duchi and Singer 2009), with `m` the schedule's
/// multiplier. No state. Thread-safe (const).
class sgd {
public:
  using config = sgd_config;
  static constexpr optimizer_kind kind = optimizer_kind::sgd;
  /// Floats of optimizer state per weight.
  static constexpr std::size_t state_size = 0;

  /// @throws mlsd::config_error for invalid settings.
  explicit sgd(const config& c = {})
      : config_(c) {
    config_.validate();
  }
  [[nodiscard]] const config& settings() const noexcept { return config_; }

  /// One step of weight `w` along the loss gradient `g` (regularisation not included: the step
  /// adds it unless `regularise` is false, as for a bias).
  void step(float& w, float g, float rate_multiplier, bool regularise = true) const noexcept {
    const float eta = config_.learning_rate * rate_multiplier;
    if (!regularise) {
      w -= eta * g;
      return;
    }
    const float u = w - eta * (g + config_.l2 * w);
    w = config_.l1 > 0.0f ? detail::soft_threshold(u, eta * config_.l1) : u;
  }

  /// `step` on each coordinate of a block (an FM factor vector): `w[i]` with gradient `g[i]`.
  /// Precondition: equal sizes.
  void step(std::span<float> w, std::span<const float> g, float rate_multiplier,
            bool regularise = true) const noexcept {
    for (std::size_t i = 0; i < w.size(); ++i) {
      step(w[i], g[i], rate_multiplier, regularise);
    }
  }

private:
  config config_;
};

// ---------------------------------------------------------------------------------------------
// AdaGrad
// ---------------------------------------------------------------------------------------------

/// The settings of AdaGrad.
struct adagrad_config {
  /// η, the base step size (scaled by the trainer's schedule multiplier).
  float learning_rate = 0.1f;
  /// λ1: L1 strength (a proximal step scaled by the coordinate's rate; exact zeros).
  float l1 = 0.0f;
  /// λ2: L2 strength (added to the gradient before it is accumulated).
  float l2 = 0.0f;
  /// ε, added *inside* the square root: `sqrt(n + ε)`. The same as starting the accumulator at
  /// ε (TensorFlow's `initial_accumulator_value`; libffm starts it at 1). It bounds the first
  /// step of a coordinate by `η |g| / sqrt(g² + ε)` < η.
  float epsilon = 1e-6f;

  /// @throws mlsd::config_error naming `adagrad.<field>`.
  void validate() const {
    detail::require_positive(learning_rate, "adagrad", "learning_rate");
    detail::require_non_negative(l1, "adagrad", "l1");
    detail::require_non_negative(l2, "adagrad", "l2");
    detail::require_positive(epsilon, "adagrad", "epsilon");
  }
  friend bool operator==(const adagrad_config&, const adagrad_config&) = default;
};

/// JSON: `{"learning_rate": η, "l1": λ1, "l2": λ2, "epsilon": ε}`.
inline void to_json(nlohmann::json& j, const adagrad_config& c) {
  j = nlohmann::json{
      {"learning_rate", c.learning_rate}, {"l1", c.l1}, {"l2", c.l2}, {"epsilon", c.epsilon}};
}
/// Reads `to_json`'s form (missing keys keep their defaults, unknown keys are errors) and
/// validates it. @throws mlsd::config_error naming the field.
inline void from_json(const nlohmann::json& j, adagrad_config& c) {
  data::detail::config_reader r(j, "adagrad");
  adagrad_config out;
  r.read("learning_rate", out.learning_rate);
  r.read("l1", out.l1);
  r.read("l2", out.l2);
  r.read("epsilon", out.epsilon);
  r.finish();
  out.validate();
  c = out;
}

/// AdaGrad on one coordinate (Duchi, Hazan and Singer 2011, diagonal version): with
/// `g' = g + λ2 w`, `n += g'²`, `η_i = η m / sqrt(n + ε)`, `u = w - η_i g'`, then
/// `w = sign(u) max(|u| - η_i λ1, 0)`. State: the sum of squared gradients `n` (starts at 0).
/// Frequent features take ever smaller steps, rare ones keep large steps: the reason it suits
/// hashed sparse data and FM / FFM. Thread-safe (const).
class adagrad {
public:
  using config = adagrad_config;
  static constexpr optimizer_kind kind = optimizer_kind::adagrad;
  static constexpr std::size_t state_size = 1;

  /// @throws mlsd::config_error for invalid settings.
  explicit adagrad(const config& c = {})
      : config_(c) {
    config_.validate();
  }
  [[nodiscard]] const config& settings() const noexcept { return config_; }

  /// One step of weight `w`, with accumulator `n`, along the loss gradient `g`.
  void step(float& w, float& n, float g, float rate_multiplier,
            bool regularise = true) const noexcept {
    if (regularise) {
      g += config_.l2 * w;
    }
    n += g * g;
    const float eta = config_.learning_rate * rate_multiplier / std::sqrt(n + config_.epsilon);
    const float u = w - eta * g;
    w = regularise && config_.l1 > 0.0f ? detail::soft_threshold(u, eta * config_.l1) : u;
  }

  /// `step` on each coordinate of a block: `w[i]`, `n[i]`, `g[i]`. Precondition: equal sizes.
  void step(std::span<float> w, std::span<float> n, std::span<const float> g, float rate_multiplier,
            bool regularise = true) const noexcept {
    for (std::size_t i = 0; i < w.size(); ++i) {
      step(w[i], n[i], g[i], rate_multiplier, regularise);
    }
  }

private:
  config config_;
};

// ---------------------------------------------------------------------------------------------
// FTRL-Proximal
// ---------------------------------------------------------------------------------------------

/// The settings of FTRL-Proximal (McMahan et al. 2013, Algorithm 1).
struct ftrl_config {
  /// α: the per-coordinate rate is `α / (β + sqrt(n))`.
  float alpha = 0.1f;
  /// β: smooths the rate while `n` is small (1 works well, says the paper).
  float beta = 1.0f;
  /// λ1: L1 strength. Weights whose |z| ≤ λ1 are exactly 0: a sparse model. z sums gradients
  /// over every example seen, so λ1 scales with the amount of data.
  float l1 = 1.0f;
  /// λ2: L2 strength.
  float l2 = 1.0f;

  /// @throws mlsd::config_error naming `ftrl.<field>`.
  void validate() const {
    detail::require_positive(alpha, "ftrl", "alpha");
    detail::require_non_negative(beta, "ftrl", "beta");
    detail::require_non_negative(l1, "ftrl", "l1");
    detail::require_non_negative(l2, "ftrl", "l2");
    if (beta == 0.0f && l2 == 0.0f) {
      throw config_error("ftrl.beta", "a number > 0 when ftrl.l2 is 0 (else w divides by 0)");
    }
  }
  friend bool operator==(const ftrl_config&, const ftrl_config&) = default;
};

/// JSON: `{"alpha": α, "beta": β, "l1": λ1, "l2": λ2}`.
inline void to_json(nlohmann::json& j, const ftrl_config& c) {
  j = nlohmann::json{{"alpha", c.alpha}, {"beta", c.beta}, {"l1", c.l1}, {"l2", c.l2}};
}
/// Reads `to_json`'s form (missing keys keep their defaults, unknown keys are errors) and
/// validates it. @throws mlsd::config_error naming the field.
inline void from_json(const nlohmann::json& j, ftrl_config& c) {
  data::detail::config_reader r(j, "ftrl");
  ftrl_config out;
  r.read("alpha", out.alpha);
  r.read("beta", out.beta);
  r.read("l1", out.l1);
  r.read("l2", out.l2);
  r.finish();
  out.validate();
  c = out;
}

/// FTRL-Proximal on one coordinate (McMahan, Holt, Sculley et al., "Ad click prediction: a view
/// from the trenches", KDD 2013, Algorithm 1). State: `z` (the adjusted sum of gradients) and
/// `n` (the sum of squared gradients), both starting at 0. The weight is not stored: it is the
/// closed form
///
///     w = 0                                                  if |z| ≤ λ1
///     w = -(z - sign(z) λ1) / ((β + sqrt(n)) / α + λ2)       otherwise,
///
/// and a step with gradient g (taken at that w) is
///
///     σ = (sqrt(n + g²) - sqrt(n)) / α;   z += g - σ w;   n += g².
///
/// The per-coordinate rate `α / (β + sqrt(n))` already decays, so the trainer's schedule
/// multiplier does not apply to FTRL. Thread-safe (const).
class ftrl_proximal {
public:
  using config = ftrl_config;
  static constexpr optimizer_kind kind = optimizer_kind::ftrl;
  static constexpr std::size_t state_size = 2;

  /// @throws mlsd::config_error for invalid settings.
  explicit ftrl_proximal(const config& c = {})
      : config_(c) {
    config_.validate();
  }
  [[nodiscard]] const config& settings() const noexcept { return config_; }

  /// The weight of a coordinate with state `(z, n)`; `regularise = false` (a bias) uses
  /// λ1 = λ2 = 0.
  [[nodiscard]] float weight(float z, float n, bool regularise = true) const noexcept {
    const float l1 = regularise ? config_.l1 : 0.0f;
    const float l2 = regularise ? config_.l2 : 0.0f;
    if (std::fabs(z) <= l1) {
      return 0.0f;
    }
    return -(z - std::copysign(l1, z)) / ((config_.beta + std::sqrt(n)) / config_.alpha + l2);
  }

  /// One step of the coordinate with state `(z, n)`, whose current weight is `w`
  /// (`weight(z, n)`, passed in because the forward pass has just computed it), along the loss
  /// gradient `g`.
  void step(float& z, float& n, float w, float g) const noexcept {
    const float n_new = n + g * g;
    const float sigma = (std::sqrt(n_new) - std::sqrt(n)) / config_.alpha;
    z += g - sigma * w;
    n = n_new;
  }

private:
  config config_;
};

// ---------------------------------------------------------------------------------------------
// The choice among them
// ---------------------------------------------------------------------------------------------

/// Which optimizer, and the settings of each (only the chosen one's matter).
struct optimizer_config {
  optimizer_kind kind = optimizer_kind::ftrl;
  sgd_config sgd{};
  adagrad_config adagrad{};
  ftrl_config ftrl{};

  /// Validates the chosen optimizer's settings. @throws mlsd::config_error naming the field.
  void validate() const {
    switch (kind) {
    case optimizer_kind::sgd:
      sgd.validate();
      break;
    case optimizer_kind::adagrad:
      adagrad.validate();
      break;
    case optimizer_kind::ftrl:
      ftrl.validate();
      break;
    }
  }
  friend bool operator==(const optimizer_config&, const optimizer_config&) = default;
};

/// Floats of optimizer state per weight of `kind` (0, 1 or 2).
[[nodiscard]] constexpr std::size_t state_size(optimizer_kind kind) noexcept {
  switch (kind) {
  case optimizer_kind::adagrad:
    return adagrad::state_size;
  case optimizer_kind::ftrl:
    return ftrl_proximal::state_size;
  case optimizer_kind::sgd:
    break;
  }
  return sgd::state_size;
}

/// JSON: the chosen optimizer's settings plus its name, e.g.
/// `{"kind": "ftrl", "alpha": 0.1, "beta": 1, "l1": 1, "l2": 1}`.
inline void to_json(nlohmann::json& j, const optimizer_config& c) {
  switch (c.kind) {
  case optimizer_kind::sgd:
    j = c.sgd;
    break;
  case optimizer_kind::adagrad:
    j = c.adagrad;
    break;
  case optimizer_kind::ftrl:
    j = c.ftrl;
    break;
  }
  j["kind"] = std::string(to_string(c.kind));
}

/// Reads `to_json`'s form: `kind` is required, the chosen optimizer's keys are optional
/// (defaults), any other key is an error. @throws mlsd::config_error naming the field
/// (`optimizer.kind`, `optimizer.alpha`, ...).
inline void from_json(const nlohmann::json& j, optimizer_config& c) {
  static constexpr std::array<std::pair<optimizer_kind, std::string_view>, 3> names = {
      {{optimizer_kind::sgd, "sgd"},
       {optimizer_kind::adagrad, "adagrad"},
       {optimizer_kind::ftrl, "ftrl"}}};
  data::detail::config_reader r(j, "optimizer");
  optimizer_config out;
  r.require_enum("kind", out.kind, names);
  switch (out.kind) {
  case optimizer_kind::sgd:
    r.read("learning_rate", out.sgd.learning_rate);
    r.read("l1", out.sgd.l1);
    r.read("l2", out.sgd.l2);
    break;
  case optimizer_kind::adagrad:
    r.read("learning_rate", out.adagrad.learning_rate);
    r.read("l1", out.adagrad.l1);
    r.read("l2", out.adagrad.l2);
    r.read("epsilon", out.adagrad.epsilon);
    break;
  case optimizer_kind::ftrl:
    r.read("alpha", out.ftrl.alpha);
    r.read("beta", out.ftrl.beta);
    r.read("l1", out.ftrl.l1);
    r.read("l2", out.ftrl.l2);
    break;
  }
  r.finish();
  out.validate();
  c = out;
}

} // namespace model
MLSD_END_NAMESPACE
