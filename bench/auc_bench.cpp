// ROC-AUC speed: times mlsd::evaluation::roc_auc_of (every add, then result(): the sort and the
// pair count) over N scores, and prints one JSON object. bench/auc_report.py runs it beside
// scikit-learn's roc_auc_score on the same files and compares.
//
//   auc_bench --n 10000000 --seed 1 --write DIR      generate, write DIR/scores.f32 and
//                                                    DIR/labels.f32 (raw little-endian float32)
//   auc_bench --scores F --labels F --repetitions 3  read them and time
//
// Without --scores the data is generated in memory (the same data for the same --n and --seed).
// The generated scores look like a click model's: a latent propensity z ~ N(0, 1), the label
// ~ Bernoulli(sigmoid(2z - 2)) (about 20% positives), the score sigmoid(2z - 2 + N(0, 1)) rounded
// to float32, so probabilities near 0 and 1 collide into ties as real model outputs do.
//
// Output: {"n": ..., "positives": ..., "auc": ..., "seconds": [...], "median_seconds": ...}.
#include <mlsd/evaluation/classification.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct options {
  std::size_t n = 10'000'000;
  std::uint64_t seed = 1;
  int repetitions = 1;
  std::string write_dir;
  std::string scores_file;
  std::string labels_file;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "auc_bench: %s\nusage: auc_bench [--n N] [--seed S] [--write DIR] "
               "[--scores FILE --labels FILE] [--repetitions R]\n",
               why);
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      usage("every option takes a value");
    }
    const std::string v = argv[++i];
    if (a == "--n") {
      o.n = std::stoull(v);
    } else if (a == "--seed") {
      o.seed = std::stoull(v);
    } else if (a == "--repetitions") {
      o.repetitions = std::stoi(v);
    } else if (a == "--write") {
      o.write_dir = v;
    } else if (a == "--scores") {
      o.scores_file = v;
    } else if (a == "--labels") {
      o.labels_file = v;
    } else {
      usage("unknown option");
    }
  }
  if (o.scores_file.empty() != o.labels_file.empty()) {
    usage("--scores and --labels go together");
  }
  if (o.repetitions < 1) {
    usage("--repetitions must be at least 1");
  }
  return o;
}

void generate(std::size_t n, std::uint64_t seed, std::vector<float>& scores,
              std::vector<float>& labels) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const auto sigmoid = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  scores.resize(n);
  labels.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double z = normal(rng);
    labels[i] = uniform(rng) < sigmoid(2.0 * z - 2.0) ? 1.0f : 0.0f;
    scores[i] = static_cast<float>(sigmoid(2.0 * z - 2.0 + normal(rng)));
  }
}

void write_floats(const std::string& path, const std::vector<float>& v) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(v.data()),
            static_cast<std::streamsize>(v.size() * sizeof(float)));
  if (!out) {
    throw std::runtime_error("cannot write " + path);
  }
}

std::vector<float> read_floats(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    throw std::runtime_error("cannot read " + path);
  }
  const auto bytes = static_cast<std::size_t>(in.tellg());
  std::vector<float> v(bytes / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()),
          static_cast<std::streamsize>(v.size() * sizeof(float)));
  return v;
}

} // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  std::vector<float> scores;
  std::vector<float> labels;
  if (o.scores_file.empty()) {
    generate(o.n, o.seed, scores, labels);
  } else {
    scores = read_floats(o.scores_file);
    labels = read_floats(o.labels_file);
  }
  if (!o.write_dir.empty()) {
    write_floats(o.write_dir + "/scores.f32", scores);
    write_floats(o.write_dir + "/labels.f32", labels);
  }
  std::size_t positives = 0;
  for (const float y : labels) {
    positives += y > 0 ? 1 : 0;
  }

  std::vector<double> seconds;
  double auc = 0.0;
  for (int r = 0; r < o.repetitions; ++r) {
    const auto start = std::chrono::steady_clock::now();
    auc = mlsd::evaluation::roc_auc_of(scores, labels);
    const auto stop = std::chrono::steady_clock::now();
    seconds.push_back(std::chrono::duration<double>(stop - start).count());
  }
  std::vector<double> sorted = seconds;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t m = sorted.size();
  const double median = m % 2 == 1 ? sorted[m / 2] : 0.5 * (sorted[m / 2 - 1] + sorted[m / 2]);

  std::printf("{\"n\": %zu, \"positives\": %zu, \"auc\": %.17g, \"seconds\": [", scores.size(),
              positives, auc);
  for (std::size_t i = 0; i < seconds.size(); ++i) {
    std::printf("%s%.6f", i == 0 ? "" : ", ", seconds[i]);
  }
  std::printf("], \"median_seconds\": %.6f}\n", median);
  return 0;
}
