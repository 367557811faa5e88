/// @file
/// The vocabulary every training loop in mlsd shares: the options (epochs, mini-batches,
/// shuffling, seed, threads and their mode, learning-rate schedule, early stopping), the per-epoch
/// report a progress callback receives, and the `sgd_model` concept the sparse models (LR, FM,
/// FFM) implement so that one trainer (model/trainer.hpp) drives them all.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/model/loss.hpp>

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace model {

/// How several threads share the work of an epoch.
///
/// - `deterministic`: each thread trains its own copy of the model on a fixed shard of the
///   epoch's (seeded) order, and the copies are averaged in thread order at the end of every
///   epoch (iterative parameter mixing, McDonald et al. 2010; Zinkevich et al. 2010). The same
///   seed and thread count give a bit-identical model. With one thread it is plain sequential SGD.
/// - `hogwild`: the threads update one shared model without locks (Recht et al. 2011). Faster, and
///   the result depends on the interleaving: not reproducible bit for bit.
enum class parallel_mode { deterministic, hogwild };

/// The learning-rate multiplier at the start of epoch `e` (counted from 0), applied on top of the
/// model's own base learning rate:
/// - `constant`: 1;
/// - `inverse_sqrt`: `1 / sqrt(1 + e)`;
/// - `exponential`: `decay^e`.
struct learning_rate_schedule {
  enum class kind { constant, inverse_sqrt, exponential };
  kind type = kind::constant;
  /// The factor per epoch of `exponential`, in (0, 1].
  double decay = 0.9;

  [[nodiscard]] double multiplier(std::size_t epoch) const noexcept {
    switch (type) {
    case kind::inverse_sqrt:
      return 1.0 / std::sqrt(1.0 + static_cast<double>(epoch));
    case kind::exponential:
      return std::pow(decay, static_cast<double>(epoch));
    case kind::constant:
      break;
    }
    return 1.0;
  }
};

/// Stop when the validation figure (`train_options::valid_metric` when it is set, else the
/// validation loss) has not improved by more than `min_delta` for `patience` epochs, and restore
/// the model of the best epoch. `patience = 0` turns it off. Needs a validation set.
struct early_stopping {
  std::size_t patience = 0;
  double min_delta = 0.0;
};

/// A figure of the model's predictions on the validation set, computed after every epoch beside
/// the validation loss: reported (`training_summary::valid_metric`, `progress_report`) and, when
/// set, what early stopping watches instead of the loss. The model layer computes no metric
/// itself (metrics belong to the evaluation step, which comes after it):
/// `evaluation::validation_metric_for(offline_metric::roc_auc)` (mlsd/evaluation/validation.hpp)
/// makes one from the evaluation metrics, and any function of predictions and labels will do.
struct validation_metric {
  /// The name reports show, e.g. "roc_auc".
  std::string name;
  /// True for a figure that grows as the model improves (ROC-AUC), false for one that shrinks
  /// (log loss, RMSE).
  bool higher_is_better = true;
  /// The figure of `predictions` (the model's prediction `m(x)` for each validation row, in row
  /// order: a probability under the logistic loss) against the rows' `labels` (0 or 1 under the
  /// logistic loss, whatever the data's convention; as given under the squared loss). Called on
  /// the training thread once per epoch, and not when a prediction is NaN or infinite (the
  /// figure is then NaN: a diverged epoch, which early stopping never keeps over a number).
  /// What it throws ends training and propagates; the model keeps its last epoch's parameters.
  std::function<double(std::span<const float> predictions, std::span<const float> labels)> evaluate;

  /// Whether a metric is set.
  [[nodiscard]] explicit operator bool() const noexcept { return static_cast<bool>(evaluate); }
};

/// The options of a training run.
struct train_options {
  /// Passes over the training data (an upper bound when early stopping is on).
  std::size_t epochs = 10;
  /// Examples per mini-batch: the unit of work a thread takes, of shuffling, and of progress
  /// reports. The sparse models step after every example inside it (per-example SGD, as libFM,
  /// xLearn and libffm do); models that average a gradient over the batch (MLP, two-tower with
  /// in-batch negatives) take one step per batch.
  std::size_t batch_size = 256;
  /// Visit the examples in a new random order every epoch (seeded by `seed` and the epoch).
  bool shuffle = true;
  /// Seeds initialisation and shuffling: the same seed gives the same model (see `parallel_mode`).
  std::uint64_t seed = 1;
  /// Threads that train; 1 is sequential.
  std::size_t threads = 1;
  parallel_mode mode = parallel_mode::deterministic;
  /// Hogwild with models whose parameters are rows per feature (FM, FFM): the bytes of model rows
  /// each thread may copy for itself. The features expected at least 16 times per mini-batch get
  /// private rows in each thread, up to this budget, most frequent first (and an FM's bias, which
  /// every example writes, a private copy too); each thread adds its changes to them into the
  /// shared model after every mini-batch and refreshes its copies. On skewed (Zipf) click data a
  /// few hundred rows are in nearly every example, and two threads writing them in turn would
  /// pass their cache lines back and forth on every step. 0 gives plain Hogwild (no private rows
  /// or bias). See docs/training.md.
  std::size_t hot_row_bytes = std::size_t{256} << 10;
  learning_rate_schedule schedule{};
  early_stopping stopping{};
  /// With a validation set: the figure reported after each epoch beside the validation loss, and
  /// watched by early stopping instead of the loss. Unset (the default): the loss alone.
  validation_metric valid_metric{};

  /// @throws mlsd::config_error naming the field of the first invalid value.
  void validate() const {
    if (epochs == 0) {
      throw config_error("epochs", "at least 1");
    }
    if (batch_size == 0) {
      throw config_error("batch_size", "at least 1");
    }
    if (threads == 0) {
      throw config_error("threads", "at least 1");
    }
    if (schedule.type == learning_rate_schedule::kind::exponential &&
        !(schedule.decay > 0.0 && schedule.decay <= 1.0)) {
      throw config_error("schedule.decay", "a number in (0, 1]");
    }
    if (!(stopping.min_delta >= 0.0)) {
      throw config_error("stopping.min_delta", "a non-negative number");
    }
    if (valid_metric && valid_metric.name.empty()) {
      throw config_error("valid_metric.name", "a name for the metric's reports");
    }
    if (!valid_metric && !valid_metric.name.empty()) {
      throw config_error("valid_metric.evaluate", "a function, since the metric has a name");
    }
  }
};

/// What a progress callback learns after each mini-batch (`epoch_done == false`) and at the end of
/// each epoch (`epoch_done == true`, with the validation loss when there is a validation set).
struct progress_report {
  std::size_t epoch = 0;         ///< counted from 0
  std::size_t epochs = 0;        ///< the configured number of epochs
  std::size_t examples_done = 0; ///< in this epoch
  std::size_t examples_total = 0;
  double train_loss = 0.0; ///< mean loss of the examples seen so far this epoch (before
                           ///< each one's update: the progressive validation loss)
  std::optional<double> valid_loss;
  /// The validation metric at the end of an epoch, when `train_options::valid_metric` is set.
  std::optional<double> valid_metric;
  /// Its name (`train_options::valid_metric.name`; valid during the callback), else empty.
  std::string_view valid_metric_name;
  double seconds = 0.0; ///< since the start of training
  bool epoch_done = false;
};

/// Called from the training thread; returning `false` stops training after the current batch.
using progress_callback = std::function<bool(const progress_report&)>;

/// The outcome of a training run.
struct training_summary {
  std::size_t epochs_run = 0;
  /// The epoch whose model was kept (the last one, or the best one under early stopping).
  std::size_t best_epoch = 0;
  std::vector<double> train_loss; ///< per epoch
  std::vector<double> valid_loss; ///< per epoch, empty without a validation set
  /// Per epoch, empty without a validation set or without `train_options::valid_metric`.
  std::vector<double> valid_metric;
  /// `train_options::valid_metric.name`, or empty.
  std::string valid_metric_name;
  bool stopped_early = false;
  double seconds = 0.0;
};

namespace detail {
struct trainer_access;

// The buffers of `evaluate_metric`, kept by a training loop between epochs.
struct metric_scratch {
  std::vector<float> predictions;
  std::vector<float> labels;
};

// `metric`'s figure of `scratch.predictions` against `labels`: NaN when a prediction is not
// finite (a diverged model has no figure, and early stopping then keeps the best epoch before it,
// where a metric would throw), and with the labels as 0 / 1 (`is_positive`) under the logistic
// loss, whose predictions are probabilities, so that ±1 labels and RMSE-like metrics agree.
inline double evaluate_metric(const validation_metric& metric, loss_function loss,
                              metric_scratch& scratch, std::span<const float> labels) {
  for (const float p : scratch.predictions) {
    if (!std::isfinite(p)) {
      return std::numeric_limits<double>::quiet_NaN();
    }
  }
  if (loss == loss_function::logistic) {
    scratch.labels.resize(labels.size());
    for (std::size_t i = 0; i < labels.size(); ++i) {
      scratch.labels[i] = is_positive(labels[i]) ? 1.0f : 0.0f;
    }
    labels = scratch.labels;
  }
  return metric.evaluate(std::span<const float>(scratch.predictions), labels);
}

// The bookkeeping of early stopping that every training loop shares: the best validation figure
// so far, its epoch, and the epochs since it. A NaN figure never beats a number; the first epoch
// is always the first best, so that the loop has parameters to restore whatever it saw.
class early_stopper {
public:
  // Watches `options.valid_metric` in its direction when it is set, else the loss (lower is
  // better).
  explicit early_stopper(const train_options& options) noexcept
      : patience_(options.stopping.patience)
      , min_delta_(options.stopping.min_delta)
      , sign_(options.valid_metric && options.valid_metric.higher_is_better ? -1.0 : 1.0) {}

  // Records epoch `epoch`'s figure; true when it is the new best, whose parameters the caller
  // keeps.
  bool record(std::size_t epoch, double figure) noexcept {
    const double v = sign_ * figure; // lower is better
    const bool better =
        !has_best_ || (std::isnan(best_) && !std::isnan(v)) || v < best_ - min_delta_;
    if (better) {
      best_ = v;
      best_epoch_ = epoch;
      since_best_ = 0;
      has_best_ = true;
    } else {
      ++since_best_;
    }
    return better;
  }
  // True when `patience` epochs in a row have not improved.
  [[nodiscard]] bool exhausted() const noexcept { return since_best_ >= patience_; }
  [[nodiscard]] std::size_t best_epoch() const noexcept { return best_epoch_; }

private:
  std::size_t patience_;
  double min_delta_;
  double sign_;
  double best_ = 0.0;
  std::size_t best_epoch_ = 0;
  std::size_t since_best_ = 0;
  bool has_best_ = false;
};
} // namespace detail

/// The argument of model members meant for `model::train` alone (the passkey idiom): only the
/// trainer can make one, so such a member is public without being callable from user code.
class training_key {
  friend struct detail::trainer_access;
  training_key() = default;
};

/// A sparse model that per-example SGD can train (logistic regression, FM, FFM): the contract
/// between those models and `model::trainer`.
///
/// - `cm.margin(x)`: the raw score (a logit under the logistic loss), pure and thread-safe;
/// - `cm.loss()`: the loss it minimises;
/// - `m.learn(x, label, rate_multiplier)`: one optimizer step on one example, with the learning
///   rate scaled by the schedule's multiplier; returns the example's loss *before* the step;
/// - `m.parameters()`: every number that training changes (weights and optimizer state), as one
///   contiguous span, so that the deterministic parallel mode can average copies and a Hogwild
///   run can share one;
/// - it is a `trainable` scorer (model/../core/roles.hpp): `m(x)` is the prediction and
///   `m.update(x, label)` is `learn(x, label, 1)`.
template <class M>
concept sgd_model = trainable<M> && std::copyable<M> &&
    requires(M& m, const M& cm, sparse_row_view x, float label, float rate_multiplier) {
  { cm.margin(x) } -> std::same_as<float>;
  { cm.loss() } -> std::same_as<loss_function>;
  { m.learn(x, label, rate_multiplier) } -> std::same_as<float>;
  { m.parameters() } -> std::same_as<std::span<float>>;
};

} // namespace model
MLSD_END_NAMESPACE
