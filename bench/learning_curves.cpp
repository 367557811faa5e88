// Learning curves of the baseline models, epoch by epoch, on three data sets, printed as ONE JSON
// document (stdout, or --out FILE) that bench/learning_curves.py turns into SVG charts and a
// markdown table (docs/model.md):
//
//   learning_curves --out bench/results/learning_curves.json
//   python3 bench/learning_curves.py bench/results/learning_curves.json --svg-dir docs/img
//
// 1. a9a (UCI Adult, LIBSVM's copy; $MLSD_DATA_DIR/libsvm-a9a/a9a and a9a.t): logistic regression
//    with FTRL-Proximal and with AdaGrad, and a k = 8 factorization machine. Per epoch: the
//    progressive training log loss, the log loss, accuracy (threshold 0.5) and ROC-AUC on a9a.t.
// 2. The synthetic click log (data/synthetic_click_log.hpp, generated here, no download): the
//    first --click-rows rows train, the next --click-valid-rows validate (a time split), each row
//    hashed by data::click_log_hasher into 2^--bits buckets with 39 fields. LR (FTRL), FM (k = 8,
//    on rows scaled to unit norm) and FFM (k = 4, libffm's defaults). Per epoch: progressive
//    training log loss, validation log loss and ROC-AUC; and once, the log loss and ROC-AUC of the
//    ground truth's own click probabilities on the validation rows (the floor no model can beat in
//    expectation).
// 3. MovieLens latest-small ($MLSD_DATA_DIR/movielens-latest-small/ratings.csv), a seeded 90/10
//    random split: biased matrix factorisation (model::two_tower, squared objective) and an FM on
//    one-hot user + one-hot movie. Per epoch: the progressive training RMSE and the validation
//    RMSE; and once, the RMSE of predicting the training mean.
//
// Everything is seeded and trained on one thread (deterministic mode), so the same build gives the
// same curves. A data set that is absent (MLSD_DATA_DIR unset, or the folder missing) is left out
// and the JSON says why. A learning curve is not a timing: the seconds it records are for
// information only. With the defaults the whole run takes about a minute on one core.
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/csv.hpp>
#include <mlsd/data/libsvm.hpp>
#include <mlsd/data/split.hpp>
#include <mlsd/data/synthetic_click_log.hpp>
#include <mlsd/evaluation/classification.hpp>
#include <mlsd/evaluation/regression.hpp>
#include <mlsd/model/ffm.hpp>
#include <mlsd/model/fm.hpp>
#include <mlsd/model/logistic_regression.hpp>
#include <mlsd/model/trainer.hpp>
#include <mlsd/model/training.hpp>
#include <mlsd/model/two_tower.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

namespace data = mlsd::data;
namespace model = mlsd::model;
namespace evaluation = mlsd::evaluation;
using nlohmann::json;

struct options {
  std::size_t a9a_epochs = 15;
  std::size_t click_epochs = 10;
  std::size_t movielens_epochs = 20;
  std::uint64_t click_rows = 200'000;
  std::uint64_t click_valid_rows = 50'000;
  std::uint32_t bits = 18;
  std::uint64_t seed = 1;
  std::string out; // empty: stdout
  bool a9a = true, click = true, movielens = true;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "learning_curves: " << why << "\n"
            << "usage: learning_curves [--out FILE] [--datasets a9a,click,movielens]\n"
               "  [--a9a-epochs N] [--click-epochs N] [--movielens-epochs N]\n"
               "  [--click-rows N] [--click-valid-rows N] [--bits B] [--seed S]\n"
               "Real data sets are read from $MLSD_DATA_DIR; the click log is generated.\n";
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      usage("training curves of the baseline models, as JSON");
    }
    if (i + 1 >= argc) {
      std::string why = "missing value after ";
      why += a;
      usage(why);
    }
    const std::string v = argv[++i];
    try {
      if (a == "--out") {
        o.out = v;
      } else if (a == "--datasets") {
        o.a9a = v.find("a9a") != std::string::npos;
        o.click = v.find("click") != std::string::npos;
        o.movielens = v.find("movielens") != std::string::npos;
      } else if (a == "--a9a-epochs") {
        o.a9a_epochs = std::stoul(v);
      } else if (a == "--click-epochs") {
        o.click_epochs = std::stoul(v);
      } else if (a == "--movielens-epochs") {
        o.movielens_epochs = std::stoul(v);
      } else if (a == "--click-rows") {
        o.click_rows = std::stoull(v);
      } else if (a == "--click-valid-rows") {
        o.click_valid_rows = std::stoull(v);
      } else if (a == "--bits") {
        o.bits = static_cast<std::uint32_t>(std::stoul(v));
      } else if (a == "--seed") {
        o.seed = std::stoull(v);
      } else {
        std::string why = "unknown option ";
        why += a;
        usage(why);
      }
    } catch (const std::logic_error&) {
      std::string why = "bad value '";
      why += v;
      why += "' for ";
      why += a;
      usage(why);
    }
  }
  if (o.a9a_epochs == 0 || o.click_epochs == 0 || o.movielens_epochs == 0) {
    usage("epochs must be at least 1");
  }
  if (o.click_rows == 0 || o.click_valid_rows == 0) {
    usage("--click-rows and --click-valid-rows must be at least 1");
  }
  if (o.bits < 1 || o.bits > 24) {
    usage("--bits must be from 1 to 24");
  }
  return o;
}

// The folder `name` under MLSD_DATA_DIR, or the reason it is not there.
struct located {
  std::optional<std::filesystem::path> dir;
  std::string reason;
};

located locate(const std::string& name) {
  const char* root = std::getenv("MLSD_DATA_DIR");
  if (root == nullptr || *root == '\0') {
    return {std::nullopt, "MLSD_DATA_DIR is not set"};
  }
  std::filesystem::path dir = std::filesystem::path(root) / name;
  if (!std::filesystem::is_directory(dir)) {
    std::string why = "no folder ";
    why += dir.string();
    return {std::nullopt, why};
  }
  return {dir, {}};
}

mlsd::sparse_batch read_libsvm(const std::filesystem::path& path) {
  data::libsvm_source source(path);
  std::vector<mlsd::sparse_row> rows(512);
  mlsd::sparse_batch out;
  while (const std::size_t n = source.read(rows)) {
    for (std::size_t i = 0; i < n; ++i) {
      out.push_back(rows[i].view());
    }
  }
  if (source.report().skipped != 0) {
    std::string why = path.string();
    why += ": ";
    why += std::to_string(source.report().skipped);
    why += " malformed lines";
    throw std::runtime_error(why);
  }
  return out;
}

// Probabilities (or predictions) of `m` on every row of `rows`.
template <class Model>
std::vector<float> predict_all(const Model& m, const mlsd::sparse_batch& rows) {
  std::vector<float> out(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    out[r] = m(rows.row(r));
  }
  return out;
}

// `rows` with every row scaled to unit L2 norm (Juan et al. 2016, section 3.4; libffm's and
// xLearn's default "instance normalisation"). Labels, indices and fields are kept.
mlsd::sparse_batch unit_norm(const mlsd::sparse_batch& rows) {
  mlsd::sparse_batch out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const mlsd::sparse_row_view x = rows.row(r);
    double squares = 0.0;
    for (const float v : x.values) {
      squares += static_cast<double>(v) * v;
    }
    const float scale = squares > 0.0 ? static_cast<float>(1.0 / std::sqrt(squares)) : 1.0f;
    out.start_row(x.label);
    for (std::size_t i = 0; i < x.nnz(); ++i) {
      if (x.fields.empty()) {
        out.push_back(x.indices[i], x.values[i] * scale);
      } else {
        out.push_back(x.fields[i], x.indices[i], x.values[i] * scale);
      }
    }
    out.finish_row();
  }
  return out;
}

std::vector<float> labels01(const mlsd::sparse_batch& rows) {
  std::vector<float> out(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    out[r] = model::is_positive(rows.row(r).label) ? 1.0f : 0.0f;
  }
  return out;
}

// The per-epoch record of one model: what the progress callback saw at each `epoch_done`, plus
// the metrics `measure(model)` computes on the validation rows at that moment.
struct curve {
  std::vector<double> train_loss, valid_loss, seconds;
  std::unordered_map<std::string, std::vector<double>> metrics;

  [[nodiscard]] json to_json() const {
    json j{{"train_loss", train_loss}, {"valid_loss", valid_loss}, {"seconds", seconds}};
    json m = json::object();
    for (const auto& [name, values] : metrics) {
      m[name] = values;
    }
    j["valid_metrics"] = m;
    return j;
  }
};

// Trains an sgd_model with model::train for `epochs`, recording each epoch through the progress
// callback; `measure(model)` returns the validation metrics (computed outside the clock).
template <class Model, class Measure>
curve trace_sgd(Model& m, const mlsd::sparse_batch& train, const mlsd::sparse_batch& valid,
                std::size_t epochs, std::uint64_t seed, const Measure& measure,
                const std::string& label) {
  model::train_options o;
  o.epochs = epochs;
  o.seed = seed;
  o.threads = 1;
  curve c;
  const auto on_progress = [&](const model::progress_report& r) {
    if (!r.epoch_done) {
      return true;
    }
    c.train_loss.push_back(r.train_loss);
    c.valid_loss.push_back(r.valid_loss.value_or(std::nan("")));
    c.seconds.push_back(r.seconds);
    for (const auto& [name, value] : measure(m)) {
      c.metrics[name].push_back(value);
    }
    std::cerr << "  " << label << " epoch " << r.epoch + 1 << "/" << r.epochs << ": train "
              << r.train_loss << ", valid " << c.valid_loss.back() << "\n";
    return true;
  };
  (void)model::train(m, train, &valid, o, on_progress);
  return c;
}

json model_entry(std::string name, std::string type, json hyper, const curve& c) {
  json j = c.to_json();
  j["name"] = std::move(name);
  j["model_type"] = std::move(type);
  j["hyper_parameters"] = std::move(hyper);
  return j;
}

// ---------------------------------------------------------------------------------------------
// a9a

json run_a9a(const options& opt) {
  const located where = locate("libsvm-a9a");
  if (!where.dir) {
    return json{{"available", false}, {"reason", where.reason}};
  }
  std::cerr << "a9a: loading\n";
  const mlsd::sparse_batch train = read_libsvm(*where.dir / "a9a");
  const mlsd::sparse_batch test = read_libsvm(*where.dir / "a9a.t");
  const std::vector<float> test_labels = labels01(test);
  const std::vector<float> train_labels = labels01(train);

  const auto measure = [&](const auto& m) {
    const std::vector<float> p = predict_all(m, test);
    return std::vector<std::pair<std::string, double>>{
        {"accuracy", evaluation::accuracy_of(p, test_labels)},
        {"roc_auc", evaluation::roc_auc_of(p, test_labels)}};
  };

  json models = json::array();
  {
    model::logistic_regression::config c;
    c.features = 123;
    c.optimizer.kind = model::optimizer_kind::ftrl;
    c.optimizer.ftrl = {.alpha = 0.05f, .beta = 1.0f, .l1 = 1.0f, .l2 = 1.0f};
    model::logistic_regression m(c);
    const curve k = trace_sgd(m, train, test, opt.a9a_epochs, opt.seed, measure, "a9a LR FTRL");
    models.push_back(model_entry("LR (FTRL)", "logistic_regression", json(c), k));
  }
  {
    model::logistic_regression::config c;
    c.features = 123;
    c.optimizer.kind = model::optimizer_kind::adagrad;
    c.optimizer.adagrad.learning_rate = 0.05f;
    model::logistic_regression m(c);
    const curve k = trace_sgd(m, train, test, opt.a9a_epochs, opt.seed, measure, "a9a LR AdaGrad");
    models.push_back(model_entry("LR (AdaGrad)", "logistic_regression", json(c), k));
  }
  {
    model::factorization_machine::config c;
    c.features = 123;
    c.factors = 8;
    c.optimizer = model::fm_optimizer::adagrad;
    c.learning_rate = 0.05f;
    c.l2_factors = 1e-4f;
    c.init_stddev = 0.01f;
    c.seed = opt.seed;
    model::factorization_machine m(c);
    const curve k = trace_sgd(m, train, test, opt.a9a_epochs, opt.seed, measure, "a9a FM");
    models.push_back(model_entry("FM (k=8, AdaGrad)", "fm", c.to_json(), k));
  }

  // Reference: predicting the training set's positive rate for everyone.
  double positives = 0.0;
  for (const float y : train_labels) {
    positives += y;
  }
  const auto rate = static_cast<float>(positives / static_cast<double>(train_labels.size()));
  const std::vector<float> constant(test.size(), rate);
  double majority = 0.0; // accuracy of always predicting the majority class
  for (const float y : test_labels) {
    majority += (rate >= 0.5f) == (y > 0.5f) ? 1.0 : 0.0;
  }
  majority /= static_cast<double>(test_labels.size());

  return json{{"available", true},
              {"description", "UCI Adult (LIBSVM a9a): train on a9a, validate on a9a.t"},
              {"train_rows", train.size()},
              {"valid_rows", test.size()},
              {"features", 123},
              {"loss", "log_loss"},
              {"epochs", opt.a9a_epochs},
              {"models", models},
              {"references",
               json::array({json{{"name", "training positive rate for every row"},
                                 {"kind", "baseline"},
                                 {"valid_loss", evaluation::log_loss_of(constant, test_labels)},
                                 {"valid_metrics", {{"accuracy", majority}, {"roc_auc", 0.5}}}}})}};
}

// ---------------------------------------------------------------------------------------------
// The synthetic click log

json run_click(const options& opt) {
  data::synthetic_click_log_config lc;
  lc.rows = opt.click_rows + opt.click_valid_rows;
  lc.seed = opt.seed;
  const data::synthetic_click_log log(lc);
  const data::click_log_hasher hasher({.bits = opt.bits, .seed = 0});
  std::cerr << "click log: generating " << lc.rows << " rows\n";

  mlsd::sparse_batch train, valid;
  std::vector<float> truth, valid_labels;
  truth.reserve(opt.click_valid_rows);
  data::synthetic_click c;
  mlsd::sparse_row x;
  double train_clicks = 0.0;
  for (std::uint64_t i = 0; i < lc.rows; ++i) {
    log.generate(i, c);
    hasher.encode(c.features, x);
    if (i < opt.click_rows) {
      train.push_back(x.view());
      train_clicks += x.label;
    } else {
      valid.push_back(x.view());
      truth.push_back(static_cast<float>(c.true_probability));
      valid_labels.push_back(x.label > 0.0f ? 1.0f : 0.0f);
    }
  }
  // The ground truth's log loss, in double from the exact probabilities (never 0 or 1 here).
  double truth_loss = 0.0;
  for (std::uint64_t i = 0; i < opt.click_valid_rows; ++i) {
    const double p = log.record(opt.click_rows + i).true_probability;
    truth_loss -= valid_labels[i] > 0.5f ? std::log(p) : std::log1p(-p);
  }
  truth_loss /= static_cast<double>(opt.click_valid_rows);
  const auto base_rate = static_cast<float>(train_clicks / static_cast<double>(train.size()));
  const std::vector<float> constant(valid.size(), base_rate);

  const auto measure = [&](const auto& m) {
    const std::vector<float> p = predict_all(m, valid);
    return std::vector<std::pair<std::string, double>>{
        {"roc_auc", evaluation::roc_auc_of(p, valid_labels)}};
  };
  const std::size_t features = std::size_t{1} << opt.bits;

  json models = json::array();
  {
    model::logistic_regression::config k;
    k.features = features;
    k.optimizer.kind = model::optimizer_kind::ftrl;
    k.optimizer.ftrl = {.alpha = 0.05f, .beta = 1.0f, .l1 = 1.0f, .l2 = 1.0f};
    model::logistic_regression m(k);
    const curve cv = trace_sgd(m, train, valid, opt.click_epochs, opt.seed, measure, "click LR");
    models.push_back(model_entry("LR (FTRL)", "logistic_regression", json(k), cv));
  }
  {
    // On rows scaled to unit L2 norm (xLearn's default for FM; libffm and the FFM below do the
    // same): the raw rows have 39 entries of value 1, so the pairwise term sums 741 products of
    // unscaled factors, and with these settings the FM overfits from the second epoch.
    const mlsd::sparse_batch train_unit = unit_norm(train), valid_unit = unit_norm(valid);
    model::factorization_machine::config k;
    k.features = features;
    k.factors = 8;
    k.optimizer = model::fm_optimizer::adagrad;
    k.learning_rate = 0.1f;
    k.l2_linear = 1e-4f;
    k.l2_factors = 1e-4f;
    k.init_stddev = 0.01f;
    k.seed = opt.seed;
    model::factorization_machine m(k);
    const auto measure_unit = [&](const auto& fm) {
      const std::vector<float> p = predict_all(fm, valid_unit);
      return std::vector<std::pair<std::string, double>>{
          {"roc_auc", evaluation::roc_auc_of(p, valid_labels)}};
    };
    const curve cv =
        trace_sgd(m, train_unit, valid_unit, opt.click_epochs, opt.seed, measure_unit, "click FM");
    json entry = model_entry("FM (k=8, AdaGrad, unit-norm rows)", "fm", k.to_json(), cv);
    entry["input"] = "each row scaled to unit L2 norm";
    models.push_back(std::move(entry));
  }
  {
    model::field_aware_factorization_machine::config k; // libffm's defaults
    k.features = features;
    k.fields = data::click_log_hasher::column_count;
    k.factors = 4;
    k.learning_rate = 0.2f;
    k.l2 = 2e-5f;
    k.seed = opt.seed;
    model::field_aware_factorization_machine m(k);
    const curve cv = trace_sgd(m, train, valid, opt.click_epochs, opt.seed, measure, "click FFM");
    models.push_back(model_entry("FFM (k=4, libffm defaults)", "ffm", k.to_json(), cv));
  }

  return json{
      {"available", true},
      {"description", "synthetic Criteo-like click log (data/synthetic_click_log.hpp), time "
                      "split: the first rows train, the following rows validate"},
      {"generator", lc.to_json()},
      {"hasher", hasher.to_json()},
      {"train_rows", train.size()},
      {"valid_rows", valid.size()},
      {"train_click_rate", base_rate},
      {"features", features},
      {"fields", data::click_log_hasher::column_count},
      {"loss", "log_loss"},
      {"epochs", opt.click_epochs},
      {"models", models},
      {"references",
       json::array(
           {json{{"name", "ground truth (the generator's click probabilities)"},
                 {"kind", "floor"},
                 {"valid_loss", truth_loss},
                 {"valid_metrics", {{"roc_auc", evaluation::roc_auc_of(truth, valid_labels)}}}},
            json{{"name", "training click rate for every row"},
                 {"kind", "baseline"},
                 {"valid_loss", evaluation::log_loss_of(constant, valid_labels)},
                 {"valid_metrics", {{"roc_auc", 0.5}}}}})}};
}

// ---------------------------------------------------------------------------------------------
// MovieLens

struct ratings {
  std::vector<model::interaction> all;
  std::size_t users = 0, movies = 0;
};

// ratings.csv with users and movies renumbered densely in order of first appearance.
ratings read_ratings(const std::filesystem::path& path) {
  data::csv_config cfg;
  cfg.schema = data::record_schema({{"userId", data::column_type::int64},
                                    {"movieId", data::column_type::int64},
                                    {"rating", data::column_type::float64}});
  data::csv_source source(path, cfg);
  std::unordered_map<std::int64_t, std::uint32_t> users, movies;
  ratings out;
  std::vector<data::record> batch(4096);
  while (const std::size_t n = source.read(batch)) {
    for (std::size_t r = 0; r < n; ++r) {
      const auto u = users.emplace(batch[r].get<std::int64_t>(0), users.size()).first->second;
      const auto i = movies.emplace(batch[r].get<std::int64_t>(1), movies.size()).first->second;
      out.all.push_back({u, i, static_cast<float>(batch[r].get<double>(2))});
    }
  }
  if (source.report().skipped != 0) {
    std::string why = path.string();
    why += ": ";
    why += std::to_string(source.report().skipped);
    why += " malformed lines";
    throw std::runtime_error(why);
  }
  out.users = users.size();
  out.movies = movies.size();
  return out;
}

json run_movielens(const options& opt) {
  const located where = locate("movielens-latest-small");
  if (!where.dir) {
    return json{{"available", false}, {"reason", where.reason}};
  }
  std::cerr << "movielens: loading\n";
  const ratings r = read_ratings(*where.dir / "ratings.csv");
  const data::random_split_config split_config{.test_fraction = 0.1, .seed = 42};
  const auto split = data::random_split(r.all.size(), split_config);
  std::vector<model::interaction> train, test;
  for (const std::size_t i : split.train) {
    train.push_back(r.all[i]);
  }
  for (const std::size_t i : split.test) {
    test.push_back(r.all[i]);
  }
  std::vector<float> targets;
  double mean = 0.0;
  for (const auto& x : train) {
    mean += x.rating;
  }
  mean /= static_cast<double>(train.size());
  for (const auto& x : test) {
    targets.push_back(x.rating);
  }
  const std::vector<float> constant(test.size(), static_cast<float>(mean));

  json models = json::array();
  { // Biased MF (Koren, Bell and Volinsky 2009), as tests/model/two_tower_real_data_test.cpp.
    model::two_tower::config c;
    c.users = r.users;
    c.items = r.movies;
    c.factors = 32;
    c.user_bias = c.item_bias = c.global_bias = true;
    c.optimizer = model::two_tower_optimizer::sgd;
    c.learning_rate = 0.01f;
    c.l2 = 0.05f;
    c.bias_l2 = 0.01f;
    c.init_stddev = 0.1f;
    c.seed = opt.seed;
    model::two_tower m(c);
    model::train_options o;
    o.epochs = opt.movielens_epochs;
    o.seed = opt.seed;
    curve k;
    std::vector<float> p(test.size());
    m.fit(train, o, [&](const model::progress_report& rep) {
      if (!rep.epoch_done) {
        return true;
      }
      for (std::size_t i = 0; i < test.size(); ++i) {
        p[i] = m.score(test[i].user, test[i].item);
      }
      const double rmse = evaluation::rmse_of(p, targets);
      k.train_loss.push_back(rep.train_loss);
      k.valid_loss.push_back(0.5 * rmse * rmse);
      k.seconds.push_back(rep.seconds);
      k.metrics["rmse"].push_back(rmse);
      k.metrics["train_rmse"].push_back(std::sqrt(2.0 * rep.train_loss));
      std::cerr << "  movielens MF epoch " << rep.epoch + 1 << ": valid RMSE " << rmse << "\n";
      return true;
    });
    models.push_back(model_entry("biased MF (two_tower, d=32)", "two_tower", c.to_json(), k));
  }
  { // FM on one-hot user + one-hot movie (Rendle 2010: it then is biased MF, plus a bias).
    const auto to_rows = [&](const std::vector<model::interaction>& xs) {
      mlsd::sparse_batch b;
      for (const auto& x : xs) {
        b.start_row(x.rating);
        b.push_back(x.user, 1.0f);
        b.push_back(static_cast<std::uint32_t>(r.users + x.item), 1.0f);
        b.finish_row();
      }
      return b;
    };
    const mlsd::sparse_batch train_rows = to_rows(train), test_rows = to_rows(test);
    model::factorization_machine::config c;
    c.features = r.users + r.movies;
    c.factors = 32;
    c.loss = model::loss_function::squared;
    c.optimizer = model::fm_optimizer::adagrad;
    c.learning_rate = 0.05f;
    c.l2_linear = 0.01f;
    c.l2_factors = 0.05f;
    c.init_stddev = 0.01f;
    c.seed = opt.seed;
    model::factorization_machine m(c);
    m.set_bias(static_cast<float>(mean)); // warm start at the mean rating, as biased MF does
    const auto measure = [&](const auto& fm) {
      const std::vector<float> p = predict_all(fm, test_rows);
      return std::vector<std::pair<std::string, double>>{{"rmse", evaluation::rmse_of(p, targets)}};
    };
    curve k = trace_sgd(m, train_rows, test_rows, opt.movielens_epochs, opt.seed, measure,
                        "movielens FM");
    for (const double l : k.train_loss) {
      k.metrics["train_rmse"].push_back(std::sqrt(2.0 * l));
    }
    models.push_back(model_entry("FM (k=32, AdaGrad)", "fm", c.to_json(), k));
  }

  return json{
      {"available", true},
      {"description", "MovieLens latest-small ratings.csv, seeded random 90/10 split "
                      "(data::random_split, seed 42)"},
      {"train_rows", train.size()},
      {"valid_rows", test.size()},
      {"users", r.users},
      {"items", r.movies},
      {"loss", "squared (L = (prediction - rating)^2 / 2)"},
      {"epochs", opt.movielens_epochs},
      {"models", models},
      {"references",
       json::array({json{{"name", "training mean rating for every pair"},
                         {"kind", "baseline"},
                         {"valid_metrics", {{"rmse", evaluation::rmse_of(constant, targets)}}}}})}};
}

} // namespace

int main(int argc, char** argv) {
  const options opt = parse(argc, argv);
  try {
    const auto start = std::chrono::steady_clock::now();
    json doc;
    doc["program"] = "bench/learning_curves";
    doc["mlsd_version"] = mlsd::version_string;
    std::string args;
    for (int i = 1; i < argc; ++i) {
      args += i > 1 ? " " : "";
      args += argv[i];
    }
    doc["arguments"] = args;
    doc["seed"] = opt.seed;
    doc["threads"] = 1;
    const char* root = std::getenv("MLSD_DATA_DIR");
    doc["mlsd_data_dir_set"] = root != nullptr && *root != '\0';
    json sets = json::object();
    const auto skipped = [](const char* why) {
      return json{{"available", false}, {"reason", why}};
    };
    sets["a9a"] = opt.a9a ? run_a9a(opt) : skipped("not requested (--datasets)");
    sets["synthetic_click_log"] =
        opt.click ? run_click(opt) : skipped("not requested (--datasets)");
    sets["movielens"] = opt.movielens ? run_movielens(opt) : skipped("not requested (--datasets)");
    doc["datasets"] = sets;
    doc["seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string text = doc.dump(1);
    if (opt.out.empty()) {
      std::cout << text << "\n";
    } else {
      std::ofstream out(opt.out);
      out << text << "\n";
      if (!out) {
        std::cerr << "learning_curves: cannot write " << opt.out << "\n";
        return 1;
      }
      std::cerr << "learning_curves: wrote " << opt.out << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "learning_curves: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
