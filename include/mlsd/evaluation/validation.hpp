/// @file
/// The evaluation metrics as validation metrics of a training run: what `model::train`,
/// `mlp_ranker::fit` and the `mlsd` CLI report after every epoch beside the validation loss, and
/// what early stopping watches instead of it.
///
/// ```cpp
/// mlsd::model::train_options options;
/// options.stopping = {.patience = 2};
/// options.valid_metric = mlsd::evaluation::validation_metric_for(mlsd::offline_metric::roc_auc);
/// const auto summary = mlsd::model::train(model, train_rows, &valid_rows, options);
/// // summary.valid_metric: the validation ROC-AUC of every epoch; the best epoch's model is kept
/// ```
///
/// The model layer defines the hook (`model::validation_metric`, a name, a direction and a
/// function of predictions and labels) and computes no metric itself: metrics are the evaluation
/// step's, which comes after training in the framework (a header depends only on the steps
/// before it).
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/evaluation/classification.hpp>
#include <mlsd/evaluation/regression.hpp>
#include <mlsd/model/training.hpp>
#include <mlsd/requirements/requirements.hpp>

#include <span>
#include <string>

MLSD_BEGIN_NAMESPACE
namespace evaluation {

/// The offline metric `metric` of the predictions against the labels, as a validation metric:
/// - higher is better: `roc_auc`, `pr_auc` (average precision), `accuracy` (threshold 0.5), `r2`;
/// - lower is better: `log_loss`, `normalized_entropy`, `brier_score`, `rmse`, `mae`.
/// Each computes what its one-call helper (`roc_auc_of`, `average_precision_of`, ...) does, and
/// throws what it throws (e.g. `undefined_metric` for ROC-AUC on one class), which ends the
/// training run. The trainers pass 0 / 1 labels under the logistic loss, whose predictions are
/// probabilities (so `rmse` is the root of the Brier score there), and the labels as they are
/// under the squared loss (where `log_loss`, `normalized_entropy` and `brier_score`, which need
/// probabilities, throw `input_error`).
/// @throws mlsd::config_error naming `valid_metric` for a metric that is not a figure of
///   (prediction, label) pairs over the whole set: the ranking metrics need queries, the
///   calibration ratio and ECE have no direction early stopping could follow, and precision,
///   recall and F1 depend on a threshold to choose first (`evaluation::best_threshold`).
[[nodiscard]] inline model::validation_metric validation_metric_for(offline_metric metric) {
  model::validation_metric out;
  out.name = std::string(to_string(metric));
  using span = std::span<const float>;
  switch (metric) {
  case offline_metric::roc_auc:
    out.evaluate = [](span p, span y) { return roc_auc_of(p, y); };
    break;
  case offline_metric::pr_auc:
    out.evaluate = [](span p, span y) { return average_precision_of(p, y); };
    break;
  case offline_metric::accuracy:
    out.evaluate = [](span p, span y) { return accuracy_of(p, y); };
    break;
  case offline_metric::r2:
    out.evaluate = [](span p, span y) { return r_squared_of(p, y); };
    break;
  case offline_metric::log_loss:
    out.higher_is_better = false;
    out.evaluate = [](span p, span y) { return log_loss_of(p, y); };
    break;
  case offline_metric::normalized_entropy:
    out.higher_is_better = false;
    out.evaluate = [](span p, span y) { return normalized_entropy_of(p, y); };
    break;
  case offline_metric::brier_score:
    out.higher_is_better = false;
    out.evaluate = [](span p, span y) { return brier_score_of(p, y); };
    break;
  case offline_metric::rmse:
    out.higher_is_better = false;
    out.evaluate = [](span p, span y) { return rmse_of(p, y); };
    break;
  case offline_metric::mae:
    out.higher_is_better = false;
    out.evaluate = [](span p, span y) { return mae_of(p, y); };
    break;
  default: {
    std::string expected = "one of roc_auc, pr_auc, accuracy, r2, log_loss, normalized_entropy, "
                           "brier_score, rmse, mae (not ";
    expected += to_string(metric);
    expected += ')';
    throw config_error("valid_metric", expected);
  }
  }
  return out;
}

} // namespace evaluation
MLSD_END_NAMESPACE
