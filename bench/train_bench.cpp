// Times mlsd's training epochs on the files bench/make_click_log writes, and prints one JSON
// object:
//
//   train_bench --model fm  --train train.svm --valid valid.svm --threads 1 --epochs 5
//   train_bench --model lr  --train train.svm --valid valid.svm            (FTRL-Proximal)
//   train_bench --model ffm --train train.ffm --valid valid.ffm --threads 2
//   train_bench --model mlp --train train.ffm --valid valid.ffm --threads 2 --mode deterministic
//
// (mlp: `mlp_ranker`, an embedding table of 2^16 hashed rows × 8 per field, ReLU layers 64 and
// 32, Adam at 1e-3, one step per mini-batch; its threads share each mini-batch.)
//
// The files are loaded into CSR batches first (`load_seconds`, not part of any epoch). An epoch is
// timed from the trainer's own clock (`progress_report::seconds`, taken when the epoch's last
// update and the thread mixing are done); the validation log loss is computed in the progress
// callback after each epoch and its time is subtracted, so `epoch_seconds` is training alone, as
// xLearn without -v and libffm report it. Peak RSS (`getrusage`) covers the data and the model.
//
// Defaults are the hyper-parameters of bench/train_report.py (see docs/benchmarks.md for how they
// map to libFM's, xLearn's and libffm's flags). One model and one thread count per process, so
// that the peak RSS of each configuration is its own.
#include <mlsd/core/sparse.hpp>
#include <mlsd/data/libffm.hpp>
#include <mlsd/data/libsvm.hpp>
#include <mlsd/model/ffm.hpp>
#include <mlsd/model/fm.hpp>
#include <mlsd/model/logistic_regression.hpp>
#include <mlsd/model/mlp.hpp>
#include <mlsd/model/trainer.hpp>
#include <mlsd/model/training.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <sys/resource.h>

namespace {

namespace data = mlsd::data;
namespace model = mlsd::model;
using clock_type = std::chrono::steady_clock;

struct options {
  std::string model = "fm"; // fm | lr | ffm | mlp
  std::string train, valid;
  std::size_t threads = 1;
  std::string mode = "hogwild"; // hogwild | deterministic (only matters for threads > 1)
  std::size_t epochs = 3;
  std::size_t batch_size = 256;
  std::size_t hot_row_bytes = model::train_options{}.hot_row_bytes; // Hogwild's private rows
  bool shuffle = true;
  std::uint64_t seed = 1;
  std::size_t features = std::size_t{1} << 20;
  std::size_t fields = 39;
  // FM, SGD (libFM -method sgd, xLearn -p sgd)
  std::size_t fm_k = 8;
  float fm_learning_rate = 0.002f;
  float fm_l2 = 1e-3f; // on linear weights and factors alike; the bias is not penalised
  float fm_init_stddev = 0.01f;
  // LR, FTRL-Proximal (xLearn -p ftrl)
  float ftrl_alpha = 0.05f, ftrl_beta = 1.0f, ftrl_l1 = 1e-4f, ftrl_l2 = 1e-4f;
  // FFM, AdaGrad (libffm)
  std::size_t ffm_k = 4;
  float ffm_learning_rate = 0.2f;
  float ffm_l2 = 2e-5f;
  bool ffm_normalization = true;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "train_bench: " << why << "\n"
            << "usage: train_bench --model fm|lr|ffm|mlp --train FILE --valid FILE [--threads T]\n"
               "  [--mode hogwild|deterministic] [--epochs E] [--batch-size B] [--seed S] "
               "[--no-shuffle]\n"
               "  [--hot-row-bytes N] (Hogwild: bytes of private hot rows per thread; 0: plain)\n"
               "  [--features N] [--fields F] [--k K] [--learning-rate R] [--l2 L] [--init-stddev "
               "S]\n"
               "  [--alpha A] [--beta B] [--l1 L1] [--no-norm]\n"
               "  (--k/--learning-rate/--l2 apply to the chosen model: FM or FFM; --l2 is FTRL's "
               "λ2 for lr)\n";
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  bool k_set = false, lr_set = false, l2_set = false;
  std::size_t k = 0;
  float rate = 0.0f, l2 = 0.0f;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--no-norm") {
      o.ffm_normalization = false;
      continue;
    }
    if (a == "--no-shuffle") { // visit the rows in file order, as libFM and libffm do
      o.shuffle = false;
      continue;
    }
    if (i + 1 >= argc) {
      usage("missing value after " + std::string(a));
    }
    const std::string v = argv[++i];
    try {
      if (a == "--model") {
        o.model = v;
      } else if (a == "--train") {
        o.train = v;
      } else if (a == "--valid") {
        o.valid = v;
      } else if (a == "--threads") {
        o.threads = std::stoul(v);
      } else if (a == "--mode") {
        o.mode = v;
      } else if (a == "--epochs") {
        o.epochs = std::stoul(v);
      } else if (a == "--batch-size") {
        o.batch_size = std::stoul(v);
      } else if (a == "--hot-row-bytes") {
        o.hot_row_bytes = std::stoul(v);
      } else if (a == "--seed") {
        o.seed = std::stoull(v);
      } else if (a == "--features") {
        o.features = std::stoull(v);
      } else if (a == "--fields") {
        o.fields = std::stoull(v);
      } else if (a == "--k") {
        k = std::stoul(v);
        k_set = true;
      } else if (a == "--learning-rate") {
        rate = std::stof(v);
        lr_set = true;
      } else if (a == "--l2") {
        l2 = std::stof(v);
        l2_set = true;
      } else if (a == "--init-stddev") {
        o.fm_init_stddev = std::stof(v);
      } else if (a == "--alpha") {
        o.ftrl_alpha = std::stof(v);
      } else if (a == "--beta") {
        o.ftrl_beta = std::stof(v);
      } else if (a == "--l1") {
        o.ftrl_l1 = std::stof(v);
      } else {
        usage("unknown option " + std::string(a));
      }
    } catch (const std::logic_error&) {
      usage("bad value '" + v + "' for " + std::string(a));
    }
  }
  if (o.model != "fm" && o.model != "lr" && o.model != "ffm" && o.model != "mlp") {
    usage("--model must be fm, lr, ffm or mlp");
  }
  if (o.mode != "hogwild" && o.mode != "deterministic") {
    usage("--mode must be hogwild or deterministic");
  }
  if (o.train.empty() || o.valid.empty()) {
    usage("--train and --valid are required");
  }
  const bool ffm = o.model == "ffm";
  if (o.model == "mlp" && (k_set || lr_set || l2_set)) {
    usage("--k, --learning-rate and --l2 do not apply to --model mlp");
  }
  if (k_set) {
    (ffm ? o.ffm_k : o.fm_k) = k;
  }
  if (lr_set) {
    (ffm ? o.ffm_learning_rate : o.fm_learning_rate) = rate;
  }
  if (l2_set) {
    (ffm ? o.ffm_l2 : o.model == "lr" ? o.ftrl_l2 : o.fm_l2) = l2;
  }
  return o;
}

/// The peak resident set of this process so far, in KiB (Linux reports ru_maxrss in KiB).
long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

/// Reads a whole LIBSVM (1-based) or libffm (0-based) file into a CSR batch; fails on any bad
/// line (the files are machine-written: a bad line means a bad file).
template <class Source>
mlsd::sparse_batch load(const std::string& path) {
  Source source(path);
  mlsd::sparse_batch batch;
  std::vector<mlsd::sparse_row> rows(4096);
  while (const std::size_t n = source.read(rows)) {
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(rows[i].view());
    }
  }
  return batch;
}

struct epoch_log {
  std::vector<double> seconds, valid_loss, train_loss;
};

/// Runs `fit(train_options, on_progress)` for the configured epochs and returns each epoch's
/// training time (the time of `valid_loss()`, called after each epoch, excluded) and losses.
template <class Fit, class ValidLoss>
epoch_log timed_epochs(const options& o, Fit&& fit, ValidLoss&& valid_loss) {
  model::train_options t;
  t.epochs = o.epochs;
  t.batch_size = o.batch_size;
  t.shuffle = o.shuffle;
  t.seed = o.seed;
  t.threads = o.threads;
  t.hot_row_bytes = o.hot_row_bytes;
  t.mode =
      o.mode == "hogwild" ? model::parallel_mode::hogwild : model::parallel_mode::deterministic;
  epoch_log log;
  double previous_end = 0.0, evaluation = 0.0;
  const model::progress_callback on_progress = [&](const model::progress_report& r) {
    if (!r.epoch_done) {
      return true;
    }
    log.seconds.push_back(r.seconds - previous_end - evaluation);
    log.train_loss.push_back(r.train_loss);
    const auto start = clock_type::now();
    log.valid_loss.push_back(valid_loss());
    evaluation = seconds_since(start);
    previous_end = r.seconds;
    return true;
  };
  (void)fit(t, on_progress);
  return log;
}

/// `timed_epochs` of `model::train` on a sparse model.
template <model::sgd_model M>
epoch_log run(M& m, const mlsd::sparse_batch& train, const mlsd::sparse_batch& valid,
              const options& o) {
  return timed_epochs(
      o,
      [&](const model::train_options& t, const model::progress_callback& p) {
        return model::train(m, train, nullptr, t, p);
      },
      [&] { return model::mean_loss(m, valid); });
}

/// The same for the MLP ranker, whose loop is its own `fit`.
epoch_log run_mlp(model::mlp_ranker& m, const mlsd::sparse_batch& train,
                  const mlsd::sparse_batch& valid, const options& o) {
  return timed_epochs(
      o,
      [&](const model::train_options& t, const model::progress_callback& p) {
        return m.fit(train, t, p);
      },
      [&] { return m.mean_loss(valid); });
}

double median(std::vector<double> v) {
  if (v.empty()) {
    return 0.0;
  }
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 == 1 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

} // namespace

int main(int argc, char** argv) {
  try {
    const options o = parse(argc, argv);
    const bool ffm = o.model == "ffm" || o.model == "mlp"; // both read fields
    const auto load_start = clock_type::now();
    const mlsd::sparse_batch train =
        ffm ? load<data::libffm_source>(o.train) : load<data::libsvm_source>(o.train);
    const mlsd::sparse_batch valid =
        ffm ? load<data::libffm_source>(o.valid) : load<data::libsvm_source>(o.valid);
    const double load_seconds = seconds_since(load_start);
    const long rss_after_load = peak_rss_kib();

    nlohmann::json hyper;
    epoch_log log;
    if (o.model == "fm") {
      model::factorization_machine::config c;
      c.features = o.features;
      c.factors = o.fm_k;
      c.optimizer = model::fm_optimizer::sgd;
      c.learning_rate = o.fm_learning_rate;
      c.l2_bias = 0.0f;
      c.l2_linear = o.fm_l2;
      c.l2_factors = o.fm_l2;
      c.init_stddev = o.fm_init_stddev;
      c.seed = o.seed;
      model::factorization_machine m(c);
      hyper = nlohmann::json(c);
      log = run(m, train, valid, o);
    } else if (o.model == "lr") {
      model::logistic_regression::config c;
      c.features = o.features;
      c.optimizer.kind = model::optimizer_kind::ftrl;
      c.optimizer.ftrl.alpha = o.ftrl_alpha;
      c.optimizer.ftrl.beta = o.ftrl_beta;
      c.optimizer.ftrl.l1 = o.ftrl_l1;
      c.optimizer.ftrl.l2 = o.ftrl_l2;
      model::logistic_regression m(c);
      hyper = nlohmann::json(c);
      log = run(m, train, valid, o);
    } else if (o.model == "mlp") {
      model::mlp_config c;
      c.embedding_rows.assign(o.fields, std::size_t{1} << 16);
      c.seed = o.seed;
      model::mlp_ranker m(c);
      hyper = c.to_json();
      log = run_mlp(m, train, valid, o);
    } else {
      model::field_aware_factorization_machine::config c;
      c.features = o.features;
      c.fields = o.fields;
      c.factors = o.ffm_k;
      c.learning_rate = o.ffm_learning_rate;
      c.l2 = o.ffm_l2;
      c.normalize = o.ffm_normalization;
      c.seed = o.seed;
      model::field_aware_factorization_machine m(c);
      hyper = nlohmann::json(c);
      log = run(m, train, valid, o);
    }

    const nlohmann::json out{
        {"tool", "mlsd"},
        {"model", o.model},
        {"threads", o.threads},
        {"mode", o.threads > 1 ? o.mode : "sequential"},
        {"hot_row_bytes", o.threads > 1 && o.mode == "hogwild" ? o.hot_row_bytes : 0},
        {"train_file", o.train},
        {"valid_file", o.valid},
        {"train_rows", train.size()},
        {"train_nnz", train.nnz()},
        {"valid_rows", valid.size()},
        {"load_seconds", load_seconds},
        {"epochs", o.epochs},
        {"batch_size", o.batch_size},
        {"epoch_seconds", log.seconds},
        {"median_epoch_seconds", median(log.seconds)},
        {"train_loss", log.train_loss},
        {"valid_log_loss", log.valid_loss},
        {"final_valid_log_loss", log.valid_loss.empty() ? 0.0 : log.valid_loss.back()},
        {"peak_rss_kib_after_load", rss_after_load},
        {"peak_rss_kib", peak_rss_kib()},
        {"hyper_parameters", hyper}};
    std::cout << out.dump(2) << '\n';
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "train_bench: " << e.what() << '\n';
    return 1;
  }
}
