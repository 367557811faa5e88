/// @file
/// What composing stages with `|` costs: an encode -> score -> top-k pipeline built from mlsd's
/// stages against the same work written by hand as one loop of kernel calls, in one run on the
/// same data. docs/benchmarks.md ("Pipeline overhead") shows the result; bench/pipeline_report.py
/// computes the ratios from `--benchmark_format=json`.
///
/// Benchmarks, each `<name>/<n>` with n the catalog size (d = 64, k = 10):
/// - `pipeline_overhead/composed`: `embedding_bag | score_catalog | keep_top_k`;
/// - `pipeline_overhead/hand_written`: the same three steps as direct kernel calls into buffers
///   the loop owns (what an engineer writes without mlsd's pipeline);
/// - `pipeline_overhead_fused/composed` and `.../hand_written`: the same with the fused retriever
///   (`embedding_bag | exact_retriever | truncate` against `kernels::top_k`).
/// Each iteration serves one request: a bag of 32 hashed feature ids, rotating over 64 requests.

#include <mlsd/core/matrix_view.hpp>
#include <mlsd/core/stage.hpp>
#include <mlsd/kernels/scores.hpp>
#include <mlsd/kernels/top_k.hpp>
#include <mlsd/model/embedding_bag.hpp>
#include <mlsd/serving/retrieval.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace {

namespace kn = mlsd::kernels;
constexpr std::size_t d = 64, k = 10, bag = 32, requests = 64, user_rows = 1 << 16;

struct fixture {
  explicit fixture(std::size_t n)
      : items(n * d)
      , users(user_rows * d)
      , ids(requests * bag) {
    std::mt19937_64 rng(20261121);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    for (float& x : items) {
      x = gauss(rng);
    }
    for (float& x : users) {
      x = gauss(rng);
    }
    for (std::uint64_t& id : ids) {
      id = rng(); // 64-bit hashes; the embedding bag takes them modulo its rows
    }
  }
  [[nodiscard]] mlsd::matrix_view<const float> item_view() const {
    return {items.data(), items.size() / d, d};
  }
  [[nodiscard]] mlsd::matrix_view<const float> user_view() const {
    return {users.data(), user_rows, d};
  }
  [[nodiscard]] std::span<const std::uint64_t> request(std::size_t r) const {
    return std::span<const std::uint64_t>(ids).subspan((r % requests) * bag, bag);
  }
  std::vector<float> items, users;
  std::vector<std::uint64_t> ids;
};

const fixture& data_for(std::size_t n) {
  static const fixture small(10'000), large(1'000'000);
  return n == 10'000 ? small : large;
}

// The embedding bag written out by hand, the way `model::embedding_bag` computes it.
void encode_by_hand(mlsd::matrix_view<const float> table, std::span<const std::uint64_t> ids,
                    float* out) {
  for (std::size_t j = 0; j < d; ++j) {
    out[j] = 0.0f;
  }
  for (const std::uint64_t id : ids) {
    const float* row = table.row(static_cast<std::size_t>(id % table.rows())).data();
    for (std::size_t j = 0; j < d; ++j) {
      out[j] += row[j];
    }
  }
  const float inverse = 1.0f / static_cast<float>(ids.size());
  for (std::size_t j = 0; j < d; ++j) {
    out[j] *= inverse;
  }
}

// Serves one request per iteration through a composed pipeline.
template <class Pipeline>
void serve_requests(benchmark::State& state, const fixture& f, Pipeline serve) {
  std::size_t r = 0;
  for (auto _ : state) {
    const auto best = serve(f.request(r++));
    benchmark::DoNotOptimize(best.data());
    benchmark::DoNotOptimize(best.size());
  }
  state.SetItemsProcessed(state.iterations());
}

void composed(benchmark::State& state) {
  const fixture& f = data_for(static_cast<std::size_t>(state.range(0)));
  serve_requests(state, f,
                 mlsd::model::embedding_bag(f.user_view()) |
                     mlsd::serving::score_catalog(f.item_view()) | mlsd::serving::keep_top_k(k));
}

void hand_written(benchmark::State& state) {
  const fixture& f = data_for(static_cast<std::size_t>(state.range(0)));
  const auto items = f.item_view();
  std::vector<float> query(d), scores(items.rows());
  std::vector<kn::scored_id<float>> best(k);
  std::size_t r = 0;
  for (auto _ : state) {
    encode_by_hand(f.user_view(), f.request(r++), query.data());
    kn::scores(items, query.data(), scores.data());
    const std::size_t found = kn::select_top_k(std::span<const float>(scores), std::span(best));
    benchmark::DoNotOptimize(best.data());
    benchmark::DoNotOptimize(found);
  }
  state.SetItemsProcessed(state.iterations());
}

void fused_composed(benchmark::State& state) {
  const fixture& f = data_for(static_cast<std::size_t>(state.range(0)));
  serve_requests(state, f,
                 mlsd::model::embedding_bag(f.user_view()) |
                     mlsd::serving::exact_retriever(f.item_view(), 100) |
                     mlsd::serving::truncate(k));
}

void fused_hand_written(benchmark::State& state) {
  const fixture& f = data_for(static_cast<std::size_t>(state.range(0)));
  const auto items = f.item_view();
  std::vector<float> query(d);
  std::vector<kn::scored_id<float>> shortlist(100);
  std::size_t r = 0;
  for (auto _ : state) {
    encode_by_hand(f.user_view(), f.request(r++), query.data());
    const std::size_t found = kn::top_k(items, query.data(), std::span(shortlist));
    const std::size_t shown = found < k ? found : k;
    benchmark::DoNotOptimize(shortlist.data());
    benchmark::DoNotOptimize(shown);
  }
  state.SetItemsProcessed(state.iterations());
}

} // namespace

BENCHMARK(composed)->Name("pipeline_overhead/composed")->Arg(10'000)->Arg(1'000'000);
BENCHMARK(hand_written)->Name("pipeline_overhead/hand_written")->Arg(10'000)->Arg(1'000'000);
BENCHMARK(fused_composed)->Name("pipeline_overhead_fused/composed")->Arg(10'000)->Arg(1'000'000);
BENCHMARK(fused_hand_written)
    ->Name("pipeline_overhead_fused/hand_written")
    ->Arg(10'000)
    ->Arg(1'000'000);

BENCHMARK_MAIN();
