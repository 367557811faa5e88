/// @file
/// `mlsd train / predict / eval` for the sparse SGD models (logistic regression, FM, FFM): the
/// data is a CSR batch read from LIBSVM, libffm or CSV, the model is trained by `model::train`,
/// and the model file keeps the encoding (format, hashing, CSV columns) so that new files are read
/// exactly as the training file was.
#pragma once

#include "cli_common.hpp"
#include "data_files.hpp"
#include "metrics.hpp"
#include "settings.hpp"

#include <mlsd/evaluation/validation.hpp>
#include <mlsd/model/ffm.hpp>
#include <mlsd/model/fm.hpp>
#include <mlsd/model/logistic_regression.hpp>
#include <mlsd/model/loss.hpp>
#include <mlsd/model/model_file.hpp>
#include <mlsd/model/progress.hpp>
#include <mlsd/model/trainer.hpp>
#include <mlsd/model/training.hpp>
#include <mlsd/requirements/requirements.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace mlsd_cli {

/// What `train` prints and saves once a model is trained.
struct training_outcome {
  mlsd::model::model_file file;
  std::string summary; ///< the one-line summary
};

namespace detail {

template <class M>
concept has_field_count = requires(const M& m) {
  m.field_count();
};

/// The features and fields `model` accepts (fields: any, for a model that has none).
template <class M>
[[nodiscard]] feature_range range_of(const M& model) {
  feature_range r{static_cast<std::size_t>(model.feature_count()), static_cast<std::size_t>(-1)};
  if constexpr (has_field_count<M>) {
    r.fields = static_cast<std::size_t>(model.field_count());
  }
  return r;
}

/// The progress bar: drawn on a terminal, never with --quiet.
[[nodiscard]] inline mlsd::model::progress_bar_config progress_settings(const train_settings& s) {
  mlsd::model::progress_bar_config c;
  c.display =
      s.quiet ? mlsd::model::progress_display::never : mlsd::model::progress_display::automatic;
  return c;
}

/// The train options the flags describe.
[[nodiscard]] inline mlsd::model::train_options options_of(const train_settings& s) {
  mlsd::model::train_options o;
  o.epochs = s.epochs;
  o.batch_size = s.batch_size;
  o.seed = s.seed;
  o.threads = s.threads;
  o.stopping.patience = s.patience;
  if (s.valid_metric) {
    // The flag's values are checked by CLI11 against the names validation_metric_for accepts.
    o.valid_metric = mlsd::evaluation::validation_metric_for(
        *mlsd::enum_from_string<mlsd::offline_metric>(*s.valid_metric));
  }
  return o;
}

/// "0.3251" or "-" for a loss that was not measured.
[[nodiscard]] inline std::string loss_text(const std::vector<double>& per_epoch,
                                           std::size_t epoch) {
  if (epoch >= per_epoch.size()) {
    return "-";
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", per_epoch[epoch]);
  return buf;
}

/// The one-line summary of a run of the trainer.
[[nodiscard]] inline std::string summary_of(const std::string& model,
                                            const mlsd::model::training_summary& t,
                                            std::size_t rows, const std::string& out) {
  std::string line = "mlsd: trained ";
  line += model;
  line += " on ";
  line += std::to_string(rows);
  line += " rows: ";
  line += std::to_string(t.epochs_run);
  line += t.epochs_run == 1 ? " epoch" : " epochs";
  if (t.stopped_early) {
    line += " (stopped early, kept epoch ";
    line += std::to_string(t.best_epoch + 1);
    line += ')';
  }
  line += ", train loss ";
  line += loss_text(t.train_loss, t.best_epoch);
  line += ", valid loss ";
  line += loss_text(t.valid_loss, t.best_epoch);
  if (!t.valid_metric.empty()) {
    line += ", valid ";
    line += t.valid_metric_name;
    line += ' ';
    line += loss_text(t.valid_metric, t.best_epoch);
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, ", %.2f s -> ", t.seconds);
  line += seconds;
  line += out;
  return line;
}

/// The positive rate of `labels` (labels > 0), for the data summary in the model file.
[[nodiscard]] inline double positive_rate(std::span<const float> labels) {
  std::size_t positives = 0;
  for (const float y : labels) {
    positives += mlsd::model::is_positive(y) ? 1 : 0;
  }
  return labels.empty() ? 0.0 : static_cast<double>(positives) / static_cast<double>(labels.size());
}

/// Prints "mlsd: FILE: detected FORMAT (evidence)" unless quiet.
inline void say_detected(const std::string& file, const format_guess& g, bool quiet) {
  if (!quiet) {
    std::fprintf(stderr, "mlsd: %s: detected %s (%s)\n", file.c_str(), to_string(g.format).c_str(),
                 g.evidence.c_str());
  }
}

} // namespace detail

/// The model `M` saved in `file` (loaded from `path`), with errors that name the file, as
/// `model::load_model` reports them: a hyper-parameter that does not parse is a corrupted file.
template <class M>
[[nodiscard]] M model_from_file(const mlsd::model::model_file& file, const std::string& path) {
  using mlsd::model::model_file_error;
  try {
    return M::from_model_file(file);
  } catch (const model_file_error& e) {
    if (e.path().empty()) {
      throw model_file_error(e.problem(), path, e.detail());
    }
    throw;
  } catch (const nlohmann::json::exception& e) {
    std::string d = "the hyper-parameters do not fit the model: ";
    d += e.what();
    throw model_file_error(model_file_error::kind::corrupted, path, std::move(d));
  } catch (const mlsd::config_error& e) {
    std::string d = "the hyper-parameters are invalid: ";
    d += e.what();
    throw model_file_error(model_file_error::kind::corrupted, path, std::move(d));
  }
}

/// How one sparse model type is built from the flags: specialised per model below, each with
/// `field_aware` (the rows must carry fields) and `make(settings, features, fields)`.
template <class M>
struct sparse_model_kind;

/// `--optimizer` among `allowed` ("sgd", "adagrad", "ftrl"), or a usage error naming them.
inline void check_optimizer(const train_settings& s,
                            std::initializer_list<std::string_view> allowed) {
  if (!s.optimizer) {
    return;
  }
  std::string names;
  for (const std::string_view a : allowed) {
    if (a == *s.optimizer) {
      return;
    }
    names += names.empty() ? "" : ", ";
    names += a;
  }
  throw usage_error("--optimizer " + *s.optimizer + " is not available for --model " + s.model +
                    " (choose " + names + ")");
}

/// Logistic (or, with `--loss squared`, linear) regression: FTRL-Proximal by default (McMahan et
/// al. 2013), or SGD / AdaGrad; `--lr` is the learning rate (FTRL's alpha), `--l1` and `--l2` the
/// chosen optimizer's penalties.
template <>
struct sparse_model_kind<mlsd::model::logistic_regression> {
  static constexpr bool field_aware = false;
  using model = mlsd::model::logistic_regression;

  [[nodiscard]] static model make(const train_settings& s, std::size_t features, std::size_t) {
    model::config c;
    c.features = std::max<std::size_t>(features, 1);
    if (s.loss) {
      c.loss = mlsd::model::parse_loss_function(*s.loss, "--loss");
    }
    if (s.optimizer) {
      c.optimizer.kind = mlsd::model::parse_optimizer_kind(*s.optimizer, "--optimizer");
    }
    const auto set = [&](float& rate, float& l1, float& l2) {
      rate = static_cast<float>(s.learning_rate.value_or(rate));
      l1 = static_cast<float>(s.l1.value_or(l1));
      l2 = static_cast<float>(s.l2.value_or(l2));
    };
    switch (c.optimizer.kind) {
    case mlsd::model::optimizer_kind::sgd:
      set(c.optimizer.sgd.learning_rate, c.optimizer.sgd.l1, c.optimizer.sgd.l2);
      break;
    case mlsd::model::optimizer_kind::adagrad:
      set(c.optimizer.adagrad.learning_rate, c.optimizer.adagrad.l1, c.optimizer.adagrad.l2);
      break;
    case mlsd::model::optimizer_kind::ftrl:
      set(c.optimizer.ftrl.alpha, c.optimizer.ftrl.l1, c.optimizer.ftrl.l2);
      break;
    }
    return model(c);
  }
};

/// The field-aware factorization machine (Juan et al. 2016), trained as libffm does (AdaGrad,
/// instance normalisation): `--k` factors per (feature, field), `--lr`, `--l2`.
template <>
struct sparse_model_kind<mlsd::model::field_aware_factorization_machine> {
  static constexpr bool field_aware = true;
  using model = mlsd::model::field_aware_factorization_machine;

  [[nodiscard]] static model make(const train_settings& s, std::size_t features,
                                  std::size_t fields) {
    check_optimizer(s, {"adagrad"});
    model::config c;
    c.features = std::max<std::size_t>(features, 1);
    c.fields = std::max<std::size_t>(fields, 1);
    c.factors = s.k.value_or(c.factors);
    if (s.loss) {
      c.loss = mlsd::model::parse_loss_function(*s.loss, "--loss");
    }
    c.learning_rate = static_cast<float>(s.learning_rate.value_or(c.learning_rate));
    c.l2 = static_cast<float>(s.l2.value_or(c.l2));
    c.seed = s.seed;
    return model(c);
  }
};

/// The factorization machine (Rendle 2010): `--k` factors, sgd or adagrad, `--l2` on the linear
/// weights and the factors (libFM's `-regular '0,λ,λ'`).
template <>
struct sparse_model_kind<mlsd::model::factorization_machine> {
  static constexpr bool field_aware = false;
  using model = mlsd::model::factorization_machine;

  [[nodiscard]] static model make(const train_settings& s, std::size_t features, std::size_t) {
    check_optimizer(s, {"sgd", "adagrad"});
    model::config c;
    c.features = std::max<std::size_t>(features, 1);
    c.factors = s.k.value_or(c.factors);
    if (s.loss) {
      c.loss = mlsd::model::parse_loss_function(*s.loss, "--loss");
    }
    if (s.optimizer) {
      c.optimizer = *s.optimizer == "sgd" ? mlsd::model::fm_optimizer::sgd
                                          : mlsd::model::fm_optimizer::adagrad;
    }
    c.learning_rate = static_cast<float>(s.learning_rate.value_or(c.learning_rate));
    if (s.l2) {
      c.l2_linear = c.l2_factors = static_cast<float>(*s.l2);
    }
    c.seed = s.seed;
    return model(c);
  }
};

/// The sparse encoding of the training file, from the flags (format detected unless given).
[[nodiscard]] inline sparse_encoding training_encoding(const train_settings& s, bool field_aware) {
  sparse_encoding e;
  e.field_aware = field_aware;
  e.hash_bits = s.bits;
  e.index_base = s.index_base;
  if (s.format) {
    e.format = *parse_data_format(*s.format);
    require_data_file(s.train_file);
  } else {
    const format_guess g = detect_format(s.train_file);
    detail::say_detected(s.train_file, g, s.quiet);
    e.format = g.format;
  }
  if (e.format == data_format::csv) {
    e.label_column = s.label_col.value_or("label");
    e.columns = csv_feature_columns(s.train_file, e.label_column, s.drop_cols, true);
    if (s.index_base) {
      throw usage_error("--index-base applies to libsvm and libffm files, not CSV");
    }
  } else if (s.label_col || !s.drop_cols.empty()) {
    throw usage_error("--label-col and --drop-col apply to CSV files only (the training file is " +
                      to_string(e.format) + ")");
  }
  if (field_aware && e.format == data_format::libsvm) {
    throw usage_error("--model ffm needs fields: give libffm data (field:index:value) or a CSV "
                      "file (each column is a field); " +
                      s.train_file + " is libsvm");
  }
  return e;
}

/// Trains a sparse model `M` as the flags say and returns its model file and summary line.
template <class M>
[[nodiscard]] training_outcome train_sparse(const train_settings& s) {
  using kind = sparse_model_kind<M>;
  const sparse_encoding encoding = training_encoding(s, kind::field_aware);
  const sparse_data train = load_sparse(s.train_file, encoding, true);
  std::optional<sparse_data> valid;
  if (!s.valid_file.empty()) {
    valid = load_sparse(s.valid_file, encoding, true);
  }
  std::size_t features = std::max(train.features, valid ? valid->features : 0);
  const std::size_t fields = std::max(train.fields, valid ? valid->fields : 0);
  if (encoding.hash_bits != 0) {
    features = std::size_t{1} << encoding.hash_bits;
  }
  M model = kind::make(s, features, fields);
  mlsd::model::progress_bar bar(std::cerr, detail::progress_settings(s));
  const mlsd::model::training_summary t = mlsd::model::train(
      model, train.rows, valid ? &valid->rows : nullptr, detail::options_of(s), bar.callback());
  bar.finish();

  training_outcome out{model.to_model_file(), {}};
  out.file.feature_encoder = encoding.to_json();
  out.file.training["data"] = {{"file", s.train_file},
                               {"rows", train.rows.size()},
                               {"features", train.features},
                               {"fields", train.fields},
                               {"rows_without_features", train.empty_rows},
                               {"positive_rate", detail::positive_rate(train.rows.labels())}};
  out.file.training["epochs_run"] = t.epochs_run;
  out.file.training["best_epoch"] = t.best_epoch;
  out.file.training["stopped_early"] = t.stopped_early;
  out.file.training["train_loss"] = t.train_loss;
  out.file.training["valid_loss"] = t.valid_loss;
  if (!t.valid_metric.empty()) {
    out.file.training["valid_metric"] = {{"name", t.valid_metric_name}, {"values", t.valid_metric}};
  }
  out.file.training["seconds"] = t.seconds;
  out.summary = detail::summary_of(s.model, t, train.rows.size(), s.out_file);
  return out;
}

/// Scores every row of `a.data_file` with the sparse model `M` saved in `file`.
template <class M>
[[nodiscard]] scored_rows score_sparse(const mlsd::model::model_file& file, const apply_settings& a,
                                       bool need_labels) {
  const M model = model_from_file<M>(file, a.model_file);
  sparse_encoding encoding;
  try {
    encoding = sparse_encoding::from_json(file.feature_encoder);
  } catch (const std::exception& e) { // config_error, or a JSON type error
    std::string d = "the feature encoder saved with the model does not read: ";
    d += e.what();
    throw mlsd::model::model_file_error(mlsd::model::model_file_error::kind::corrupted,
                                        a.model_file, std::move(d));
  }
  if (a.format) {
    const data_format f = *parse_data_format(*a.format);
    if ((f == data_format::csv) != (encoding.format == data_format::csv)) {
      throw usage_error("--format " + *a.format + " does not fit a model trained on " +
                        to_string(encoding.format) +
                        " data (CSV columns and LIBSVM indices do not map onto each other)");
    }
    encoding.format = f;
  }
  if (encoding.field_aware && encoding.format == data_format::libsvm) {
    throw usage_error("a field-aware model needs rows with fields: libffm data, not libsvm");
  }
  if (a.label_col) {
    if (encoding.format != data_format::csv) {
      throw usage_error("--label-col applies to CSV files only");
    }
    encoding.label_column = *a.label_col;
  }
  const sparse_data data = load_sparse(a.data_file, encoding, need_labels, detail::range_of(model));
  scored_rows out;
  out.task = model.loss() == mlsd::model::loss_function::logistic
                 ? model_task::binary_classification
                 : model_task::regression;
  out.scores.reserve(data.rows.size());
  for (std::size_t r = 0; r < data.rows.size(); ++r) {
    out.scores.push_back(model(data.rows.row(r)));
  }
  const auto labels = data.rows.labels();
  out.labels.assign(labels.begin(), labels.end());
  return out;
}

} // namespace mlsd_cli
