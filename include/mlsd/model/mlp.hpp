/// @file
/// A multi-layer perceptron ranker on Eigen: one embedding table per categorical field (hashed ids,
/// mean-pooled per field), concatenated with dense features, then fully connected ReLU layers and a
/// final logit; trained with mini-batch Adam (Kingma & Ba 2015), optionally with decoupled weight
/// decay (Loshchilov & Hutter 2019). The deep ranker of the framework's model step: it learns the
/// interactions between fields that logistic regression cannot express, at the price of a dense
/// forward pass per example (docs/mlp-and-anomaly-models.md).
///
/// Kernels: the dense layers are matrix products over a mini-batch, which Eigen's blocked GEMM
/// does (the kernels of `mlsd/kernels/` are dot products and sparse gathers of one row); the
/// output's sigmoid and log loss are the stable formulas of `model/loss.hpp`, and the same
/// formulas in `double` for `basic_mlp_ranker<double>` (the gradient checks, where the float
/// kernels would not do).
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/random.hpp>
#include <mlsd/model/loss.hpp>
#include <mlsd/model/model_file.hpp>
#include <mlsd/model/training.hpp>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <numbers>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace model {

/// The architecture and optimizer of an `mlp_ranker`.
///
/// The input is `embedding_rows.size() · embedding_dim + dense_features` numbers: one pooled
/// embedding per categorical field, then the dense features; `hidden` lists the widths of the
/// ReLU layers (empty: a linear model over embeddings and dense features), and a last layer of
/// width 1 gives the logit (or the predicted value under the squared loss).
struct mlp_config {
  /// Rows (hash buckets) of each categorical field's embedding table; ids are taken modulo it.
  std::vector<std::size_t> embedding_rows{};
  /// Width of every embedding.
  std::size_t embedding_dim = 8;
  /// Number of dense (numeric) input slots.
  std::size_t dense_features = 0;
  /// Widths of the hidden ReLU layers, first to last.
  std::vector<std::size_t> hidden{64, 32};
  loss_function loss = loss_function::logistic;
  /// Adam's step size α.
  double learning_rate = 1e-3;
  /// Adam's decay rates of the first and second moment estimates, in [0, 1).
  double beta1 = 0.9;
  double beta2 = 0.999;
  /// Adam's ε, added to the square root of the second moment; > 0.
  double epsilon = 1e-8;
  /// Decoupled weight decay λ (AdamW, PyTorch's convention: θ ← θ − α·λ·θ each step) on the
  /// weight matrices and on the embedding rows a step touches; never on biases. 0 turns it off.
  double weight_decay = 0.0;
  /// Standard deviation of the normal initialisation of the embeddings.
  double embedding_init_std = 0.05;
  /// Seeds the initialisation (He et al. 2015 for the layers). Shuffling takes its seed from
  /// `train_options::seed`.
  std::uint64_t seed = 1;

  /// Size of the network's input vector.
  [[nodiscard]] std::size_t input_dim() const noexcept {
    return embedding_rows.size() * embedding_dim + dense_features;
  }

  /// @throws mlsd::config_error naming the first invalid field.
  void validate() const {
    for (std::size_t f = 0; f < embedding_rows.size(); ++f) {
      if (embedding_rows[f] == 0 || embedding_rows[f] > (std::uint64_t{1} << 32)) {
        throw config_error(data::detail::indexed_path("embedding_rows", f),
                           "a row count from 1 to 2^32");
      }
    }
    if (embedding_dim == 0) {
      throw config_error("embedding_dim", "at least 1");
    }
    if (input_dim() == 0) {
      throw config_error(
          "dense_features",
          "at least 1 when there are no embedding fields (the input would be empty)");
    }
    for (std::size_t l = 0; l < hidden.size(); ++l) {
      if (hidden[l] == 0) {
        throw config_error(data::detail::indexed_path("hidden", l), "a layer width of at least 1");
      }
    }
    if (!(learning_rate > 0.0) || !std::isfinite(learning_rate)) {
      throw config_error("learning_rate", "a positive number");
    }
    if (!(beta1 >= 0.0 && beta1 < 1.0)) {
      throw config_error("beta1", "a number in [0, 1)");
    }
    if (!(beta2 >= 0.0 && beta2 < 1.0)) {
      throw config_error("beta2", "a number in [0, 1)");
    }
    if (!(epsilon > 0.0) || !std::isfinite(epsilon)) {
      throw config_error("epsilon", "a positive number");
    }
    if (!(weight_decay >= 0.0) || !std::isfinite(weight_decay)) {
      throw config_error("weight_decay", "a non-negative number");
    }
    if (!(embedding_init_std >= 0.0) || !std::isfinite(embedding_init_std)) {
      throw config_error("embedding_init_std", "a non-negative number");
    }
  }

  /// The config as JSON (the `hyper_parameters` of the model file).
  [[nodiscard]] nlohmann::json to_json() const {
    return {{"embedding_rows", embedding_rows},
            {"embedding_dim", embedding_dim},
            {"dense_features", dense_features},
            {"hidden", hidden},
            {"loss", std::string(to_string(loss))},
            {"learning_rate", learning_rate},
            {"beta1", beta1},
            {"beta2", beta2},
            {"epsilon", epsilon},
            {"weight_decay", weight_decay},
            {"embedding_init_std", embedding_init_std},
            {"seed", seed}};
  }

  /// Reads a config written by `to_json`; absent keys keep their defaults, unknown keys and
  /// invalid values throw `mlsd::config_error` naming the field.
  [[nodiscard]] static mlp_config from_json(const nlohmann::json& j) {
    data::detail::config_reader<nlohmann::json> r(j, "");
    mlp_config c;
    r.read("embedding_rows", c.embedding_rows);
    r.read("embedding_dim", c.embedding_dim);
    r.read("dense_features", c.dense_features);
    r.read("hidden", c.hidden);
    std::string loss_name;
    if (r.read("loss", loss_name)) {
      c.loss = parse_loss_function(loss_name, "loss");
    }
    r.read("learning_rate", c.learning_rate);
    r.read("beta1", c.beta1);
    r.read("beta2", c.beta2);
    r.read("epsilon", c.epsilon);
    r.read("weight_decay", c.weight_decay);
    r.read("embedding_init_std", c.embedding_init_std);
    r.read("seed", c.seed);
    r.finish();
    c.validate();
    return c;
  }
};

namespace detail {

/// The loss of `loss.hpp` for any floating-point type: the float overloads themselves for
/// `float` (so the MLP and the sparse models agree bit for bit), the same formulas otherwise
/// (the double build is what the gradient check differentiates).
template <class Scalar>
[[nodiscard]] Scalar mlp_loss_value(loss_function loss, Scalar z, float label) noexcept {
  if constexpr (std::is_same_v<Scalar, float>) {
    return loss_value(loss, z, label);
  } else {
    if (loss == loss_function::squared) {
      const Scalar r = z - static_cast<Scalar>(label);
      return Scalar(0.5) * r * r;
    }
    const Scalar t = is_positive(label) ? -z : z;
    return std::fmax(t, Scalar(0)) + std::log1p(std::exp(-std::fabs(t)));
  }
}

template <class Scalar>
[[nodiscard]] Scalar mlp_prediction(loss_function loss, Scalar z) noexcept {
  if constexpr (std::is_same_v<Scalar, float>) {
    return predict_from_margin(loss, z);
  } else {
    if (loss == loss_function::squared) {
      return z;
    }
    const Scalar e = std::exp(-std::fabs(z));
    return z >= Scalar(0) ? Scalar(1) / (Scalar(1) + e) : e / (Scalar(1) + e);
  }
}

template <class Scalar>
[[nodiscard]] Scalar mlp_loss_gradient(loss_function loss, Scalar z, float label) noexcept {
  if constexpr (std::is_same_v<Scalar, float>) {
    return loss_gradient(loss, z, label);
  } else {
    if (loss == loss_function::squared) {
      return z - static_cast<Scalar>(label);
    }
    return mlp_prediction(loss, z) - (is_positive(label) ? Scalar(1) : Scalar(0));
  }
}

/// A standard normal draw (Box–Muller) from SplitMix64: the same numbers on every standard
/// library, unlike `std::normal_distribution`.
[[nodiscard]] inline double mlp_standard_normal(data::detail::splitmix64& g) noexcept {
  const double u1 = 1.0 - g.uniform(); // (0, 1]: log(u1) is finite
  const double u2 = g.uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

/// The `model_file_error` of a table whose shape disagrees with the hyper-parameters.
[[nodiscard]] inline model_file_error mlp_bad_table(const model_file& file,
                                                    const std::string& message) {
  return model_file_error(model_file_error::kind::bad_table, file.source, message);
}

/// The `model_file_error` of a file written by another model type.
[[nodiscard]] inline model_file_error mlp_wrong_model_type(const model_file& file,
                                                           std::string_view expected) {
  std::string message = "expected a '";
  message += expected;
  message += "' model, found '";
  message += file.model_type;
  message += '\'';
  return model_file_error(model_file_error::kind::wrong_model_type, file.source, message);
}

/// `name` followed by a number, e.g. "layer0.weight" from ("layer", 0, ".weight").
[[nodiscard]] inline std::string mlp_numbered_name(std::string_view name, std::size_t i,
                                                   std::string_view suffix = {}) {
  std::string out(name);
  out += std::to_string(i);
  out += suffix;
  return out;
}

} // namespace detail

/// A feed-forward ranker: pooled embeddings of categorical fields and dense features, ReLU
/// layers, one output (a logit under the logistic loss, the prediction under the squared loss).
///
/// **Input** is a `sparse_row_view` with fields, read as follows (E = `embedding_rows.size()`):
/// - an entry with field `f < E` is a categorical id: `index` is the hashed id, taken modulo
///   `embedding_rows[f]`, and `value` its weight. The field's embedding is the mean over its
///   n entries of `value · table_f[index mod rows]` (the zero vector when the field is absent);
/// - an entry with field `f == E` is a dense feature: `index` is its slot in
///   `[0, dense_features)` and `value` its value (absent slots are 0; repeated slots add up);
/// - a row without fields is all dense (allowed only when E = 0);
/// - anything else (a field above E, a slot out of range, a non-finite value or label) throws
///   `mlsd::input_error` naming the row (counted from 0 in its batch) and the entry.
/// So the libffm files the FFM reads (data/libffm.hpp) feed the MLP unchanged when all their
/// fields are categorical, and one CSR `sparse_batch` carries both kinds of feature.
///
/// **Training** is mini-batch Adam on the mean loss of each batch (`fit`, or `learn` per batch,
/// or `update` per example for online learning). Dense layers take the full Adam step; embedding
/// rows take it only when the batch touches them ("lazy" Adam, as PyTorch's `SparseAdam`), so a
/// step costs O(batch · nnz · d) in the tables instead of O(table size).
///
/// **Determinism**: the same config, seed, data and options give bit-identical parameters. All
/// work runs on the calling thread; Eigen's own threading is off (it only turns on when the
/// program is compiled with OpenMP), so results do not depend on the machine's core count, only
/// on the binary (another compiler or `-march` may round differently).
///
/// **Thread safety**: the const members (scoring) are safe to call concurrently; training is not.
/// `Scalar` is `float` (`mlp_ranker`) or `double` (for gradient checks).
namespace detail {

// T - 1 worker threads that run jobs together with the calling thread, for the length of one
// `fit`: a job is a function of the part number 0 .. T - 1, the caller runs part 0, and `run`
// returns when every part is done. Kept for the whole run, so that a mini-batch costs two barrier
// waits rather than starting and joining threads (about 4,000 times per epoch on the benchmark's
// click log).
class mlp_team {
public:
  explicit mlp_team(std::size_t parts)
      : parts_(parts)
      , start_(static_cast<std::ptrdiff_t>(parts))
      , done_(static_cast<std::ptrdiff_t>(parts)) {
    workers_.reserve(parts - 1);
    try {
      for (std::size_t p = 1; p < parts; ++p) {
        workers_.emplace_back([this, p] { loop(p); });
      }
    } catch (...) { // a thread could not start: release the ones that did, then report it
      stopping_ = true;
      for (std::size_t missing = workers_.size() + 1; missing < parts; ++missing) {
        start_.arrive_and_drop();
      }
      start_.arrive_and_wait(); // the started workers see `stopping_`; the jthreads join
      throw;
    }
  }
  mlp_team(const mlp_team&) = delete;
  mlp_team& operator=(const mlp_team&) = delete;
  ~mlp_team() {
    stopping_ = true;
    start_.arrive_and_wait(); // the workers see `stopping_` and return; the jthreads join
  }

  [[nodiscard]] std::size_t parts() const noexcept { return parts_; }

  // Runs `job(p)` for every part p; the job must not throw.
  void run(const std::function<void(std::size_t)>& job) {
    job_ = &job;
    start_.arrive_and_wait();
    job(0);
    done_.arrive_and_wait();
  }

private:
  void loop(std::size_t p) {
    for (;;) {
      start_.arrive_and_wait();
      if (stopping_) {
        return;
      }
      (*job_)(p);
      done_.arrive_and_wait();
    }
  }

  std::size_t parts_;
  std::barrier<> start_, done_;
  const std::function<void(std::size_t)>* job_ = nullptr;
  bool stopping_ = false; // written before `start_`, read after it: ordered by the barrier
  std::vector<std::jthread> workers_;
};

} // namespace detail

template <class Scalar>
class basic_mlp_ranker : public scorer_tag, public trainable_tag {
  static_assert(std::is_floating_point_v<Scalar>, "basic_mlp_ranker needs a floating-point type");

public:
  using scalar_type = Scalar;
  using input_type = sparse_row_view;
  using output_type = Scalar;
  using label_type = float;
  /// One column per example (Eigen's default column-major layout).
  using matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  /// The layout of weight matrices (out × in) and embedding tables (rows × dim).
  using row_major_matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

  /// The `model_type` of its model files.
  static constexpr std::string_view model_type = "mlp";

  /// A network with freshly initialised parameters: He-normal weights (σ = √(2 / fan_in)), zero
  /// biases, normal embeddings (σ = `embedding_init_std`), all drawn from `config.seed`.
  /// @throws mlsd::config_error for an invalid config.
  explicit basic_mlp_ranker(mlp_config config = {})
      : config_(std::move(config)) {
    config_.validate();
    layout();
    data::detail::splitmix64 g(config_.seed);
    for (const layer_shape& l : layers_) {
      const double std_dev = std::sqrt(2.0 / static_cast<double>(l.in));
      for (std::size_t i = 0; i < l.in * l.out; ++i) {
        state_.values[l.weight + i] = static_cast<Scalar>(std_dev * detail::mlp_standard_normal(g));
      }
    }
    for (std::size_t i = dense_parameters_; i < state_.values.size(); ++i) {
      state_.values[i] =
          static_cast<Scalar>(config_.embedding_init_std * detail::mlp_standard_normal(g));
    }
  }

  [[nodiscard]] const mlp_config& config() const noexcept { return config_; }
  [[nodiscard]] loss_function loss() const noexcept { return config_.loss; }
  /// Size of the input vector (pooled embeddings, then dense features).
  [[nodiscard]] std::size_t input_dim() const noexcept { return config_.input_dim(); }
  /// Number of weight layers, the output layer included (`hidden.size() + 1`).
  [[nodiscard]] std::size_t layers() const noexcept { return layers_.size(); }
  /// Number of categorical fields (embedding tables).
  [[nodiscard]] std::size_t embedding_fields() const noexcept {
    return config_.embedding_rows.size();
  }
  /// Adam steps taken so far (the t of the bias correction).
  [[nodiscard]] std::uint64_t steps() const noexcept { return state_.step; }

  /// Layer `l`'s weights, out × in. Precondition: `l < layers()`.
  [[nodiscard]] Eigen::Map<const row_major_matrix> weights(std::size_t l) const noexcept {
    const layer_shape& s = layers_[l];
    return {state_.values.data() + s.weight, static_cast<Eigen::Index>(s.out),
            static_cast<Eigen::Index>(s.in)};
  }
  /// Layer `l`'s bias, of size out. Precondition: `l < layers()`.
  [[nodiscard]] Eigen::Map<const vector> bias(std::size_t l) const noexcept {
    return {state_.values.data() + layers_[l].bias, static_cast<Eigen::Index>(layers_[l].out)};
  }
  /// Field `f`'s embedding table, rows × embedding_dim. Precondition: `f < embedding_fields()`.
  [[nodiscard]] Eigen::Map<const row_major_matrix> embedding_table(std::size_t f) const noexcept {
    return {state_.values.data() + tables_[f], static_cast<Eigen::Index>(config_.embedding_rows[f]),
            static_cast<Eigen::Index>(config_.embedding_dim)};
  }

  /// Every trainable number as one span, in this order: for each layer its weights (row-major,
  /// out × in) then its bias, then each embedding table (row-major). Writable for gradient
  /// checks and for tools; Adam's moments are not part of it.
  [[nodiscard]] std::span<Scalar> parameters() noexcept { return state_.values; }
  [[nodiscard]] std::span<const Scalar> parameters() const noexcept { return state_.values; }

  /// The raw output for one example (the logit under the logistic loss).
  /// @throws mlsd::input_error for a row the model cannot read (see the class comment).
  [[nodiscard]] Scalar margin(sparse_row_view x) const {
    std::vector<matrix> acts;
    forward(std::span<const sparse_row_view>(&x, 1), acts);
    return acts.back()(0, 0);
  }

  /// The prediction for one example: a probability (logistic) or a value (squared). Allocates its
  /// activations per call; `predict` on a batch is the fast path. Thread-safe.
  [[nodiscard]] output_type operator()(sparse_row_view x) const {
    return detail::mlp_prediction(config_.loss, margin(x));
  }

  /// The raw outputs of every row of `batch`, computed as matrix products over chunks of rows.
  [[nodiscard]] std::vector<Scalar> margins(const sparse_batch& batch) const {
    std::vector<Scalar> out(batch.size());
    std::vector<sparse_row_view> views;
    std::vector<matrix> acts;
    for (std::size_t first = 0; first < batch.size(); first += chunk_rows) {
      const std::size_t n = std::min(chunk_rows, batch.size() - first);
      views.clear();
      for (std::size_t r = first; r < first + n; ++r) {
        views.push_back(batch.row(r));
      }
      forward(views, acts, first);
      for (std::size_t i = 0; i < n; ++i) {
        out[first + i] = acts.back()(0, static_cast<Eigen::Index>(i));
      }
    }
    return out;
  }

  /// Batched inference: the prediction of every row of `batch`.
  /// Complexity: O(rows · (nnz + Σ in_l · out_l)). Thread-safe.
  [[nodiscard]] std::vector<Scalar> predict(const sparse_batch& batch) const {
    std::vector<Scalar> out = margins(batch);
    for (Scalar& z : out) {
      z = detail::mlp_prediction(config_.loss, z);
    }
    return out;
  }

  /// The mean loss over `batch` (0 for an empty batch), accumulated in double.
  [[nodiscard]] double mean_loss(const sparse_batch& batch) const {
    if (batch.empty()) {
      return 0.0;
    }
    const std::vector<Scalar> z = margins(batch);
    double sum = 0.0;
    for (std::size_t r = 0; r < z.size(); ++r) {
      sum += static_cast<double>(detail::mlp_loss_value(config_.loss, z[r], batch.row(r).label));
    }
    return sum / static_cast<double>(batch.size());
  }

  /// `mean_loss(valid)` and, when `metric` is set, its figure of `predict(valid)` (as floats)
  /// against the labels (0 / 1 under the logistic loss; NaN, without calling the metric, when a
  /// prediction is not finite), from one forward pass.
  [[nodiscard]] std::pair<double, std::optional<double>>
  validation_figures(const sparse_batch& valid, const validation_metric& metric) const {
    if (!metric || valid.empty()) {
      return {mean_loss(valid), std::nullopt};
    }
    const std::vector<Scalar> z = margins(valid);
    detail::metric_scratch scratch;
    scratch.predictions.resize(z.size());
    double sum = 0.0;
    for (std::size_t r = 0; r < z.size(); ++r) {
      sum += static_cast<double>(detail::mlp_loss_value(config_.loss, z[r], valid.row(r).label));
      scratch.predictions[r] = static_cast<float>(detail::mlp_prediction(config_.loss, z[r]));
    }
    return {sum / static_cast<double>(valid.size()),
            detail::evaluate_metric(metric, config_.loss, scratch, valid.labels())};
  }

  /// The gradient of `mean_loss(batch)` with respect to `parameters()`, in the same order, by
  /// back-propagation. Dense over the embedding tables (zero for untouched rows): meant for
  /// gradient checks and tools, not for training (which keeps the embedding part sparse).
  [[nodiscard]] std::vector<Scalar> gradient(const sparse_batch& batch) const {
    std::vector<sparse_row_view> views;
    for (std::size_t r = 0; r < batch.size(); ++r) {
      views.push_back(batch.row(r));
    }
    std::vector<Scalar> grad(state_.values.size(), Scalar(0));
    if (views.empty()) {
      return grad;
    }
    std::vector<matrix> acts;
    forward(views, acts);
    embedding_gradient sparse;
    backward(views, acts, grad, sparse, views.size());
    const std::size_t d = config_.embedding_dim;
    for (std::size_t s = 0; s < sparse.keys.size(); ++s) {
      const std::size_t base = row_offset(sparse.keys[s]);
      for (std::size_t j = 0; j < d; ++j) {
        grad[base + j] = sparse.values[s * d + j];
      }
    }
    return grad;
  }

  /// One Adam step on the mean loss of rows `rows` of `batch`, with the learning rate scaled by
  /// `rate_multiplier` (the schedule's); returns that mean loss *before* the step. An empty
  /// `rows` takes no step and returns 0.
  /// @throws mlsd::input_error for a row the model cannot read (before any parameter changes).
  Scalar learn(const sparse_batch& batch, std::span<const std::size_t> rows,
               double rate_multiplier = 1.0) {
    std::vector<sparse_row_view> views;
    views.reserve(rows.size());
    for (const std::size_t r : rows) {
      views.push_back(batch.row(r));
    }
    return learn_views(views, rate_multiplier);
  }

  /// One Adam step on the mean loss of the whole `batch`.
  Scalar learn(const sparse_batch& batch, double rate_multiplier = 1.0) {
    std::vector<sparse_row_view> views;
    for (std::size_t r = 0; r < batch.size(); ++r) {
      views.push_back(batch.row(r));
    }
    return learn_views(views, rate_multiplier);
  }

  /// Online learning: one Adam step on one example (with `label` instead of `x.label`); returns
  /// its loss before the step. Not thread-safe.
  Scalar update(sparse_row_view x, float label) {
    x.label = label;
    return learn_views(std::span<const sparse_row_view>(&x, 1), 1.0);
  }

  /// Mini-batch training: `options.epochs` passes over `train`, in a new seeded order each epoch
  /// when `options.shuffle`, one Adam step per `options.batch_size` examples with the learning
  /// rate times `options.schedule.multiplier(epoch)`. With `valid` the validation loss is
  /// reported after each epoch (and `options.valid_metric`, when set); early stopping
  /// (`options.stopping.patience > 0`, needs `valid`) stops after `patience` epochs in which the
  /// metric (when set, else the loss) has not improved on its best by more than `min_delta`, and
  /// restores the parameters and optimizer state of the best epoch. `on_progress` is called after
  /// every batch and at the end of each epoch; returning false stops after the current batch
  /// (`stopped_early` is then true, and an interrupted epoch gets no end-of-epoch report). Calling
  /// `fit` again continues from the current parameters.
  ///
  /// Threads (`options.threads = T > 1`, deterministic mode): each mini-batch is cut into T
  /// contiguous parts, T threads run the forward and backward passes of one part each, and the
  /// parts' gradients are summed in part order before the one Adam step. It is the same step as
  /// on one thread up to the rounding of that sum, so the same seed and T give the same weights
  /// bit for bit, and a different T gives weights that differ in the last bits. The T - 1 extra
  /// threads are started once per call and meet the caller at two barriers per mini-batch.
  ///
  /// Every row of `train` and `valid` is checked before the first step.
  /// @throws mlsd::config_error for invalid options, for Hogwild mode with `threads > 1` and for
  ///   early stopping without `valid`;
  ///   mlsd::input_error for an empty `train` or `valid`, or a row the model cannot read.
  training_summary fit(const sparse_batch& train, const train_options& options,
                       const progress_callback& on_progress = {},
                       const sparse_batch* valid = nullptr) {
    options.validate();
    if (options.threads > 1 && options.mode == parallel_mode::hogwild) {
      throw config_error("mode", "deterministic (mlp_ranker's threads share each mini-batch and "
                                 "sum their gradients in a fixed order; it has no Hogwild mode)");
    }
    if (options.stopping.patience > 0 && valid == nullptr) {
      throw config_error("stopping.patience", "0 when there is no validation set");
    }
    if (train.empty()) {
      throw input_error(input_position("mlp_ranker.fit"), "at least one training example",
                        "an empty batch");
    }
    for (std::size_t r = 0; r < train.size(); ++r) {
      check_row(train.row(r), r);
    }
    if (valid != nullptr && valid->empty()) {
      throw input_error(input_position("mlp_ranker.fit"), "at least one validation example",
                        "an empty batch");
    }
    if (valid != nullptr) {
      for (std::size_t r = 0; r < valid->size(); ++r) {
        check_row(valid->row(r), r);
      }
    }
    const auto start = std::chrono::steady_clock::now();
    const auto elapsed = [&start] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    training_summary summary;
    std::vector<std::size_t> order(train.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
      order[i] = i;
    }
    if (options.valid_metric) {
      summary.valid_metric_name = options.valid_metric.name;
    }
    parameter_state best = state_;
    detail::early_stopper stopper(options);
    std::optional<detail::mlp_team> team; // the threads, for the whole run
    if (options.threads > 1) {
      team.emplace(options.threads);
    }
    std::vector<sparse_row_view> views;
    bool stop = false;        // by early stopping or by the callback
    bool interrupted = false; // by the callback, mid-epoch: no end-of-epoch report
    for (std::size_t epoch = 0; epoch < options.epochs && !stop; ++epoch) {
      if (options.shuffle) {
        // Fisher–Yates from a generator seeded by (seed, epoch): the order of an epoch does not
        // depend on how many epochs ran before it.
        data::detail::splitmix64 g(data::detail::splitmix64::hash(options.seed, epoch));
        for (std::size_t i = order.size(); i > 1; --i) {
          std::swap(order[i - 1], order[g.below(i)]);
        }
      }
      const double multiplier = options.schedule.multiplier(epoch);
      double loss_sum = 0.0;
      std::size_t done = 0;
      for (std::size_t first = 0; first < order.size() && !stop; first += options.batch_size) {
        const std::size_t n = std::min(options.batch_size, order.size() - first);
        views.clear();
        for (std::size_t i = first; i < first + n; ++i) {
          views.push_back(train.row(order[i]));
        }
        loss_sum += static_cast<double>(learn_views(views, multiplier, team ? &*team : nullptr)) *
                    static_cast<double>(n);
        done += n;
        if (on_progress) {
          progress_report report;
          report.epoch = epoch;
          report.epochs = options.epochs;
          report.examples_done = done;
          report.examples_total = train.size();
          report.train_loss = loss_sum / static_cast<double>(done);
          report.seconds = elapsed();
          if (!on_progress(report)) {
            stop = true;
            interrupted = true;
            summary.stopped_early = true;
          }
        }
      }
      summary.epochs_run = epoch + 1;
      summary.train_loss.push_back(loss_sum / static_cast<double>(done));
      summary.best_epoch = epoch;
      std::optional<double> valid_loss;
      std::optional<double> valid_metric;
      if (valid != nullptr) {
        std::tie(valid_loss, valid_metric) = validation_figures(*valid, options.valid_metric);
        summary.valid_loss.push_back(*valid_loss);
        if (valid_metric) {
          summary.valid_metric.push_back(*valid_metric);
        }
      }
      if (options.stopping.patience > 0) {
        if (stopper.record(epoch, valid_metric.value_or(*valid_loss))) {
          best = state_;
        } else if (stopper.exhausted()) {
          stop = true;
          summary.stopped_early = true;
        }
      }
      if (on_progress && !interrupted) {
        progress_report report;
        report.epoch = epoch;
        report.epochs = options.epochs;
        report.examples_done = done;
        report.examples_total = train.size();
        report.train_loss = summary.train_loss.back();
        report.valid_loss = valid_loss;
        report.valid_metric = valid_metric;
        if (options.valid_metric) {
          report.valid_metric_name = options.valid_metric.name;
        }
        report.seconds = elapsed();
        report.epoch_done = true;
        if (!on_progress(report)) {
          stop = true;
          summary.stopped_early = true;
        }
      }
    }
    if (options.stopping.patience > 0) {
      state_ = std::move(best);
      summary.best_epoch = stopper.best_epoch();
    }
    summary.seconds = elapsed();
    return summary;
  }

  /// The model file: `hyper_parameters` = `config().to_json()`; tables `layer<l>.weight`
  /// (out × in), `layer<l>.bias` (out × 1) for each layer l from 0, `embedding<f>` (rows × dim)
  /// for each field f; `training` = {"steps": Adam steps}. Adam's moments are not saved: a loaded
  /// model that trains again starts them afresh.
  [[nodiscard]] model_file to_model_file() const {
    model_file file;
    file.model_type = std::string(model_type);
    file.hyper_parameters = config_.to_json();
    file.training = {{"steps", state_.step}};
    const auto table = [this](std::string name, std::size_t offset, std::size_t rows,
                              std::size_t cols) {
      named_table t{std::move(name), rows, cols, {}};
      t.values.reserve(rows * cols);
      for (std::size_t i = 0; i < rows * cols; ++i) {
        t.values.push_back(static_cast<float>(state_.values[offset + i]));
      }
      return t;
    };
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const layer_shape& s = layers_[l];
      file.tables.push_back(
          table(detail::mlp_numbered_name("layer", l, ".weight"), s.weight, s.out, s.in));
      file.tables.push_back(
          table(detail::mlp_numbered_name("layer", l, ".bias"), s.bias, s.out, 1));
    }
    for (std::size_t f = 0; f < tables_.size(); ++f) {
      file.tables.push_back(table(detail::mlp_numbered_name("embedding", f), tables_[f],
                                  config_.embedding_rows[f], config_.embedding_dim));
    }
    return file;
  }

  /// The model saved by `to_model_file`.
  /// @throws model_file_error (`wrong_model_type`, or `bad_table` for a table whose shape
  ///   disagrees with the hyper-parameters; `missing_table` from `model_file::table`);
  ///   mlsd::config_error for invalid hyper-parameters.
  [[nodiscard]] static basic_mlp_ranker from_model_file(const model_file& file) {
    if (file.model_type != model_type) {
      throw detail::mlp_wrong_model_type(file, model_type);
    }
    basic_mlp_ranker m(mlp_config::from_json(file.hyper_parameters));
    const auto load = [&m, &file](const std::string& name, std::size_t offset, std::size_t rows,
                                  std::size_t cols) {
      const named_table& t = file.table(name);
      if (t.rows != rows || t.cols != cols || t.values.size() != rows * cols) {
        std::string message = "table '";
        message += name;
        message += "' is ";
        message += std::to_string(t.rows);
        message += " x ";
        message += std::to_string(t.cols);
        message += " with ";
        message += std::to_string(t.values.size());
        message += " values; the hyper-parameters need ";
        message += std::to_string(rows);
        message += " x ";
        message += std::to_string(cols);
        throw detail::mlp_bad_table(file, message);
      }
      for (std::size_t i = 0; i < rows * cols; ++i) {
        m.state_.values[offset + i] = static_cast<Scalar>(t.values[i]);
      }
    };
    for (std::size_t l = 0; l < m.layers_.size(); ++l) {
      const layer_shape& s = m.layers_[l];
      load(detail::mlp_numbered_name("layer", l, ".weight"), s.weight, s.out, s.in);
      load(detail::mlp_numbered_name("layer", l, ".bias"), s.bias, s.out, 1);
    }
    for (std::size_t f = 0; f < m.tables_.size(); ++f) {
      load(detail::mlp_numbered_name("embedding", f), m.tables_[f], m.config_.embedding_rows[f],
           m.config_.embedding_dim);
    }
    if (const auto it = file.training.find("steps");
        it != file.training.end() && it->is_number_unsigned()) {
      m.state_.step = it->template get<std::uint64_t>();
    }
    return m;
  }

private:
  /// Rows per forward pass in batched inference: bounds the activations' memory.
  static constexpr std::size_t chunk_rows = 1024;

  struct layer_shape {
    std::size_t in = 0, out = 0;
    std::size_t weight = 0, bias = 0; // offsets into the parameter vector
  };

  /// Everything training changes, so that early stopping restores it in one copy.
  struct parameter_state {
    std::vector<Scalar> values, first_moment, second_moment;
    std::uint64_t step = 0;
  };

  /// The gradient of the embedding rows a batch touches, one slot per (field, row) in the order
  /// they were first met (so accumulation order, hence rounding, is fixed).
  struct embedding_gradient {
    std::vector<std::uint64_t> keys; // field << 32 | row
    std::vector<Scalar> values;      // keys.size() × dim
    std::unordered_map<std::uint64_t, std::size_t> slot;
  };

  /// Adds `from`'s rows into `to`, appending the rows `to` has not met, in `from`'s order.
  void merge_into(embedding_gradient& to, const embedding_gradient& from) const {
    const std::size_t d = config_.embedding_dim;
    for (std::size_t k = 0; k < from.keys.size(); ++k) {
      const auto [it, inserted] = to.slot.try_emplace(from.keys[k], to.keys.size());
      if (inserted) {
        to.keys.push_back(from.keys[k]);
        to.values.resize(to.values.size() + d, Scalar(0));
      }
      Scalar* out = to.values.data() + it->second * d;
      for (std::size_t j = 0; j < d; ++j) {
        out[j] += from.values[k * d + j];
      }
    }
  }

  void layout() {
    std::size_t offset = 0;
    std::size_t in = config_.input_dim();
    std::vector<std::size_t> widths = config_.hidden;
    widths.push_back(1);
    for (const std::size_t out : widths) {
      layers_.push_back({in, out, offset, offset + in * out});
      offset += in * out + out;
      in = out;
    }
    dense_parameters_ = offset;
    for (const std::size_t rows : config_.embedding_rows) {
      tables_.push_back(offset);
      offset += rows * config_.embedding_dim;
    }
    state_.values.assign(offset, Scalar(0));
    state_.first_moment.assign(offset, Scalar(0));
    state_.second_moment.assign(offset, Scalar(0));
  }

  [[nodiscard]] std::size_t row_offset(std::uint64_t key) const noexcept {
    return tables_[static_cast<std::size_t>(key >> 32)] +
           static_cast<std::size_t>(key & 0xffffffffULL) * config_.embedding_dim;
  }

  [[nodiscard]] static input_position where(std::size_t row, std::size_t entry) {
    std::string file = "mlp_ranker input row ";
    file += std::to_string(row);
    return input_position(std::move(file), 0, 0, detail::mlp_numbered_name("entry ", entry));
  }

  /// Throws `input_error` unless the model can read `x` (see the class comment).
  void check_row(sparse_row_view x, std::size_t row) const {
    const std::size_t fields = config_.embedding_rows.size();
    if (!std::isfinite(x.label)) {
      std::string file = "mlp_ranker input row ";
      file += std::to_string(row);
      throw input_error(input_position(std::move(file), 0, 0, "label"), "a finite label",
                        std::to_string(x.label));
    }
    if (fields > 0 && !x.has_fields() && x.nnz() > 0) {
      std::string expected = "field:index:value entries (the model has ";
      expected += std::to_string(fields);
      expected += " categorical fields)";
      throw input_error(where(row, 0), expected, "entries without fields");
    }
    for (std::size_t k = 0; k < x.nnz(); ++k) {
      const std::size_t field = x.has_fields() ? x.fields[k] : fields;
      if (field > fields) {
        std::string expected = "a field from 0 to ";
        expected += std::to_string(fields);
        expected += " (0 to ";
        expected += std::to_string(fields);
        expected += " - 1 categorical, ";
        expected += std::to_string(fields);
        expected += " dense)";
        throw input_error(where(row, k), expected, std::to_string(field));
      }
      if (field == fields && x.indices[k] >= config_.dense_features) {
        std::string expected = "a dense slot below ";
        expected += std::to_string(config_.dense_features);
        throw input_error(where(row, k), expected, std::to_string(x.indices[k]));
      }
      if (!std::isfinite(x.values[k])) {
        throw input_error(where(row, k), "a finite value", std::to_string(x.values[k]));
      }
    }
  }

  /// The input matrix (input_dim × rows.size()); checks each row first.
  void build_input(std::span<const sparse_row_view> rows, std::size_t first_row,
                   matrix& input) const {
    const std::size_t fields = config_.embedding_rows.size();
    const std::size_t d = config_.embedding_dim;
    const std::size_t dense_base = fields * d;
    input.setZero(static_cast<Eigen::Index>(config_.input_dim()),
                  static_cast<Eigen::Index>(rows.size()));
    std::vector<std::size_t> counts(fields);
    for (std::size_t b = 0; b < rows.size(); ++b) {
      const sparse_row_view& x = rows[b];
      check_row(x, first_row + b);
      Scalar* column = input.data() + b * config_.input_dim();
      std::fill(counts.begin(), counts.end(), 0);
      for (std::size_t k = 0; k < x.nnz(); ++k) {
        const std::size_t field = x.has_fields() ? x.fields[k] : fields;
        if (field == fields) {
          column[dense_base + x.indices[k]] += static_cast<Scalar>(x.values[k]);
          continue;
        }
        ++counts[field];
        const Scalar* e = state_.values.data() + tables_[field] +
                          (x.indices[k] % config_.embedding_rows[field]) * d;
        const Scalar v = static_cast<Scalar>(x.values[k]);
        for (std::size_t j = 0; j < d; ++j) {
          column[field * d + j] += v * e[j];
        }
      }
      for (std::size_t f = 0; f < fields; ++f) {
        if (counts[f] > 1) {
          const Scalar inverse = Scalar(1) / static_cast<Scalar>(counts[f]);
          for (std::size_t j = 0; j < d; ++j) {
            column[f * d + j] *= inverse;
          }
        }
      }
    }
  }

  /// The activations: `acts[0]` the input, `acts[l + 1]` layer l's output (after ReLU for the
  /// hidden layers); the last is the 1 × rows row of margins.
  void forward(std::span<const sparse_row_view> rows, std::vector<matrix>& acts,
               std::size_t first_row = 0) const {
    acts.resize(layers_.size() + 1);
    build_input(rows, first_row, acts[0]);
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      acts[l + 1].noalias() = weights(l) * acts[l];
      acts[l + 1].colwise() += bias(l);
      if (l + 1 < layers_.size()) {
        acts[l + 1] = acts[l + 1].cwiseMax(Scalar(0));
      }
    }
  }

  /// Back-propagation of the mean loss over a mini-batch of `batch_rows` rows, of which `rows`
  /// are a part (all of them on one thread): the dense layers' gradient of `rows`' share into
  /// `grad` (indexed like the parameters), the embedding rows' into `sparse`.
  void backward(std::span<const sparse_row_view> rows, const std::vector<matrix>& acts,
                std::vector<Scalar>& grad, embedding_gradient& sparse,
                std::size_t batch_rows) const {
    const auto n = static_cast<Eigen::Index>(rows.size());
    const Scalar inverse_n = Scalar(1) / static_cast<Scalar>(batch_rows);
    matrix g(1, n);
    for (Eigen::Index b = 0; b < n; ++b) {
      g(0, b) = detail::mlp_loss_gradient(config_.loss, acts.back()(0, b),
                                          rows[static_cast<std::size_t>(b)].label) *
                inverse_n;
    }
    const std::size_t fields = config_.embedding_rows.size();
    for (std::size_t l = layers_.size(); l-- > 0;) {
      const layer_shape& s = layers_[l];
      Eigen::Map<row_major_matrix> grad_w(grad.data() + s.weight, static_cast<Eigen::Index>(s.out),
                                          static_cast<Eigen::Index>(s.in));
      grad_w.noalias() = g * acts[l].transpose();
      Eigen::Map<vector>(grad.data() + s.bias, static_cast<Eigen::Index>(s.out)) =
          g.rowwise().sum();
      if (l == 0 && fields == 0) {
        return;
      }
      matrix previous = weights(l).transpose() * g;
      if (l > 0) {
        previous.array() *= (acts[l].array() > Scalar(0)).template cast<Scalar>();
      }
      g = std::move(previous);
    }
    // g is now d(loss)/d(input): spread each field's part over its ids, weighted by value / n.
    const std::size_t d = config_.embedding_dim;
    std::vector<std::size_t> counts(fields);
    for (std::size_t b = 0; b < rows.size(); ++b) {
      const sparse_row_view& x = rows[b];
      if (!x.has_fields()) {
        continue;
      }
      std::fill(counts.begin(), counts.end(), 0);
      for (std::size_t k = 0; k < x.nnz(); ++k) {
        if (x.fields[k] < fields) {
          ++counts[x.fields[k]];
        }
      }
      const Scalar* column = g.data() + b * config_.input_dim();
      for (std::size_t k = 0; k < x.nnz(); ++k) {
        const std::size_t field = x.fields[k];
        if (field >= fields) {
          continue;
        }
        const std::uint64_t key = (static_cast<std::uint64_t>(field) << 32) |
                                  (x.indices[k] % config_.embedding_rows[field]);
        const auto [it, inserted] = sparse.slot.try_emplace(key, sparse.keys.size());
        if (inserted) {
          sparse.keys.push_back(key);
          sparse.values.resize(sparse.values.size() + d, Scalar(0));
        }
        Scalar* out = sparse.values.data() + it->second * d;
        const Scalar w = static_cast<Scalar>(x.values[k]) / static_cast<Scalar>(counts[field]);
        for (std::size_t j = 0; j < d; ++j) {
          out[j] += w * column[field * d + j];
        }
      }
    }
  }

  /// One Adam step (Kingma & Ba 2015, Algorithm 1) on parameter i with gradient g:
  /// m ← β1 m + (1 − β1) g; v ← β2 v + (1 − β2) g²; θ ← θ − α (m / (1 − β1^t)) /
  /// (√(v / (1 − β2^t)) + ε) − α λ θ (the decoupled decay only where `decay`).
  struct adam_step {
    Scalar rate, beta1, beta2, epsilon, correction1, correction2, decay;
    void operator()(parameter_state& s, std::size_t i, Scalar g, bool with_decay) const noexcept {
      Scalar& m = s.first_moment[i];
      Scalar& v = s.second_moment[i];
      m = beta1 * m + (Scalar(1) - beta1) * g;
      v = beta2 * v + (Scalar(1) - beta2) * g * g;
      const Scalar m_hat = m / correction1;
      const Scalar v_hat = v / correction2;
      Scalar delta = m_hat / (std::sqrt(v_hat) + epsilon);
      if (with_decay) {
        delta += decay * s.values[i];
      }
      s.values[i] -= rate * delta;
    }
  };

  /// One thread's share of a mini-batch: its rows' loss sum and gradient.
  struct batch_part {
    std::vector<matrix> acts;
    std::vector<Scalar> grad;
    embedding_gradient sparse;
    double loss_sum = 0.0;
  };

  /// Forward and backward pass over `rows`, a part of a mini-batch of `batch_rows` rows.
  void run_part(std::span<const sparse_row_view> rows, std::size_t batch_rows,
                batch_part& part) const {
    part.loss_sum = 0.0;
    part.sparse.keys.clear();
    part.sparse.values.clear();
    part.sparse.slot.clear();
    forward(rows, part.acts);
    for (std::size_t b = 0; b < rows.size(); ++b) {
      part.loss_sum += static_cast<double>(detail::mlp_loss_value(
          config_.loss, part.acts.back()(0, static_cast<Eigen::Index>(b)), rows[b].label));
    }
    part.grad.assign(dense_parameters_, Scalar(0));
    backward(rows, part.acts, part.grad, part.sparse, batch_rows);
  }

  /// The Adam step of the dense parameters `[lo, hi)`, whose gradient is the sum of the first
  /// `parts` workspaces' in part order, and of the merged embedding rows `[first, last)` of
  /// workspace 0.
  void adam_range(const adam_step& step, std::size_t parts, std::size_t lo, std::size_t hi,
                  std::size_t first, std::size_t last) {
    const std::vector<batch_part>& results = parts_.value;
    const bool decay = config_.weight_decay > 0.0;
    for (const layer_shape& s : layers_) {
      // Weights [s.weight, s.bias) take the decay, biases [s.bias, s.bias + s.out) do not.
      for (std::size_t i = std::max(lo, s.weight); i < std::min(hi, s.bias + s.out); ++i) {
        Scalar g = results[0].grad[i];
        for (std::size_t p = 1; p < parts; ++p) {
          g += results[p].grad[i];
        }
        step(state_, i, g, decay && i < s.bias);
      }
    }
    const std::size_t d = config_.embedding_dim;
    const embedding_gradient& sparse = results[0].sparse;
    for (std::size_t k = first; k < last; ++k) {
      const std::size_t base = row_offset(sparse.keys[k]);
      for (std::size_t j = 0; j < d; ++j) {
        step(state_, base + j, sparse.values[k * d + j], decay);
      }
    }
  }

  /// One Adam step on the mean loss of `rows`. With `threads = T > 1` the rows are cut into T
  /// contiguous parts whose forward and backward passes T threads run at once; the parts'
  /// embedding gradients are merged into part 0's in part order, and the T threads then take
  /// the Adam steps of T slices of the parameters, each summing the parts' dense gradients in
  /// part order: the step depends on T but not on timing.
  Scalar learn_views(std::span<const sparse_row_view> rows, double rate_multiplier,
                     detail::mlp_team* team = nullptr) {
    if (rows.empty()) {
      return Scalar(0);
    }
    const std::size_t parts = team == nullptr ? 1 : std::min(team->parts(), rows.size());
    std::vector<batch_part>& results = parts_.value; // reused: no allocation per mini-batch
    if (results.size() < parts) {
      results.resize(parts);
    }
    const std::size_t n = rows.size();
    ++state_.step;
    const double t = static_cast<double>(state_.step);
    const adam_step step{static_cast<Scalar>(config_.learning_rate * rate_multiplier),
                         static_cast<Scalar>(config_.beta1),
                         static_cast<Scalar>(config_.beta2),
                         static_cast<Scalar>(config_.epsilon),
                         static_cast<Scalar>(1.0 - std::pow(config_.beta1, t)),
                         static_cast<Scalar>(1.0 - std::pow(config_.beta2, t)),
                         static_cast<Scalar>(config_.weight_decay)};
    if (parts == 1) {
      try {
        run_part(rows, n, results[0]);
      } catch (...) {
        --state_.step; // nothing changed
        throw;
      }
      adam_range(step, 1, 0, dense_parameters_, 0, results[0].sparse.keys.size());
      return static_cast<Scalar>(results[0].loss_sum / static_cast<double>(n));
    }
    std::vector<std::exception_ptr> errors(parts);
    std::atomic<bool> failed{false};
    // Phase 1: the parts' passes; then part 0 merges; phase 2: the parts' slices of the step.
    // (The completion step runs once, on one thread, when all parts have arrived.)
    std::barrier sync(static_cast<std::ptrdiff_t>(team->parts()), [&]() noexcept {
      if (failed.load()) {
        return;
      }
      try {
        for (std::size_t p = 1; p < parts; ++p) {
          results[0].loss_sum += results[p].loss_sum;
          merge_into(results[0].sparse, results[p].sparse);
        }
      } catch (...) { // bad_alloc: no parameter has changed yet
        errors[0] = std::current_exception();
        failed.store(true);
      }
    });
    const std::function<void(std::size_t)> work = [&](std::size_t p) {
      if (p >= parts) { // a last mini-batch with fewer rows than threads: nothing to do
        sync.arrive_and_wait();
        return;
      }
      try {
        run_part(rows.subspan(n * p / parts, n * (p + 1) / parts - n * p / parts), n, results[p]);
      } catch (...) {
        errors[p] = std::current_exception();
        failed.store(true);
      }
      sync.arrive_and_wait(); // the completion step merges the parts
      if (failed.load()) {
        return;
      }
      const std::size_t keys = results[0].sparse.keys.size();
      adam_range(step, parts, dense_parameters_ * p / parts, dense_parameters_ * (p + 1) / parts,
                 keys * p / parts, keys * (p + 1) / parts);
    };
    team->run(work);
    for (const std::exception_ptr& e : errors) {
      if (e) {
        --state_.step; // no parameter changed: the step is skipped when a pass throws
        std::rethrow_exception(e);
      }
    }
    return static_cast<Scalar>(results[0].loss_sum / static_cast<double>(n));
  }

  mlp_config config_;
  std::vector<layer_shape> layers_;
  std::vector<std::size_t> tables_; // offset of each embedding table
  std::size_t dense_parameters_ = 0;
  parameter_state state_;
  /// The mini-batch workspace of `learn_views`, one per thread, kept between steps so that a
  /// step allocates nothing (an activation matrix of a batch of 256 is hundreds of KiB, which
  /// the allocator would map and the kernel zero at every step). Not part of the model: a copy
  /// starts empty.
  struct scratch {
    std::vector<batch_part> value;
    scratch() = default;
    scratch(const scratch&) noexcept {}
    scratch(scratch&&) noexcept {}
    scratch& operator=(const scratch&) noexcept { return *this; }
    scratch& operator=(scratch&&) noexcept { return *this; }
    ~scratch() = default;
  };
  scratch parts_;
};

/// The MLP ranker in single precision, the one to train and serve.
using mlp_ranker = basic_mlp_ranker<float>;

static_assert(scorer<mlp_ranker> && trainable<mlp_ranker>);
static_assert(scorer<basic_mlp_ranker<double>>);

} // namespace model
MLSD_END_NAMESPACE
