// Case study: the serving path of a video recommender, designed against its requirements.
//
// Steps 1 and 2 of the framework as code: the requirements are a constexpr value, the serving
// pipeline is a typed composition of stages with latency budgets and fan-out, and the compiler
// checks the one against the other (change a budget below and this file stops compiling). At run
// time the example serves requests from a catalog it generates, measures the latency, and prints
// the back-of-the-envelope capacity estimate for the design at its peak load.
//
//   video_serving_design [--out DIR] [--machine FILE] [--requests N]
//
//   --out DIR       also write design.json, design.mmd, design.dot and capacity.json into DIR
//                   (docs/img/video_serving_design.svg is `dot -Tsvg DIR/design.dot`)
//   --machine FILE  take memory bandwidth and FLOP/s from a JSON machine profile instead of the
//                   0.3-second probe ({"memory_bandwidth": ..., "flops": ..., "cores": ...,
//                   "source": "given"})
//   --requests N    requests to serve for the latency measurement (default 300)
#include <mlsd/mlsd.hpp>
#include <mlsd/model/embedding_bag.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;

namespace {

// Step 1 and 2: the business wants watch time; the ML task that serves it is ranking; the
// offline metrics judge ranked lists; the online metric is the business one.
inline constexpr mlsd::requirements video_recommendation{
    .objective = mlsd::business_objective::watch_time,
    .task = mlsd::ml_task::ranking,
    .offline = {mlsd::offline_metric::recall_at_k, mlsd::offline_metric::ndcg_at_k,
                mlsd::offline_metric::catalog_coverage},
    .online = {mlsd::online_metric::watch_time, mlsd::online_metric::session_length},
    .slo = {.p99_latency = 100ms,
            .peak_qps = 2'000,
            .catalog_size = 1'000'000,
            .feature_freshness = 10min,
            .availability = 0.999}};

constexpr std::size_t dim = 64;
constexpr std::size_t user_feature_rows = 1 << 16;

// Budgets: how the 100 ms p99 is shared, and the fan-out 1,000,000 -> 1000 -> 100 -> 10.
inline constexpr mlsd::stage_budget encode_budget{
    .name = "user tower", .latency = 2ms, .items_in = 24, .items_out = 1};
inline constexpr mlsd::stage_budget retrieve_budget{
    .name = "retrieve", .latency = 40ms, .items_in = 1'000'000, .items_out = 1000};
inline constexpr mlsd::stage_budget rank_budget{
    .name = "rank", .latency = 20ms, .items_in = 1000, .items_out = 100};
inline constexpr mlsd::stage_budget show_budget{
    .name = "show", .latency = 1ms, .items_in = 100, .items_out = 10};

// A ranker for this case study: the retrieval score blended with a popularity prior, the
// classic second stage when a heavier model is not yet trained. Returns its best `keep`.
class popularity_blend : public mlsd::ranker_tag {
public:
  using input_type = mlsd::serving::candidates;
  using output_type = mlsd::serving::candidates;

  popularity_blend(std::span<const float> log_popularity, float weight, std::size_t keep)
      : log_popularity_(log_popularity)
      , weight_(weight)
      , keep_(keep) {}

  output_type operator()(input_type in) {
    ranked_.assign(in.begin(), in.end());
    for (auto& c : ranked_) {
      c.score += weight_ * log_popularity_[c.id];
    }
    const std::size_t n = std::min(keep_, ranked_.size());
    std::partial_sort(ranked_.begin(), ranked_.begin() + static_cast<std::ptrdiff_t>(n),
                      ranked_.end(), mlsd::kernels::ranks_before<float>);
    return std::span(ranked_).first(n);
  }

  // Per candidate: a score and a popularity read, a multiply-add and the sort's comparisons.
  [[nodiscard]] mlsd::cost_model cost() const noexcept {
    return {.bytes_per_item = 12, .flops_per_item = 2 + std::log2(static_cast<double>(keep_))};
  }

private:
  std::span<const float> log_popularity_;
  float weight_;
  std::size_t keep_;
  std::vector<mlsd::kernels::scored_id<float>> ranked_;
};
static_assert(mlsd::serving::ranker<popularity_blend> && mlsd::costed_stage<popularity_blend>);

struct options {
  std::filesystem::path out;
  std::filesystem::path machine;
  std::size_t requests = 300;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr,
               "video_serving_design: %s\nusage: video_serving_design [--out DIR] "
               "[--machine FILE] [--requests N]\n",
               message.c_str());
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage_error(std::string(arg) + " needs a value");
      }
      return argv[++i];
    };
    if (arg == "--out") {
      o.out = value();
    } else if (arg == "--machine") {
      o.machine = value();
    } else if (arg == "--requests") {
      const std::string v = value();
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || n < 1 || n > 1'000'000) {
        usage_error("--requests expects an integer from 1 to 1000000, got '" + v + "'");
      }
      o.requests = static_cast<std::size_t>(n);
    } else if (arg == "--help" || arg == "-h") {
      std::printf("usage: video_serving_design [--out DIR] [--machine FILE] [--requests N]\n");
      std::exit(0);
    } else {
      usage_error("unknown argument '" + std::string(arg) + "'");
    }
  }
  return o;
}

mlsd::machine_profile load_machine(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error("cannot open machine profile '" + path.string() + "'");
  }
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(path.string() + ": not valid JSON: " + e.what());
  }
  try {
    return j.get<mlsd::machine_profile>();
  } catch (const std::exception& e) {
    throw std::runtime_error(path.string() + ": " + e.what());
  }
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) {
    throw std::runtime_error("cannot write '" + path.string() + "'");
  }
}

int run(const options& opt) {
  const std::size_t n = video_recommendation.slo.catalog_size;
  std::printf("== Requirements (steps 1-2, checked at compile time)\n%s\n",
              mlsd::requirements_to_json(video_recommendation).dump(2).c_str());

  // A synthetic catalog: Gaussian item embeddings and a Zipf-like popularity.
  std::printf("\n== Generating %zu items x %zu dimensions ...\n", n, dim);
  std::mt19937_64 rng(7);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> items(n * dim), users(user_feature_rows * dim), log_popularity(n);
  for (float& x : items) {
    x = gauss(rng);
  }
  for (float& x : users) {
    x = gauss(rng);
  }
  for (std::size_t i = 0; i < n; ++i) {
    log_popularity[i] = -std::log1p(static_cast<float>((i * 2654435761u) % n));
  }
  const mlsd::matrix_view<const float> item_table(items.data(), n, dim);
  const mlsd::matrix_view<const float> user_table(users.data(), user_feature_rows, dim);

  // The serving path: user tower -> retrieve 1000 -> rank 100 -> show 10.
  auto serve =
      mlsd::with_budget<encode_budget>(mlsd::model::embedding_bag(user_table)) |
      mlsd::with_budget<retrieve_budget>(mlsd::serving::exact_retriever(item_table, 1000)) |
      mlsd::with_budget<rank_budget>(popularity_blend(log_popularity, 0.05f, 100)) |
      mlsd::with_budget<show_budget>(mlsd::serving::truncate(10));
  // The design review, by the compiler: budgets within the p99, fan-out shrinking, the retriever
  // covering the catalog, the metrics fitting the task.
  static_assert(mlsd::meets_requirements<video_recommendation, decltype(serve)>);

  const mlsd::design_description design = mlsd::describe(video_recommendation, serve);
  std::printf("\n== Pipeline (the compiler checked every | and the review: %s)\n%s",
              std::string(design.review->message()).c_str(), design.to_mermaid().c_str());

  // Serve requests: each a bag of 24 hashed user features.
  std::printf("\n== Serving %zu requests on one thread\n", opt.requests);
  std::vector<std::uint64_t> bag(24);
  std::vector<double> ms;
  ms.reserve(opt.requests);
  std::size_t shown = 0;
  for (std::size_t r = 0; r < opt.requests; ++r) {
    for (auto& id : bag) {
      id = rng();
    }
    const auto start = std::chrono::steady_clock::now();
    const auto top = serve(bag);
    const auto stop = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
    shown += top.size();
    if (r == 0) {
      std::printf("first request's top %zu:", top.size());
      for (const auto& c : top) {
        std::printf(" %zu", c.id);
      }
      std::printf("\n");
    }
  }
  std::sort(ms.begin(), ms.end());
  const auto pct = [&](double p) {
    return ms[std::min(ms.size() - 1, static_cast<std::size_t>(p * (ms.size() - 1) + 0.5))];
  };
  std::printf("measured latency: p50 %.2f ms, p99 %.2f ms (budget %.0f ms); %zu items shown\n",
              pct(0.50), pct(0.99), video_recommendation.slo.p99_latency.seconds() * 1e3, shown);

  // The back-of-the-envelope estimate, from the stages' cost models and this machine.
  const mlsd::machine_profile machine =
      opt.machine.empty() ? mlsd::probe_machine() : load_machine(opt.machine);
  const mlsd::capacity_report capacity =
      mlsd::estimate_capacity(video_recommendation, serve, machine);
  std::printf("\n== Capacity estimate at the peak of %llu QPS\n%s",
              static_cast<unsigned long long>(video_recommendation.slo.peak_qps),
              capacity.to_text().c_str());

  if (!opt.out.empty()) {
    std::filesystem::create_directories(opt.out);
    write_file(opt.out / "design.json", design.to_json().dump(2) + "\n");
    write_file(opt.out / "design.mmd", design.to_mermaid());
    write_file(opt.out / "design.dot", design.to_dot());
    write_file(opt.out / "capacity.json", capacity.to_json().dump(2) + "\n");
    std::printf("\nwrote design.json, design.mmd, design.dot and capacity.json to %s\n",
                opt.out.string().c_str());
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  const options opt = parse(argc, argv);
  try {
    return run(opt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "video_serving_design: error: %s\n", e.what());
    return 1;
  }
}
