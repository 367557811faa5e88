/// @file
/// Factorization machines (Rendle, "Factorization Machines", ICDM 2010): a linear model plus every
/// pairwise interaction of the features, each interaction weight factorised as the inner product
/// of two k-dimensional feature vectors, trained by per-example SGD or AdaGrad with one fused
/// SIMD step.
///
/// ```cpp
/// mlsd::model::factorization_machine::config c;
/// c.features = 1 << 20;  // feature indices are below this
/// c.factors = 8;
/// mlsd::model::factorization_machine fm(c);
/// for (const auto& row : rows) fm.learn(row, row.label);  // or model::train(fm, batch, ...)
/// const float p = fm(row);                                   // a probability (logistic loss)
/// ```
///
/// The parameters live in one 64-byte aligned array: a header cache line (bias and its AdaGrad
/// accumulator) followed by one row per feature, `[v_1 .. v_kp | g_1 .. g_kp | w | g_w | pad]`
/// under AdaGrad (`[v_1 .. v_kp | w | pad]` under SGD), where `kp` is k rounded up to 4 and the
/// row length is a multiple of 16 floats. A training step touches each active feature's row
/// once to read it and once to write it, and every row is whole cache lines (k = 8: one line
/// under SGD, two adjacent lines under AdaGrad). See docs/factorization-machines.md.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/prefetch.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/random.hpp>
#include <mlsd/kernels/arch.hpp>
#include <mlsd/kernels/fm.hpp>
#include <mlsd/model/loss.hpp>
#include <mlsd/model/model_file.hpp>
#include <mlsd/model/training.hpp>

#include <nlohmann/json.hpp>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace model {

/// The per-coordinate update rule of a factorization machine.
///
/// - `sgd`: `θ -= η (∂L/∂θ + λ θ)` (libFM's `-method sgd`);
/// - `adagrad`: `G += g²; θ -= η g / sqrt(G)` with `g = ∂L/∂θ + λ θ` and `G` starting at
///   `adagrad_initial` (Duchi, Hazan and Singer, JMLR 2011; xLearn's and libffm's default).
enum class fm_optimizer { sgd, adagrad };

class factorization_machine;

namespace detail {

/// The allocator of the parameter arrays: 64-byte aligned, so that every feature row starts a
/// cache line; arrays of 2 MiB or more are 2 MiB aligned and, on Linux, marked for transparent
/// huge pages (`madvise(MADV_HUGEPAGE)`), because a step reads rows at random addresses of a
/// table of tens or hundreds of MiB and 4 KiB pages would cost a TLB miss on almost every row.
template <class T>
struct fm_allocator {
  using value_type = T;
  static constexpr std::size_t huge_page = std::size_t{1} << 21;

  fm_allocator() = default;
  template <class U>
  fm_allocator(const fm_allocator<U>&) noexcept {}

  [[nodiscard]] T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    const std::size_t alignment = bytes >= huge_page ? huge_page : 64;
    const std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
    void* p = std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded);
    if (p == nullptr) {
      throw std::bad_alloc();
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (alignment == huge_page) {
      (void)::madvise(p, rounded, MADV_HUGEPAGE); // advice only: failure changes nothing
    }
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) noexcept {
    std::free(p);
  }

  /// Default-initialisation: `resize(n)` leaves the new floats unwritten (and their pages
  /// untouched) for a caller that writes them next; `resize(n, value)` and copies still write.
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }

  template <class U>
  friend bool operator==(const fm_allocator&, const fm_allocator<U>&) noexcept {
    return true;
  }
};

/// The parameter array of FM and FFM.
using fm_storage = std::vector<float, fm_allocator<float>>;

/// `size` zeros, with capacity for the scratch rows a Hogwild trainer adds (`set_scratch_rows`):
/// the size again, up to 8 MiB more (32 threads at the default 256 KiB of private rows each).
/// Growing within the capacity moves nothing; growing beyond it would copy the whole table and
/// hold two copies for a moment. Pages of the capacity that are never written are never backed by
/// memory (the allocator maps large arrays).
[[nodiscard]] inline fm_storage fm_storage_with_headroom(std::size_t size) {
  constexpr std::size_t max_headroom = (std::size_t{8} << 20) / sizeof(float);
  fm_storage out;
  out.reserve(size + std::min(size, max_headroom));
  out.resize(size, 0.0f);
  return out;
}

/// `size` floats that are allocated but not written (indeterminate): for a copy that the caller
/// fills, on several threads if it likes, so that the pages are first touched by those threads.
[[nodiscard]] inline fm_storage fm_storage_unwritten(std::size_t size) {
  fm_storage out;
  out.reserve(size);
  out.resize(size);
  return out;
}

/// Floats per cache line: rows are padded to a multiple of it.
inline constexpr std::size_t fm_line_floats = 16;
/// The largest k: bounds the stack buffer of the per-factor sums.
inline constexpr std::size_t fm_max_factors = 1024;

[[nodiscard]] constexpr std::size_t fm_round_up(std::size_t n, std::size_t m) noexcept {
  return (n + m - 1) / m * m;
}

/// A batch of `N` floats from the instruction sets the compiler flags enable, or `void`.
template <std::size_t N>
using fm_batch = xsimd::make_sized_batch_t<float, N>;

/// True when 4-float SIMD batches exist (SSE2 on every x86-64, NEON on ARM64); otherwise the
/// models run their scalar reference step.
inline constexpr bool fm_has_simd = !std::is_void_v<fm_batch<4>>;

/// The lanes the fused steps use for a row of `kp` factors: 8 when `kp` is a multiple of 8 and
/// 8-float batches exist, else 4. Never 16: xsimd 8.1 implements the AVX-512 `rsqrt` with an
/// AVX-512ER instruction that no current CPU has, and k = 8, the common case, fills 8 lanes.
template <std::size_t KP>
[[nodiscard]] constexpr std::size_t fm_lanes() noexcept {
  if constexpr (KP % 8 == 0 && !std::is_void_v<fm_batch<8>>) {
    return 8;
  } else {
    return 4;
  }
}

/// `1 / sqrt(g)` from the hardware estimate (12 bits) and one Newton–Raphson step (about 22
/// bits): within a few float roundings of the exact value, and a few pipelined multiply-adds
/// instead of a square root and a division (long-latency, low-throughput units) per register.
template <class B>
[[nodiscard]] inline B fm_inverse_sqrt(const B& g) noexcept {
  const B r = xsimd::rsqrt(g);
  return r * xsimd::fnma(B(0.5f) * g, r * r, B(1.5f));
}

/// Standard normal draws by the Box–Muller transform over SplitMix64: the same seed gives the
/// same draws on every platform (up to the last bit of the C library's log, cos and sin).
class fm_normal {
public:
  explicit fm_normal(std::uint64_t seed) noexcept
      : random_(seed) {}
  [[nodiscard]] double operator()() noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - random_.uniform(); // (0, 1]: log(u1) is finite
    const double u2 = random_.uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 6.283185307179586476925 * u2;
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return r * std::cos(theta);
  }

private:
  data::detail::splitmix64 random_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

/// Throws the `input_error` of a feature index outside the model's table.
[[noreturn]] inline void fm_bad_index(std::string_view model, std::size_t position,
                                      std::uint32_t index, std::size_t features) {
  std::string field = "indices[";
  field += std::to_string(position);
  field += ']';
  std::string expected = "a feature index below ";
  expected += std::to_string(features);
  expected += " (the model's feature count)";
  throw input_error(input_position(std::string(model), 0, 0, std::move(field)), expected,
                    std::to_string(index));
}

/// The layout of a factorization machine's parameter array (see the file comment).
struct fm_layout {
  std::size_t features = 0;
  std::size_t rows = 0;   ///< addressable rows: `features`, plus a trainer's scratch rows
  std::size_t k = 0;      ///< factors
  std::size_t kp = 0;     ///< k rounded up to 4; lanes k..kp-1 are zero and stay zero
  std::size_t w = 0;      ///< offset of the linear weight in a row
  std::size_t stride = 0; ///< floats per row, a multiple of 16
  bool adagrad = false;

  fm_layout() = default;
  fm_layout(std::size_t n, std::size_t factors, fm_optimizer optimizer) noexcept
      : features(n)
      , rows(n)
      , k(factors)
      , kp(fm_round_up(factors, 4))
      , w(optimizer == fm_optimizer::adagrad ? 2 * kp : kp)
      , stride(fm_round_up(w + (optimizer == fm_optimizer::adagrad ? 2 : 1), fm_line_floats))
      , adagrad(optimizer == fm_optimizer::adagrad) {}
};

/// The fused forward pass and in-place update of a factorization machine, SIMD over the factors
/// with batches `B`: `C` batches per row (known at compile time, so that the sums stay in
/// registers), or `C == 0` for any multiple of 4 known at run time (sums kept in memory).
///
/// Why not `model/optimizer.hpp`: its optimizers update one scalar coordinate at a time; here k
/// factors are updated at once in SIMD registers, so the SGD and AdaGrad formulas are inline.
/// Why not `kernels::fm_pairwise` / `fm_pairwise_gradient`: the kernel walks factor chunks in
/// the outer loop (reading each row once per chunk), leaves out the linear term, and the
/// gradient kernel writes an nnz×k buffer that the step would read back. The training step reads
/// each row once for the forward pass (linear weight and factors, which share its cache lines)
/// and updates it in place from the k sums. The kernels remain what the reference step uses.
template <class B, std::size_t C, bool AdaGrad>
struct fm_fused {
  static constexpr std::size_t lanes = B::size;

  /// `Σ_i w_i x_i + ½ Σ_f (s_f² − Σ_i v_if² x_i²)`; writes `s_f` for f < kp to `sum`.
  static float forward(const float* rows, const fm_layout& layout, sparse_row_view x, float* sum) {
    const std::size_t nnz = x.nnz();
    const std::uint32_t* idx = x.indices.data();
    const float* val = x.values.data();
    float linear = 0.0f;
    B squares(0.0f);
    if constexpr (C > 0) {
      B s[C];
      for (std::size_t c = 0; c < C; ++c) {
        s[c] = B(0.0f);
      }
      for (std::size_t i = 0; i < nnz; ++i) {
        const std::uint32_t j = idx[i];
        if (j >= layout.rows) [[unlikely]] {
          fm_bad_index("factorization_machine", i, j, layout.features);
        }
        const float* p = rows + j * layout.stride;
        const float xi = val[i];
        linear += p[layout.w] * xi;
        const B bx(xi);
        for (std::size_t c = 0; c < C; ++c) {
          const B xv = B::load_aligned(p + c * lanes) * bx;
          s[c] += xv;
          squares = xsimd::fma(xv, xv, squares);
        }
      }
      B total = -squares;
      for (std::size_t c = 0; c < C; ++c) {
        total = xsimd::fma(s[c], s[c], total);
        s[c].store_aligned(sum + c * lanes);
      }
      return linear + 0.5f * xsimd::hadd(total);
    } else {
      const std::size_t chunks = layout.kp / lanes;
      for (std::size_t c = 0; c < chunks; ++c) {
        B(0.0f).store_aligned(sum + c * lanes);
      }
      for (std::size_t i = 0; i < nnz; ++i) {
        const std::uint32_t j = idx[i];
        if (j >= layout.rows) [[unlikely]] {
          fm_bad_index("factorization_machine", i, j, layout.features);
        }
        const float* p = rows + j * layout.stride;
        const float xi = val[i];
        linear += p[layout.w] * xi;
        const B bx(xi);
        for (std::size_t c = 0; c < chunks; ++c) {
          const B xv = B::load_aligned(p + c * lanes) * bx;
          (B::load_aligned(sum + c * lanes) + xv).store_aligned(sum + c * lanes);
          squares = xsimd::fma(xv, xv, squares);
        }
      }
      B total = -squares;
      for (std::size_t c = 0; c < chunks; ++c) {
        const B s = B::load_aligned(sum + c * lanes);
        total = xsimd::fma(s, s, total);
      }
      return linear + 0.5f * xsimd::hadd(total);
    }
  }

  /// Updates every active row in place from dL/dz = `g` and the sums of `forward`:
  /// `w_i −= η (g x_i + λw w_i)`, `v_if −= η (g x_i (s_f − v_if x_i) + λv v_if)` (or the
  /// AdaGrad forms). Padding lanes have `v = s = 0`, so their gradient is 0 and they stay 0.
  static void update(float* rows, const fm_layout& layout, sparse_row_view x, const float* sum,
                     float g, float eta, float l2_linear, float l2_factors) noexcept {
    const std::size_t nnz = x.nnz();
    const std::uint32_t* idx = x.indices.data();
    const float* val = x.values.data();
    const std::size_t chunks = C > 0 ? C : layout.kp / lanes;
    const std::size_t kp = layout.kp;
    const B beta(eta);
    for (std::size_t i = 0; i < nnz; ++i) {
      float* p = rows + idx[i] * layout.stride;
      const float xi = val[i];
      const float gx = g * xi;
      float& w = p[layout.w];
      const float gw = gx + l2_linear * w;
      if constexpr (AdaGrad) {
        float& acc = p[layout.w + 1];
        acc += gw * gw;
        w -= eta * gw / std::sqrt(acc);
      } else {
        w -= eta * gw;
      }
      // g x (s − v x) + λ v, written as g x s + v (λ − g x²).
      const B bgx(gx);
      const B shrink(l2_factors - gx * xi);
      for (std::size_t c = 0; c < chunks; ++c) {
        float* pv = p + c * lanes;
        const B v = B::load_aligned(pv);
        const B gv = xsimd::fma(v, shrink, bgx * B::load_aligned(sum + c * lanes));
        if constexpr (AdaGrad) {
          const B acc = xsimd::fma(gv, gv, B::load_aligned(pv + kp));
          acc.store_aligned(pv + kp);
          xsimd::fnma(beta * gv, fm_inverse_sqrt(acc), v).store_aligned(pv);
        } else {
          xsimd::fnma(beta, gv, v).store_aligned(pv);
        }
      }
    }
  }
};

} // namespace detail

namespace reference {
/// The margin by the definitions, `b + sum_i w_i x_i + sum_{i<j} <v_i, v_j> x_i x_j`, through
/// `kernels::reference::fm_pairwise` (O(k·nnz²)): what the fused step is tested against.
[[nodiscard]] float fm_margin(const factorization_machine& m, sparse_row_view x);
/// The plain scalar learning step, with the same update order as the fused one.
float fm_learn(factorization_machine& m, sparse_row_view x, float label, float rate_multiplier);
/// The same with the bias and its AdaGrad sum at `header` (`factorization_machine::learn`'s
/// four-argument form).
float fm_learn(factorization_machine& m, sparse_row_view x, float label, float rate_multiplier,
               std::span<float> header);
} // namespace reference

/// A factorization machine of degree 2 (Rendle 2010, eq. 1):
/// `ŷ(x) = b + Σ_i w_i x_i + Σ_{i<j} <v_i, v_j> x_i x_j`, with k factors `v_i` per feature.
/// The pairwise term is computed in O(k·nnz) from `s_f = Σ_i v_if x_i` (Rendle 2010, eq. 5):
/// `½ Σ_f (s_f² − Σ_i v_if² x_i²)`, and `∂ŷ/∂v_if = x_i (s_f − v_if x_i)` (eq. 8).
///
/// One learning step (`learn`) is fused: one pass over the active rows computes the margin and
/// the sums `s_f` (SIMD over the factors), then one pass updates each row in place from those
/// sums, with no nnz×k gradient buffer. Occurrences of the same index in a row are updated one
/// after the other, each from the current value of its row (as libFM does): for distinct
/// indices this is exactly one SGD step on the example's loss, for repeated ones it agrees to
/// first order in the learning rate. L2 regularisation is applied to the active features only
/// (libFM's `-regular 'λ0,λw,λv'`).
///
/// Thread-safety: `margin`, `operator()` and `prefetch` are const and safe to call concurrently;
/// `learn` / `update` are not, except as Hogwild (Recht et al. 2011) through `model::train`,
/// where lost updates are the accepted price. Complexity: O(k·nnz) per example, reading and
/// writing `nnz` rows of `stride` floats.
class factorization_machine : public scorer_tag, public trainable_tag {
public:
  /// Settings; validated on construction.
  struct config {
    /// The number of features: every index must be below it (hash larger spaces first).
    std::size_t features = std::size_t{1} << 20;
    /// k, the factors per feature, from 1 to 1024.
    std::size_t factors = 8;
    loss_function loss = loss_function::logistic;
    fm_optimizer optimizer = fm_optimizer::adagrad;
    /// η, the base learning rate (scaled by the schedule's multiplier in `learn`).
    float learning_rate = 0.1f;
    /// L2 penalties on the bias, the linear weights and the factors (libFM's λ0, λw, λv).
    float l2_bias = 0.0f;
    float l2_linear = 0.0f;
    float l2_factors = 0.0f;
    /// σ of the N(0, σ) initial factors (libFM's `-init_stdev`); the weights start at 0.
    float init_stddev = 0.01f;
    /// The AdaGrad accumulators' starting value (> 0: it bounds the first steps by η|g|).
    float adagrad_initial = 1.0f;
    /// Seeds the initial factors.
    std::uint64_t seed = 1;

    /// Throws `config_error` naming the first invalid field.
    void validate() const {
      if (features == 0 || features > (std::size_t{1} << 32)) {
        throw config_error("factorization_machine.features", "an integer from 1 to 2^32");
      }
      if (factors == 0 || factors > detail::fm_max_factors) {
        throw config_error("factorization_machine.factors", "an integer from 1 to 1024");
      }
      if (!(learning_rate > 0.0f) || !std::isfinite(learning_rate)) {
        throw config_error("factorization_machine.learning_rate", "a positive finite number");
      }
      const std::array<std::pair<const char*, float>, 3> l2 = {
          {{"l2_bias", l2_bias}, {"l2_linear", l2_linear}, {"l2_factors", l2_factors}}};
      for (const auto& [name, value] : l2) {
        if (!(value >= 0.0f) || !std::isfinite(value)) {
          std::string field = "factorization_machine.";
          field += name;
          throw config_error(field, "a non-negative finite number");
        }
      }
      if (!(init_stddev >= 0.0f) || !std::isfinite(init_stddev)) {
        throw config_error("factorization_machine.init_stddev", "a non-negative finite number");
      }
      if (!(adagrad_initial > 0.0f) || !std::isfinite(adagrad_initial)) {
        throw config_error("factorization_machine.adagrad_initial", "a positive finite number");
      }
    }

    /// The settings as JSON (the model file's `hyper_parameters`).
    [[nodiscard]] nlohmann::json to_json() const {
      return {{"features", features},
              {"factors", factors},
              {"loss", std::string(to_string(loss))},
              {"optimizer", optimizer == fm_optimizer::sgd ? "sgd" : "adagrad"},
              {"learning_rate", learning_rate},
              {"l2_bias", l2_bias},
              {"l2_linear", l2_linear},
              {"l2_factors", l2_factors},
              {"init_stddev", init_stddev},
              {"adagrad_initial", adagrad_initial},
              {"seed", seed}};
    }
    /// Settings from JSON: missing keys keep their defaults, unknown keys and invalid values
    /// throw `config_error` naming the key.
    [[nodiscard]] static config from_json(const nlohmann::json& j) {
      data::detail::config_reader r(j, "factorization_machine");
      config c;
      r.read("features", c.features);
      r.read("factors", c.factors);
      std::string loss_name;
      if (r.read("loss", loss_name)) {
        c.loss = parse_loss_function(loss_name, r.field("loss"));
      }
      static constexpr std::array<std::pair<fm_optimizer, std::string_view>, 2> optimizers = {
          {{fm_optimizer::sgd, "sgd"}, {fm_optimizer::adagrad, "adagrad"}}};
      r.read_enum("optimizer", c.optimizer, optimizers);
      r.read("learning_rate", c.learning_rate);
      r.read("l2_bias", c.l2_bias);
      r.read("l2_linear", c.l2_linear);
      r.read("l2_factors", c.l2_factors);
      r.read("init_stddev", c.init_stddev);
      r.read("adagrad_initial", c.adagrad_initial);
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
  static constexpr std::string_view model_type = "fm";

  /// A model with zero bias and linear weights and N(0, σ) factors drawn in feature order from
  /// `seed`. @throws config_error for invalid settings.
  explicit factorization_machine(const config& c)
      : factorization_machine(c, uninitialised{}) {
    detail::fm_normal normal(config_.seed);
    const float g0 = config_.adagrad_initial;
    if (layout_.adagrad) {
      parameters_[1] = g0;
    }
    for (std::size_t j = 0; j < layout_.features; ++j) {
      float* p = row(j);
      for (std::size_t f = 0; f < layout_.k; ++f) {
        p[f] = static_cast<float>(config_.init_stddev * normal());
      }
      if (layout_.adagrad) {
        for (std::size_t f = 0; f < layout_.kp; ++f) {
          p[layout_.kp + f] = g0;
        }
        p[layout_.w + 1] = g0;
      }
    }
  }

  /// The settings.
  [[nodiscard]] const config& settings() const noexcept { return config_; }
  /// The loss it minimises.
  [[nodiscard]] loss_function loss() const noexcept { return config_.loss; }
  /// The feature count n.
  [[nodiscard]] std::size_t feature_count() const noexcept { return layout_.features; }
  /// k, the factors per feature.
  [[nodiscard]] std::size_t factor_count() const noexcept { return layout_.k; }

  /// The margin `ŷ(x)` (a logit under the logistic loss). Pure and thread-safe.
  /// @throws input_error naming the position of an index `>= feature_count()`.
  [[nodiscard]] float margin(sparse_row_view x) const {
    alignas(64) float sum[detail::fm_max_factors];
    return parameters_[0] + dispatch_forward(x, sum);
  }

  /// The prediction: a probability (logistic loss) or the value itself (squared loss).
  [[nodiscard]] float operator()(sparse_row_view x) const {
    return predict_from_margin(config_.loss, margin(x));
  }

  /// One optimizer step on example `(x, label)` with learning rate `η · rate_multiplier`;
  /// returns the example's loss before the step. On an `input_error` (an index out of range)
  /// the model is unchanged.
  float learn(sparse_row_view x, float label, float rate_multiplier = 1.0f) {
    return learn(x, label, rate_multiplier, header_row());
  }

  /// For trainers: `learn` with the bias and its AdaGrad sum read from and written to
  /// `header[0]` and `header[1]` instead of the model's own (`header_row()`). `model::train`'s
  /// Hogwild threads each keep a private copy of the header there and add their changes to the
  /// model's after every mini-batch: every example updates the bias, so a shared one would pass
  /// its cache line between the cores at every step. Precondition: `header.size() ==
  /// header_row().size()`, and no other thread writes `header` during the call.
  float learn(sparse_row_view x, float label, float rate_multiplier, std::span<float> header) {
    float* const h = header.data();
    if constexpr (detail::fm_has_simd) {
      switch (layout_.kp) {
      case 4:
        return learn_with<detail::fm_batch<detail::fm_lanes<4>()>, 4 / detail::fm_lanes<4>()>(
            x, label, rate_multiplier, h);
      case 8:
        return learn_with<detail::fm_batch<detail::fm_lanes<8>()>, 8 / detail::fm_lanes<8>()>(
            x, label, rate_multiplier, h);
      case 16:
        return learn_with<detail::fm_batch<detail::fm_lanes<16>()>, 16 / detail::fm_lanes<16>()>(
            x, label, rate_multiplier, h);
      case 32:
        return learn_with<detail::fm_batch<detail::fm_lanes<32>()>, 32 / detail::fm_lanes<32>()>(
            x, label, rate_multiplier, h);
      case 64:
        return learn_with<detail::fm_batch<detail::fm_lanes<64>()>, 64 / detail::fm_lanes<64>()>(
            x, label, rate_multiplier, h);
      default:
        return learn_with<detail::fm_batch<4>, 0>(x, label, rate_multiplier, h);
      }
    } else {
      return reference::fm_learn(*this, x, label, rate_multiplier, header);
    }
  }

  /// The model's header line: the bias, its AdaGrad sum (unused under SGD), then padding to a
  /// cache line (`learn`'s four-argument form takes a copy of it).
  [[nodiscard]] std::span<float> header_row() noexcept {
    return {parameters_.data(), detail::fm_line_floats};
  }

  /// `learn(x, label, 1)`: online learning from one arriving example.
  float update(sparse_row_view x, float label) { return learn(x, label, 1.0f); }

  /// Asks the cache for the rows `x` will touch: a trainer calls it for the example after the
  /// next one, so that their memory latency overlaps the current step. No effect on results.
  void prefetch(sparse_row_view x) const noexcept {
    for (const std::uint32_t j : x.indices) {
      if (j < layout_.rows) {
        const float* p = row(j);
        for (std::size_t line = 0; line < layout_.stride; line += detail::fm_line_floats) {
          mlsd::detail::prefetch<true>(p + line); // for writing: the step stores to every line
        }
      }
    }
  }

  /// Every trainable number, weights and AdaGrad state, as one contiguous span (see the file
  /// comment for the layout): what the trainer averages or shares between threads. Scratch rows
  /// (`set_scratch_rows`) are not part of it.
  [[nodiscard]] std::span<float> parameters() noexcept {
    return {parameters_.data(), parameter_count()};
  }
  [[nodiscard]] std::span<const float> parameters() const noexcept {
    return {parameters_.data(), parameter_count()};
  }

  /// For `model::train` (see `training_key`): a model with this one's configuration and no
  /// scratch rows, whose parameters are allocated but not yet written. The trainer's
  /// deterministic mode fills its copies of the model from it on all its threads, so that tens of
  /// MiB of fresh pages are not first touched by one thread alone.
  [[nodiscard]] factorization_machine unwritten_replica(training_key) const {
    return {*this, unwritten{}};
  }

  /// The floats of row `j`: feature j's factors, linear weight and AdaGrad state (layout in the
  /// file comment), or scratch row `j - feature_count()`. Precondition: `j < feature_count() +`
  /// the scratch rows.
  [[nodiscard]] std::span<float> feature_row(std::size_t j) noexcept {
    return {row(j), layout_.stride};
  }

  /// For trainers: appends `n` scratch rows after the last feature's, or removes them (n = 0).
  /// Row indices `feature_count() .. feature_count() + n - 1` are then accepted by `learn`,
  /// `margin` and `prefetch` and address the scratch rows; `model::train` gives each Hogwild
  /// thread private copies of the most frequent features' rows there (model/trainer.hpp). Scratch
  /// rows are not parameters: they are neither saved nor averaged, and their contents are
  /// unspecified until written. A new model has room for 8 MiB of them (a copy of a model has
  /// none: its first growth copies the table); shrinking keeps the memory.
  void set_scratch_rows(std::size_t n) {
    const std::size_t size = detail::fm_line_floats + (layout_.features + n) * layout_.stride;
    if (size > parameters_.capacity()) {
      parameters_.reserve(size); // exactly: resize alone would double the capacity
    }
    parameters_.resize(size);
    layout_.rows = layout_.features + n;
  }

  /// The global bias b.
  [[nodiscard]] float bias() const noexcept { return parameters_[0]; }
  /// The linear weight w_j. Precondition: `j < feature_count()`.
  [[nodiscard]] float linear(std::size_t j) const noexcept { return row(j)[layout_.w]; }
  /// The k factors v_j. Precondition: `j < feature_count()`.
  [[nodiscard]] std::span<const float> factors_of(std::size_t j) const noexcept {
    return {row(j), layout_.k};
  }
  /// Sets b (e.g. to the mean rating before training a regression).
  void set_bias(float b) noexcept { parameters_[0] = b; }
  /// Sets w_j. Precondition: `j < feature_count()`.
  void set_linear(std::size_t j, float w) noexcept { row(j)[layout_.w] = w; }
  /// Sets v_jf. Preconditions: `j < feature_count()`, `f < factor_count()`.
  void set_factor(std::size_t j, std::size_t f, float v) noexcept { row(j)[f] = v; }

  /// The model as a model file: `hyper_parameters` = `settings().to_json()`; tables `bias`
  /// (1×1), `linear` (1×n), `factors` (n×k), and under AdaGrad their accumulators
  /// `bias_accumulator`, `linear_accumulator`, `factor_accumulator` (same shapes), so that a
  /// loaded model continues training where it stopped.
  [[nodiscard]] model_file to_model_file() const {
    model_file f;
    f.model_type = std::string(model_type);
    f.hyper_parameters = config_.to_json();
    const std::size_t n = layout_.features, k = layout_.k;
    std::vector<float> linear(n), factors(n * k);
    const auto gather = [&](std::size_t w_offset, std::size_t v_offset) {
      for (std::size_t j = 0; j < n; ++j) {
        const float* p = row(j);
        linear[j] = p[w_offset];
        for (std::size_t d = 0; d < k; ++d) {
          factors[j * k + d] = p[v_offset + d];
        }
      }
    };
    gather(layout_.w, 0);
    f.add_table("bias", 1, 1, std::span<const float>(parameters_.data(), 1));
    f.add_table("linear", 1, n, linear);
    f.add_table("factors", n, k, factors);
    if (layout_.adagrad) {
      gather(layout_.w + 1, layout_.kp);
      f.add_table("bias_accumulator", 1, 1, std::span<const float>(parameters_.data() + 1, 1));
      f.add_table("linear_accumulator", 1, n, linear);
      f.add_table("factor_accumulator", n, k, factors);
    }
    return f;
  }

  /// The model a model file holds (see `to_model_file`).
  /// @throws config_error for invalid hyper-parameters; model_file_error `missing_table` or
  ///   `bad_table` when a table is absent or its shape disagrees with them.
  [[nodiscard]] static factorization_machine from_model_file(const model_file& f) {
    factorization_machine m(config::from_json(f.hyper_parameters), uninitialised{});
    const detail::fm_layout& layout = m.layout_;
    const std::size_t n = layout.features, k = layout.k;
    const auto scatter = [&](std::string_view bias, std::string_view linear,
                             std::string_view factors, std::size_t bias_offset,
                             std::size_t w_offset, std::size_t v_offset) {
      m.parameters_[bias_offset] = f.table(bias, 1, 1).values[0];
      const std::vector<float>& w = f.table(linear, 1, n).values;
      const std::vector<float>& v = f.table(factors, n, k).values;
      for (std::size_t j = 0; j < n; ++j) {
        float* p = m.row(j);
        p[w_offset] = w[j];
        for (std::size_t d = 0; d < k; ++d) {
          p[v_offset + d] = v[j * k + d];
        }
      }
    };
    scatter("bias", "linear", "factors", 0, layout.w, 0);
    if (layout.adagrad) {
      scatter("bias_accumulator", "linear_accumulator", "factor_accumulator", 1, layout.w + 1,
              layout.kp);
      // The padding lanes' accumulators are never read by a step that changes anything, but a
      // positive value keeps their 1/sqrt finite.
      for (std::size_t j = 0; j < n; ++j) {
        for (std::size_t d = k; d < layout.kp; ++d) {
          m.row(j)[layout.kp + d] = m.config_.adagrad_initial;
        }
      }
    }
    return m;
  }

private:
  struct uninitialised {};

  /// Allocates the parameters (all zero), without drawing the factors.
  factorization_machine(const config& c, uninitialised)
      : config_(checked(c))
      , layout_(c.features, c.factors, c.optimizer)
      , parameters_(detail::fm_storage_with_headroom(detail::fm_line_floats +
                                                     c.features * layout_.stride)) {}

  struct unwritten {};

  /// The shape of `m` (its configuration and layout, without scratch rows), parameters unwritten.
  factorization_machine(const factorization_machine& m, unwritten)
      : config_(m.config_)
      , layout_(m.layout_)
      , parameters_(detail::fm_storage_unwritten(m.parameter_count())) {
    layout_.rows = layout_.features;
  }

  friend float reference::fm_margin(const factorization_machine&, sparse_row_view);
  friend float reference::fm_learn(factorization_machine&, sparse_row_view, float, float,
                                   std::span<float>);

  static const config& checked(const config& c) {
    c.validate();
    return c;
  }

  [[nodiscard]] std::size_t parameter_count() const noexcept {
    return detail::fm_line_floats + layout_.features * layout_.stride;
  }

  [[nodiscard]] float* row(std::size_t j) noexcept {
    return parameters_.data() + detail::fm_line_floats + j * layout_.stride;
  }
  [[nodiscard]] const float* row(std::size_t j) const noexcept {
    return parameters_.data() + detail::fm_line_floats + j * layout_.stride;
  }

  /// `Σ w_i x_i` + the pairwise term; writes the sums `s_f` (kp of them) to `sum`.
  float dispatch_forward(sparse_row_view x, float* sum) const {
    if constexpr (detail::fm_has_simd) {
      using namespace detail;
      switch (layout_.kp) {
      case 4:
        return fm_fused<fm_batch<fm_lanes<4>()>, 4 / fm_lanes<4>(), false>::forward(
            parameters_.data() + fm_line_floats, layout_, x, sum);
      case 8:
        return fm_fused<fm_batch<fm_lanes<8>()>, 8 / fm_lanes<8>(), false>::forward(
            parameters_.data() + fm_line_floats, layout_, x, sum);
      case 16:
        return fm_fused<fm_batch<fm_lanes<16>()>, 16 / fm_lanes<16>(), false>::forward(
            parameters_.data() + fm_line_floats, layout_, x, sum);
      case 32:
        return fm_fused<fm_batch<fm_lanes<32>()>, 32 / fm_lanes<32>(), false>::forward(
            parameters_.data() + fm_line_floats, layout_, x, sum);
      case 64:
        return fm_fused<fm_batch<fm_lanes<64>()>, 64 / fm_lanes<64>(), false>::forward(
            parameters_.data() + fm_line_floats, layout_, x, sum);
      default:
        return fm_fused<fm_batch<4>, 0, false>::forward(parameters_.data() + fm_line_floats,
                                                        layout_, x, sum);
      }
    } else {
      return reference::fm_margin(*this, x) - parameters_[0];
    }
  }

  template <class B, std::size_t C>
  float learn_with(sparse_row_view x, float label, float rate_multiplier, float* header) {
    alignas(64) float sum[detail::fm_max_factors];
    float* rows = parameters_.data() + detail::fm_line_floats;
    const float z = header[0] + detail::fm_fused<B, C, false>::forward(rows, layout_, x, sum);
    const float loss = loss_value(config_.loss, z, label);
    const float g = loss_gradient(config_.loss, z, label);
    const float eta = config_.learning_rate * rate_multiplier;
    update_bias(header, g, eta);
    if (layout_.adagrad) {
      detail::fm_fused<B, C, true>::update(rows, layout_, x, sum, g, eta, config_.l2_linear,
                                           config_.l2_factors);
    } else {
      detail::fm_fused<B, C, false>::update(rows, layout_, x, sum, g, eta, config_.l2_linear,
                                            config_.l2_factors);
    }
    return loss;
  }

  // The bias b = header[0] and its AdaGrad sum header[1].
  void update_bias(float* header, float g, float eta) noexcept {
    float& b = header[0];
    const float gb = g + config_.l2_bias * b;
    if (layout_.adagrad) {
      float& acc = header[1];
      acc += gb * gb;
      b -= eta * gb / std::sqrt(acc);
    } else {
      b -= eta * gb;
    }
  }

  config config_;
  detail::fm_layout layout_;
  detail::fm_storage parameters_;
};

static_assert(sgd_model<factorization_machine>);
static_assert(scorer<factorization_machine> && trainable<factorization_machine>);
static_assert(model_file_serializable<factorization_machine>);

namespace reference {

inline float fm_margin(const factorization_machine& m, sparse_row_view x) {
  const detail::fm_layout& layout = m.layout_;
  float linear = 0.0f;
  for (std::size_t i = 0; i < x.nnz(); ++i) {
    if (x.indices[i] >= layout.rows) {
      detail::fm_bad_index("factorization_machine", i, x.indices[i], layout.features);
    }
    linear += m.row(x.indices[i])[layout.w] * x.values[i];
  }
  const matrix_view<const float> v(m.row(0), layout.rows, layout.k, layout.stride);
  return m.bias() + linear +
         kernels::reference::fm_pairwise(v, x.indices.data(), x.values.data(), x.nnz());
}

inline float fm_learn(factorization_machine& m, sparse_row_view x, float label,
                      float rate_multiplier) {
  return fm_learn(m, x, label, rate_multiplier, m.header_row());
}

inline float fm_learn(factorization_machine& m, sparse_row_view x, float label,
                      float rate_multiplier, std::span<float> header) {
  const detail::fm_layout& layout = m.layout_;
  const auto& c = m.config_;
  // Forward: s_f = Σ_i v_if x_i, then ½ Σ_f (s_f² − Σ_i v_if² x_i²) (Rendle 2010, eq. 5).
  std::vector<double> s(layout.k, 0.0);
  double linear = 0.0, squares = 0.0;
  for (std::size_t i = 0; i < x.nnz(); ++i) {
    if (x.indices[i] >= layout.rows) {
      detail::fm_bad_index("factorization_machine", i, x.indices[i], layout.features);
    }
    const float* p = m.row(x.indices[i]);
    linear += static_cast<double>(p[layout.w]) * x.values[i];
    for (std::size_t f = 0; f < layout.k; ++f) {
      const double xv = static_cast<double>(p[f]) * x.values[i];
      s[f] += xv;
      squares += xv * xv;
    }
  }
  double pairwise = -squares;
  for (const double sf : s) {
    pairwise += sf * sf;
  }
  const float z = static_cast<float>(header[0] + linear + 0.5 * pairwise);
  const float loss = loss_value(c.loss, z, label);
  const float g = loss_gradient(c.loss, z, label);
  const float eta = c.learning_rate * rate_multiplier;
  const auto step = [&](float& theta, float& acc, float grad) {
    if (layout.adagrad) {
      acc += grad * grad;
      theta -= eta * grad / std::sqrt(acc);
    } else {
      theta -= eta * grad;
    }
  };
  float unused = 0.0f;
  step(header[0], layout.adagrad ? header[1] : unused, g + c.l2_bias * header[0]);
  // Backward: ∂ŷ/∂w_i = x_i, ∂ŷ/∂v_if = x_i (s_f − v_if x_i) (Rendle 2010, eq. 8), each row
  // updated in place in the order of the row.
  for (std::size_t i = 0; i < x.nnz(); ++i) {
    float* p = m.row(x.indices[i]);
    const float xi = x.values[i];
    step(p[layout.w], layout.adagrad ? p[layout.w + 1] : unused,
         g * xi + c.l2_linear * p[layout.w]);
    for (std::size_t f = 0; f < layout.k; ++f) {
      const float grad = g * xi * (static_cast<float>(s[f]) - p[f] * xi) + c.l2_factors * p[f];
      step(p[f], layout.adagrad ? p[layout.kp + f] : unused, grad);
    }
  }
  return loss;
}

} // namespace reference

} // namespace model
MLSD_END_NAMESPACE
