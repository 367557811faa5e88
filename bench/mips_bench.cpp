/// @file
/// Exact maximum-inner-product top-10 over one million random embeddings: mlsd's fp32 and int8
/// kernels against a memory-bandwidth floor, hnswlib's brute-force index and FAISS's flat index,
/// in one run on the same data. docs/benchmarks.md explains the cases and how to reproduce them;
/// bench/mips_report.py turns the JSON output into its table and chart.
///
/// Every benchmark is named `<case>/<impl>/<n>/<d>`:
/// - `mips_top10`: one query per iteration, rotating over a pool of 16 fixed queries.
/// - `mips_top10_batch64`: 64 queries per iteration.
/// Counters: `recall_at_10` (mean over 64 queries, against an exact double-precision scan done
/// once, outside the timings), `shortlist` (int8 rescoring), `cpu_threads` (threads the
/// implementation may use; also in the label).

#include <mlsd/core/matrix_view.hpp>
#include <mlsd/kernels/arch.hpp>
#include <mlsd/kernels/dot.hpp>
#include <mlsd/kernels/int8.hpp>
#include <mlsd/kernels/parallel.hpp>
#include <mlsd/kernels/top_k.hpp>

#include <benchmark/benchmark.h>
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#ifndef MLSD_BENCH_HAVE_FAISS
#define MLSD_BENCH_HAVE_FAISS 0
#endif
#ifndef MLSD_BENCH_HAVE_HNSWLIB
#define MLSD_BENCH_HAVE_HNSWLIB 0
#endif
#ifndef MLSD_BENCH_FAISS_NOTE
#define MLSD_BENCH_FAISS_NOTE "not configured (build through bench/CMakeLists.txt)"
#endif
#ifndef MLSD_BENCH_HNSWLIB_NOTE
#define MLSD_BENCH_HNSWLIB_NOTE "not configured (build through bench/CMakeLists.txt)"
#endif

#if MLSD_BENCH_HAVE_FAISS
#include <faiss/IndexFlat.h>
#include <omp.h>
// OpenBLAS's own thread control (FAISS calls sgemm through it for batches of 20+ queries).
extern "C" {
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
char* openblas_get_config(void);
}
#endif
#if MLSD_BENCH_HAVE_HNSWLIB
#include <hnswlib/hnswlib.h>
#endif

namespace {

namespace kn = mlsd::kernels;
using hit = kn::scored_id<float>;

constexpr std::size_t k = 10;
constexpr std::size_t pool_size = 16;  // queries the one-query benchmarks rotate over
constexpr std::size_t batch_size = 64; // queries of the batch benchmarks; the pool is the first 16
constexpr std::int64_t n_rows = 1'000'000;
constexpr std::uint64_t seed = 20240611;

using id_list = std::array<std::size_t, k>;

/// A 64-byte aligned float buffer (rows of 64 or 128 floats then start on cache lines).
struct aligned_floats {
  struct release {
    void operator()(float* p) const noexcept { std::free(p); }
  };
  explicit aligned_floats(std::size_t count)
      : data(static_cast<float*>(std::aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64)))
      , size(count) {
    if (!data) {
      throw std::bad_alloc();
    }
  }
  std::unique_ptr<float[], release> data;
  std::size_t size;
};

/// Exact top-k ids of `m` queries by a double-precision scan, written independently of the kernels
/// under test. Vectorised across queries (no reassociation needed), so it takes about a second.
template <std::size_t M>
std::vector<id_list> exact_top_k(const float* table, std::size_t n, std::size_t d,
                                 const float* queries) {
  std::vector<double> qt(d * M); // transposed: qt[j * M + q]
  for (std::size_t q = 0; q < M; ++q) {
    for (std::size_t j = 0; j < d; ++j) {
      qt[j * M + q] = queries[q * d + j];
    }
  }
  struct entry {
    double score;
    std::size_t id;
  };
  // Worse entries compare greater, so the heap's front is the worst kept entry.
  const auto better = [](const entry& a, const entry& b) {
    return a.score > b.score || (a.score == b.score && a.id < b.id);
  };
  std::vector<std::vector<entry>> heaps(M);
  for (auto& h : heaps) {
    h.reserve(k + 1);
  }
  for (std::size_t i = 0; i < n; ++i) {
    double acc[M] = {};
    const float* row = table + i * d;
    for (std::size_t j = 0; j < d; ++j) {
      const double x = row[j];
      for (std::size_t q = 0; q < M; ++q) {
        acc[q] += x * qt[j * M + q];
      }
    }
    for (std::size_t q = 0; q < M; ++q) {
      auto& h = heaps[q];
      const entry e{acc[q], i};
      if (h.size() < k) {
        h.push_back(e);
        std::push_heap(h.begin(), h.end(), better);
      } else if (better(e, h.front())) {
        std::pop_heap(h.begin(), h.end(), better);
        h.back() = e;
        std::push_heap(h.begin(), h.end(), better);
      }
    }
  }
  std::vector<id_list> result(M);
  for (std::size_t q = 0; q < M; ++q) {
    std::sort_heap(heaps[q].begin(), heaps[q].end(), better);
    for (std::size_t r = 0; r < k; ++r) {
      result[q][r] = heaps[q][r].id;
    }
  }
  return result;
}

/// |found ∩ exact| / k.
double recall(const id_list& found, const id_list& exact) {
  std::size_t hits = 0;
  for (std::size_t id : found) {
    hits += static_cast<std::size_t>(std::find(exact.begin(), exact.end(), id) != exact.end());
  }
  return static_cast<double>(hits) / k;
}

/// The shared data of one dimension: table, queries and exact answers.
struct dataset {
  std::size_t n, d;
  aligned_floats table;
  aligned_floats queries; // batch_size × d; rows [0, pool_size) are the one-query pool
  std::vector<id_list> exact;

  dataset(std::size_t rows, std::size_t dim)
      : n(rows)
      , d(dim)
      , table(rows * dim)
      , queries(batch_size * dim) {
    std::mt19937_64 rng(seed + dim);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::generate_n(table.data.get(), table.size, [&] { return normal(rng); });
    std::generate_n(queries.data.get(), queries.size, [&] { return normal(rng); });
    exact = exact_top_k<batch_size>(table.data.get(), n, d, queries.data.get());
  }
  [[nodiscard]] mlsd::matrix_view<const float> view() const { return {table.data.get(), n, d}; }
  [[nodiscard]] mlsd::matrix_view<const float> query_view(std::size_t m) const {
    return {queries.data.get(), m, d};
  }
  [[nodiscard]] const float* query(std::size_t q) const { return queries.data.get() + q * d; }
};

/// Fixtures are built on first use and kept for the whole run (a benchmark function is called
/// once per repetition; only the first call pays). Keyed by d.
template <class T, class Make>
T& lazily(std::map<std::size_t, std::unique_ptr<T>>& cache, std::size_t d, Make make) {
  auto& slot = cache[d];
  if (!slot) {
    slot = make();
  }
  return *slot;
}

const dataset& data_for(const benchmark::State& state) {
  static std::map<std::size_t, std::unique_ptr<dataset>> cache;
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto d = static_cast<std::size_t>(state.range(1));
  return lazily(cache, d, [&] { return std::make_unique<dataset>(n, d); });
}

constexpr std::size_t no_id = static_cast<std::size_t>(-1);

id_list ids_of(std::span<const hit> hits) {
  id_list ids;
  ids.fill(no_id);
  for (std::size_t r = 0; r < std::min(k, hits.size()); ++r) {
    ids[r] = hits[r].id;
  }
  return ids;
}

/// Mean recall@10 of a one-query search over all `batch_size` queries (not only the 16 the timed
/// loop rotates over), computed once per (impl, d) before the first timing and memoised.
/// `search(q)` returns the ids found for query q.
template <class Search>
double one_query_recall(const std::string& impl, const dataset& data, Search search) {
  static std::map<std::pair<std::string, std::size_t>, double> cache;
  const auto [slot, fresh] = cache.try_emplace({impl, data.d}, 0.0);
  if (fresh) {
    double sum = 0;
    for (std::size_t q = 0; q < batch_size; ++q) {
      sum += recall(search(q), data.exact[q]);
    }
    slot->second = sum / batch_size;
  }
  return slot->second;
}

/// Mean recall@10 of the `batch_size` result rows of the last timed iteration of a batch search.
double batch_recall(const dataset& data, const std::vector<id_list>& found) {
  double sum = 0;
  for (std::size_t q = 0; q < batch_size; ++q) {
    sum += recall(found[q], data.exact[q]);
  }
  return sum / batch_size;
}

/// The same for results stored as `batch_size` rows of k hits, `counts[q]` valid in row q.
double batch_recall(const dataset& data, const std::vector<hit>& out,
                    std::span<const std::size_t, batch_size> counts) {
  std::vector<id_list> found(batch_size);
  for (std::size_t q = 0; q < batch_size; ++q) {
    found[q] = ids_of({out.data() + q * k, counts[q]});
  }
  return batch_recall(data, found);
}

void set_threads(benchmark::State& state, int threads, const std::string& note = "") {
  state.counters["cpu_threads"] = threads;
  state.SetLabel("threads=" + std::to_string(threads) + (note.empty() ? "" : " " + note));
}

// ---------------------------------------------------------------------------------------------
// floor: a streaming read of the same n·d floats, the memory-bandwidth bound of any exact scan.

/// The floor is `kernels::sum` over the table: four SIMD accumulators, nothing else per byte.
float stream_sum(const float* p, std::size_t count) noexcept {
  return kn::sum(p, count);
}

void bm_floor(benchmark::State& state) {
  const dataset& data = data_for(state);
  for (auto _ : state) {
    float s = stream_sum(data.table.data.get(), data.table.size);
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(data.table.size * sizeof(float)));
  set_threads(state, 1);
}

/// The floor for two cores: each of two threads streams half of the table. One core cannot keep
/// enough cache misses in flight to saturate the memory system, so this is lower than `floor`.
void bm_floor_2threads(benchmark::State& state) {
  const dataset& data = data_for(state);
  const std::size_t half = data.table.size / 2 / 64 * 64;
  for (auto _ : state) {
    float second = 0.0f;
    std::jthread helper(
        [&] { second = stream_sum(data.table.data.get() + half, data.table.size - half); });
    float first = stream_sum(data.table.data.get(), half);
    helper.join();
    benchmark::DoNotOptimize(first);
    benchmark::DoNotOptimize(second);
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(data.table.size * sizeof(float)));
  set_threads(state, 2);
}

// ---------------------------------------------------------------------------------------------
// mlsd fp32

void bm_mlsd_fp32(benchmark::State& state) {
  const dataset& data = data_for(state);
  std::array<hit, k> out{};
  const double recall_at_10 = one_query_recall("mlsd_fp32", data, [&](std::size_t q) {
    return ids_of({out.data(), kn::top_k(data.view(), data.query(q), std::span<hit>(out))});
  });
  std::size_t q = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(kn::top_k(data.view(), data.query(q), std::span<hit>(out)));
    benchmark::DoNotOptimize(out.data());
    q = (q + 1) % pool_size;
  }
  state.counters["recall_at_10"] = recall_at_10;
  set_threads(state, 1);
}

/// Ablation: `top_k`'s scan with the block prefetch turned off (kernels/scores.hpp explains it),
/// through the same internal `scan_rows`. Not a public API; here to show what the prefetch buys.
std::size_t top_k_without_prefetch(mlsd::matrix_view<const float> table, const float* query,
                                   std::span<hit> out) {
  kn::detail::top_k_heap<float> heap(out.data(), out.size());
  kn::detail::scan_rows<kn::default_arch, false>(table, query, 0, table.rows(), heap,
                                                 kn::no_filter{});
  return heap.finish();
}

void bm_mlsd_fp32_no_prefetch(benchmark::State& state) {
  const dataset& data = data_for(state);
  std::array<hit, k> out{};
  const double recall_at_10 = one_query_recall("mlsd_fp32_no_prefetch", data, [&](std::size_t q) {
    return ids_of({out.data(), top_k_without_prefetch(data.view(), data.query(q), out)});
  });
  std::size_t q = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(top_k_without_prefetch(data.view(), data.query(q), out));
    benchmark::DoNotOptimize(out.data());
    q = (q + 1) % pool_size;
  }
  state.counters["recall_at_10"] = recall_at_10;
  set_threads(state, 1);
}

void bm_mlsd_fp32_2threads(benchmark::State& state) {
  const dataset& data = data_for(state);
  std::array<hit, k> out{};
  const auto search = [&](std::size_t q) {
    return kn::top_k_parallel(data.view(), data.query(q), std::span<hit>(out), 2);
  };
  const double recall_at_10 = one_query_recall("mlsd_fp32_2threads", data, [&](std::size_t q) {
    return ids_of({out.data(), search(q)});
  });
  std::size_t q = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(search(q));
    benchmark::DoNotOptimize(out.data());
    q = (q + 1) % pool_size;
  }
  state.counters["recall_at_10"] = recall_at_10;
  set_threads(state, 2, "(kernels::top_k_parallel)");
}

void bm_mlsd_fp32_batch_2threads(benchmark::State& state) {
  const dataset& data = data_for(state);
  std::vector<hit> out(batch_size * k);
  std::array<std::size_t, batch_size> counts{};
  for (auto _ : state) {
    kn::top_k_batch_parallel(data.view(), data.query_view(batch_size),
                             mlsd::matrix_view<hit>(out.data(), batch_size, k), std::span(counts),
                             2);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["recall_at_10"] = batch_recall(data, out, counts);
  set_threads(state, 2, "(kernels::top_k_batch_parallel)");
}

/// The arithmetic ceiling of one core: independent FMAs on registers only, no memory traffic.
/// `fma_per_second` counts SIMD FMA instructions (W lanes each) per second.
void bm_fma_peak(benchmark::State& state) {
  using batch = xsimd::batch<float, kn::default_arch>;
  constexpr std::int64_t steps = 10'000'000;
  const batch x(1.0001f), y(0.9999f);
  for (auto _ : state) {
    // Twelve independent chains cover the FMA latency on two FMA ports.
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      batch acc[sizeof...(I)] = {batch(static_cast<float>(I))...};
      for (std::int64_t i = 0; i < steps; ++i) {
        ((acc[I] = xsimd::fma(acc[I], x, y)), ...);
      }
      float sum = xsimd::hadd((acc[I] + ...));
      benchmark::DoNotOptimize(sum);
    }
    (std::make_index_sequence<12>{});
  }
  state.counters["fma_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations() * steps * 12), benchmark::Counter::kIsRate);
  set_threads(state, 1);
}

void bm_mlsd_fp32_batch(benchmark::State& state) {
  const dataset& data = data_for(state);
  std::vector<hit> out(batch_size * k);
  std::array<std::size_t, batch_size> counts{};
  for (auto _ : state) {
    kn::top_k_batch(data.view(), data.query_view(batch_size),
                    mlsd::matrix_view<hit>(out.data(), batch_size, k), std::span(counts));
    benchmark::DoNotOptimize(out.data());
  }
  // SIMD FMA instructions the batch needs at the least: 64 · n · d multiply-adds, W per FMA.
  state.counters["fma_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * batch_size * static_cast<double>(data.n) *
          static_cast<double>(data.d) / xsimd::batch<float, kn::default_arch>::size,
      benchmark::Counter::kIsRate);
  state.counters["recall_at_10"] = batch_recall(data, out, counts);
  set_threads(state, 1);
}

// ---------------------------------------------------------------------------------------------
// mlsd int8

struct int8_fixture {
  kn::int8_table table;
  std::size_t shortlist = 0; // rescoring shortlist length chosen on the queries
  // Recall@10 of an exact fp32 scan over the dequantised int8 table with the unquantised query:
  // what the table's 8-bit rows alone cost, separated from the query's quantisation.
  double recall_fp32_query = 0;
};

int8_fixture& int8_for(const benchmark::State& state) {
  static std::map<std::size_t, std::unique_ptr<int8_fixture>> cache;
  const dataset& data = data_for(state);
  return lazily(cache, data.d, [&] {
    auto f = std::make_unique<int8_fixture>();
    f->table = kn::int8_table(data.view());
    {
      std::vector<float> dequantised(data.n * data.d);
      for (std::size_t i = 0; i < data.n; ++i) {
        for (std::size_t j = 0; j < data.d; ++j) {
          dequantised[i * data.d + j] =
              static_cast<float>(f->table.row(i)[j]) * f->table.scales()[i];
        }
      }
      const mlsd::matrix_view<const float> view(dequantised.data(), data.n, data.d);
      std::array<hit, k> out{};
      double sum = 0;
      for (std::size_t q = 0; q < batch_size; ++q) {
        sum += recall(ids_of({out.data(), kn::top_k(view, data.query(q), std::span<hit>(out))}),
                      data.exact[q]);
      }
      f->recall_fp32_query = sum / batch_size;
    }
    // The smallest of {2k, 4k, 8k} whose rescored results are exact on every query (8k if none).
    for (std::size_t length : {2 * k, 4 * k, 8 * k}) {
      std::vector<hit> shortlist(length);
      std::array<hit, k> out{};
      f->shortlist = length;
      bool exact = true;
      for (std::size_t q = 0; q < batch_size && exact; ++q) {
        const std::size_t count =
            kn::top_k_rescored(f->table, data.view(), kn::int8_query(data.query(q), data.d),
                               std::span(shortlist), std::span<hit>(out));
        exact = recall(ids_of({out.data(), count}), data.exact[q]) == 1.0;
      }
      if (exact) {
        break;
      }
    }
    return f;
  });
}

void bm_mlsd_int8(benchmark::State& state) {
  const dataset& data = data_for(state);
  const int8_fixture& fixture = int8_for(state);
  std::array<hit, k> out{};
  // The query is quantised inside the timed loop: a service has to do it for every request.
  const auto search = [&](std::size_t q) {
    const kn::int8_query query(data.query(q), data.d);
    return kn::top_k(fixture.table, query, std::span<hit>(out));
  };
  const double recall_at_10 = one_query_recall("mlsd_int8", data, [&](std::size_t q) {
    return ids_of({out.data(), search(q)});
  });
  std::size_t q = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(search(q));
    benchmark::DoNotOptimize(out.data());
    q = (q + 1) % pool_size;
  }
  state.counters["recall_at_10"] = recall_at_10;
  state.counters["recall_at_10_fp32_query"] = fixture.recall_fp32_query;
  set_threads(state, 1);
}

void bm_mlsd_int8_rescored(benchmark::State& state) {
  const dataset& data = data_for(state);
  const int8_fixture& fixture = int8_for(state);
  std::vector<hit> shortlist(fixture.shortlist);
  std::array<hit, k> out{};
  const auto search = [&](std::size_t q) {
    const kn::int8_query query(data.query(q), data.d);
    return kn::top_k_rescored(fixture.table, data.view(), query, std::span(shortlist),
                              std::span<hit>(out));
  };
  const double recall_at_10 = one_query_recall("mlsd_int8_rescored", data, [&](std::size_t q) {
    return ids_of({out.data(), search(q)});
  });
  std::size_t q = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(search(q));
    benchmark::DoNotOptimize(out.data());
    q = (q + 1) % pool_size;
  }
  state.counters["recall_at_10"] = recall_at_10;
  state.counters["shortlist"] = static_cast<double>(fixture.shortlist);
  set_threads(state, 1);
}

// The 64 queries are quantised inside the timed loop, as for one query.
std::vector<kn::int8_query> quantise_batch(const dataset& data) {
  std::vector<kn::int8_query> queries;
  queries.reserve(batch_size);
  for (std::size_t q = 0; q < batch_size; ++q) {
    queries.emplace_back(data.query(q), data.d);
  }
  return queries;
}

void bm_mlsd_int8_batch(benchmark::State& state) {
  const dataset& data = data_for(state);
  const int8_fixture& fixture = int8_for(state);
  std::vector<hit> out(batch_size * k);
  std::array<std::size_t, batch_size> counts{};
  for (auto _ : state) {
    const std::vector<kn::int8_query> queries = quantise_batch(data);
    kn::top_k_batch(fixture.table, std::span<const kn::int8_query>(queries),
                    mlsd::matrix_view<hit>(out.data(), batch_size, k), std::span(counts));
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["recall_at_10"] = batch_recall(data, out, counts);
  set_threads(state, 1);
}

void bm_mlsd_int8_rescored_batch(benchmark::State& state) {
  const dataset& data = data_for(state);
  const int8_fixture& fixture = int8_for(state);
  std::vector<hit> shortlist(batch_size * fixture.shortlist), out(batch_size * k);
  std::array<std::size_t, batch_size> counts{};
  for (auto _ : state) {
    const std::vector<kn::int8_query> queries = quantise_batch(data);
    kn::top_k_batch_rescored(
        fixture.table, data.view(), std::span<const kn::int8_query>(queries),
        mlsd::matrix_view<hit>(shortlist.data(), batch_size, fixture.shortlist),
        mlsd::matrix_view<hit>(out.data(), batch_size, k), std::span(counts));
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["recall_at_10"] = batch_recall(data, out, counts);
  state.counters["shortlist"] = static_cast<double>(fixture.shortlist);
  set_threads(state, 1);
}

// ---------------------------------------------------------------------------------------------
// hnswlib: BruteforceSearch over InnerProductSpace, its exact index.

#if MLSD_BENCH_HAVE_HNSWLIB
struct hnswlib_fixture {
  hnswlib::InnerProductSpace space;
  hnswlib::BruteforceSearch<float> index;
  explicit hnswlib_fixture(const dataset& data)
      : space(data.d)
      , index(&space, data.n) {
    for (std::size_t i = 0; i < data.n; ++i) {
      index.addPoint(data.table.data.get() + i * data.d, i);
    }
  }
};

hnswlib_fixture& hnswlib_for(const benchmark::State& state) {
  static std::map<std::size_t, std::unique_ptr<hnswlib_fixture>> cache;
  const dataset& data = data_for(state);
  return lazily(cache, data.d, [&] { return std::make_unique<hnswlib_fixture>(data); });
}

/// searchKnn returns a max-heap on distance (1 - inner product): the worst result on top.
id_list drain(std::priority_queue<std::pair<float, hnswlib::labeltype>> results) {
  id_list ids;
  ids.fill(no_id);
  for (std::size_t r = results.size(); r-- > 0;) {
    if (r < k) {
      ids[r] = results.top().second;
    }
    results.pop();
  }
  return ids;
}

void bm_hnswlib(benchmark::State& state) {
  const dataset& data = data_for(state);
  const hnswlib_fixture& fixture = hnswlib_for(state);
  // Reading the results out of the priority queue is part of using hnswlib, so it is timed.
  const auto search = [&](std::size_t q) {
    return drain(fixture.index.searchKnn(data.query(q), k));
  };
  const double recall_at_10 = one_query_recall("hnswlib", data, search);
  std::size_t q = 0;
  for (auto _ : state) {
    auto ids = search(q);
    benchmark::DoNotOptimize(ids);
    q = (q + 1) % pool_size;
  }
  state.counters["recall_at_10"] = recall_at_10;
  set_threads(state, 1);
}

void bm_hnswlib_batch(benchmark::State& state) {
  const dataset& data = data_for(state);
  const hnswlib_fixture& fixture = hnswlib_for(state);
  std::vector<id_list> found(batch_size);
  for (auto _ : state) {
    for (std::size_t q = 0; q < batch_size; ++q) {
      found[q] = drain(fixture.index.searchKnn(data.query(q), k));
    }
    benchmark::DoNotOptimize(found.data());
  }
  state.counters["recall_at_10"] = batch_recall(data, found);
  set_threads(state, 1);
}
#endif

// ---------------------------------------------------------------------------------------------
// FAISS: IndexFlatIP, its exact inner-product index.

#if MLSD_BENCH_HAVE_FAISS
using faiss_idx = faiss::Index::idx_t;

faiss::IndexFlatIP& faiss_for(const benchmark::State& state) {
  static std::map<std::size_t, std::unique_ptr<faiss::IndexFlatIP>> cache;
  const dataset& data = data_for(state);
  return lazily(cache, data.d, [&] {
    auto index = std::make_unique<faiss::IndexFlatIP>(static_cast<faiss_idx>(data.d));
    index->add(static_cast<faiss_idx>(data.n), data.table.data.get());
    return index;
  });
}

/// Restricts OpenMP and OpenBLAS to one thread for its lifetime, then restores both.
class single_thread_scope {
public:
  single_thread_scope() noexcept
      : omp_(omp_get_max_threads())
      , blas_(openblas_get_num_threads()) {
    omp_set_num_threads(1);
    openblas_set_num_threads(1);
  }
  ~single_thread_scope() {
    omp_set_num_threads(omp_);
    openblas_set_num_threads(blas_);
  }
  single_thread_scope(const single_thread_scope&) = delete;
  single_thread_scope& operator=(const single_thread_scope&) = delete;

private:
  int omp_, blas_;
};

int faiss_default_threads() {
  return std::max(omp_get_max_threads(), openblas_get_num_threads());
}

/// `m` queries per search call: 1 (rotating over the pool) or `batch_size`.
template <bool OneThread>
void bm_faiss(benchmark::State& state, std::size_t m) {
  const dataset& data = data_for(state);
  const faiss::IndexFlatIP& index = faiss_for(state);
  std::vector<float> distances(m * k);
  std::vector<faiss_idx> labels(m * k);
  const auto search = [&](std::size_t first) {
    index.search(static_cast<faiss_idx>(m), data.query(first), static_cast<faiss_idx>(k),
                 distances.data(), labels.data());
  };
  const auto ids_of_row = [&](std::size_t r) {
    id_list ids;
    for (std::size_t c = 0; c < k; ++c) {
      ids[c] = labels[r * k + c] < 0 ? no_id : static_cast<std::size_t>(labels[r * k + c]);
    }
    return ids;
  };
  double recall_at_10 = 0;
  if (m == 1) {
    recall_at_10 = one_query_recall("faiss", data, [&](std::size_t q) {
      search(q);
      return ids_of_row(0);
    });
  }
  const int threads = OneThread ? 1 : faiss_default_threads();
  {
    std::optional<single_thread_scope> scope;
    if constexpr (OneThread) {
      scope.emplace();
    }
    std::size_t q = 0;
    for (auto _ : state) {
      search(q);
      benchmark::DoNotOptimize(labels.data());
      if (m == 1) {
        q = (q + 1) % pool_size;
      }
    }
  }
  if (m != 1) {
    std::vector<id_list> found(batch_size);
    for (std::size_t r = 0; r < batch_size; ++r) {
      found[r] = ids_of_row(r);
    }
    recall_at_10 = batch_recall(data, found);
  }
  state.counters["recall_at_10"] = recall_at_10;
  set_threads(state, threads,
              OneThread ? "(omp_set_num_threads(1), openblas_set_num_threads(1))"
                        : "(default OpenMP and OpenBLAS threads)");
}
#endif

void add_custom_context() {
  benchmark::AddCustomContext("mlsd_version", mlsd::version_string);
  benchmark::AddCustomContext("mlsd_arch", kn::arch_name());
  benchmark::AddCustomContext("mlsd_int8_vnni", kn::uses_vnni ? "yes" : "no");
  benchmark::AddCustomContext("compiler", "g++ " __VERSION__);
#if MLSD_BENCH_HAVE_FAISS
  benchmark::AddCustomContext("faiss", std::to_string(FAISS_VERSION_MAJOR) + "." +
                                           std::to_string(FAISS_VERSION_MINOR) + "." +
                                           std::to_string(FAISS_VERSION_PATCH));
  benchmark::AddCustomContext("faiss_default_threads", std::to_string(faiss_default_threads()));
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  benchmark::AddCustomContext("omp_wait_policy", wait_policy ? wait_policy : "unset");
#else
  benchmark::AddCustomContext("faiss", std::string("left out: ") + MLSD_BENCH_FAISS_NOTE);
#endif
#if MLSD_BENCH_HAVE_HNSWLIB
  benchmark::AddCustomContext("hnswlib", "BruteforceSearch + InnerProductSpace");
#else
  benchmark::AddCustomContext("hnswlib", std::string("left out: ") + MLSD_BENCH_HNSWLIB_NOTE);
#endif
}

void report_peers() {
#if !MLSD_BENCH_HAVE_FAISS
  std::fprintf(stderr, "mips_bench: FAISS left out: %s\n", MLSD_BENCH_FAISS_NOTE);
#endif
#if !MLSD_BENCH_HAVE_HNSWLIB
  std::fprintf(stderr, "mips_bench: hnswlib left out: %s\n", MLSD_BENCH_HNSWLIB_NOTE);
#endif
#if MLSD_BENCH_HAVE_FAISS && MLSD_BENCH_HAVE_HNSWLIB
  std::fprintf(stderr, "mips_bench: comparing against FAISS and hnswlib\n");
#endif
#if MLSD_BENCH_HAVE_FAISS
  // FAISS's troubleshooting guide ("Slow brute-force search with OpenBLAS") asks for this:
  // OpenMP threads spinning after a parallel region starve OpenBLAS's own threads.
  if (!std::getenv("OMP_WAIT_POLICY")) {
    std::fprintf(stderr, "mips_bench: OMP_WAIT_POLICY is unset; FAISS recommends "
                         "OMP_WAIT_POLICY=PASSIVE with OpenBLAS (see docs/benchmarks.md)\n");
  }
#endif
}

template <class Fn>
void add(const std::string& name, Fn&& fn, double min_time) {
  benchmark::RegisterBenchmark(name.c_str(), std::forward<Fn>(fn))
      ->Args({n_rows, 64})
      ->Args({n_rows, 128})
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond)
      ->MinTime(min_time)
      ->Repetitions(5)
      ->ReportAggregatesOnly(true);
}

void register_benchmarks() {
  benchmark::RegisterBenchmark("fma_peak", bm_fma_peak)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond)
      ->Repetitions(5)
      ->ReportAggregatesOnly(true);
  // One query: 20-150 ms per iteration, so 0.3 s gives several iterations per repetition.
  const std::string one = "mips_top10/";
  add(one + "floor", bm_floor, 0.3);
  add(one + "floor_2threads", bm_floor_2threads, 0.3);
  add(one + "mlsd_fp32", bm_mlsd_fp32, 0.3);
  add(one + "mlsd_fp32_no_prefetch", bm_mlsd_fp32_no_prefetch, 0.3);
  add(one + "mlsd_fp32_2threads", bm_mlsd_fp32_2threads, 0.3);
  add(one + "mlsd_int8", bm_mlsd_int8, 0.3);
  add(one + "mlsd_int8_rescored", bm_mlsd_int8_rescored, 0.3);
#if MLSD_BENCH_HAVE_HNSWLIB
  add(one + "hnswlib", bm_hnswlib, 0.3);
#endif
#if MLSD_BENCH_HAVE_FAISS
  add(
      one + "faiss", [](benchmark::State& s) { bm_faiss<false>(s, 1); }, 0.3);
  add(
      one + "faiss_1thread", [](benchmark::State& s) { bm_faiss<true>(s, 1); }, 0.3);
#endif
  // 64 queries: the slow peers take seconds per iteration; one iteration per repetition is enough.
  const std::string batch = "mips_top10_batch64/";
  add(batch + "floor", bm_floor, 0.3);
  add(batch + "floor_2threads", bm_floor_2threads, 0.3);
  add(batch + "mlsd_fp32", bm_mlsd_fp32_batch, 0.3);
  add(batch + "mlsd_fp32_2threads", bm_mlsd_fp32_batch_2threads, 0.3);
  add(batch + "mlsd_int8", bm_mlsd_int8_batch, 0.3);
  add(batch + "mlsd_int8_rescored", bm_mlsd_int8_rescored_batch, 0.3);
#if MLSD_BENCH_HAVE_HNSWLIB
  add(batch + "hnswlib", bm_hnswlib_batch, 0.3);
#endif
#if MLSD_BENCH_HAVE_FAISS
  add(
      batch + "faiss", [](benchmark::State& s) { bm_faiss<false>(s, batch_size); }, 0.3);
  add(
      batch + "faiss_1thread", [](benchmark::State& s) { bm_faiss<true>(s, batch_size); }, 0.3);
#endif
}

} // namespace

int main(int argc, char** argv) {
  report_peers();
  add_custom_context();
  register_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
