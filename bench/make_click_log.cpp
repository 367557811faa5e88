// Writes a synthetic Criteo-like click log (include/mlsd/data/synthetic_click_log.hpp) as train and
// validation files in three formats, for bench/train_bench and the peers of bench/train_report.py:
//
//   make_click_log --rows 1000000 --valid-rows 200000 --seed 1 --bits 20 --out /tmp/clicks
//
// writes, in --out:
//   train.tsv / valid.tsv   Criteo TSV (label, I1..I13, C1..C26), read by data/criteo.hpp
//   train.svm / valid.svm   LIBSVM, 1-based hashed indices in [1, 2^bits], one feature per column
//                           (duplicates from hash collisions merged, value summed), value 1
//   train.ffm / valid.ffm   libffm, field:index:value with field = column (0..38), 0-based
//   meta.json               the generator and hasher configs, row counts, click rates, the
//                           mean true probability and the log loss of the true probabilities
//                           (the floor no model can beat on average)
//
// The log has rows + valid_rows rows in time order; the validation file is the last valid_rows
// (a time split, as in production: the model is judged on the future). --formats picks a subset
// (comma-separated: tsv,svm,ffm). --drift-fraction f makes the last f of the whole log drift.
// --shuffle-train writes the training rows in a seeded random order (the validation rows stay last,
// in time order), as libFM asks of its users: then no tool's result depends on whether it visits
// the rows in file order (libFM) or shuffles them (mlsd, xLearn, libffm), which on a log with a
// time trend would otherwise favour the tool that sees the newest rows last.
#include <mlsd/data/synthetic_click_log.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace data = mlsd::data;

struct options {
  std::uint64_t rows = 1'000'000;
  std::uint64_t valid_rows = 200'000;
  std::uint64_t seed = 1;
  std::uint32_t bits = 20;
  double drift_fraction = 0.0;
  std::string out = ".";
  bool tsv = true, svm = true, ffm = true;
  bool shuffle_train = false;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "make_click_log: " << why
            << "\nusage: make_click_log [--rows N] [--valid-rows N] [--seed S] [--bits B]"
               " [--drift-fraction F] [--formats tsv,svm,ffm] [--shuffle-train] [--out DIR]\n";
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--shuffle-train") {
      o.shuffle_train = true;
      continue;
    }
    if (i + 1 >= argc) {
      usage(std::string("missing value after ") + std::string(a));
    }
    const std::string v = argv[++i];
    try {
      if (a == "--rows") {
        o.rows = std::stoull(v);
      } else if (a == "--valid-rows") {
        o.valid_rows = std::stoull(v);
      } else if (a == "--seed") {
        o.seed = std::stoull(v);
      } else if (a == "--bits") {
        o.bits = static_cast<std::uint32_t>(std::stoul(v));
      } else if (a == "--drift-fraction") {
        o.drift_fraction = std::stod(v);
      } else if (a == "--out") {
        o.out = v;
      } else if (a == "--formats") {
        o.tsv = v.find("tsv") != std::string::npos;
        o.svm = v.find("svm") != std::string::npos;
        o.ffm = v.find("ffm") != std::string::npos;
      } else {
        usage(std::string("unknown option ") + std::string(a));
      }
    } catch (const std::logic_error&) {
      usage(std::string("bad value '") + v + "' for " + std::string(a));
    }
  }
  return o;
}

/// A file written through a large buffer (one fwrite per ~4 MiB).
class output_file {
public:
  output_file(const std::filesystem::path& p, bool open)
      : path_(p.string()) {
    if (open) {
      f_ = std::fopen(path_.c_str(), "wb");
      if (f_ == nullptr) {
        throw std::runtime_error("cannot write " + path_);
      }
      buf_.reserve(kFlush + 4096);
    }
  }
  ~output_file() { close(); }
  output_file(const output_file&) = delete;
  output_file& operator=(const output_file&) = delete;

  [[nodiscard]] bool active() const noexcept { return f_ != nullptr; }
  std::string& buffer() noexcept { return buf_; }
  void maybe_flush() {
    if (buf_.size() >= kFlush) {
      flush();
    }
  }
  void close() {
    if (f_ != nullptr) {
      flush();
      std::fclose(f_);
      f_ = nullptr;
    }
  }

private:
  static constexpr std::size_t kFlush = std::size_t{4} << 20;
  void flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) {
      throw std::runtime_error("write failed: " + path_);
    }
    buf_.clear();
  }
  std::string path_;
  std::FILE* f_ = nullptr;
  std::string buf_;
};

struct part_stats {
  std::uint64_t rows = 0, clicks = 0, merged = 0;
  double sum_p = 0.0, true_log_loss = 0.0;

  [[nodiscard]] nlohmann::json to_json() const {
    const double n = static_cast<double>(rows);
    return {{"rows", rows},
            {"clicks", clicks},
            {"click_rate", rows ? static_cast<double>(clicks) / n : 0.0},
            {"mean_true_probability", rows ? sum_p / n : 0.0},
            {"true_log_loss", rows ? true_log_loss / n : 0.0},
            {"svm_entries_merged_by_collisions", merged}};
  }
};

} // namespace

int main(int argc, char** argv) {
  try {
    const options o = parse(argc, argv);
    data::synthetic_click_log_config cfg;
    cfg.rows = o.rows + o.valid_rows;
    cfg.seed = o.seed;
    cfg.drift_fraction = o.drift_fraction;
    const data::synthetic_click_log log(cfg);
    data::click_log_hasher_config hcfg;
    hcfg.bits = o.bits;
    const data::click_log_hasher hasher(hcfg);

    const std::filesystem::path dir(o.out);
    std::filesystem::create_directories(dir);
    const auto start = std::chrono::steady_clock::now();
    part_stats stats[2];
    data::synthetic_click c;
    mlsd::sparse_row x;
    // The training rows' order: time order, or a seeded Fisher-Yates permutation of it.
    std::vector<std::uint64_t> train_order(o.rows);
    std::iota(train_order.begin(), train_order.end(), std::uint64_t{0});
    if (o.shuffle_train) {
      std::mt19937_64 random(o.seed ^ 0x5eed5eed5eed5eedULL);
      for (std::uint64_t i = o.rows; i > 1; --i) {
        std::swap(train_order[i - 1], train_order[random() % i]);
      }
    }
    for (int part = 0; part < 2; ++part) {
      const std::string name = part == 0 ? "train" : "valid";
      output_file tsv(dir / (name + ".tsv"), o.tsv);
      output_file svm(dir / (name + ".svm"), o.svm);
      output_file ffm(dir / (name + ".ffm"), o.ffm);
      const std::uint64_t begin = part == 0 ? 0 : o.rows;
      const std::uint64_t end = part == 0 ? o.rows : cfg.rows;
      part_stats& s = stats[part];
      for (std::uint64_t j = begin; j < end; ++j) {
        log.generate(part == 0 ? train_order[j] : j, c);
        ++s.rows;
        s.clicks += c.clicked() ? 1 : 0;
        s.sum_p += c.true_probability;
        s.true_log_loss -= std::log(c.clicked() ? c.true_probability : 1.0 - c.true_probability);
        if (tsv.active()) {
          data::append_criteo_tsv_line(tsv.buffer(), c.features);
          tsv.maybe_flush();
        }
        if (svm.active() || ffm.active()) {
          hasher.encode(c.features, x);
          if (ffm.active()) {
            data::append_libffm_line(ffm.buffer(), x);
            ffm.maybe_flush();
          }
          if (svm.active()) {
            s.merged += data::merge_duplicate_indices(x);
            data::append_libsvm_line(svm.buffer(), x, 1);
            svm.maybe_flush();
          }
        }
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const nlohmann::json meta{{"generator", cfg.to_json()},
                              {"hasher", hasher.to_json()},
                              {"train", stats[0].to_json()},
                              {"valid", stats[1].to_json()},
                              {"libsvm_index_base", 1},
                              {"libffm_index_base", 0},
                              {"train_shuffled", o.shuffle_train},
                              {"seconds", seconds}};
    std::FILE* f = std::fopen((dir / "meta.json").string().c_str(), "wb");
    if (f == nullptr) {
      throw std::runtime_error("cannot write meta.json");
    }
    const std::string text = meta.dump(2) + "\n";
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    std::cout << text;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "make_click_log: " << e.what() << '\n';
    return 1;
  }
}
