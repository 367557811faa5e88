/// @file
/// `mlsd train --model mf`: matrix factorisation of a ratings CSV (user, item, rating), as the
/// factorization machine of two one-hot features, the user and the item. With those features the
/// FM's margin is `b + w_u + w_i + <v_u, v_i>`: biased matrix factorisation exactly (Rendle 2010,
/// section V.A; Koren, Bell and Volinsky 2009, eq. 4), trained by the same SGD / AdaGrad step.
/// The model file is an ordinary "fm" file whose feature encoder holds the user and item ids in
/// index order, so that `predict` maps ids exactly as training did.
#pragma once

#include "cli_common.hpp"
#include "data_files.hpp"
#include "metrics.hpp"
#include "settings.hpp"
#include "sparse_models.hpp"

#include <mlsd/core/sparse.hpp>
#include <mlsd/model/fm.hpp>
#include <mlsd/model/model_file.hpp>
#include <mlsd/model/progress.hpp>
#include <mlsd/model/trainer.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <optional>
#include <string>

namespace mlsd_cli {

/// True for an FM model file written by `mlsd train --model mf`.
[[nodiscard]] inline bool is_rating_model(const mlsd::model::model_file& f) {
  return f.feature_encoder.is_object() && f.feature_encoder.value("kind", "") == "user_item";
}

namespace detail {

// User u is feature u, item i is feature users + i; an id unknown to the model adds no feature.
[[nodiscard]] inline mlsd::sparse_batch rating_rows(const rating_data& d, std::size_t users) {
  constexpr std::uint32_t unknown = 0xffffffffu;
  mlsd::sparse_batch rows;
  rows.reserve(d.ratings.size(), 2 * d.ratings.size());
  for (std::size_t r = 0; r < d.ratings.size(); ++r) {
    rows.start_row(d.ratings[r]);
    if (d.users[r] != unknown) {
      rows.push_back(d.users[r], 1.0f);
    }
    if (d.items[r] != unknown) {
      rows.push_back(static_cast<std::uint32_t>(users + d.items[r]), 1.0f);
    }
    rows.finish_row();
  }
  return rows;
}

inline void say_unknown(const std::string& file, std::size_t unknown, std::size_t rows) {
  if (unknown != 0) {
    std::fprintf(stderr,
                 "mlsd: %s: %zu of %zu rows have a user or item not seen in training (scored "
                 "from the known one and the bias)\n",
                 file.c_str(), unknown, rows);
  }
}

inline void require_csv(const std::string& file, const std::optional<std::string>& format,
                        bool quiet) {
  if (format) {
    if (*format != "csv") {
      throw usage_error("--model mf reads a CSV file of ratings, not " + *format);
    }
    return;
  }
  const format_guess g = detect_format(file);
  if (g.format != data_format::csv) {
    throw mlsd::input_error({file}, "a CSV file of ratings with a header (user,item,rating)",
                            to_string(g.format) + " data");
  }
  say_detected(file, g, quiet);
}

} // namespace detail

/// Trains `--model mf` as the flags say.
[[nodiscard]] inline training_outcome train_ratings(const train_settings& s) {
  using fm = mlsd::model::factorization_machine;
  detail::require_csv(s.train_file, s.format, s.quiet);
  const rating_columns names{s.user_col, s.item_col, s.rating_col};
  id_vocabulary users, items;
  std::size_t unknown = 0;
  const rating_data train = load_ratings(s.train_file, names, users, items, true, true, unknown);
  std::optional<rating_data> valid;
  if (!s.valid_file.empty()) {
    std::size_t valid_unknown = 0;
    valid = load_ratings(s.valid_file, names, users, items, false, true, valid_unknown);
    detail::say_unknown(s.valid_file, valid_unknown, valid->ratings.size());
  }
  const mlsd::sparse_batch train_rows = detail::rating_rows(train, users.size());
  std::optional<mlsd::sparse_batch> valid_rows;
  if (valid) {
    valid_rows = detail::rating_rows(*valid, users.size());
  }

  train_settings fm_settings = s;
  fm_settings.loss = "squared";
  fm model = sparse_model_kind<fm>::make(fm_settings, users.size() + items.size(), 0);
  double mean = 0.0;
  for (const float r : train.ratings) {
    mean += r;
  }
  model.set_bias(static_cast<float>(mean / static_cast<double>(train.ratings.size())));

  mlsd::model::progress_bar bar(std::cerr, detail::progress_settings(s));
  const mlsd::model::training_summary t =
      mlsd::model::train(model, train_rows, valid_rows ? &*valid_rows : nullptr,
                         detail::options_of(s), bar.callback());
  bar.finish();

  training_outcome out{model.to_model_file(), {}};
  out.file.feature_encoder = {{"kind", "user_item"},       {"user_column", s.user_col},
                              {"item_column", s.item_col}, {"rating_column", s.rating_col},
                              {"users", users.ids()},      {"items", items.ids()}};
  out.file.training["data"] = {{"file", s.train_file},
                               {"rows", train.ratings.size()},
                               {"users", users.size()},
                               {"items", items.size()},
                               {"mean_rating", mean / static_cast<double>(train.ratings.size())}};
  out.file.training["epochs_run"] = t.epochs_run;
  out.file.training["best_epoch"] = t.best_epoch;
  out.file.training["stopped_early"] = t.stopped_early;
  out.file.training["train_loss"] = t.train_loss;
  out.file.training["valid_loss"] = t.valid_loss;
  out.file.training["seconds"] = t.seconds;
  out.summary = detail::summary_of(s.model, t, train.ratings.size(), s.out_file);
  return out;
}

/// Scores a ratings CSV with an `mf` model file: the predicted rating of each row.
[[nodiscard]] inline scored_rows score_ratings(const mlsd::model::model_file& file,
                                               const apply_settings& a, bool need_labels) {
  using fm = mlsd::model::factorization_machine;
  const fm model = model_from_file<fm>(file, a.model_file);
  const nlohmann::json& e = file.feature_encoder;
  id_vocabulary users, items;
  rating_columns names;
  try {
    users = id_vocabulary::from_ids(e.at("users").get<std::vector<std::string>>());
    items = id_vocabulary::from_ids(e.at("items").get<std::vector<std::string>>());
    names = {e.at("user_column").get<std::string>(), e.at("item_column").get<std::string>(),
             e.at("rating_column").get<std::string>()};
  } catch (const nlohmann::json::exception& x) {
    std::string d = "the user/item feature encoder does not read: ";
    d += x.what();
    throw mlsd::model::model_file_error(mlsd::model::model_file_error::kind::corrupted,
                                        a.model_file, std::move(d));
  }
  if (users.size() + items.size() != model.feature_count()) {
    throw mlsd::model::model_file_error(
        mlsd::model::model_file_error::kind::corrupted, a.model_file,
        "the user and item ids do not match the model's feature count");
  }
  if (a.label_col) {
    names.rating = *a.label_col;
  }
  if (a.format && *a.format != "csv") {
    throw usage_error("an mf model reads a CSV file of ratings, not " + *a.format);
  }
  std::size_t unknown = 0;
  const rating_data data =
      load_ratings(a.data_file, names, users, items, false, need_labels, unknown);
  detail::say_unknown(a.data_file, unknown, data.ratings.size());
  const mlsd::sparse_batch rows = detail::rating_rows(data, users.size());
  scored_rows out;
  out.task = model_task::regression;
  out.scores.reserve(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    out.scores.push_back(model(rows.row(r)));
  }
  out.labels = data.ratings;
  return out;
}

} // namespace mlsd_cli
