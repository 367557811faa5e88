// Does this machine's memory latency stay put? Times one fixed workload, shaped like an FM
// epoch's parameter traffic, again and again, and prints one JSON object.
//
//   memory_probe [--tables 6] [--rounds 6] [--steps 16000000] [--threads 1]
//
// It allocates `tables` tables of 64 MiB (each 2 MiB aligned, advised for transparent huge pages
// and written once, so that every page is backed before timing starts), then, `rounds` times,
// runs `steps` updates of one random 64-byte row (9 floats read and written, as an FM step does
// to the row of an active feature with k = 8) on each table in turn. With `--threads 2` two
// threads do this at once, each on its own tables (as the two copies of the deterministic mode).
//
// On a machine whose memory behaves the same from one second to the next, every time is within a
// few percent of the others. If the times of one round differ little between tables while the
// rounds differ a lot, what moves is the machine over time (other tenants of a host, a virtual
// machine's memory being handed back and forth), not the allocation or the code; if one table is
// slow in every round, it is that table's memory. docs/benchmarks.md uses it to read the spread
// of the two-thread training figures.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace {

constexpr std::size_t table_bytes = std::size_t{64} << 20;
constexpr std::size_t row_floats = 16; // one 64-byte cache line

struct table_deleter {
  void operator()(float* p) const noexcept { std::free(p); }
};

float* make_table() {
  void* p = std::aligned_alloc(std::size_t{1} << 21, table_bytes);
  if (p == nullptr) {
    throw std::bad_alloc();
  }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  (void)::madvise(p, table_bytes, MADV_HUGEPAGE);
#endif
  std::memset(p, 0, table_bytes);
  return static_cast<float*>(p);
}

// `steps` read-modify-writes of random rows; the rows are independent, so the core overlaps
// their misses as it does an FM step's prefetched rows. Returns seconds.
double run(float* table, std::size_t steps, std::uint64_t seed) {
  const std::size_t rows = table_bytes / (row_floats * sizeof(float));
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (std::size_t i = 0; i < steps; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL; // Knuth's MMIX LCG
    float* row = table + ((x >> 33) % rows) * row_floats;
    for (std::size_t k = 0; k < 9; ++k) {
      row[k] += 1e-3f * row[(k + 1) % 9] + 1e-6f;
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "memory_probe: " << why << "\n"
            << "usage: memory_probe [--tables N] [--rounds R] [--steps S] [--threads 1|2]\n";
  std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
  std::size_t tables = 6, rounds = 6, steps = 16'000'000, threads = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) {
      usage("missing value after " + std::string(a));
    }
    const std::string v = argv[++i];
    std::size_t* target = a == "--tables"    ? &tables
                          : a == "--rounds"  ? &rounds
                          : a == "--steps"   ? &steps
                          : a == "--threads" ? &threads
                                             : nullptr;
    if (target == nullptr) {
      usage("unknown option " + std::string(a));
    }
    try {
      *target = std::stoul(v);
    } catch (const std::logic_error&) {
      usage("bad value '" + v + "' for " + std::string(a));
    }
  }
  if (tables == 0 || rounds == 0 || steps == 0 || threads < 1 || threads > 2) {
    usage("--tables, --rounds and --steps must be at least 1, --threads 1 or 2");
  }
  try {
    // seconds[thread][round][table]
    std::vector<std::vector<std::vector<double>>> seconds(
        threads, std::vector<std::vector<double>>(rounds, std::vector<double>(tables)));
    const auto work = [&](std::size_t t) {
      std::vector<std::unique_ptr<float, table_deleter>> own;
      for (std::size_t j = 0; j < tables; ++j) {
        own.emplace_back(make_table());
      }
      for (std::size_t r = 0; r < rounds; ++r) {
        for (std::size_t j = 0; j < tables; ++j) {
          seconds[t][r][j] = run(own[j].get(), steps, 1 + r);
        }
      }
    };
    if (threads == 2) {
      std::thread other(work, 1);
      work(0);
      other.join();
    } else {
      work(0);
    }
    std::vector<double> all;
    for (const auto& per_thread : seconds) {
      for (const auto& round : per_thread) {
        all.insert(all.end(), round.begin(), round.end());
      }
    }
    std::sort(all.begin(), all.end());
    const nlohmann::json out{{"tool", "memory_probe"},
                             {"table_mib", table_bytes >> 20},
                             {"tables", tables},
                             {"rounds", rounds},
                             {"steps", steps},
                             {"threads", threads},
                             {"seconds", seconds},
                             {"min_seconds", all.front()},
                             {"median_seconds", all[all.size() / 2]},
                             {"max_seconds", all.back()},
                             {"max_over_min", all.back() / all.front()}};
    std::cout << out.dump(1) << '\n';
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "memory_probe: " << e.what() << '\n';
    return 1;
  }
}
