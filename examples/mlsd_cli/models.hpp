/// @file
/// The models this build of `mlsd` knows: for `train`, how each `--model` name is trained and
/// which flags apply to it; for `predict` and `eval`, which model files it can score.
#pragma once

#include "cli_common.hpp"
#include "dense_models.hpp"
#include "metrics.hpp"
#include "rating_models.hpp"
#include "settings.hpp"
#include "sparse_models.hpp"

#include <mlsd/model/model_file.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace mlsd_cli {

/// One `--model` choice of `mlsd train`.
struct model_entry {
  std::string name;
  std::string description;
  /// The flags that apply beyond --model, --train, --out, --format, --seed and --quiet.
  std::vector<std::string_view> flags;
  training_outcome (*train)(const train_settings&) = nullptr;

  [[nodiscard]] bool accepts(std::string_view flag) const {
    return std::find(flags.begin(), flags.end(), flag) != flags.end();
  }
};

/// The `--model` choices, in the order `--help` lists them. Built once, immutable.
[[nodiscard]] inline const std::vector<model_entry>& model_entries() {
  static const std::vector<model_entry> entries = [] {
    std::vector<model_entry> e;
    const std::vector<std::string_view> sgd_flags = {
        "--valid",     "--epochs",   "--batch-size", "--threads",     "--patience",
        "--lr",        "--l2",       "--optimizer",  "--loss",        "--bits",
        "--label-col", "--drop-col", "--index-base", "--valid-metric"};
    {
      std::vector<std::string_view> lr = sgd_flags;
      lr.push_back("--l1");
      e.push_back({"lr", "logistic regression (linear regression with --loss squared)", lr,
                   &train_sparse<mlsd::model::logistic_regression>});
      std::vector<std::string_view> f = sgd_flags;
      f.push_back("--k");
      e.push_back(
          {"fm", "factorization machine", f, &train_sparse<mlsd::model::factorization_machine>});
      std::vector<std::string_view> ffm = f;
      e.push_back({"ffm", "field-aware factorization machine", ffm,
                   &train_sparse<mlsd::model::field_aware_factorization_machine>});
      std::vector<std::string_view> mf = {
          "--valid", "--epochs",    "--batch-size", "--threads",  "--patience", "--lr",
          "--l2",    "--optimizer", "--k",          "--user-col", "--item-col", "--rating-col"};
      e.push_back({"mf", "matrix factorisation of a user,item,rating CSV", mf, &train_ratings});
    }
    e.push_back({"iforest",
                 "isolation forest on the numeric columns of a CSV file",
                 {"--trees", "--sample-size", "--label-col", "--drop-col", "--threads"},
                 &train_iforest});
    return e;
  }();
  return entries;
}

/// The names of `model_entries()`.
[[nodiscard]] inline std::vector<std::string> available_models() {
  std::vector<std::string> names;
  for (const model_entry& e : model_entries()) {
    names.push_back(e.name);
  }
  return names;
}

/// "The model: lr (logistic regression), fm (...), ..." for `--help`.
[[nodiscard]] inline std::string model_help() {
  std::string text = "The model:";
  for (const model_entry& e : model_entries()) {
    text += e.name == model_entries().front().name ? " " : "; ";
    text += e.name;
    text += " (";
    text += e.description;
    text += ')';
  }
  return text;
}

/// The entry named `name` (CLI11 has checked that it is one of them).
[[nodiscard]] inline const model_entry& find_model(std::string_view name) {
  for (const model_entry& e : model_entries()) {
    if (e.name == name) {
      return e;
    }
  }
  throw usage_error("no model '" + std::string(name) + "' in this build");
}

/// How `predict` and `eval` score with one kind of model file.
struct scorer_entry {
  std::string_view model_type;
  /// True when the file is of this kind (the model type, and for FM whether it models ratings).
  bool (*matches)(const mlsd::model::model_file&) = nullptr;
  scored_rows (*score)(const mlsd::model::model_file&, const apply_settings&, bool) = nullptr;
};

/// The scorer for `file`; throws `model_file_error` (`wrong_model_type`) naming the model file and
/// the model types this build scores when there is none.
[[nodiscard]] inline scorer_entry find_scorer(const mlsd::model::model_file& file,
                                              const std::string& path) {
  static const std::vector<scorer_entry> scorers = {
      {"logistic_regression", [](const mlsd::model::model_file&) { return true; },
       &score_sparse<mlsd::model::logistic_regression>},
      {"fm", &is_rating_model, &score_ratings},
      {"fm", [](const mlsd::model::model_file& f) { return !is_rating_model(f); },
       &score_sparse<mlsd::model::factorization_machine>},
      {"ffm", [](const mlsd::model::model_file&) { return true; },
       &score_sparse<mlsd::model::field_aware_factorization_machine>},
      {"isolation_forest", [](const mlsd::model::model_file&) { return true; }, &score_iforest},
  };
  std::vector<std::string_view> known;
  for (const scorer_entry& s : scorers) {
    if (s.model_type == file.model_type && s.matches(file)) {
      return s;
    }
    if (std::find(known.begin(), known.end(), s.model_type) == known.end()) {
      known.push_back(s.model_type);
    }
  }
  std::string detail = "mlsd predict and eval read ";
  for (const std::string_view k : known) {
    detail += k == known.front() ? "" : ", ";
    detail += k;
  }
  detail += " models; this file holds a ";
  detail += file.model_type;
  detail += " model";
  throw mlsd::model::model_file_error(mlsd::model::model_file_error::kind::wrong_model_type, path,
                                      std::move(detail));
}

} // namespace mlsd_cli
