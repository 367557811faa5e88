// Case study: ad click prediction, end to end (docs/case-studies/ad-click-prediction.md).
//
// The framework's steps as one compiled pipeline. Requirements are a constexpr value and the
// serving design is checked against them by the compiler; the data is a generated click log whose
// click model is known (or Criteo / LIBSVM / libffm files); impressions are labelled by an
// attribution window, split in time, and get hashed features, crosses, point-in-time history
// features from the feature store and real-time windowed CTRs; LR (FTRL), FM and FFM are trained
// and compared on NE, ROC-AUC, log loss and calibration, overall and per ad position; negative
// downsampling is shown with and without its calibration correction; online learning runs over
// the drifting end of the stream with prequential NE; the model is saved, loaded back and checked.
//
//   ad_click_prediction [--out DIR] [--data DIR] [--rows N] [--seed S] [--bits B]
//
//   --out DIR    the report folder (default ad_click_report): report.json, report.html, *.svg,
//                pipeline.mmd / pipeline.dot (and pipeline.svg when Graphviz's dot is there),
//                serving.mmd / serving.dot, model.mlsd
//   --data DIR   train.tsv [dev.tsv] test.tsv (Criteo), or train / test files in LIBSVM or
//                libffm format, instead of the generated log
//   --rows N     impressions to generate (default 500000, at least 20000)
//   --seed S     the generator's seed (default 1)
//   --bits B     hash buckets 2^B (default 16, 10 to 24; real Criteo data wants 20 or more)
//
// Exit status: 0 on success, 1 for bad data or a failed step, 2 for a bad command line.
#include "click_data.hpp"

#include <mlsd/evaluation/calibration.hpp>
#include <mlsd/evaluation/classification.hpp>
#include <mlsd/evaluation/curves.hpp>
#include <mlsd/evaluation/plot.hpp>
#include <mlsd/evaluation/prequential.hpp>
#include <mlsd/evaluation/report.hpp>
#include <mlsd/evaluation/slices.hpp>
#include <mlsd/mlsd.hpp>
#include <mlsd/model/embedding_bag.hpp>
#include <mlsd/model/ffm.hpp>
#include <mlsd/model/fm.hpp>
#include <mlsd/model/logistic_regression.hpp>
#include <mlsd/model/model_file.hpp>
#include <mlsd/model/trainer.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;

namespace {

namespace data = mlsd::data;
namespace model = mlsd::model;
namespace ev = mlsd::evaluation;
using nlohmann::json;

// --- steps 1 and 2: requirements, as code ------------------------------------------------------

// The business wants clicks (revenue follows bid x CTR); the ML task is the probability of a
// click; offline it is judged by NE (the log loss against the base rate's, He et al. 2014),
// ROC-AUC and calibration (an auction multiplies bids by the prediction, so its scale matters);
// online by the CTR of an A/B test. The serving path must answer 20,000 requests a second within
// 50 ms at p99, choosing among 100,000 live ads, with features at most a minute old.
inline constexpr mlsd::requirements ad_click_requirements{
    .objective = mlsd::business_objective::click_through_rate,
    .task = mlsd::ml_task::binary_classification,
    .offline = {mlsd::offline_metric::normalized_entropy, mlsd::offline_metric::roc_auc,
                mlsd::offline_metric::log_loss, mlsd::offline_metric::calibration_ratio,
                mlsd::offline_metric::expected_calibration_error},
    .online = {mlsd::online_metric::click_through_rate, mlsd::online_metric::revenue_per_user},
    .slo = {.p99_latency = 50ms,
            .peak_qps = 20'000,
            .catalog_size = 100'000,
            .feature_freshness = 1min,
            .availability = 0.9995}};

constexpr std::size_t ad_dim = 32;
constexpr std::size_t user_rows = 1 << 14;

// The serving path's budgets: 100,000 ads -> 300 targeted candidates -> 30 ranked by expected
// revenue -> 4 ad slots, within 37 ms of the 50 ms.
inline constexpr mlsd::stage_budget encode_budget{
    .name = "request features", .latency = 1ms, .items_in = 45, .items_out = 1};
inline constexpr mlsd::stage_budget retrieve_budget{
    .name = "ad targeting", .latency = 10ms, .items_in = 100'000, .items_out = 300};
inline constexpr mlsd::stage_budget rank_budget{
    .name = "pCTR x bid", .latency = 25ms, .items_in = 300, .items_out = 30};
inline constexpr mlsd::stage_budget show_budget{
    .name = "ad slots", .latency = 1ms, .items_in = 30, .items_out = 4};

// The ranker: for each candidate ad, the request's features with the ad's own (its id, its
// feature-store and real-time CTRs) hashed by the same transform as in training (no skew by
// construction), scored by the trained FFM, times the ad's bid; keeps the best `keep` by
// expected revenue. The request's context is read through a pointer the caller sets.
class ctr_ranker : public mlsd::ranker_tag {
public:
  using input_type = mlsd::serving::candidates;
  using output_type = mlsd::serving::candidates;

  ctr_ranker(const model::field_aware_factorization_machine& m, const data::feature_hasher& h,
             const ad_click::click_dataset& d, const std::vector<std::uint64_t>* const* context,
             std::size_t keep)
      : model_(&m)
      , hasher_(&h)
      , data_(&d)
      , context_(context)
      , keep_(keep) {}

  output_type operator()(input_type in) {
    ranked_.clear();
    const std::size_t ads = data_->ad_features.size() - 1;
    for (const auto& c : in) {
      const std::size_t ad = c.id % ads + 1;
      ids_ = **context_;
      const auto& a = data_->ad_features[ad];
      ids_[14] = a[0];
      ids_[41] = a[1];
      ids_[42] = a[2];
      ids_[43] = a[3];
      row_.clear();
      hasher_->encode_ids(ids_, row_);
      const float scale = 1.0f / std::sqrt(static_cast<float>(row_.nnz()));
      for (float& v : row_.values) {
        v *= scale;
      }
      const float bid = 0.5f + static_cast<float>((ad * 2654435761u) % 1000) * 1e-3f;
      ranked_.push_back({(*model_)(row_.view()) * bid, c.id});
    }
    const std::size_t n = std::min(keep_, ranked_.size());
    std::partial_sort(ranked_.begin(), ranked_.begin() + static_cast<std::ptrdiff_t>(n),
                      ranked_.end(), mlsd::kernels::ranks_before<float>);
    return std::span(ranked_).first(n);
  }

  // Per candidate, FFM reads one k-vector per (feature, other field) pair and multiplies the
  // n(n-1)/2 pairs; hashing is ~50 XXH3 calls.
  [[nodiscard]] mlsd::cost_model cost() const noexcept {
    const double n = static_cast<double>(ad_click::feature_fields + 2);
    const double k = static_cast<double>(model_->settings().factors);
    return {.bytes_per_item = n * n * k * 4, .flops_per_item = n * (n - 1) * k + 50 * 20};
  }

private:
  const model::field_aware_factorization_machine* model_;
  const data::feature_hasher* hasher_;
  const ad_click::click_dataset* data_;
  const std::vector<std::uint64_t>* const* context_;
  std::size_t keep_;
  std::vector<std::uint64_t> ids_;
  mlsd::sparse_row row_;
  std::vector<mlsd::kernels::scored_id<float>> ranked_;
};
static_assert(mlsd::serving::ranker<ctr_ranker> && mlsd::costed_stage<ctr_ranker>);

// --- command line --------------------------------------------------------------------------------

struct options {
  std::filesystem::path out = "ad_click_report";
  std::filesystem::path data;
  ad_click::synthetic_settings synthetic;
};

constexpr const char* usage_text =
    "usage: ad_click_prediction [--out DIR] [--data DIR] [--rows N] [--seed S] [--bits B]\n";

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "ad_click_prediction: %s\n%s", message.c_str(), usage_text);
  std::exit(2);
}

std::uint64_t parse_count(const std::string& flag, const std::string& v, std::uint64_t lo,
                          std::uint64_t hi) {
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || v[0] == '-' || end == v.c_str() || *end != '\0' || n < lo || n > hi) {
    std::string m = flag;
    m += " expects an integer from ";
    m += std::to_string(lo);
    m += " to ";
    m += std::to_string(hi);
    m += ", got '";
    m += v;
    m += "'";
    usage_error(m);
  }
  return n;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("%s", usage_text);
      std::exit(0);
    }
    if (i + 1 >= argc) {
      usage_error(arg.rfind("--", 0) == 0 ? arg + " needs a value"
                                          : "unknown argument '" + arg + "'");
    }
    const std::string v = argv[++i];
    if (arg == "--out") {
      o.out = v;
    } else if (arg == "--data") {
      o.data = v;
    } else if (arg == "--rows") {
      o.synthetic.rows = parse_count(arg, v, 20'000, 20'000'000);
    } else if (arg == "--seed") {
      o.synthetic.seed = parse_count(arg, v, 0, ~0ULL);
    } else if (arg == "--bits") {
      o.synthetic.bits = static_cast<std::uint32_t>(parse_count(arg, v, 10, 24));
    } else {
      usage_error("unknown argument '" + arg + "'");
    }
  }
  return o;
}

// --- helpers -------------------------------------------------------------------------------------

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::vector<float> labels_of(const mlsd::sparse_batch& b) {
  std::vector<float> y(b.size());
  for (std::size_t r = 0; r < b.size(); ++r) {
    y[r] = b.row(r).label;
  }
  return y;
}

template <class M>
std::vector<float> predict(const M& m, const mlsd::sparse_batch& b) {
  std::vector<float> p(b.size());
  for (std::size_t r = 0; r < b.size(); ++r) {
    p[r] = m(b.row(r));
  }
  return p;
}

// The offline metrics of the requirements, each a value or the reason it has none.
std::vector<ev::metric_value> offline_metrics(std::span<const float> p, std::span<const float> y) {
  return {ev::measure("normalized_entropy", [&] { return ev::normalized_entropy_of(p, y); }),
          ev::measure("roc_auc", [&] { return ev::roc_auc_of(p, y); }),
          ev::measure("log_loss", [&] { return ev::log_loss_of(p, y); }),
          ev::measure("calibration_ratio", [&] { return ev::calibration_ratio_of(p, y); }),
          ev::measure("expected_calibration_error",
                      [&] { return ev::expected_calibration_error_of(p, y); })};
}

std::string cell(const ev::metric_value& m) {
  char buf[32];
  if (!m.value) {
    return "undefined";
  }
  std::snprintf(buf, sizeof buf, "%.4f", *m.value);
  return buf;
}

json metrics_json(const std::vector<ev::metric_value>& ms) {
  json j = json::object();
  for (const auto& m : ms) {
    j[m.name] = m.value ? json(*m.value) : json(nullptr);
  }
  return j;
}

double value_of(const std::vector<ev::metric_value>& ms, std::string_view name) {
  for (const auto& m : ms) {
    if (m.name == name && m.value) {
      return *m.value;
    }
  }
  return std::nan("");
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) {
    throw std::runtime_error("cannot write '" + path.string() + "'");
  }
}

// The training pipeline as a diagram (the serving path draws itself with describe()).
std::string pipeline_mermaid(bool synthetic) {
  std::string m = "flowchart LR\n";
  if (synthetic) {
    m += "  gen[\"synthetic click log<br/>impressions + delayed clicks\"] --> label[\"attribution "
         "labeler<br/>10-min window, watermark\"]\n"
         "  label --> split[\"time split<br/>gap = window, leakage checks\"]\n"
         "  label --> store[\"feature store history<br/>batch every 15 min, known +5 min\"]\n"
         "  store --> pit[\"point-in-time join<br/>user / ad CTR, impressions\"]\n"
         "  gen --> rt[\"windowed features<br/>ad CTR 30m, user impressions 30m\"]\n"
         "  split --> hash\n  pit --> hash\n  rt --> hash\n";
  } else {
    m += "  files[\"Criteo TSV / LIBSVM / libffm files\"] --> split[\"split by file order\"]\n"
         "  split --> hash\n";
  }
  m += "  hash[\"feature hashing + crosses<br/>unit-norm rows\"] --> lr[\"LR (FTRL)\"]\n"
       "  hash --> fm[\"FM k=8\"]\n  hash --> ffm[\"FFM k=4\"]\n"
       "  hash --> down[\"negative downsampling<br/>+ calibration correction\"]\n"
       "  lr --> eval[\"evaluation<br/>NE, AUC, log loss, calibration, per position\"]\n"
       "  fm --> eval\n  ffm --> eval\n  down --> eval\n"
       "  fm --> online[\"online learning on the drifted stream<br/>prequential NE\"]\n"
       "  lr --> online\n  ffm --> save[\"model file<br/>save, load, compare\"]\n";
  return m;
}

std::string pipeline_dot(bool synthetic) {
  std::string d = "digraph ad_click_pipeline {\n  rankdir=LR;\n  node [shape=box, "
                  "style=rounded, fontname=\"Helvetica\"];\n";
  if (synthetic) {
    d += "  gen [label=\"synthetic click log\\nimpressions + delayed clicks\"];\n"
         "  label [label=\"attribution labeler\\n10-min window, watermark\"];\n"
         "  split [label=\"time split\\ngap = window, leakage checks\"];\n"
         "  store [label=\"feature store history\\nbatch every 15 min, known +5 min\"];\n"
         "  pit [label=\"point-in-time join\\nuser / ad CTR, impressions\"];\n"
         "  rt [label=\"windowed features\\nad CTR 30m, user impressions 30m\"];\n"
         "  gen -> label; label -> split; label -> store; store -> pit; gen -> rt;\n"
         "  split -> hash; pit -> hash; rt -> hash;\n";
  } else {
    d += "  files [label=\"Criteo TSV / LIBSVM / libffm\"];\n  split [label=\"split by file "
         "order\"];\n  files -> split; split -> hash;\n";
  }
  d += "  hash [label=\"feature hashing + crosses\\nunit-norm rows\"];\n"
       "  lr [label=\"LR (FTRL)\"]; fm [label=\"FM k=8\"]; ffm [label=\"FFM k=4\"];\n"
       "  down [label=\"negative downsampling\\n+ calibration correction\"];\n"
       "  eval [label=\"evaluation\\nNE, AUC, log loss, calibration, per position\"];\n"
       "  online [label=\"online learning (drifted stream)\\nprequential NE\"];\n"
       "  save [label=\"model file\\nsave, load, compare\"];\n"
       "  hash -> lr; hash -> fm; hash -> ffm; hash -> down;\n"
       "  lr -> eval; fm -> eval; ffm -> eval; down -> eval;\n"
       "  lr -> online; fm -> online; ffm -> save;\n}\n";
  return d;
}

// --- the run -------------------------------------------------------------------------------------

struct trained_model {
  std::string name;
  std::vector<float> test_predictions;
  std::vector<ev::metric_value> metrics;
  double train_seconds = 0;
  json hyper_parameters;
};

int run(const options& opt) {
  const auto start = std::chrono::steady_clock::now();
  std::filesystem::create_directories(opt.out);
  json report_json;
  ev::evaluation_report report("Ad click prediction: case study report");

  std::printf("== Steps 1-2: requirements (checked at compile time against the serving design)\n"
              "%s\n",
              mlsd::requirements_to_json(ad_click_requirements).dump(2).c_str());
  report_json["requirements"] = mlsd::requirements_to_json(ad_click_requirements);

  // Step 3: data.
  std::printf("\n== Step 3: data\n");
  const auto progress = [](const char* step, const std::string& text) {
    std::printf("  %-14s %s\n", step, text.c_str());
    std::fflush(stdout);
  };
  const ad_click::click_dataset d =
      opt.data.empty() ? ad_click::build_synthetic(opt.synthetic, progress)
                       : ad_click::load_directory(opt.data, opt.synthetic.bits, progress);
  report_json["data"] = {{"source", d.source}, {"steps", d.steps}};
  const std::vector<float> y_test = labels_of(d.test);
  const std::vector<float> y_train = labels_of(d.train);
  double base_rate = 0;
  for (const float y : y_train) {
    base_rate += y;
  }
  base_rate /= static_cast<double>(y_train.size());
  std::printf("  data ready in %.1f s: %zu train / %zu test / %zu stream rows, training CTR "
              "%.4f\n",
              seconds_since(start), d.train.size(), d.test.size(), d.stream.size(), base_rate);

  // Step 4: models.
  std::printf("\n== Step 4: models (one thread, seeded: the same build gives the same numbers)\n");
  model::train_options to;
  to.threads = 1;
  to.seed = opt.synthetic.seed;
  std::vector<trained_model> models;

  model::logistic_regression_config lrc;
  lrc.features = d.features;
  lrc.optimizer.ftrl.alpha = 0.5f;
  lrc.optimizer.ftrl.l1 = 0.1f;
  lrc.optimizer.ftrl.l2 = 1.0f;
  model::logistic_regression lr(lrc);
  {
    const auto t = std::chrono::steady_clock::now();
    to.epochs = 3;
    (void)model::train(lr, d.train, nullptr, to);
    models.push_back({"LR (FTRL)", predict(lr, d.test), {}, seconds_since(t), json(lrc)});
  }
  model::factorization_machine::config fmc;
  fmc.features = d.features;
  fmc.factors = 8;
  fmc.learning_rate = 0.2f;
  fmc.l2_linear = 1e-6f;
  model::factorization_machine fm(fmc);
  {
    const auto t = std::chrono::steady_clock::now();
    to.epochs = 4;
    (void)model::train(fm, d.train, nullptr, to);
    models.push_back({"FM (k=8)", predict(fm, d.test), {}, seconds_since(t), fmc.to_json()});
  }
  model::field_aware_factorization_machine::config ffc;
  ffc.features = d.features;
  ffc.fields = std::max<std::size_t>(1, d.fields);
  ffc.factors = 4;
  model::field_aware_factorization_machine ffm(ffc);
  const bool has_ffm = d.fields > 0;
  if (has_ffm) {
    const auto t = std::chrono::steady_clock::now();
    to.epochs = 3;
    (void)model::train(ffm, d.train, nullptr, to);
    models.push_back({"FFM (k=4)", predict(ffm, d.test), {}, seconds_since(t), ffc.to_json()});
  } else {
    std::printf("  FFM skipped: the rows have no fields (LIBSVM)\n");
  }
  for (auto& m : models) {
    m.metrics = offline_metrics(m.test_predictions, y_test);
    std::printf("  %-10s trained in %5.1f s\n", m.name.c_str(), m.train_seconds);
  }

  // Step 5: offline evaluation.
  std::printf("\n== Step 5: offline evaluation on the test period (%zu impressions)\n",
              d.test.size());
  ev::slice_table table;
  table.slice_name = "model";
  std::printf("  %-22s %9s %9s %9s %11s %9s\n", "model", "NE", "ROC-AUC", "log loss", "calibration",
              "ECE");
  const auto print_row = [&](const std::string& name, const std::vector<ev::metric_value>& ms) {
    std::printf("  %-22s %9s %9s %9s %11s %9s\n", name.c_str(), cell(ms[0]).c_str(),
                cell(ms[1]).c_str(), cell(ms[2]).c_str(), cell(ms[3]).c_str(), cell(ms[4]).c_str());
    table.rows.push_back({name, y_test.size(), ms});
  };
  json models_json = json::array();
  for (const auto& m : models) {
    print_row(m.name, m.metrics);
    models_json.push_back({{"name", m.name},
                           {"train_seconds", m.train_seconds},
                           {"hyper_parameters", m.hyper_parameters},
                           {"test", metrics_json(m.metrics)}});
  }
  const std::vector<float> constant(y_test.size(), static_cast<float>(base_rate));
  const auto base_metrics = offline_metrics(constant, y_test);
  print_row("training CTR for all", base_metrics);
  json references = {{"training_ctr", metrics_json(base_metrics)}};
  std::size_t best = 0;
  for (std::size_t i = 1; i < models.size(); ++i) {
    if (value_of(models[i].metrics, "normalized_entropy") <
        value_of(models[best].metrics, "normalized_entropy")) {
      best = i;
    }
  }
  if (d.synthetic) {
    const auto truth_metrics = offline_metrics(d.test_truth, y_test);
    print_row("ground truth (floor)", truth_metrics);
    references["ground_truth"] = metrics_json(truth_metrics);
    const double gap = value_of(models[best].metrics, "normalized_entropy") -
                       value_of(truth_metrics, "normalized_entropy");
    std::printf("  best: %s, NE %.4f above the ground truth's\n", models[best].name.c_str(), gap);
    references["best_model_ne_above_truth"] = gap;
  }
  report_json["models"] = models_json;
  report_json["references"] = references;
  report_json["best_model"] = models[best].name;
  report.add_slices("Models on the test period", table);

  // Per slice: the best model by ad position.
  if (!d.test_slices.empty()) {
    ev::sliced<ev::normalized_entropy> ne_by;
    ev::sliced<ev::roc_auc> auc_by;
    ev::sliced<ev::calibration_ratio> cal_by;
    const auto& p = models[best].test_predictions;
    for (std::size_t i = 0; i < p.size(); ++i) {
      ne_by.add(d.test_slices[i], {p[i], y_test[i]});
      auc_by.add(d.test_slices[i], {p[i], y_test[i]});
      cal_by.add(d.test_slices[i], {p[i], y_test[i]});
    }
    const auto ne_r = ne_by.result();
    const auto auc_r = auc_by.result();
    const auto cal_r = cal_by.result();
    ev::slice_table st;
    st.slice_name = "position";
    json slices_json = json::array();
    std::printf("\n  %s per ad position:\n  %-8s %9s %9s %9s %11s\n", models[best].name.c_str(),
                "position", "rows", "NE", "ROC-AUC", "calibration");
    const auto outcome = [](const auto& o, const char* name) {
      return o.defined() ? ev::metric_value{name, *o.value, {}}
                         : ev::metric_value{name, std::nullopt, o.undefined};
    };
    for (std::size_t s = 0; s < ne_r.slices.size(); ++s) {
      std::vector<ev::metric_value> ms = {outcome(ne_r.slices[s].outcome, "normalized_entropy"),
                                          outcome(auc_r.slices[s].outcome, "roc_auc"),
                                          outcome(cal_r.slices[s].outcome, "calibration_ratio")};
      std::printf("  %-8s %9llu %9s %9s %11s\n", ne_r.slices[s].key.c_str(),
                  static_cast<unsigned long long>(ne_r.slices[s].count), cell(ms[0]).c_str(),
                  cell(ms[1]).c_str(), cell(ms[2]).c_str());
      slices_json.push_back({{"position", ne_r.slices[s].key},
                             {"rows", ne_r.slices[s].count},
                             {"metrics", metrics_json(ms)}});
      st.rows.push_back({ne_r.slices[s].key, ne_r.slices[s].count, std::move(ms)});
    }
    report.add_slices(models[best].name + " per ad position", st);
    report_json["slices_by_position"] = slices_json;
  }

  // Figures: ROC and reliability of the best model.
  {
    const auto& p = models[best].test_predictions;
    const auto roc = ev::roc_curve_of(p, y_test);
    auto roc_fig =
        ev::roc_figure(roc, value_of(models[best].metrics, "roc_auc"), models[best].name);
    write_file(opt.out / "roc.svg", roc_fig.svg);
    report.add_figure("ROC curve", std::move(roc_fig));
    const auto bins = ev::reliability_curve_of(p, y_test);
    auto rel_fig = ev::reliability_figure(bins);
    write_file(opt.out / "reliability.svg", rel_fig.svg);
    report.add_figure("Calibration of " + models[best].name, std::move(rel_fig));
  }

  // Negative downsampling: FM trained on every positive and a quarter of the negatives, its
  // predictions before and after p' = p / (p + (1 - p) / w) (He et al. 2014).
  {
    const data::negative_downsampler down({.negative_keep_rate = 0.25, .seed = 7});
    const data::downsampled_rows kept = down.sample(y_train);
    mlsd::sparse_batch sampled;
    for (const std::size_t r : kept.rows) {
      sampled.push_back(d.train.row(r));
    }
    model::factorization_machine fm_down(fmc);
    to.epochs = 4;
    (void)model::train(fm_down, sampled, nullptr, to);
    std::vector<float> raw = predict(fm_down, d.test), corrected(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
      corrected[i] = static_cast<float>(down.calibrate(raw[i]));
    }
    const auto before = offline_metrics(raw, y_test);
    const auto after = offline_metrics(corrected, y_test);
    std::printf("\n  negative downsampling (keep 25%% of %llu negatives: %zu of %zu rows), FM:\n",
                static_cast<unsigned long long>(kept.negatives_kept + kept.negatives_dropped),
                kept.rows.size(), y_train.size());
    std::printf("  %-22s %9s %9s %9s %11s %9s\n", "", "NE", "ROC-AUC", "log loss", "calibration",
                "ECE");
    ev::slice_table dt;
    dt.slice_name = "FM trained on downsampled data";
    for (const auto& [name, ms] : {std::pair{std::string("uncorrected"), before},
                                   std::pair{std::string("corrected"), after}}) {
      std::printf("  %-22s %9s %9s %9s %11s %9s\n", name.c_str(), cell(ms[0]).c_str(),
                  cell(ms[1]).c_str(), cell(ms[2]).c_str(), cell(ms[3]).c_str(),
                  cell(ms[4]).c_str());
      dt.rows.push_back({name, y_test.size(), ms});
    }
    report.add_slices("Negative downsampling (w = 0.25) and its correction", dt);
    report_json["downsampling"] = {{"negative_keep_rate", 0.25},
                                   {"rows_kept", kept.rows.size()},
                                   {"uncorrected", metrics_json(before)},
                                   {"corrected", metrics_json(after)}};
  }

  // Step 7 (monitoring and continual learning): the drifted end of the stream, test-then-train.
  if (!d.stream.empty()) {
    const std::uint64_t window = std::max<std::uint64_t>(1, d.stream.size() / 20);
    using preq = ev::prequential<ev::normalized_entropy>;
    preq frozen_lr({.window = window}), online_lr({.window = window}),
        frozen_fm({.window = window}), online_fm({.window = window}), truth({.window = window});
    model::logistic_regression lr_online = lr;
    model::factorization_machine fm_online = fm;
    for (std::size_t r = 0; r < d.stream.size(); ++r) {
      const mlsd::sparse_row_view x = d.stream.row(r);
      frozen_lr.add({lr(x), x.label});
      frozen_fm.add({fm(x), x.label});
      (void)ev::test_then_train(lr_online, online_lr, x, x.label);
      (void)ev::test_then_train(fm_online, online_fm, x, x.label);
      if (d.synthetic) {
        truth.add({d.stream_truth[r], x.label});
      }
    }
    std::vector<ev::line_series> series;
    json online_json = {{"window", window}, {"rows", d.stream.size()}};
    std::printf("\n== Step 7: online learning over the last %zu impressions (%s), prequential NE "
                "per %llu:\n",
                d.stream.size(), d.synthetic ? "the ads drift" : "the end of the test file",
                static_cast<unsigned long long>(window));
    std::vector<std::pair<std::string, const preq*>> runs = {{"LR frozen", &frozen_lr},
                                                             {"LR online (FTRL)", &online_lr},
                                                             {"FM frozen", &frozen_fm},
                                                             {"FM online", &online_fm}};
    if (d.synthetic) {
      runs.push_back({"ground truth", &truth});
    }
    for (const auto& [name, e] : runs) {
      ev::line_series s{name, {}};
      json points = json::array();
      for (const auto& pt : e->series()) {
        if (pt.window.defined()) {
          s.points.push_back({static_cast<double>(pt.examples), *pt.window.value, 0.0});
          points.push_back({pt.examples, *pt.window.value});
        }
      }
      const auto total = ev::outcome_of(e->cumulative());
      std::printf("  %-18s cumulative NE %s, last window %s\n", name.c_str(),
                  total.defined() ? std::to_string(*total.value).c_str() : "undefined",
                  s.points.empty() ? "-" : std::to_string(s.points.back().y).c_str());
      online_json[name] = {{"cumulative_ne", total.defined() ? json(*total.value) : json()},
                           {"windows", points}};
      if (!s.points.empty()) {
        series.push_back(std::move(s));
      }
    }
    ev::chart_config cc;
    cc.title = "Prequential NE on the drifted stream";
    cc.x_label = "impressions into the stream";
    cc.y_label = "NE per window";
    if (!series.empty()) { // a window with one class has no NE: a tiny stream may have none
      const std::string svg = ev::line_chart_svg(series, cc);
      write_file(opt.out / "online_ne.svg", svg);
      report.add_figure("Online learning under drift",
                        {svg,
                         "Normalized entropy per window of " + std::to_string(window) +
                             " impressions, each scored before the learner learns it.",
                         online_json});
    }
    report_json["online"] = online_json;
  }

  // Model file: the best field-aware model (or FM) saved with its feature encoder, loaded back,
  // and its predictions compared bit for bit.
  {
    const std::filesystem::path path = opt.out / "model.mlsd";
    const auto check = [&](const auto& m, auto tag) {
      using M = decltype(tag);
      model::model_file f = m.to_model_file();
      f.model_type = std::string(M::model_type);
      f.feature_encoder = d.feature_encoder;
      // A named type, not a bare braced list: clang 14 leaks the old value of `json = {{...}}`
      // inside a generic lambda (LeakSanitizer, nlohmann_json 3.11.2); g++ does not.
      f.training = nlohmann::json{{"rows", d.train.size()}, {"source", d.source}};
      model::save_model_file(path, f);
      const M back = model::load_model<M>(path);
      std::size_t same = 0;
      for (std::size_t r = 0; r < d.test.size(); ++r) {
        const float a = m(d.test.row(r));
        const float b = back(d.test.row(r));
        same += std::memcmp(&a, &b, sizeof a) == 0 ? 1 : 0;
      }
      return same;
    };
    const std::size_t same = has_ffm ? check(ffm, ffm) : check(fm, fm);
    const auto bytes = std::filesystem::file_size(path);
    std::printf("\n== Model file: %s (%llu bytes) loaded back: %zu of %zu test predictions "
                "bit-identical\n",
                path.string().c_str(), static_cast<unsigned long long>(bytes), same, d.test.size());
    report_json["model_file"] = {{"path", path.filename().string()},
                                 {"bytes", bytes},
                                 {"identical_predictions", same},
                                 {"test_rows", d.test.size()}};
    if (same != d.test.size()) {
      throw std::runtime_error("the loaded model's predictions differ from the saved model's");
    }
  }

  // Step 6: serving, for the generated log (it knows the ads): the design the compiler checked,
  // measured on this machine, and the capacity estimate at the peak.
  if (d.synthetic && has_ffm) {
    std::mt19937_64 rng(opt.synthetic.seed);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    std::vector<float> ads(ad_click_requirements.slo.catalog_size * ad_dim),
        users(user_rows * ad_dim);
    for (float& v : ads) {
      v = gauss(rng);
    }
    for (float& v : users) {
      v = gauss(rng);
    }
    const data::feature_hasher hasher = ad_click::make_hasher(opt.synthetic.bits);
    const std::vector<std::uint64_t>* context = &d.serving_contexts.front();
    auto serve = mlsd::with_budget<encode_budget>(mlsd::model::embedding_bag(
                     mlsd::matrix_view<const float>(users.data(), user_rows, ad_dim))) |
                 mlsd::with_budget<retrieve_budget>(mlsd::serving::exact_retriever(
                     mlsd::matrix_view<const float>(ads.data(),
                                                    ad_click_requirements.slo.catalog_size, ad_dim),
                     300)) |
                 mlsd::with_budget<rank_budget>(ctr_ranker(ffm, hasher, d, &context, 30)) |
                 mlsd::with_budget<show_budget>(mlsd::serving::truncate(4));
    // The design review, by the compiler: budgets within the p99, fan-out shrinking, the
    // targeting stage covering the catalog, the metrics fitting the task.
    static_assert(mlsd::meets_requirements<ad_click_requirements, decltype(serve)>);
    const mlsd::design_description design = mlsd::describe(ad_click_requirements, serve);
    write_file(opt.out / "serving.mmd", design.to_mermaid());
    write_file(opt.out / "serving.dot", design.to_dot());
    std::vector<double> ms;
    for (std::size_t r = 0; r < d.serving_contexts.size(); ++r) {
      context = &d.serving_contexts[r];
      const auto t = std::chrono::steady_clock::now();
      const auto shown = serve(*context);
      ms.push_back(seconds_since(t) * 1e3);
      if (shown.empty()) {
        throw std::runtime_error("the serving path showed no ad");
      }
    }
    std::sort(ms.begin(), ms.end());
    const auto pct = [&](double q) {
      return ms[std::min(ms.size() - 1, static_cast<std::size_t>(q * (ms.size() - 1) + 0.5))];
    };
    const mlsd::machine_profile machine = mlsd::probe_machine();
    const mlsd::capacity_report capacity =
        mlsd::estimate_capacity(ad_click_requirements, serve, machine);
    std::printf("\n== Step 6: serving (%s)\n  %zu requests on one thread: p50 %.2f ms, p99 %.2f "
                "ms (budget %.0f ms)\n  capacity estimate at the peak of %llu QPS:\n%s",
                std::string(design.review->message()).c_str(), ms.size(), pct(0.5), pct(0.99),
                ad_click_requirements.slo.p99_latency.seconds() * 1e3,
                static_cast<unsigned long long>(ad_click_requirements.slo.peak_qps),
                capacity.to_text().c_str());
    report_json["serving"] = {{"design", design.to_json()},
                              {"requests", ms.size()},
                              {"p50_ms", pct(0.5)},
                              {"p99_ms", pct(0.99)},
                              {"capacity", capacity.to_json()}};
    report.add_text("Serving", "Measured on " + std::to_string(ms.size()) + " requests: p50 " +
                                   std::to_string(pct(0.5)) + " ms, p99 " +
                                   std::to_string(pct(0.99)) + " ms.");
    report.add_preformatted("Capacity estimate", capacity.to_text());
  }

  // The report folder.
  write_file(opt.out / "pipeline.mmd", pipeline_mermaid(d.synthetic));
  write_file(opt.out / "pipeline.dot", pipeline_dot(d.synthetic));
  std::string diagram = "pipeline.mmd, pipeline.dot";
  if (std::system("dot -V >/dev/null 2>&1") == 0) {
    // Each path single-quoted for the shell, a quote inside it written as '\'' (POSIX sh).
    const auto quoted = [](const std::filesystem::path& path) {
      std::string out(1, '\'');
      for (const char c : path.string()) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      }
      out += '\'';
      return out;
    };
    std::string cmd = "dot -Tsvg ";
    cmd += quoted(opt.out / "pipeline.dot");
    cmd += " -o ";
    cmd += quoted(opt.out / "pipeline.svg");
    cmd += " 2>/dev/null";
    if (std::system(cmd.c_str()) == 0) {
      diagram += ", pipeline.svg";
      std::ifstream in(opt.out / "pipeline.svg");
      std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const auto at = svg.find("<svg");
      if (at != std::string::npos) {
        report.add_figure("The pipeline",
                          {svg.substr(at), "The training pipeline (Graphviz).", json::object()});
      }
    }
  }
  report.add_text("Data", d.source);
  report.add_preformatted("Data steps", d.steps.dump(2));
  report_json["seconds"] = seconds_since(start);
  report_json["evaluation_report"] = report.to_json();
  write_file(opt.out / "report.json", report_json.dump(2) + "\n");
  report.write_html(opt.out / "report.html");
  std::printf("\nwrote report.json, report.html, roc.svg, reliability.svg%s, %s%s and model.mlsd "
              "to %s in %.1f s\n",
              d.stream.empty() ? "" : ", online_ne.svg", diagram.c_str(),
              d.synthetic ? ", serving.mmd, serving.dot" : "", opt.out.string().c_str(),
              seconds_since(start));
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  const options opt = parse(argc, argv);
  try {
    return run(opt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ad_click_prediction: error: %s\n", e.what());
    return 1;
  }
}
