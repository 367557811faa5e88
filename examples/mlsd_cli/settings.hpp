/// @file
/// The settings of `mlsd train`, `predict` and `eval` as plain values, and how each is declared
/// to CLI11. A flag left out stays `nullopt`, so each model keeps its own default (its `config`
/// struct's) instead of a second copy of it here.
#pragma once

#include "cli_common.hpp"

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlsd_cli {

/// Everything `mlsd train` reads from its command line.
struct train_settings {
  std::string model;
  std::string train_file;
  std::string valid_file;
  std::string out_file;
  std::optional<std::string> format; ///< nullopt: detected
  std::optional<std::string> loss;
  std::optional<std::string> optimizer;
  std::optional<std::size_t> k;
  std::size_t epochs = 10;
  std::optional<double> learning_rate;
  std::optional<double> l1;
  std::optional<double> l2;
  std::size_t threads = 1;
  std::uint64_t seed = 1;
  std::size_t batch_size = 256;
  std::size_t patience = 0;
  std::optional<std::string> valid_metric; ///< an offline_metric name
  std::uint32_t bits = 0;
  std::optional<std::uint32_t> index_base;
  std::optional<std::string> label_col;
  std::vector<std::string> drop_cols;
  std::string user_col = "user";
  std::string item_col = "item";
  std::string rating_col = "rating";
  std::optional<std::size_t> trees;
  std::optional<std::size_t> sample_size;
  bool quiet = false;
  bool epochs_given = false; ///< set after parsing: iforest has no epochs
  bool batch_size_given = false;
  bool threads_given = false;
};

/// Everything `mlsd predict` and `mlsd eval` read from their command lines.
struct apply_settings {
  std::string model_file;
  std::string data_file;
  std::string out_file; ///< predict only; "-" is standard output
  std::optional<std::string> format;
  std::optional<std::string> label_col; ///< overrides the label column saved with the model
};

/// Declares `mlsd train` and its flags on `app`, writing into `s`; `models` are the `--model`
/// choices of this build and `model_help` describes them.
inline CLI::App* add_train_command(CLI::App& app, train_settings& s,
                                   const std::vector<std::string>& models,
                                   const std::string& model_help) {
  CLI::App* cmd = app.add_subcommand(
      "train", "Train a model on a LIBSVM, libffm or CSV file and save it (JSON when OUT ends in "
               ".json, binary otherwise)");
  cmd->option_defaults()->always_capture_default();
  cmd->add_option("--model", s.model, model_help)->required()->check(CLI::IsMember(models));
  cmd->add_option("--train", s.train_file, "Training data")->required();
  cmd->add_option("--valid", s.valid_file,
                  "Validation data: its loss (and --valid-metric) is reported per epoch and "
                  "drives --patience");
  cmd->add_option("--out", s.out_file, "Where to save the model (.json: JSON, else binary)")
      ->required();
  cmd->add_option("--format", s.format,
                  "Data format (default: detected from the first lines: field:index:value -> "
                  "libffm, index:value -> libsvm, commas -> csv with a header)")
      ->check(CLI::IsMember({"libsvm", "libffm", "csv"}));
  cmd->add_option("--loss", s.loss,
                  "lr, fm, ffm: logistic (labels > 0 are positive; the default) or squared "
                  "(regression)")
      ->check(CLI::IsMember({"logistic", "squared"}));
  cmd->add_option("--optimizer", s.optimizer,
                  "lr, fm, ffm, mf: sgd, adagrad or ftrl (default: the model's)")
      ->check(CLI::IsMember({"sgd", "adagrad", "ftrl"}));
  cmd->add_option("--k", s.k, "fm, ffm, mf: latent factors per feature (default: the model's)")
      ->check(whole_number_at_least(1));
  cmd->add_option("--epochs", s.epochs, "Passes over the training data (at most, with --patience)")
      ->check(whole_number_at_least(1));
  cmd->add_option("--lr", s.learning_rate,
                  "Base learning rate; FTRL's alpha (default: the model's)")
      ->check(number_at_least(0.0, true));
  cmd->add_option("--l1", s.l1, "lr: L1 penalty (default: the optimizer's)")
      ->check(number_at_least(0.0, false));
  cmd->add_option("--l2", s.l2, "L2 penalty (default: the model's)")
      ->check(number_at_least(0.0, false));
  cmd->add_option("--threads", s.threads,
                  "Training threads (deterministic: the same seed and thread count give the "
                  "same model)")
      ->check(whole_number_at_least(1));
  cmd->add_option("--seed", s.seed, "Seed of initialisation, shuffling and tree sampling");
  cmd->add_option("--batch-size", s.batch_size,
                  "Examples per mini-batch (the unit of shuffling, threading and progress)")
      ->check(whole_number_at_least(1));
  cmd->add_option("--patience", s.patience,
                  "Early stopping: stop after this many epochs without a better validation "
                  "figure (--valid-metric, else the loss) and keep the best epoch's model (0: "
                  "off; needs --valid)")
      ->check(whole_number_at_least(0));
  cmd->add_option("--valid-metric", s.valid_metric,
                  "lr, fm, ffm: a metric of the validation predictions reported per epoch and "
                  "watched by --patience instead of the loss (needs --valid)")
      ->check(CLI::IsMember({"roc_auc", "pr_auc", "accuracy", "r2", "log_loss",
                             "normalized_entropy", "brier_score", "rmse", "mae"}));
  cmd->add_option("--bits", s.bits,
                  "lr, fm, ffm: hash each (field, feature) into 2^bits buckets (0: no hashing, "
                  "the model has one weight per feature index of the training data)")
      ->check(CLI::Range(0u, 31u));
  cmd->add_option("--index-base", s.index_base,
                  "How the file counts feature indices: 1 (LIBSVM, the default for libsvm) or 0 "
                  "(libFM's files, and libffm's default)")
      ->check(CLI::IsMember({0u, 1u}));
  cmd->add_option("--label-col", s.label_col,
                  "CSV: the label column (lr, fm, ffm: default 'label'; iforest: optional, "
                  "excluded from the features and used by eval)");
  cmd->add_option("--drop-col", s.drop_cols, "CSV: a column that is not a feature (repeatable)");
  cmd->add_option("--user-col", s.user_col, "mf: the user id column");
  cmd->add_option("--item-col", s.item_col, "mf: the item id column");
  cmd->add_option("--rating-col", s.rating_col, "mf: the rating column");
  cmd->add_option("--trees", s.trees, "iforest: number of trees (default: the model's)")
      ->check(whole_number_at_least(1));
  cmd->add_option("--sample-size", s.sample_size,
                  "iforest: rows sub-sampled per tree (default: the model's)")
      ->check(whole_number_at_least(2));
  cmd->add_flag("-q,--quiet", s.quiet, "No progress bar and no summary line");
  return cmd;
}

/// Declares `mlsd predict` on `app`.
inline CLI::App* add_predict_command(CLI::App& app, apply_settings& s) {
  CLI::App* cmd = app.add_subcommand(
      "predict", "Score every row of a file with a saved model: one score per line (%.9g)");
  cmd->add_option("--model", s.model_file, "A model file written by mlsd train")->required();
  cmd->add_option("--data", s.data_file, "The rows to score")->required();
  cmd->add_option("--out", s.out_file, "Where to write the scores ('-': standard output)")
      ->required();
  cmd->add_option("--format", s.format, "Data format (default: the one the model was trained on)")
      ->check(CLI::IsMember({"libsvm", "libffm", "csv"}));
  return cmd;
}

/// Declares `mlsd eval` on `app`.
inline CLI::App* add_eval_command(CLI::App& app, apply_settings& s) {
  CLI::App* cmd = app.add_subcommand(
      "eval", "Evaluate a saved model on labelled data: prints one JSON object of the metrics "
              "that fit the model's task");
  cmd->add_option("--model", s.model_file, "A model file written by mlsd train")->required();
  cmd->add_option("--data", s.data_file, "Labelled rows")->required();
  cmd->add_option("--format", s.format, "Data format (default: the one the model was trained on)")
      ->check(CLI::IsMember({"libsvm", "libffm", "csv"}));
  cmd->add_option("--label-col", s.label_col,
                  "CSV: the label column (default: the one saved with the model)");
  return cmd;
}

} // namespace mlsd_cli
