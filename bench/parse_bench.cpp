// How fast the LIBSVM source turns a file into sparse rows, against the floor any line-based
// parser sits on: counting the newlines of the same file with the same chunked fread.
//
//   parse_libsvm/mlsd          file -> libsvm_source::read -> sparse_row (labels, indices, values)
//   parse_libsvm/fast_float_only  the same with libsvm_config::fast_paths off: every number
//                              through fast_float (the ablation that shows what the fast path buys)
//   parse_libsvm/newline_scan  file -> fread in 1 MiB chunks -> memchr('\n') count
//
// Both report bytes processed (MB/s); parse_libsvm/mlsd also reports the process's peak resident
// memory (max_rss_MiB) beside the file's size (file_MiB), which shows that memory stays bounded.
// The file (about 134 MB: ~180,000 rows, 30 to 50 sorted indices up to 1,000,000 per row,
// 6-significant-digit values, labels +1 / -1, fixed seed) is generated once into $MLSD_BENCH_DIR,
// or into the system's temporary directory, and reused by later runs. Run with:
//   parse_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <mlsd/data/libsvm.hpp>

#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t target_bytes = std::uintmax_t{128} << 20;
constexpr std::size_t chunk_bytes = std::size_t{1} << 20; // line_reader's default chunk

fs::path bench_dir() {
  const char* dir = std::getenv("MLSD_BENCH_DIR");
  return dir != nullptr && *dir != '\0' ? fs::path(dir)
                                        : fs::temp_directory_path() / "mlsd_parse_bench";
}

/// Writes the benchmark file (to a temporary name, then renamed, so that an interrupted run never
/// leaves a short file behind) unless a complete one is already there.
fs::path generate_libsvm_file() {
  const fs::path dir = bench_dir();
  const fs::path path = dir / "libsvm_128mib.svm";
  std::error_code ec;
  if (fs::exists(path, ec) && fs::file_size(path, ec) >= target_bytes) {
    return path;
  }
  fs::create_directories(dir);
  const fs::path partial = dir / "libsvm_128mib.svm.partial";
  std::FILE* out = std::fopen(partial.c_str(), "wb");
  if (out == nullptr) {
    throw std::runtime_error("parse_bench: cannot write " + partial.string());
  }
  std::mt19937_64 rng(20240611);
  std::uniform_int_distribution<std::uint32_t> nnz_dist(30, 50);
  std::uniform_int_distribution<std::uint32_t> index_dist(1, 1'000'000);
  std::uniform_real_distribution<float> value_dist(0.0f, 1.0f);
  std::vector<std::uint32_t> indices;
  std::string text;
  std::uintmax_t written = 0;
  char number[32];
  while (written < target_bytes) {
    text.clear();
    for (int r = 0; r < 1000; ++r) {
      text += (rng() & 1) != 0 ? "+1" : "-1";
      indices.clear();
      const std::uint32_t nnz = nnz_dist(rng);
      for (std::uint32_t k = 0; k < nnz; ++k) {
        indices.push_back(index_dist(rng));
      }
      std::sort(indices.begin(), indices.end());
      indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
      for (const std::uint32_t index : indices) {
        text += ' ';
        text.append(number, std::to_chars(number, number + sizeof number, index).ptr);
        text += ':';
        text.append(number, std::to_chars(number, number + sizeof number, value_dist(rng),
                                          std::chars_format::general, 6)
                                .ptr);
      }
      text += '\n';
    }
    written += std::fwrite(text.data(), 1, text.size(), out);
  }
  if (std::fclose(out) != 0) {
    throw std::runtime_error("parse_bench: cannot finish " + partial.string());
  }
  fs::rename(partial, path);
  return path;
}

const fs::path& libsvm_file() {
  static const fs::path path = generate_libsvm_file();
  return path;
}

void parse_libsvm(benchmark::State& state, bool fast_paths) {
  const fs::path& path = libsvm_file();
  const auto bytes = static_cast<std::int64_t>(fs::file_size(path));
  std::vector<mlsd::sparse_row> rows(256);
  std::uint64_t total_rows = 0;
  for (auto _ : state) {
    mlsd::data::libsvm_config cfg;
    cfg.fast_paths = fast_paths;
    mlsd::data::libsvm_source source(path, cfg);
    std::uint64_t nnz = 0;
    while (const std::size_t n = source.read(rows)) {
      total_rows += n;
      for (std::size_t i = 0; i < n; ++i) {
        nnz += rows[i].nnz();
      }
    }
    benchmark::DoNotOptimize(nnz);
  }
  state.SetBytesProcessed(state.iterations() * bytes);
  // Bounded memory: the process's peak resident set (benchmark library included) against the
  // size of the file it streamed. getrusage reports ru_maxrss in KiB on Linux.
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["max_rss_MiB"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
  state.counters["file_MiB"] = static_cast<double>(bytes) / 1048576.0;
  state.counters["rows"] =
      benchmark::Counter(static_cast<double>(total_rows), benchmark::Counter::kIsRate);
}

void parse_libsvm_mlsd(benchmark::State& state) {
  parse_libsvm(state, true);
}
void parse_libsvm_fast_float_only(benchmark::State& state) {
  parse_libsvm(state, false);
}

void parse_libsvm_newline_scan(benchmark::State& state) {
  const fs::path& path = libsvm_file();
  const auto bytes = static_cast<std::int64_t>(fs::file_size(path));
  std::vector<char> buffer(chunk_bytes);
  std::uint64_t total_rows = 0;
  for (auto _ : state) {
    std::FILE* in = std::fopen(path.c_str(), "rb");
    if (in == nullptr) {
      state.SkipWithError("cannot open the benchmark file");
      return;
    }
    std::uint64_t lines = 0;
    while (const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), in)) {
      const char* p = buffer.data();
      const char* const end = p + got;
      while (const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
        ++lines;
        p = static_cast<const char*>(nl) + 1;
      }
    }
    std::fclose(in);
    total_rows += lines;
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(state.iterations() * bytes);
  state.counters["rows"] =
      benchmark::Counter(static_cast<double>(total_rows), benchmark::Counter::kIsRate);
}

} // namespace

BENCHMARK(parse_libsvm_mlsd)
    ->Name("parse_libsvm/mlsd")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(parse_libsvm_fast_float_only)
    ->Name("parse_libsvm/fast_float_only")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(parse_libsvm_newline_scan)
    ->Name("parse_libsvm/newline_scan")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
