/// @file
/// Logistic regression on sparse features (hashed buckets or raw LIBSVM indices): a bias plus one
/// weight per feature, trained per example by SGD, AdaGrad or FTRL-Proximal (model/optimizer.hpp)
/// with L1 / L2 regularisation. The workhorse of click prediction (McMahan et al. 2013) and the
/// baseline every other model of the library is compared with.
///
/// ```cpp
/// mlsd::model::logistic_regression lr({.features = 1u << 18});        // FTRL by default
/// mlsd::model::train(lr, train_rows, &valid_rows, {.epochs = 5});     // model/trainer.hpp
/// const float p_click = lr(row);                                      // a probability
/// ```
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/kernels/sparse.hpp>
#include <mlsd/model/loss.hpp>
#include <mlsd/model/model_file.hpp>
#include <mlsd/model/optimizer.hpp>
#include <mlsd/model/training.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace model {

/// The settings of a logistic regression.
struct logistic_regression_config {
  /// Weights in the table: hash buckets (e.g. 2^18 for `data::hashing_vectorizer`), or the
  /// largest LIBSVM index + 1 (stored from 0). Every feature index must be below it. At most
  /// 2^31 (the SIMD gather reads signed 32-bit indices).
  std::size_t features = std::size_t{1} << 20;
  /// `logistic` (a probability) or `squared` (then it is linear regression).
  loss_function loss = loss_function::logistic;
  /// The optimizer and its L1 / L2 strengths; FTRL-Proximal by default.
  optimizer_config optimizer{};

  /// @throws mlsd::config_error naming the field (`logistic_regression.features`, `ftrl.alpha`).
  void validate() const {
    if (features == 0 || features > (std::size_t{1} << 31)) {
      throw config_error("logistic_regression.features", "an integer from 1 to 2^31");
    }
    optimizer.validate();
  }
  friend bool operator==(const logistic_regression_config&,
                         const logistic_regression_config&) = default;
};

/// JSON: `{"features": n, "loss": "logistic", "optimizer": {"kind": "ftrl", ...}}`.
inline void to_json(nlohmann::json& j, const logistic_regression_config& c) {
  j = nlohmann::json{{"features", c.features},
                     {"loss", std::string(to_string(c.loss))},
                     {"optimizer", nlohmann::json(c.optimizer)}};
}
/// Reads `to_json`'s form (missing keys keep their defaults, unknown keys are errors) and
/// validates it. @throws mlsd::config_error naming the field.
inline void from_json(const nlohmann::json& j, logistic_regression_config& c) {
  data::detail::config_reader r(j, "logistic_regression");
  logistic_regression_config out;
  r.read("features", out.features, std::size_t{1}, std::size_t{1} << 31);
  std::string loss;
  if (r.read("loss", loss)) {
    out.loss = parse_loss_function(loss, "logistic_regression.loss");
  }
  if (const nlohmann::json* o = r.find("optimizer")) {
    out.optimizer = o->get<optimizer_config>();
  }
  r.finish();
  out.validate();
  c = out;
}

/// Logistic regression (or linear regression under the squared loss) on sparse rows:
/// `margin(x) = b + Σ_i w[x.indices[i]] · x.values[i]`, prediction `sigmoid(margin)`.
///
/// Storage, one contiguous vector (`parameters()`), `F = features`:
/// - SGD: `w[0..F)`, then the bias: F + 1 floats;
/// - AdaGrad: the same, then the F + 1 accumulators: 2 (F + 1) floats;
/// - FTRL: `(z, n)` pairs for features 0..F-1, then the bias's pair: 2 (F + 1) floats. The
///   weights are not stored: `margin` computes each active one from its pair (closed form,
///   McMahan et al. 2013), so an update touches one cache line per feature.
///
/// The bias is never regularised. Regularisation applies to the features an example touches
/// (see model/optimizer.hpp). FTRL ignores the trainer's learning-rate multiplier (its rates
/// already decay per coordinate); SGD and AdaGrad scale their learning rate by it.
///
/// Precondition of `margin`, `operator()`, `learn` and `update`: every index of the row is below
/// `feature_count()` (checked by `assert` only: this is the hot path). `model::train` checks a
/// whole data set once, before training, and throws `input_error` naming the first bad row.
///
/// Thread-safety: `margin` and `operator()` are const and safe to call concurrently; `learn`
/// is not, except in the trainer's Hogwild mode (it writes only its parameters, no scratch).
/// Complexity: O(nnz) per prediction or step (SGD / AdaGrad forward: `kernels::gather_dot`).
class logistic_regression : public scorer_tag, public trainable_tag {
public:
  using config = logistic_regression_config;
  using input_type = sparse_row_view;
  using output_type = float;
  using label_type = float;

  /// The name of this model in model files.
  static constexpr std::string_view model_type = "logistic_regression";

  /// A model with every weight 0 (and every optimizer state 0).
  /// @throws mlsd::config_error for invalid settings.
  explicit logistic_regression(const config& c = {})
      : config_(checked(c))
      , sgd_(active(optimizer_kind::sgd) ? c.optimizer.sgd : sgd_config{})
      , adagrad_(active(optimizer_kind::adagrad) ? c.optimizer.adagrad : adagrad_config{})
      , ftrl_(active(optimizer_kind::ftrl) ? c.optimizer.ftrl : ftrl_config{})
      , parameters_((c.features + 1) * (1 + (c.optimizer.kind == optimizer_kind::sgd ? 0 : 1)),
                    0.0f) {}

  /// The settings.
  [[nodiscard]] const config& settings() const noexcept { return config_; }
  /// The loss it minimises.
  [[nodiscard]] loss_function loss() const noexcept { return config_.loss; }
  /// The number of feature weights (`config::features`); the trainer checks indices against it.
  [[nodiscard]] std::size_t feature_count() const noexcept { return config_.features; }
  /// The optimizer it trains with.
  [[nodiscard]] optimizer_kind optimizer() const noexcept { return config_.optimizer.kind; }

  /// The raw score `b + w·x` (a logit under the logistic loss). Thread-safe.
  [[nodiscard]] float margin(sparse_row_view x) const noexcept {
    assert(indices_in_range(x));
    const std::size_t nnz = x.nnz();
    if (config_.optimizer.kind != optimizer_kind::ftrl) {
      return parameters_[config_.features] +
             kernels::gather_dot(parameters_.data(), x.indices.data(), x.values.data(), nnz);
    }
    const float* p = parameters_.data();
    float sum = bias();
    for (std::size_t i = 0; i < nnz; ++i) {
      const float* c = p + 2 * std::size_t{x.indices[i]};
      sum += ftrl_.weight(c[0], c[1]) * x.values[i];
    }
    return sum;
  }

  /// The prediction: P(positive | x) under the logistic loss, the margin under the squared loss.
  [[nodiscard]] float operator()(sparse_row_view x) const noexcept {
    return predict_from_margin(config_.loss, margin(x));
  }

  /// One optimizer step on `(x, label)`; the learning rate is scaled by `rate_multiplier` (SGD,
  /// AdaGrad). Returns the example's loss before the step.
  float learn(sparse_row_view x, float label, float rate_multiplier = 1.0f) {
    assert(indices_in_range(x));
    switch (config_.optimizer.kind) {
    case optimizer_kind::sgd:
      return learn_sgd(x, label, rate_multiplier);
    case optimizer_kind::adagrad:
      return learn_adagrad(x, label, rate_multiplier);
    case optimizer_kind::ftrl:
      break;
    }
    return learn_ftrl(x, label);
  }

  /// Online learning: `learn(x, label, 1)`.
  float update(sparse_row_view x, float label) { return learn(x, label, 1.0f); }

  /// Every trainable number (weights and optimizer state, layout above): what the trainer
  /// averages (deterministic mode) or shares (Hogwild).
  [[nodiscard]] std::span<float> parameters() noexcept { return parameters_; }
  [[nodiscard]] std::span<const float> parameters() const noexcept { return parameters_; }

  /// The bias b.
  [[nodiscard]] float bias() const noexcept {
    const std::size_t f = config_.features;
    return config_.optimizer.kind == optimizer_kind::ftrl
               ? ftrl_.weight(parameters_[2 * f], parameters_[2 * f + 1], false)
               : parameters_[f];
  }
  /// The weight of feature `j` (computed from its FTRL state under FTRL). Precondition:
  /// `j < feature_count()`.
  [[nodiscard]] float weight(std::size_t j) const noexcept {
    assert(j < config_.features);
    return config_.optimizer.kind == optimizer_kind::ftrl
               ? ftrl_.weight(parameters_[2 * j], parameters_[2 * j + 1])
               : parameters_[j];
  }
  /// All feature weights, materialised (F floats). O(F).
  [[nodiscard]] std::vector<float> weights() const {
    std::vector<float> w(config_.features);
    for (std::size_t j = 0; j < w.size(); ++j) {
      w[j] = weight(j);
    }
    return w;
  }
  /// How many feature weights are not 0 (L1 makes most of them exactly 0). O(F).
  [[nodiscard]] std::size_t nonzero_weights() const noexcept {
    std::size_t count = 0;
    for (std::size_t j = 0; j < config_.features; ++j) {
      count += weight(j) != 0.0f ? 1 : 0;
    }
    return count;
  }

  /// The model as a model file: hyper-parameters = the config's JSON; tables `weights`
  /// (1 x F, materialised, what a server needs), `bias` (1 x 1) and, except for SGD,
  /// `optimizer_state` (AdaGrad: 1 x (F + 1) accumulators, bias last; FTRL: 2 x (F + 1), the
  /// rows z and n) so that training can resume from the file.
  [[nodiscard]] model_file to_model_file() const {
    model_file f;
    f.model_type = std::string(model_type);
    f.hyper_parameters = config_;
    const std::size_t n = config_.features;
    const std::vector<float> w = weights();
    f.add_table("weights", 1, n, w);
    const float b = bias();
    f.add_table("bias", 1, 1, std::span<const float>(&b, 1));
    if (config_.optimizer.kind == optimizer_kind::adagrad) {
      f.add_table("optimizer_state", 1, n + 1,
                  std::span<const float>(parameters_).subspan(n + 1, n + 1));
    } else if (config_.optimizer.kind == optimizer_kind::ftrl) {
      std::vector<float> state(2 * (n + 1));
      for (std::size_t j = 0; j <= n; ++j) {
        state[j] = parameters_[2 * j];
        state[n + 1 + j] = parameters_[2 * j + 1];
      }
      f.add_table("optimizer_state", 2, n + 1, state);
    }
    return f;
  }

  /// The model a model file holds (see `to_model_file`). Under FTRL the weights are recomputed
  /// from the state (the `weights` table must still have the right shape).
  /// @throws model_file_error (`missing_table`, or `bad_table` when a table's shape disagrees
  ///   with the hyper-parameters); mlsd::config_error for invalid hyper-parameters.
  [[nodiscard]] static logistic_regression from_model_file(const model_file& f) {
    logistic_regression m(f.hyper_parameters.get<config>());
    const std::size_t n = m.config_.features;
    const named_table& w = f.table("weights", 1, n);
    const named_table& b = f.table("bias", 1, 1);
    switch (m.config_.optimizer.kind) {
    case optimizer_kind::sgd:
    case optimizer_kind::adagrad:
      std::copy(w.values.begin(), w.values.end(), m.parameters_.begin());
      m.parameters_[n] = b.values[0];
      if (m.config_.optimizer.kind == optimizer_kind::adagrad) {
        const named_table& s = f.table("optimizer_state", 1, n + 1);
        std::copy(s.values.begin(), s.values.end(),
                  m.parameters_.begin() + static_cast<std::ptrdiff_t>(n + 1));
      }
      break;
    case optimizer_kind::ftrl: {
      const named_table& s = f.table("optimizer_state", 2, n + 1);
      for (std::size_t j = 0; j <= n; ++j) {
        m.parameters_[2 * j] = s.values[j];
        m.parameters_[2 * j + 1] = s.values[n + 1 + j];
      }
      break;
    }
    }
    return m;
  }

private:
  static const config& checked(const config& c) {
    c.validate();
    return c;
  }

  // Only the chosen optimizer's settings are validated (and used).
  [[nodiscard]] bool active(optimizer_kind k) const noexcept { return config_.optimizer.kind == k; }

  [[nodiscard]] bool indices_in_range(sparse_row_view x) const noexcept {
    for (const std::uint32_t i : x.indices) {
      if (i >= config_.features) {
        return false;
      }
    }
    return true;
  }

  float learn_sgd(sparse_row_view x, float label, float multiplier) {
    const float z = margin(x);
    const float g = loss_gradient(config_.loss, z, label);
    float* w = parameters_.data();
    for (std::size_t i = 0; i < x.nnz(); ++i) {
      sgd_.step(w[x.indices[i]], g * x.values[i], multiplier);
    }
    sgd_.step(w[config_.features], g, multiplier, false);
    return loss_value(config_.loss, z, label);
  }

  float learn_adagrad(sparse_row_view x, float label, float multiplier) {
    const float z = margin(x);
    const float g = loss_gradient(config_.loss, z, label);
    float* w = parameters_.data();
    float* n = w + config_.features + 1;
    for (std::size_t i = 0; i < x.nnz(); ++i) {
      const std::uint32_t j = x.indices[i];
      adagrad_.step(w[j], n[j], g * x.values[i], multiplier);
    }
    adagrad_.step(w[config_.features], n[config_.features], g, multiplier, false);
    return loss_value(config_.loss, z, label);
  }

  // McMahan et al. 2013, Algorithm 1: the weights of the active features are computed once,
  // used for the prediction and again in the update (a row with a repeated index updates that
  // coordinate twice with the same w, as the algorithm's per-example w_t does).
  float learn_ftrl(sparse_row_view x, float label) {
    constexpr std::size_t on_stack = 256;
    const std::size_t nnz = x.nnz();
    std::array<float, on_stack> stack_weights;
    std::vector<float> heap_weights;
    float* ws = stack_weights.data();
    if (nnz > on_stack) {
      heap_weights.resize(nnz);
      ws = heap_weights.data();
    }
    float* p = parameters_.data();
    float* pb = p + 2 * config_.features;
    const float wb = ftrl_.weight(pb[0], pb[1], false);
    float z = wb;
    for (std::size_t i = 0; i < nnz; ++i) {
      const float* c = p + 2 * std::size_t{x.indices[i]};
      ws[i] = ftrl_.weight(c[0], c[1]);
      z += ws[i] * x.values[i];
    }
    const float g = loss_gradient(config_.loss, z, label);
    for (std::size_t i = 0; i < nnz; ++i) {
      float* c = p + 2 * std::size_t{x.indices[i]};
      ftrl_.step(c[0], c[1], ws[i], g * x.values[i]);
    }
    ftrl_.step(pb[0], pb[1], wb, g);
    return loss_value(config_.loss, z, label);
  }

  config config_;
  sgd sgd_;
  adagrad adagrad_;
  ftrl_proximal ftrl_;
  std::vector<float> parameters_;
};

static_assert(sgd_model<logistic_regression>);

} // namespace model
MLSD_END_NAMESPACE
