/// @file
/// The subcommands of `mlsd`: `train` picks the model family from `--model`; `predict` and
/// `eval` read the model file and pick the family from its `model_type` (and, for the
/// factorization machine, from whether it was trained on ratings); `metrics` (declared in
/// metrics_command.hpp) evaluates a file of predictions without a model.
#pragma once

#include "cli_common.hpp"
#include "metrics.hpp"
#include "metrics_command.hpp"
#include "models.hpp"
#include "settings.hpp"

#include <mlsd/model/model_file.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <string>

namespace mlsd_cli {

/// Flags that parse but do not fit the chosen model or each other: a usage error (exit 2) naming
/// them, rather than a flag silently ignored.
inline void check_flag_combinations(const train_settings& s, const model_entry& m) {
  const auto reject = [&](bool given, const char* flag) {
    if (given && !m.accepts(flag)) {
      std::string message = flag;
      message += " does not apply to --model ";
      message += s.model;
      throw usage_error(message);
    }
  };
  reject(s.loss.has_value(), "--loss");
  reject(s.optimizer.has_value(), "--optimizer");
  reject(s.k.has_value(), "--k");
  reject(s.learning_rate.has_value(), "--lr");
  reject(s.l1.has_value(), "--l1");
  reject(s.l2.has_value(), "--l2");
  reject(s.bits != 0, "--bits");
  reject(s.index_base.has_value(), "--index-base");
  reject(s.label_col.has_value(), "--label-col");
  reject(!s.drop_cols.empty(), "--drop-col");
  reject(s.patience != 0, "--patience");
  reject(s.valid_metric.has_value(), "--valid-metric");
  reject(!s.valid_file.empty(), "--valid");
  reject(s.epochs_given, "--epochs");
  reject(s.batch_size_given, "--batch-size");
  reject(s.threads_given, "--threads");
  reject(s.trees.has_value(), "--trees");
  reject(s.sample_size.has_value(), "--sample-size");
  const rating_columns defaults;
  reject(s.user_col != defaults.user, "--user-col");
  reject(s.item_col != defaults.item, "--item-col");
  reject(s.rating_col != defaults.rating, "--rating-col");
  if (s.patience != 0 && s.valid_file.empty()) {
    throw usage_error("--patience needs --valid (early stopping watches a validation figure)");
  }
  if (s.valid_metric && s.valid_file.empty()) {
    throw usage_error("--valid-metric needs --valid (it is a figure of the validation set)");
  }
  if (s.valid_metric && s.loss == "squared" &&
      (*s.valid_metric == "log_loss" || *s.valid_metric == "normalized_entropy" ||
       *s.valid_metric == "brier_score")) {
    throw usage_error("--valid-metric " + *s.valid_metric +
                      " needs probabilities: it does not apply to --loss squared (use rmse, mae "
                      "or r2)");
  }
}

/// `mlsd train`: trains, saves the model file and prints the summary line. Returns the exit code.
inline int run_train(const train_settings& s) {
  const model_entry& m = find_model(s.model);
  check_flag_combinations(s, m);
  training_outcome out = m.train(s);
  mlsd::model::save_model_file(s.out_file, out.file);
  if (!s.quiet) {
    std::fprintf(stderr, "%s\n", out.summary.c_str());
  }
  return success;
}

/// Loads the model file and scores the data file with it.
[[nodiscard]] inline scored_rows score_file(const apply_settings& a, bool need_labels) {
  const mlsd::model::model_file file = mlsd::model::load_model_file(a.model_file);
  return find_scorer(file, a.model_file).score(file, a, need_labels);
}

/// `mlsd predict`: one score per line. Returns the exit code.
inline int run_predict(const apply_settings& a) {
  const scored_rows rows = score_file(a, false);
  prediction_writer out(a.out_file);
  for (const float score : rows.scores) {
    out.write(score);
  }
  out.finish();
  return success;
}

/// `mlsd eval`: one JSON object of metrics on one line of standard output (JSON Lines). Returns the
/// exit code.
inline int run_eval(const apply_settings& a) {
  const scored_rows rows = score_file(a, true);
  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  metrics["model"] = a.model_file;
  metrics["data"] = a.data_file;
  metrics.update(metrics_of(rows));
  std::cout << metrics.dump() << '\n';
  return success;
}

} // namespace mlsd_cli
