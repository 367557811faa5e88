/// @file
/// Field-aware factorization machines (Juan, Zhuang, Chin and Lin, "Field-aware Factorization
/// Machines for CTR Prediction", RecSys 2016; the libffm package): each feature has one
/// k-vector per field, and the pair (i, j) interacts through the vector of i for j's field and
/// the vector of j for i's field. Trained by AdaGrad exactly as libffm does, with one fused SIMD
/// step.
///
/// ```cpp
/// mlsd::model::field_aware_factorization_machine::config c;
/// c.features = 1 << 20;
/// c.fields = 39;
/// mlsd::model::field_aware_factorization_machine ffm(c);
/// ffm.learn(row, row.label);  // rows with fields, e.g. from data::libffm_source
/// ```
///
/// Layout (libffm's): one block of `2·kp` floats per (feature, field), `[w_1 .. w_kp | G_1 ..
/// G_kp]` (weights, then their AdaGrad accumulators), `kp` = k rounded up to 4; a feature's m
/// blocks are contiguous. With k = 4 a block is 32 bytes, two per cache line, and each half is
/// one 4-float SIMD register.
///
/// Why no kernel of `mlsd/kernels/`: `kernels::fm_pairwise` takes one k-vector per feature and
/// sums the pairs through the per-factor sums (O(k·nnz)); an FFM pair (i, j) reads two vectors
/// chosen by the other one's field, `v_{i,f_j}` and `v_{j,f_i}`, so there is no such sum and the
/// pass is O(k·nnz²) over the pairs. A `kernels::dot` call per pair would cost more than its
/// k = 4 multiply-adds, so the forward pass and the AdaGrad update of both blocks are one loop
/// over the pairs, SIMD over a block (one register at k = 4: the fused step), checked against
/// `reference::ffm_margin` / `reference::ffm_learn`, libffm's formulas in scalar code.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/random.hpp>
#include <mlsd/kernels/arch.hpp>
#include <mlsd/model/fm.hpp>
#include <mlsd/model/loss.hpp>
#include <mlsd/model/model_file.hpp>
#include <mlsd/model/training.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

MLSD_BEGIN_NAMESPACE
namespace model {

class field_aware_factorization_machine;

namespace detail {

/// The layout of an FFM's parameter array (see the file comment).
struct ffm_layout {
  std::size_t features = 0;
  std::size_t rows = 0; ///< addressable rows: `features`, plus a trainer's scratch rows
  std::size_t fields = 0;
  std::size_t k = 0;
  std::size_t kp = 0;    ///< k rounded up to 4; lanes k..kp-1 are zero and stay zero
  std::size_t block = 0; ///< floats per (feature, field): 2·kp
  std::size_t row = 0;   ///< floats per feature: fields · block
  bool normalize = true;

  ffm_layout() = default;
  ffm_layout(std::size_t n, std::size_t m, std::size_t factors, bool unit_norm) noexcept
      : features(n)
      , rows(n)
      , fields(m)
      , k(factors)
      , kp(fm_round_up(factors, 4))
      , block(2 * kp)
      , row(m * 2 * kp)
      , normalize(unit_norm) {}
};

/// libffm's instance-wise normalisation factor `r = 1 / Σ x_i²` (1 when off, or for a row whose
/// values are all 0): the pairwise products `x_i x_j` are multiplied by it, which is the same as
/// scaling the row to unit L2 norm.
[[nodiscard]] inline float ffm_scale(const ffm_layout& layout, sparse_row_view x) noexcept {
  if (!layout.normalize) {
    return 1.0f;
  }
  float norm = 0.0f;
  for (const float v : x.values) {
    norm += v * v;
  }
  return norm > 0.0f ? 1.0f / norm : 1.0f;
}

/// Throws `input_error` unless every entry of `x` has a field below `fields` and an index
/// below `features` (before the step changes anything).
inline void ffm_check(const ffm_layout& layout, sparse_row_view x) {
  const std::string_view model = "field_aware_factorization_machine";
  if (x.fields.size() != x.nnz()) {
    throw input_error(input_position(std::string(model), 0, 0, "fields"),
                      "a field for every entry (libffm rows: field:index:value)",
                      std::to_string(x.fields.size()) + " fields for " + std::to_string(x.nnz()) +
                          " entries");
  }
  for (std::size_t i = 0; i < x.nnz(); ++i) {
    if (x.indices[i] >= layout.rows) {
      fm_bad_index(model, i, x.indices[i], layout.features);
    }
    if (x.fields[i] >= layout.fields) {
      std::string field = "fields[";
      field += std::to_string(i);
      field += ']';
      std::string expected = "a field below ";
      expected += std::to_string(layout.fields);
      expected += " (the model's field count)";
      throw input_error(input_position(std::string(model), 0, 0, std::move(field)), expected,
                        std::to_string(x.fields[i]));
    }
  }
}

/// `1/sqrt(G)` of AdaGrad's step, approximated as libffm approximates it: its SSE code takes
/// `_mm_rsqrt_ps` (relative error at most 1.5·2⁻¹²) with no Newton step. With AVX-512VL the
/// 14-bit `_mm_rsqrt14_ps` is as fast and 6 times closer (at most 2⁻¹⁴). Elsewhere: one Newton step
/// on `xsimd::rsqrt`, as FM uses. Each step's change of a weight is then off by at most
/// `ffm_rsqrt_error` times itself, well inside the noise of per-example SGD, while the Newton
/// step took about a fifth of a single-thread epoch on the benchmark's click log (docs/
/// factorization-machines.md).
#if defined(__AVX512VL__) && defined(__AVX512F__)
inline constexpr float ffm_rsqrt_error = 0x1p-14f;
#elif defined(__SSE__)
inline constexpr float ffm_rsqrt_error = 1.5f * 0x1p-12f;
#else
inline constexpr float ffm_rsqrt_error = 1e-6f;
#endif

template <class B>
[[nodiscard]] inline B ffm_inverse_sqrt(const B& g) noexcept {
#if defined(__SSE__)
  if constexpr (std::is_base_of_v<xsimd::sse2, typename B::arch_type>) { // 4 floats in an __m128
#if defined(__AVX512VL__) && defined(__AVX512F__)
    return B(_mm_rsqrt14_ps(g));
#else
    return B(_mm_rsqrt_ps(g));
#endif
  } else {
    return fm_inverse_sqrt(g);
  }
#else
  return fm_inverse_sqrt(g);
#endif
}

/// The fused FFM pass over all pairs i < j, SIMD over the factors with 4-float batches `B`
/// (`C` of them per block, or `C == 0` for `kp / 4` at run time). O(nnz²·k), inherent to FFM.
template <class B, std::size_t C>
struct ffm_fused {
  static constexpr std::size_t lanes = B::size;

  /// `φ = Σ_{i<j} <w_{i,f_j}, w_{j,f_i}> x_i x_j r` (Juan et al. 2016, eq. 3).
  static float forward(const float* weights, const ffm_layout& layout, sparse_row_view x,
                       float r) noexcept {
    const std::size_t nnz = x.nnz();
    const std::uint32_t* idx = x.indices.data();
    const std::uint32_t* fld = x.fields.data();
    const float* val = x.values.data();
    const std::size_t chunks = C > 0 ? C : layout.kp / lanes;
    const std::size_t block = layout.block, row = layout.row;
    B total(0.0f);
    for (std::size_t i = 0; i < nnz; ++i) {
      const float* base1 = weights + idx[i] * row;
      const std::size_t field1 = fld[i] * block;
      const float x1r = val[i] * r;
      for (std::size_t j = i + 1; j < nnz; ++j) {
        const float* w1 = base1 + fld[j] * block;
        const float* w2 = weights + idx[j] * row + field1;
        const B v(x1r * val[j]);
        for (std::size_t c = 0; c < chunks; ++c) {
          total = xsimd::fma(B::load_aligned(w1 + c * lanes) * B::load_aligned(w2 + c * lanes), v,
                             total);
        }
      }
    }
    return xsimd::hadd(total);
  }

  /// libffm's AdaGrad step on every pair, in place, in the order i < j: with
  /// `κ = ∂L/∂φ` and `v = κ x_i x_j r`, `g1 = λ w1 + v w2`, `g2 = λ w2 + v w1` (both from the
  /// values before this pair), `G += g²`, `w −= η g / sqrt(G)`; stores w1, G1, then w2, G2.
  static void update(float* weights, const ffm_layout& layout, sparse_row_view x, float r,
                     float kappa, float eta, float l2) noexcept {
    const std::size_t nnz = x.nnz();
    const std::uint32_t* idx = x.indices.data();
    const std::uint32_t* fld = x.fields.data();
    const float* val = x.values.data();
    const std::size_t chunks = C > 0 ? C : layout.kp / lanes;
    const std::size_t block = layout.block, row = layout.row, kp = layout.kp;
    const B lambda(l2), beta(eta);
    for (std::size_t i = 0; i < nnz; ++i) {
      float* base1 = weights + idx[i] * row;
      const std::size_t field1 = fld[i] * block;
      const float x1 = kappa * val[i] * r;
      for (std::size_t j = i + 1; j < nnz; ++j) {
        float* w1 = base1 + fld[j] * block;
        float* w2 = weights + idx[j] * row + field1;
        const B v(x1 * val[j]);
        for (std::size_t c = 0; c < chunks; ++c) {
          float* p1 = w1 + c * lanes;
          float* p2 = w2 + c * lanes;
          const B a = B::load_aligned(p1);
          const B b = B::load_aligned(p2);
          const B g1 = xsimd::fma(lambda, a, v * b);
          const B g2 = xsimd::fma(lambda, b, v * a);
          const B acc1 = xsimd::fma(g1, g1, B::load_aligned(p1 + kp));
          const B acc2 = xsimd::fma(g2, g2, B::load_aligned(p2 + kp));
          xsimd::fnma(beta * g1, ffm_inverse_sqrt(acc1), a).store_aligned(p1);
          acc1.store_aligned(p1 + kp);
          xsimd::fnma(beta * g2, ffm_inverse_sqrt(acc2), b).store_aligned(p2);
          acc2.store_aligned(p2 + kp);
        }
      }
    }
  }
};

} // namespace detail

namespace reference {
/// φ by its definition in scalar code (double sums): what the fused forward pass is tested
/// against.
[[nodiscard]] float ffm_margin(const field_aware_factorization_machine& m, sparse_row_view x);
/// libffm's learning step in plain scalar code, same order and same formulas as the fused step.
float ffm_learn(field_aware_factorization_machine& m, sparse_row_view x, float label,
                float rate_multiplier);
} // namespace reference

/// A field-aware factorization machine (Juan et al. 2016):
/// `φ(x) = Σ_{i<j} <w_{i,f_j}, w_{j,f_i}> x_i x_j`, where `f_i` is entry i's field and
/// `w_{i,f}` is feature i's k-vector for field f; no bias and no linear term, as in libffm.
/// With `normalize` (libffm's default) each row is scaled to unit L2 norm first.
///
/// Training is libffm's: per-example AdaGrad on the pairwise weights with accumulators that
/// start at 1, L2 penalty λ applied per pair, weights initialised uniformly in [0, s/√k)
/// (libffm: s = 1). One `learn` computes φ (one pass over the pairs), then updates every pair in
/// place (a second pass), SIMD over the factors, with no gradient buffer.
///
/// Unlike `factorization_machine` it has no `prefetch`, so `model::train` does not ask the cache
/// for its rows ahead of a step: an example touches 39 rows of 1,248 bytes on the click log (the
/// size of L1), and fetching the next examples' rows evicted the current one's. Every form tried
/// (each block, each whole row, each row's first line, read into L2) made the epoch slower
/// (docs/factorization-machines.md).
///
/// Thread-safety: `margin` and `operator()` are const and safe to call concurrently;
/// `learn` / `update` are not, except as Hogwild (Recht et al. 2011; libffm's OpenMP mode) through
/// `model::train`. Complexity: O(nnz²·k) per example, the inherent cost of field-aware
/// interactions; memory `features · fields · 2 · kp` floats.
class field_aware_factorization_machine : public scorer_tag, public trainable_tag {
public:
  /// Settings; validated on construction. The defaults are libffm's (`-k 4 -r 0.2 -l 0.00002`).
  struct config {
    /// n: every index must be below it.
    std::size_t features = std::size_t{1} << 20;
    /// m: every field must be below it.
    std::size_t fields = 39;
    /// k, from 1 to 1024.
    std::size_t factors = 4;
    loss_function loss = loss_function::logistic;
    /// η, the AdaGrad base learning rate.
    float learning_rate = 0.2f;
    /// λ, the L2 penalty.
    float l2 = 0.00002f;
    /// Scale each row to unit L2 norm (libffm's default; `--no-norm` turns it off there).
    bool normalize = true;
    /// Initial weights are uniform in [0, init_scale / √k).
    float init_scale = 1.0f;
    /// Seeds the initial weights.
    std::uint64_t seed = 1;

    /// Throws `config_error` naming the first invalid field.
    void validate() const {
      if (features == 0 || features > (std::size_t{1} << 32)) {
        throw config_error("field_aware_factorization_machine.features",
                           "an integer from 1 to 2^32");
      }
      if (fields == 0 || fields > (std::size_t{1} << 32)) {
        throw config_error("field_aware_factorization_machine.fields", "an integer from 1 to 2^32");
      }
      if (factors == 0 || factors > detail::fm_max_factors) {
        throw config_error("field_aware_factorization_machine.factors",
                           "an integer from 1 to 1024");
      }
      if (!(learning_rate > 0.0f) || !std::isfinite(learning_rate)) {
        throw config_error("field_aware_factorization_machine.learning_rate",
                           "a positive finite number");
      }
      if (!(l2 >= 0.0f) || !std::isfinite(l2)) {
        throw config_error("field_aware_factorization_machine.l2", "a non-negative finite number");
      }
      if (!(init_scale >= 0.0f) || !std::isfinite(init_scale)) {
        throw config_error("field_aware_factorization_machine.init_scale",
                           "a non-negative finite number");
      }
    }

    /// The settings as JSON (the model file's `hyper_parameters`).
    [[nodiscard]] nlohmann::json to_json() const {
      return {{"features", features},
              {"fields", fields},
              {"factors", factors},
              {"loss", std::string(to_string(loss))},
              {"learning_rate", learning_rate},
              {"l2", l2},
              {"normalize", normalize},
              {"init_scale", init_scale},
              {"seed", seed}};
    }
    /// Settings from JSON: missing keys keep their defaults, unknown keys and invalid values
    /// throw `config_error` naming the key.
    [[nodiscard]] static config from_json(const nlohmann::json& j) {
      data::detail::config_reader r(j, "field_aware_factorization_machine");
      config c;
      r.read("features", c.features);
      r.read("fields", c.fields);
      r.read("factors", c.factors);
      std::string loss_name;
      if (r.read("loss", loss_name)) {
        c.loss = parse_loss_function(loss_name, r.field("loss"));
      }
      r.read("learning_rate", c.learning_rate);
      r.read("l2", c.l2);
      r.read("normalize", c.normalize);
      r.read("init_scale", c.init_scale);
      r.read("seed", c.seed);
      r.finish();
      c.validate();
      return c;
    }
    friend void to_json(nlohmann::json& j, const config& c) { j = c.to_json(); }
    friend void from_json(const nlohmann::json& j, config& c) { c = config::from_json(j); }
  };

  using input_type = sparse_row_view;
  using output_type = float;
  using label_type = float;

  /// The name of this model in model files.
  static constexpr std::string_view model_type = "ffm";

  /// A model with weights drawn uniformly in [0, init_scale/√k) in (feature, field, factor)
  /// order from `seed`, accumulators at 1. @throws config_error for invalid settings.
  explicit field_aware_factorization_machine(const config& c)
      : field_aware_factorization_machine(c, uninitialised{}) {
    data::detail::splitmix64 random(config_.seed);
    const double scale = config_.init_scale / std::sqrt(static_cast<double>(layout_.k));
    for (std::size_t b = 0; b < layout_.features * layout_.fields; ++b) {
      float* p = parameters_.data() + b * layout_.block;
      for (std::size_t d = 0; d < layout_.k; ++d) {
        p[d] = static_cast<float>(scale * random.uniform());
      }
      for (std::size_t d = 0; d < layout_.kp; ++d) {
        p[layout_.kp + d] = 1.0f;
      }
    }
  }

  /// The settings.
  [[nodiscard]] const config& settings() const noexcept { return config_; }
  /// The loss it minimises.
  [[nodiscard]] loss_function loss() const noexcept { return config_.loss; }
  [[nodiscard]] std::size_t feature_count() const noexcept { return layout_.features; }
  [[nodiscard]] std::size_t field_count() const noexcept { return layout_.fields; }
  [[nodiscard]] std::size_t factor_count() const noexcept { return layout_.k; }

  /// φ(x), the margin (a logit under the logistic loss). Pure and thread-safe.
  /// @throws input_error for a row without fields, or an index or field out of range.
  [[nodiscard]] float margin(sparse_row_view x) const {
    detail::ffm_check(layout_, x);
    const float r = detail::ffm_scale(layout_, x);
    if constexpr (detail::fm_has_simd) {
      using B = detail::fm_batch<4>;
      switch (layout_.kp) {
      case 4:
        return detail::ffm_fused<B, 1>::forward(parameters_.data(), layout_, x, r);
      case 8:
        return detail::ffm_fused<B, 2>::forward(parameters_.data(), layout_, x, r);
      default:
        return detail::ffm_fused<B, 0>::forward(parameters_.data(), layout_, x, r);
      }
    } else {
      return reference::ffm_margin(*this, x);
    }
  }

  /// The prediction: a probability (logistic loss) or φ itself (squared loss).
  [[nodiscard]] float operator()(sparse_row_view x) const {
    return predict_from_margin(config_.loss, margin(x));
  }

  /// One libffm AdaGrad step on `(x, label)` with learning rate `η · rate_multiplier`; returns
  /// the loss before the step. On an `input_error` the model is unchanged.
  float learn(sparse_row_view x, float label, float rate_multiplier = 1.0f) {
    if constexpr (detail::fm_has_simd) {
      switch (layout_.kp) {
      case 4:
        return learn_with<1>(x, label, rate_multiplier);
      case 8:
        return learn_with<2>(x, label, rate_multiplier);
      default:
        return learn_with<0>(x, label, rate_multiplier);
      }
    } else {
      return reference::ffm_learn(*this, x, label, rate_multiplier);
    }
  }

  /// `learn(x, label, 1)`.
  float update(sparse_row_view x, float label) { return learn(x, label, 1.0f); }

  /// Every trainable number (weights and accumulators, interleaved per block) as one span.
  /// Scratch rows (`set_scratch_rows`) are not part of it.
  [[nodiscard]] std::span<float> parameters() noexcept {
    return {parameters_.data(), layout_.features * layout_.row};
  }
  [[nodiscard]] std::span<const float> parameters() const noexcept {
    return {parameters_.data(), layout_.features * layout_.row};
  }

  /// For `model::train` (see `training_key`): a model with this one's configuration and no
  /// scratch rows, whose parameters are allocated but not yet written. The trainer's
  /// deterministic mode fills its copies of the model from it on all its threads, so that tens of
  /// MiB of fresh pages are not first touched by one thread alone.
  [[nodiscard]] field_aware_factorization_machine unwritten_replica(training_key) const {
    return {*this, unwritten{}};
  }

  /// The floats of row `j`: feature j's m blocks (weights and accumulators), or scratch row
  /// `j - feature_count()`. Precondition: `j < feature_count() +` the scratch rows.
  [[nodiscard]] std::span<float> feature_row(std::size_t j) noexcept {
    return {parameters_.data() + j * layout_.row, layout_.row};
  }

  /// For trainers: appends `n` scratch rows after the last feature's, or removes them (n = 0);
  /// row indices `feature_count() .. feature_count() + n - 1` are then accepted by `learn` and
  /// `margin`. As `factorization_machine::set_scratch_rows`: used by
  /// `model::train`'s Hogwild mode for private copies of the most frequent features' rows; not
  /// saved, not averaged, contents unspecified until written; a new model has room for 8 MiB of
  /// them; shrinking keeps the memory.
  void set_scratch_rows(std::size_t n) {
    const std::size_t size = (layout_.features + n) * layout_.row;
    if (size > parameters_.capacity()) {
      parameters_.reserve(size); // exactly: resize alone would double the capacity
    }
    parameters_.resize(size);
    layout_.rows = layout_.features + n;
  }

  /// `w_{j,f}`, feature j's k weights for field f. Preconditions: `j < feature_count()`,
  /// `f < field_count()`.
  [[nodiscard]] std::span<const float> factors_of(std::size_t j, std::size_t f) const noexcept {
    return {parameters_.data() + j * layout_.row + f * layout_.block, layout_.k};
  }
  /// Sets `w_{j,f,d}`. Preconditions: `j < feature_count()`, `f < field_count()`, `d <
  /// factor_count()`.
  void set_factor(std::size_t j, std::size_t f, std::size_t d, float w) noexcept {
    parameters_[j * layout_.row + f * layout_.block + d] = w;
  }

  /// The model as a model file: `hyper_parameters` = `settings().to_json()`; tables `factors`
  /// and `accumulator`, each `(n·m)×k`, row `j·m + f` holding `w_{j,f}` and its AdaGrad state.
  [[nodiscard]] model_file to_model_file() const {
    model_file f;
    f.model_type = std::string(model_type);
    f.hyper_parameters = config_.to_json();
    const std::size_t blocks = layout_.features * layout_.fields, k = layout_.k;
    std::vector<float> table(blocks * k);
    for (const std::size_t offset : {std::size_t{0}, layout_.kp}) {
      for (std::size_t b = 0; b < blocks; ++b) {
        const float* p = parameters_.data() + b * layout_.block + offset;
        for (std::size_t d = 0; d < k; ++d) {
          table[b * k + d] = p[d];
        }
      }
      f.add_table(offset == 0 ? "factors" : "accumulator", blocks, k, table);
    }
    return f;
  }

  /// The model a model file holds (see `to_model_file`).
  /// @throws config_error for invalid hyper-parameters; model_file_error `missing_table` or
  ///   `bad_table` when a table is absent or its shape disagrees with them.
  [[nodiscard]] static field_aware_factorization_machine from_model_file(const model_file& f) {
    field_aware_factorization_machine m(config::from_json(f.hyper_parameters), uninitialised{});
    const detail::ffm_layout& layout = m.layout_;
    const std::size_t blocks = layout.features * layout.fields, k = layout.k;
    const std::vector<float>& w = f.table("factors", blocks, k).values;
    const std::vector<float>& g = f.table("accumulator", blocks, k).values;
    for (std::size_t b = 0; b < blocks; ++b) {
      float* p = m.parameters_.data() + b * layout.block;
      for (std::size_t d = 0; d < layout.kp; ++d) {
        p[d] = d < k ? w[b * k + d] : 0.0f;
        p[layout.kp + d] = d < k ? g[b * k + d] : 1.0f;
      }
    }
    return m;
  }

private:
  struct uninitialised {};

  /// Allocates the parameters (all zero) without drawing the weights.
  field_aware_factorization_machine(const config& c, uninitialised)
      : config_(checked(c))
      , layout_(c.features, c.fields, c.factors, c.normalize)
      , parameters_(detail::fm_storage_with_headroom(c.features * layout_.row)) {}

  struct unwritten {};

  /// The shape of `m` (its configuration and layout, without scratch rows), parameters unwritten.
  field_aware_factorization_machine(const field_aware_factorization_machine& m, unwritten)
      : config_(m.config_)
      , layout_(m.layout_)
      , parameters_(detail::fm_storage_unwritten(m.layout_.features * m.layout_.row)) {
    layout_.rows = layout_.features;
  }

  friend float reference::ffm_margin(const field_aware_factorization_machine&, sparse_row_view);
  friend float reference::ffm_learn(field_aware_factorization_machine&, sparse_row_view, float,
                                    float);

  static const config& checked(const config& c) {
    c.validate();
    return c;
  }

  template <std::size_t C>
  float learn_with(sparse_row_view x, float label, float rate_multiplier) {
    using fused = detail::ffm_fused<detail::fm_batch<4>, C>;
    detail::ffm_check(layout_, x);
    const float r = detail::ffm_scale(layout_, x);
    const float phi = fused::forward(parameters_.data(), layout_, x, r);
    const float loss = loss_value(config_.loss, phi, label);
    const float kappa = loss_gradient(config_.loss, phi, label);
    fused::update(parameters_.data(), layout_, x, r, kappa, config_.learning_rate * rate_multiplier,
                  config_.l2);
    return loss;
  }

  config config_;
  detail::ffm_layout layout_;
  detail::fm_storage parameters_;
};

static_assert(sgd_model<field_aware_factorization_machine>);
static_assert(scorer<field_aware_factorization_machine> &&
              trainable<field_aware_factorization_machine>);
static_assert(model_file_serializable<field_aware_factorization_machine>);

namespace reference {

inline float ffm_margin(const field_aware_factorization_machine& m, sparse_row_view x) {
  const detail::ffm_layout& layout = m.layout_;
  detail::ffm_check(layout, x);
  const double r = detail::ffm_scale(layout, x);
  double phi = 0.0;
  for (std::size_t i = 0; i < x.nnz(); ++i) {
    for (std::size_t j = i + 1; j < x.nnz(); ++j) {
      const auto a = m.factors_of(x.indices[i], x.fields[j]);
      const auto b = m.factors_of(x.indices[j], x.fields[i]);
      double inner = 0.0;
      for (std::size_t d = 0; d < layout.k; ++d) {
        inner += static_cast<double>(a[d]) * b[d];
      }
      phi += inner * x.values[i] * x.values[j] * r;
    }
  }
  return static_cast<float>(phi);
}

inline float ffm_learn(field_aware_factorization_machine& m, sparse_row_view x, float label,
                       float rate_multiplier) {
  const detail::ffm_layout& layout = m.layout_;
  const float phi = ffm_margin(m, x);
  const float r = detail::ffm_scale(layout, x);
  const float loss = loss_value(m.config_.loss, phi, label);
  const float kappa = loss_gradient(m.config_.loss, phi, label);
  const float eta = m.config_.learning_rate * rate_multiplier;
  const float lambda = m.config_.l2;
  float* weights = m.parameters_.data();
  for (std::size_t i = 0; i < x.nnz(); ++i) {
    for (std::size_t j = i + 1; j < x.nnz(); ++j) {
      float* w1 = weights + x.indices[i] * layout.row + x.fields[j] * layout.block;
      float* w2 = weights + x.indices[j] * layout.row + x.fields[i] * layout.block;
      const float v = kappa * x.values[i] * r * x.values[j];
      for (std::size_t d = 0; d < layout.k; ++d) {
        const float a = w1[d], b = w2[d];
        const float g1 = lambda * a + v * b;
        const float g2 = lambda * b + v * a;
        const float acc1 = w1[layout.kp + d] + g1 * g1;
        const float acc2 = w2[layout.kp + d] + g2 * g2;
        w1[d] = a - eta * g1 / std::sqrt(acc1);
        w1[layout.kp + d] = acc1;
        w2[d] = b - eta * g2 / std::sqrt(acc2);
        w2[layout.kp + d] = acc2;
      }
    }
  }
  return loss;
}

} // namespace reference

} // namespace model
MLSD_END_NAMESPACE
