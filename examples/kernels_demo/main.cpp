// kernels_demo: exact and int8 top-k retrieval over a random embedding catalog, timed beside the
// memory-bandwidth floor measured on the spot.
//
//   kernels_demo [--items N] [--dim D] [--k K] [--queries Q] [--seed S]
//
// Retrieval by exact maximum inner product reads the whole table once per query, so its speed
// limit is memory bandwidth, not arithmetic. The demo measures that limit (a plain streaming read
// of the same bytes) and shows how close the fused fp32 scan gets to it, and how the int8 table,
// a quarter of the bytes, beats it, with fp32 rescoring restoring the exact order.
#include <mlsd/kernels.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct options {
  std::size_t items = 1'000'000;
  std::size_t dim = 64;
  std::size_t k = 10;
  std::size_t queries = 20;
  std::uint64_t seed = 42;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr,
               "kernels_demo: %s\nusage: kernels_demo [--items N] [--dim D] [--k K] "
               "[--queries Q] [--seed S]\n",
               message.c_str());
  std::exit(2);
}

std::uint64_t parse_count(std::string_view flag, const char* text, std::uint64_t min,
                          std::uint64_t max) {
  std::uint64_t value = 0;
  const std::string_view s(text);
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (error != std::errc() || end != s.data() + s.size() || value < min || value > max) {
    usage_error(std::string(flag) + ": expected a whole number from " + std::to_string(min) +
                " to " + std::to_string(max) + ", got '" + std::string(s) + "'");
  }
  return value;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag(argv[i]);
    if (flag == "--help" || flag == "-h") {
      std::printf("usage: kernels_demo [--items N] [--dim D] [--k K] [--queries Q] [--seed S]\n");
      std::exit(0);
    }
    if (i + 1 >= argc) {
      usage_error(std::string(flag) + ": missing value");
    }
    const char* value = argv[++i];
    if (flag == "--items") {
      o.items = parse_count(flag, value, 1, 100'000'000);
    } else if (flag == "--dim") {
      o.dim = parse_count(flag, value, 1, 4096);
    } else if (flag == "--k") {
      o.k = parse_count(flag, value, 1, 100'000);
    } else if (flag == "--queries") {
      o.queries = parse_count(flag, value, 1, 10'000);
    } else if (flag == "--seed") {
      o.seed = parse_count(flag, value, 0, UINT64_MAX);
    } else {
      usage_error("unknown option '" + std::string(flag) + "'");
    }
  }
  if (o.items * o.dim > 2'000'000'000ull) {
    usage_error("--items x --dim must be at most 2e9 floats (8 GB)");
  }
  return o;
}

template <class F>
double median_ms(std::size_t repetitions, F&& f) {
  std::vector<double> times;
  for (std::size_t r = 0; r < repetitions; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f(r);
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2),
                   times.end());
  return times[times.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  namespace k = mlsd::kernels;
  using scored = k::scored_id<float>;

  std::printf("mlsd %s kernels demo: %zu items x %zu dims (fp32 %.0f MB), top-%zu, %zu queries\n",
              mlsd::version_string, o.items, o.dim,
              static_cast<double>(o.items * o.dim * sizeof(float)) / 1e6, o.k, o.queries);
  std::printf("instruction set: %s, int8 VNNI: %s\n\n", k::arch_name(),
              k::uses_vnni ? "yes" : "no");

  std::mt19937_64 rng(o.seed);
  std::normal_distribution<float> normal;
  std::vector<float> table(o.items * o.dim), queries(o.queries * o.dim);
  for (auto& x : table) {
    x = normal(rng);
  }
  for (auto& x : queries) {
    x = normal(rng);
  }
  const mlsd::matrix_view<const float> catalog(table.data(), o.items, o.dim);
  const auto query = [&](std::size_t q) { return queries.data() + (q % o.queries) * o.dim; };

  const k::int8_table catalog8(catalog);
  std::vector<k::int8_query> queries8;
  for (std::size_t q = 0; q < o.queries; ++q) {
    queries8.emplace_back(query(q), o.dim);
  }

  const std::size_t kk = std::min(o.k, o.items);
  std::vector<scored> exact(o.queries * kk), approx(kk), rescored(kk),
      shortlist(std::min(o.items, 4 * kk));
  volatile float sink = 0;
  // The memory-bandwidth floor: a plain streaming read of the same bytes (kernels::sum).
  const double floor_ms =
      median_ms(o.queries, [&](std::size_t) { sink = k::sum(table.data(), table.size()); });
  const double fp32_ms = median_ms(o.queries, [&](std::size_t q) {
    (void)k::top_k(catalog, query(q), std::span(exact).subspan(q * kk, kk));
  });
  double recall_int8 = 0, recall_rescored = 0;
  const double int8_ms = median_ms(
      o.queries, [&](std::size_t q) { (void)k::top_k(catalog8, queries8[q], std::span(approx)); });
  const double rescored_ms = median_ms(o.queries, [&](std::size_t q) {
    (void)k::top_k_rescored(catalog8, catalog, queries8[q], std::span(shortlist),
                            std::span(rescored));
  });
  for (std::size_t q = 0; q < o.queries; ++q) {
    std::set<std::size_t> truth;
    for (std::size_t i = 0; i < kk; ++i) {
      truth.insert(exact[q * kk + i].id);
    }
    (void)k::top_k(catalog8, queries8[q], std::span(approx));
    (void)k::top_k_rescored(catalog8, catalog, queries8[q], std::span(shortlist),
                            std::span(rescored));
    for (std::size_t i = 0; i < kk; ++i) {
      recall_int8 += static_cast<double>(truth.count(approx[i].id));
      recall_rescored += static_cast<double>(truth.count(rescored[i].id));
    }
  }
  const double denominator = static_cast<double>(o.queries * kk);

  const double bytes32 = static_cast<double>(table.size() * sizeof(float));
  std::printf("%-34s %10s %12s %10s %10s\n", "one query, median of runs", "ms", "vs floor", "GB/s",
              "recall@k");
  std::printf("%-34s %10.2f %12s %10.1f %10s\n", "floor: streaming read of fp32 table", floor_ms,
              "1.00x", bytes32 / floor_ms / 1e6, "-");
  std::printf("%-34s %10.2f %11.2fx %10.1f %10.3f\n", "mlsd fp32 exact top-k", fp32_ms,
              fp32_ms / floor_ms, bytes32 / fp32_ms / 1e6, 1.0);
  std::printf("%-34s %10.2f %11.2fx %10.1f %10.3f\n", "mlsd int8 top-k", int8_ms,
              int8_ms / floor_ms, static_cast<double>(catalog8.memory_bytes()) / int8_ms / 1e6,
              recall_int8 / denominator);
  std::printf("%-34s %10.2f %11.2fx %10s %10.3f\n", "mlsd int8 + fp32 rescoring (4k)", rescored_ms,
              rescored_ms / floor_ms, "-", recall_rescored / denominator);
  std::printf("\nint8 is %.2fx faster than fp32 (a quarter of the bytes).\n", fp32_ms / int8_ms);
  std::printf("query 0, exact top-%zu:", std::min<std::size_t>(kk, 5));
  for (std::size_t i = 0; i < std::min<std::size_t>(kk, 5); ++i) {
    std::printf(" #%zu (%.3f)", exact[i].id, static_cast<double>(exact[i].score));
  }
  std::printf("\n");
  return 0;
}
