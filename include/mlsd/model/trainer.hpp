/// @file
/// The one training loop of the sparse models (logistic regression, FM, FFM): epochs of
/// per-example SGD over an in-memory CSR batch, shuffled per epoch, on one or several threads,
/// with a learning-rate schedule, early stopping on a validation loss or metric and progress
/// reports.
///
/// ```cpp
/// mlsd::model::train_options options;
/// options.epochs = 20;
/// options.threads = 2;                      // deterministic: same seed -> same model, bit for bit
/// options.stopping = {.patience = 2};       // keep the best epoch's model
/// const auto summary = mlsd::model::train(model, train_rows, &valid_rows, options);
/// ```
///
/// - **Warm start**: calling `train` again on a trained model continues from its parameters (the
///   schedule starts again at epoch 0).
/// - **Online learning**: call `model.update(x, label)` (or `learn`) for each arriving example;
///   the trainer is for passes over data held in memory.
///
/// Hooks a model may provide (detected, not required): `feature_count()` (every feature index of
/// the data must be below it) and `field_count()` (every field must be below it, and the rows must
/// carry fields). The trainer checks the whole data set against them once, before training, and
/// throws `mlsd::input_error` naming the first bad row, so that the models' hot loops only
/// `assert` their preconditions.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/prefetch.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/random.hpp>
#include <mlsd/model/loss.hpp>
#include <mlsd/model/training.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace model {

/// The order in which an epoch visits rows `0 .. order.size()-1`, written into `order`: a
/// Fisher-Yates shuffle driven by SplitMix64 seeded with `hash(seed, epoch)`
/// (data/detail/random.hpp), the same on every platform and standard library. O(n), no
/// allocation (the trainer reuses one buffer for every epoch).
inline void shuffled_order(std::span<std::size_t> order, std::uint64_t seed,
                           std::size_t epoch) noexcept {
  std::iota(order.begin(), order.end(), std::size_t{0});
  data::detail::splitmix64 rng(data::detail::splitmix64::hash(seed, epoch));
  for (std::size_t i = order.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(rng.below(i));
    std::swap(order[i - 1], order[j]);
  }
}

/// The same order as a new vector of `n` row numbers.
[[nodiscard]] inline std::vector<std::size_t> shuffled_order(std::size_t n, std::uint64_t seed,
                                                             std::size_t epoch) {
  std::vector<std::size_t> order(n);
  shuffled_order(std::span<std::size_t>(order), seed, epoch);
  return order;
}

/// The mean loss of `model` over `data` (`loss_value(model.loss(), model.margin(x), x.label)`,
/// summed in row order in double): the validation loss the trainer reports. 0 for no rows.
/// Thread-safe when `margin` is. O(nnz of data · cost of margin).
template <sgd_model M>
[[nodiscard]] double mean_loss(const M& model, const sparse_batch& data) {
  if (data.empty()) {
    return 0.0;
  }
  const loss_function loss = model.loss();
  double sum = 0.0;
  for (std::size_t r = 0; r < data.size(); ++r) {
    const sparse_row_view x = data.row(r);
    sum += static_cast<double>(loss_value(loss, model.margin(x), x.label));
  }
  return sum / static_cast<double>(data.size());
}

namespace detail {

// What the trainer measures on the validation set after an epoch.
struct validation_figures {
  double loss = 0.0;
  std::optional<double> metric;
};

// The mean loss of `model` over `valid` (the same sum, in the same order, as `mean_loss`) and,
// when `metric` is set, its figure of the predictions (`predict_from_margin` of each margin, which
// is `model(x)`), both from one pass over the rows; `scratch` holds the predictions and labels.
template <sgd_model M>
validation_figures validate(const M& model, const sparse_batch& valid,
                            const validation_metric& metric, metric_scratch& scratch) {
  if (!metric) {
    return {mean_loss(model, valid), std::nullopt};
  }
  const loss_function loss = model.loss();
  scratch.predictions.resize(valid.size());
  double sum = 0.0;
  for (std::size_t r = 0; r < valid.size(); ++r) {
    const sparse_row_view x = valid.row(r);
    const float z = model.margin(x);
    sum += static_cast<double>(loss_value(loss, z, x.label));
    scratch.predictions[r] = predict_from_margin(loss, z);
  }
  return {sum / static_cast<double>(valid.size()),
          evaluate_metric(metric, loss, scratch, valid.labels())};
}

template <class M>
concept has_feature_count = requires(const M& m) {
  { m.feature_count() } -> std::convertible_to<std::size_t>;
};
template <class M>
concept has_field_count = requires(const M& m) {
  { m.field_count() } -> std::convertible_to<std::size_t>;
};

// True when no value is an infinity or a NaN. Branch-free bit test so that the whole pass over a
// Criteo-sized batch vectorises (it runs before every training call).
[[nodiscard]] inline bool all_finite(std::span<const float> values) noexcept {
  std::uint32_t bad = 0;
  for (const float v : values) {
    bad |=
        static_cast<std::uint32_t>((std::bit_cast<std::uint32_t>(v) & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}

[[nodiscard]] inline std::uint32_t max_of(std::span<const std::uint32_t> v) noexcept {
  std::uint32_t m = 0;
  for (const std::uint32_t x : v) {
    m = std::max(m, x);
  }
  return m;
}

[[nodiscard]] inline bool finite(float v) noexcept {
  return (std::bit_cast<std::uint32_t>(v) & 0x7f800000u) != 0x7f800000u;
}

// Checks every label and value is finite, every index below `features` and every field below
// `fields` (when given); throws input_error naming `set` and the row (counted from 1) otherwise.
// O(nnz), one vectorised pass; the per-row search runs only when something is wrong.
inline void check_examples(const sparse_batch& data, std::string_view set,
                           std::optional<std::size_t> features, std::optional<std::size_t> fields) {
  const bool indices_ok = !features || data.nnz() == 0 || max_of(data.indices()) < *features;
  const bool fields_needed = fields && data.nnz() > 0;
  if (fields_needed && !data.has_fields()) {
    throw input_error({std::string(set), 0, 0, "fields"},
                      "rows with fields (libffm's field:index:value), as the model is field-aware",
                      "rows without fields");
  }
  const bool fields_ok = !fields_needed || max_of(data.fields()) < *fields;
  if (indices_ok && fields_ok && all_finite(data.labels()) && all_finite(data.values())) {
    return;
  }
  for (std::size_t r = 0; r < data.size(); ++r) {
    const sparse_row_view x = data.row(r);
    const input_position where_label(std::string(set), r + 1, 0, "label");
    if (!finite(x.label)) {
      throw input_error(where_label, "a finite label", std::to_string(x.label));
    }
    for (std::size_t i = 0; i < x.nnz(); ++i) {
      if (features && x.indices[i] >= *features) {
        std::string expected = "a feature index below ";
        expected += std::to_string(*features);
        expected += " (the model's feature count)";
        throw input_error({std::string(set), r + 1, 0, "index"}, std::move(expected),
                          std::to_string(x.indices[i]));
      }
      if (fields && x.fields[i] >= *fields) {
        std::string expected = "a field below ";
        expected += std::to_string(*fields);
        expected += " (the model's field count)";
        throw input_error({std::string(set), r + 1, 0, "field"}, std::move(expected),
                          std::to_string(x.fields[i]));
      }
      if (!finite(x.values[i])) {
        throw input_error({std::string(set), r + 1, 0, "value"}, "a finite feature value",
                          std::to_string(x.values[i]));
      }
    }
  }
}

template <class M>
void check_examples(const M& model, const sparse_batch& data, std::string_view set) {
  std::optional<std::size_t> features, fields;
  if constexpr (has_feature_count<M>) {
    features = static_cast<std::size_t>(model.feature_count());
  }
  if constexpr (has_field_count<M>) {
    fields = static_cast<std::size_t>(model.field_count());
  }
  check_examples(data, set, features, fields);
}

// What one thread has done in the current epoch, published after each mini-batch so that the
// reporting thread can sum it. One cache line each: threads do not share lines.
struct alignas(64) shard_progress {
  std::atomic<std::size_t> done{0};
  std::atomic<double> loss_sum{0.0};
};

// A model that can ask the cache for the parameter rows an example will touch (FM, FFM).
template <class M>
concept prefetching_model = requires(const M& m, sparse_row_view x) {
  m.prefetch(x);
};

// Issues a read prefetch for every cache line of `[p, p + count)`.
template <class T>
inline void prefetch_span(const T* p, std::size_t count) noexcept {
  const char* b = reinterpret_cast<const char*>(p);
  const char* e = reinterpret_cast<const char*>(p + count);
  for (const char* line = b; line < e; line += 64) {
    mlsd::detail::prefetch(line);
  }
}

// Learns rows `order[b, e)` of `data` in that order and returns the sum of their losses. In a
// shuffled order every row is a cache miss (its offsets, then its indices and values), and so
// are the model rows it touches; the loop hides that latency in three stages, each
// `row_prefetch_distance` rows apart: the offsets of row i + 3d, then the entries of row i + 2d,
// then (for models with `prefetch`) the parameters of row i + d. Results are unchanged: prefetches
// only move data into the cache. On the synthetic click log this makes a shuffled FM epoch about
// as fast as one in file order (bench/train_bench --no-shuffle).
inline constexpr std::size_t row_prefetch_distance = 2;

// The row map of plain training: every row as the data holds it, learnt by the model itself.
struct same_rows {
  static sparse_row_view prepare(sparse_row_view x, std::size_t) noexcept { return x; }
  static sparse_row_view get(sparse_row_view x, std::size_t) noexcept { return x; }
  template <class M>
  static float learn(M& m, sparse_row_view x, float rate_multiplier) {
    return m.learn(x, x.label, rate_multiplier);
  }
  static void sync() noexcept {}
};

template <class M, class RowMap = same_rows>
double learn_rows(M& m, const sparse_batch& data, std::span<const std::size_t> order, std::size_t b,
                  std::size_t e, float rate_multiplier, RowMap&& rows = {}) {
  constexpr std::size_t d = row_prefetch_distance;
  const std::size_t n = order.size();
  const std::span<const std::size_t> offsets = data.offsets();
  const bool fields = data.has_fields();
  double loss_sum = 0.0;
  for (std::size_t i = b; i < e; ++i) {
    if (i + 3 * d < n) {
      prefetch_span(offsets.data() + order[i + 3 * d], 2);
      prefetch_span(data.labels().data() + order[i + 3 * d], 1);
    }
    if (i + 2 * d < n) {
      const std::size_t r = order[i + 2 * d];
      const std::size_t first = offsets[r], count = offsets[r + 1] - first;
      prefetch_span(data.indices().data() + first, count);
      prefetch_span(data.values().data() + first, count);
      if (fields) {
        prefetch_span(data.fields().data() + first, count);
      }
    }
    if constexpr (prefetching_model<M>) {
      if (i + d < n) {
        m.prefetch(rows.prepare(data.row(order[i + d]), i + d));
      }
    }
    const sparse_row_view x = rows.get(data.row(order[i]), i);
    loss_sum += static_cast<double>(rows.learn(m, x, rate_multiplier));
  }
  return loss_sum;
}

// Trains `m` on rows `order` of `data` in mini-batches, then publishes the progress and calls
// `after_batch()`. Stops before a batch when `stop` is set.
template <class M, class AfterBatch>
void train_shard(M& m, const sparse_batch& data, std::span<const std::size_t> order,
                 float rate_multiplier, std::size_t batch_size, shard_progress& progress,
                 const std::atomic<bool>& stop, AfterBatch&& after_batch) {
  double loss_sum = 0.0;
  for (std::size_t b = 0; b < order.size(); b += batch_size) {
    if (stop.load(std::memory_order_relaxed)) {
      return;
    }
    const std::size_t e = std::min(order.size(), b + batch_size);
    loss_sum += learn_rows(m, data, order, b, e, rate_multiplier);
    progress.loss_sum.store(loss_sum, std::memory_order_relaxed);
    progress.done.store(e, std::memory_order_relaxed);
    after_batch();
  }
}

// A model whose trainable state is one row of floats per feature and that can address scratch
// rows after the last feature's (FM, FFM): Hogwild gives each thread private copies of the
// hottest rows there.
template <class M>
concept scratch_row_model = requires(M& m, std::size_t j) {
  { m.feature_count() } -> std::convertible_to<std::size_t>;
  { m.feature_row(j) } -> std::same_as<std::span<float>>;
  m.set_scratch_rows(j);
};

// Removes a model's scratch rows when the epoch ends, also by an exception.
template <class M>
struct scratch_rows_release {
  M* model = nullptr;
  scratch_rows_release() = default;
  scratch_rows_release(const scratch_rows_release&) = delete;
  scratch_rows_release& operator=(const scratch_rows_release&) = delete;
  ~scratch_rows_release() {
    if constexpr (scratch_row_model<M>) {
      if (model != nullptr) {
        model->set_scratch_rows(0); // shrinking: no allocation, cannot throw
      }
    }
  }
};

// The features that every Hogwild thread keeps a private row for: those expected at least
// `min_per_batch` times in a mini-batch (counted on at most `sample_rows` rows spread over the
// data), most frequent first, as many as `budget_bytes` of rows allow. Feature `features[s]` is
// slot s.
//
// Why 16 per mini-batch: a private row saves a cache-line transfer between cores each time the
// other thread wrote the row since this one last did (nearly every time, for a row both use
// often), and costs about one transfer per mini-batch (the merge); below a few uses per batch it
// stops paying (on the synthetic click log, 1 and 16 per batch gave the same speed within noise,
// and 16 keeps the merge short). The lookup is one load from a direct-mapped table and no branch
// (a branch per feature, taken at random, cost as much as the contention it saved): a hot feature
// whose bucket a more frequent one holds stays shared.
struct hot_features {
  static constexpr std::size_t sample_rows = std::size_t{1} << 14;
  static constexpr std::size_t min_per_batch = 16;
  static constexpr std::uint32_t empty = std::numeric_limits<std::uint32_t>::max();

  std::vector<std::uint32_t> features;
  std::vector<std::uint32_t> keys;  // the feature in bucket b, or `empty`
  std::vector<std::uint32_t> slots; // its slot
  unsigned shift = 32;              // bucket(j) = (j · φ mod 2^32) >> shift
  std::size_t max_nnz = 0;          // the longest row of the data

  hot_features(const sparse_batch& data, std::size_t row_bytes, std::size_t budget_bytes,
               std::size_t batch_size) {
    const std::size_t n = data.size();
    const std::span<const std::size_t> offsets = data.offsets();
    for (std::size_t r = 0; r < n; ++r) {
      max_nnz = std::max(max_nnz, offsets[r + 1] - offsets[r]);
    }
    const std::size_t capacity = row_bytes == 0 ? 0 : budget_bytes / row_bytes;
    if (capacity == 0 || n == 0) {
      return;
    }
    const std::size_t step = std::max<std::size_t>(1, n / sample_rows);
    // The sampled indices, sorted: equal features are adjacent (no table of feature_count
    // counters, which for a 2^28-bucket model would be a GiB).
    std::vector<std::uint32_t> seen;
    std::size_t sampled = 0;
    for (std::size_t r = 0; r < n; r += step, ++sampled) {
      const std::span<const std::uint32_t> indices = data.row(r).indices;
      seen.insert(seen.end(), indices.begin(), indices.end());
    }
    std::sort(seen.begin(), seen.end());
    // Hot: count / sampled · batch_size >= min_per_batch; most frequent first, ties by index.
    std::vector<std::pair<std::size_t, std::uint32_t>> candidates; // (count, feature)
    for (std::size_t i = 0; i < seen.size();) {
      std::size_t e = i;
      while (e < seen.size() && seen[e] == seen[i]) {
        ++e;
      }
      if ((e - i) * batch_size >= sampled * min_per_batch) {
        candidates.emplace_back(e - i, seen[i]);
      }
      i = e;
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    if (candidates.size() > capacity) {
      candidates.resize(capacity);
    }
    if (candidates.empty()) {
      return;
    }
    // 8 buckets per hot feature: about 6 % of them find their bucket taken.
    const std::size_t buckets = std::bit_ceil(8 * candidates.size());
    shift = 32U - static_cast<unsigned>(std::countr_zero(buckets));
    keys.assign(buckets, empty);
    slots.assign(buckets, 0);
    for (const auto& candidate : candidates) {
      const std::uint32_t j = candidate.second;
      const std::uint32_t b = bucket(j, shift);
      if (keys[b] == empty) {
        keys[b] = j;
        slots[b] = static_cast<std::uint32_t>(features.size());
        features.push_back(j);
      }
    }
  }

  // Fibonacci hashing (Knuth, TAOCP vol. 3, 6.4): the top bits of j · 2^32/φ.
  [[nodiscard]] static std::uint32_t bucket(std::uint32_t j, unsigned shift) noexcept {
    return (j * 0x9E3779B9U) >> shift;
  }
};

// A model whose bias (with its optimizer state) sits on a header line that `learn` can be told
// to read and write elsewhere (FM): a Hogwild thread keeps a private copy, as of its hot rows.
template <class M>
concept header_row_model = requires(M& m, sparse_row_view x, float f, std::span<float> h) {
  { m.header_row() } -> std::same_as<std::span<float>>;
  { m.learn(x, f, f, h) } -> std::same_as<float>;
};

// One Hogwild thread's private rows: scratch rows `first .. first + hot.features.size() - 1` of
// the model hold its copies of the hot features' rows, and `base` the shared values they were
// copied from. Rows are handed to the model with hot indices replaced by the scratch row's. A
// `header_row_model` also learns through a private copy of its header (the bias, which every
// example updates), merged in the same way.
template <class M>
class private_hot_rows {
public:
  private_hot_rows(M& m, const hot_features& hot, std::size_t first)
      : m_(m)
      , hot_(hot)
      , first_(first)
      , row_floats_(m.feature_row(0).size())
      , base_(hot.features.size() * row_floats_) {
    for (auto& r : ring_) {
      r.indices.resize(hot.max_nnz);
    }
    for (std::size_t s = 0; s < hot_.features.size(); ++s) {
      const std::span<const float> shared = m_.feature_row(hot_.features[s]);
      std::copy(shared.begin(), shared.end(), m_.feature_row(first_ + s).begin());
      std::copy(shared.begin(), shared.end(), base_.data() + s * row_floats_);
    }
    if constexpr (header_row_model<M>) {
      const std::span<const float> shared = m_.header_row();
      header_floats_ = shared.size();
      header_lines_ = (header_floats_ + line_floats - 1) / line_floats;
      header_ = std::make_unique<line[]>(2 * header_lines_); // private copy, then its base
      std::copy(shared.begin(), shared.end(), header_[0].f);
      std::copy(shared.begin(), shared.end(), header_[header_lines_].f);
    }
  }

  // One step on `x` (from `get`), the header being this thread's copy.
  float learn(M& m, sparse_row_view x, float rate_multiplier) {
    if constexpr (header_row_model<M>) {
      return m.learn(x, x.label, rate_multiplier, std::span<float>(header_[0].f, header_floats_));
    } else {
      return m.learn(x, x.label, rate_multiplier);
    }
  }

  // Remaps the row at position `i` of the epoch's order ahead of its step (for the prefetch).
  sparse_row_view prepare(sparse_row_view x, std::size_t i) { return remap(x, i); }
  // The row at position `i`, remapped by `prepare` or now.
  sparse_row_view get(sparse_row_view x, std::size_t i) {
    slot& r = ring_[i % ring_.size()];
    if (r.position == i) {
      x.indices = std::span<const std::uint32_t>(r.indices.data(), x.nnz());
      return x;
    }
    return remap(x, i);
  }

  // Adds the changes made to the private rows since the last call to the shared rows, then copies
  // the shared rows (with the other threads' changes) into the private ones. Rows this thread did
  // not change are only read, so that their cache lines are not taken from the other threads. A
  // number no other thread changed becomes the private value itself, not base + (private - base),
  // which may round differently: with one thread, training through private rows gives the same
  // bits as without.
  void sync() noexcept {
    for (std::size_t s = 0; s < hot_.features.size(); ++s) {
      merge(m_.feature_row(hot_.features[s]).data(), m_.feature_row(first_ + s).data(),
            base_.data() + s * row_floats_, row_floats_);
    }
    if constexpr (header_row_model<M>) {
      merge(m_.header_row().data(), header_[0].f, header_[header_lines_].f, header_floats_);
    }
  }

private:
  static constexpr std::size_t line_floats = 16;
  struct alignas(64) line {
    float f[line_floats];
  };

  // `sync` for one row of `n` floats.
  static void merge(float* shared, float* local, float* base, std::size_t n) noexcept {
    if (!std::equal(local, local + n, base)) {
      for (std::size_t f = 0; f < n; ++f) {
        const float v = shared[f] == base[f] ? local[f] : shared[f] + (local[f] - base[f]);
        shared[f] = v;
        local[f] = v;
        base[f] = v;
      }
    } else {
      for (std::size_t f = 0; f < n; ++f) {
        local[f] = shared[f];
        base[f] = shared[f];
      }
    }
  }

  struct slot {
    std::size_t position = std::numeric_limits<std::size_t>::max();
    std::vector<std::uint32_t> indices;
  };

  // Hot indices become their scratch row's.
  sparse_row_view remap(sparse_row_view x, std::size_t i) {
    slot& r = ring_[i % ring_.size()];
    r.position = i;
    std::uint32_t* out = r.indices.data();
    const std::uint32_t* in = x.indices.data();
    const std::uint32_t* keys = hot_.keys.data();
    const std::uint32_t* slots = hot_.slots.data();
    const auto first = static_cast<std::uint32_t>(first_);
    const unsigned shift = hot_.shift;
    const std::size_t nnz = x.nnz();
    for (std::size_t k = 0; k < nnz; ++k) {
      const std::uint32_t j = in[k];
      const std::uint32_t b = hot_features::bucket(j, shift);
      // j, or first + slots[b] when bucket b holds j: a mask, because a compiler turns `?:` into a
      // branch here, and the branch is taken at random.
      const std::uint32_t hot = 0U - static_cast<std::uint32_t>(keys[b] == j);
      out[k] = j ^ ((j ^ (first + slots[b])) & hot);
    }
    x.indices = std::span<const std::uint32_t>(out, nnz);
    return x;
  }

  M& m_;
  const hot_features& hot_;
  std::size_t first_;
  std::size_t row_floats_;
  std::vector<float> base_;
  std::array<slot, row_prefetch_distance + 1> ring_{};
  std::unique_ptr<line[]> header_; // header_lines_ lines of the private header, then its base
  std::size_t header_floats_ = 0;
  std::size_t header_lines_ = 0;
};

// Hogwild: threads claim mini-batches of the epoch's order from a shared counter and update the
// shared model without locks. With `rows` a `private_hot_rows`, the hot features' rows are this
// thread's copies, merged into the shared model after every mini-batch.
template <class M, class AfterBatch, class RowMap = same_rows>
void train_hogwild(M& m, const sparse_batch& data, std::span<const std::size_t> order,
                   float rate_multiplier, std::size_t batch_size, std::atomic<std::size_t>& next,
                   shard_progress& progress, const std::atomic<bool>& stop,
                   AfterBatch&& after_batch, RowMap&& rows = {}) {
  double loss_sum = 0.0;
  std::size_t done = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    const std::size_t b = next.fetch_add(batch_size, std::memory_order_relaxed);
    if (b >= order.size()) {
      break;
    }
    const std::size_t e = std::min(order.size(), b + batch_size);
    loss_sum += learn_rows(m, data, order, b, e, rate_multiplier, rows);
    rows.sync();
    done += e - b;
    progress.loss_sum.store(loss_sum, std::memory_order_relaxed);
    progress.done.store(done, std::memory_order_relaxed);
    after_batch();
  }
}

// Runs work(0) on the calling thread and work(1 .. parts-1) on std::jthreads; every exception
// is caught, sets `stop` (so that the other parts end soon) and the first one in part order is
// rethrown after all have finished.
template <class Work>
void run_parts(std::size_t parts, std::atomic<bool>& stop, Work&& work) {
  std::vector<std::exception_ptr> errors(parts);
  {
    const auto guarded = [&](std::size_t p) {
      try {
        work(p);
      } catch (...) {
        errors[p] = std::current_exception();
        stop.store(true, std::memory_order_relaxed);
      }
    };
    std::vector<std::jthread> helpers;
    helpers.reserve(parts - 1);
    for (std::size_t p = 1; p < parts; ++p) {
      helpers.emplace_back(guarded, p);
    }
    guarded(0);
  } // joins
  for (const std::exception_ptr& e : errors) {
    if (e) {
      std::rethrow_exception(e);
    }
  }
}

// The chunk of the trainer's passes over the parameters (copying, mixing): 64 KiB of floats.
inline constexpr std::size_t chunk_floats = 16 * 1024;

// Runs `f(b, e)` over `[0, size)` in chunks of `chunk` that `parts` parts claim from a shared
// counter (which part takes a chunk depends on timing, so `f` must not care), part 0 first
// running `side_job`: for passes bound by memory bandwidth, which one thread alone would leave
// partly unused and fixed slices would make wait for the slowest.
template <class SideJob, class F>
void for_each_chunk(std::size_t size, std::size_t chunk, std::size_t parts, std::atomic<bool>& stop,
                    SideJob&& side_job, F&& f) {
  std::atomic<std::size_t> next{0};
  run_parts(parts, stop, [&](std::size_t p) {
    if (p == 0) {
      side_job();
    }
    for (;;) {
      const std::size_t b = next.fetch_add(chunk, std::memory_order_relaxed);
      if (b >= size) {
        return;
      }
      f(b, std::min(size, b + chunk));
    }
  });
}

// Makes `training_key`s: the trainer is the only caller of the members that take one.
struct trainer_access {
  static training_key key() noexcept { return {}; }
};

// A model that can allocate a copy of itself without writing its parameters (FM, FFM).
template <class M>
concept unwritten_replica_model = requires(const M& cm, training_key key) {
  { cm.unwritten_replica(key) } -> std::same_as<M>;
};

// Makes `replicas` `threads - 1` copies of `model` (the deterministic mode's, made at its first
// epoch), while part 0 runs `side_job` (the first epoch's shuffle). A copy writes tens of MiB
// into fresh pages, which the kernel zeroes at their first touch (and which, in a virtual
// machine, the host may have to back first): a model that can hand out unwritten copies has them
// filled on all threads, in 64 KiB chunks, so the first touches are spread over the cores too;
// another is copied on part 1 while part 0 runs the side job.
template <class M, class SideJob>
void make_replicas(M& model, std::vector<M>& replicas, std::size_t threads, std::atomic<bool>& stop,
                   SideJob&& side_job) {
  replicas.clear();
  if constexpr (unwritten_replica_model<M>) {
    replicas.reserve(threads - 1);
    for (std::size_t t = 1; t < threads; ++t) {
      replicas.push_back(model.unwritten_replica(trainer_access::key()));
    }
    const std::span<const float> from = model.parameters(); // read only
    const auto fill = [&](std::size_t b, std::size_t e) {
      for (M& r : replicas) {
        std::copy(from.begin() + b, from.begin() + e, r.parameters().begin() + b);
      }
    };
    for_each_chunk(from.size(), chunk_floats, threads, stop, side_job, fill);
  } else {
    run_parts(2, stop, [&](std::size_t p) {
      if (p == 0) {
        side_job();
      } else {
        replicas.assign(threads - 1, model);
      }
    });
  }
}

// Replaces `model`'s parameters by the mean of its own and the replicas', summed in thread order
// (model first) in double, and copies the mean into every replica, so that they start the next
// epoch as copies of the model: the same inputs give the same bits. The pass is bound by memory
// bandwidth, so
// - the T threads share it through `for_each_chunk`, in chunks of whole cache lines (which
//   thread mixes a line does not change its bits);
// - part 0 first runs `side_job` (the trainer's shuffle of the next epoch, which needs no memory
//   bandwidth but a division per row), then joins the others: the two overlap;
// - a line on which every copy holds the same bits is left alone (the mean of T equal floats, so
//   summed, is that float): rows no example of the epoch touched cost a read, not a write. On
//   hashed features most rows are such (the benchmark's click log uses 423,833 of 2^20 buckets).
template <class M, class SideJob>
void mix_into(M& model, std::vector<M>& replicas, std::size_t threads, std::atomic<bool>& stop,
              SideJob&& side_job) {
  const std::span<float> out = model.parameters();
  std::vector<std::span<float>> others;
  others.reserve(replicas.size());
  for (M& r : replicas) {
    others.push_back(r.parameters());
  }
  const double count = static_cast<double>(replicas.size() + 1);
  constexpr std::size_t line_floats = 16;
  static_assert(chunk_floats % line_floats == 0); // chunks hold whole cache lines
  // The mean of the m floats from `l` on, each summed in double in thread order and divided by
  // the count: the same operations per float as one at a time, in loops over the line that the
  // compiler vectorises (float by float, with a scalar division each, the pass took about a
  // third longer).
  const auto mean_line = [&](std::size_t l, auto m) noexcept {
    alignas(64) double sum[line_floats];
    for (std::size_t i = 0; i < m; ++i) {
      sum[i] = static_cast<double>(out[l + i]);
    }
    for (const std::span<float>& o : others) {
      for (std::size_t i = 0; i < m; ++i) {
        sum[i] += static_cast<double>(o[l + i]);
      }
    }
    for (std::size_t i = 0; i < m; ++i) {
      out[l + i] = static_cast<float>(sum[i] / count);
    }
  };
  const auto mix = [&](std::size_t b, std::size_t e) noexcept {
    for (std::size_t l = b; l < e; l += line_floats) {
      const std::size_t bytes = (std::min(e, l + line_floats) - l) * sizeof(float);
      bool same = true;
      for (const std::span<float>& o : others) {
        same = same && std::memcmp(out.data() + l, o.data() + l, bytes) == 0;
      }
      if (same) {
        continue;
      }
      if (bytes == line_floats * sizeof(float)) {
        mean_line(l, std::integral_constant<std::size_t, line_floats>{});
      } else {
        mean_line(l, bytes / sizeof(float));
      }
      for (const std::span<float>& o : others) {
        std::memcpy(o.data() + l, out.data() + l, bytes);
      }
    }
  };
  for_each_chunk(out.size(), chunk_floats, threads, stop, side_job, mix);
}

} // namespace detail

/// Trains `model` on `train_set` for `options.epochs` epochs of per-example SGD
/// (`model.learn(x, x.label, schedule multiplier)`), in mini-batches of `options.batch_size`.
///
/// - **Order**: every epoch visits the rows in `shuffled_order(n, seed, epoch)` (or in file order
///   when `shuffle` is false).
/// - **Deterministic mode** (`parallel_mode::deterministic`, the default): with `threads = T > 1`,
///   the epoch's order is cut into T contiguous shards; thread t trains its own copy of the
///   model (thread 0 the model itself) on shard t, and at the end of the epoch every parameter,
///   optimizer state included, becomes the mean of the T copies, summed in thread order
///   (iterative parameter mixing, McDonald, Hall and Mann 2010). The same seed and thread count
///   give the same model bit for bit; T = 1 is exactly the sequential loop
///   `for (i : order) model.learn(train_set.row(i), label, multiplier)`. Costs T - 1 copies of the
///   model, made at the first epoch (FM and FFM: filled on all T threads, see `make_replicas`)
///   and kept until the call returns: the mixing, which the T threads share, writes the mean
///   into every copy as well, so each starts the next epoch equal to the model. That needs `learn`
///   to write nothing but `parameters()` (as Hogwild does, below). The next epoch's order is drawn
///   by the calling thread while the others start the mixing. Mixing slows convergence per epoch a
///   little compared with one thread.
/// - **Hogwild mode** (`parallel_mode::hogwild`): the T threads claim mini-batches from a shared
///   counter and update `model` itself without any lock (Recht, Re, Wright and Niu 2011, as
///   libffm and xLearn do). Two threads may read and write the same float at once when their
///   examples share a feature: a deliberate, *benign* data race (an update may be lost or read
///   half-way between two steps; with sparse data collisions are rare and SGD tolerates the
///   noise). Formally it is a data race, so never run Hogwild under ThreadSanitizer; the result
///   is not reproducible bit for bit. The model's `learn` must write nothing but its parameters
///   (no scratch buffers in the object: keep them on the stack or `thread_local`).
/// - **Loss**: the training loss of an epoch is the progressive loss, the mean over its examples
///   of each one's loss *before* its own update (what `learn` returns): an honest estimate of
///   the generalisation loss without a held-out set (Blum, Kalai and Langford 1999).
/// - **Validation and early stopping**: with `valid`, its mean loss (`mean_loss`) is computed
///   after every epoch, and with `options.valid_metric` set its metric too (of the predictions
///   `model(x)` against the labels, from the same pass over the rows). With
///   `options.stopping.patience = p > 0`, training stops when the watched figure (the metric when
///   it is set, else the loss) has not improved on the best one by more than `min_delta` for p
///   epochs, and the parameters of the best epoch are restored (also when the last epoch is
///   reached).
/// - **Progress**: `on_progress` is called on the calling thread after each of its mini-batches
///   (summing what every thread has done so far) and after each epoch (with the validation
///   loss and metric); returning `false` stops training after the current mini-batch; the epoch is
///   then closed as usual (averaging, validation, early stopping) and counted in `epochs_run`.
///   `stopped_early` is true when training ended before `options.epochs`, for either reason.
///
/// @pre `model`'s parameters are not used by another thread during the call.
/// @throws mlsd::config_error for invalid options (`train_options::validate`), or early stopping
///   without a validation set.
/// @throws mlsd::input_error when `train_set` (or `valid`) is empty, or a row has a non-finite
///   label or value, or an index / field at or above the model's `feature_count()` /
///   `field_count()` (the "file" of the error is "training set" or "validation set", the "line"
///   the row counted from 1); checked before any update, so the model is then unchanged.
/// @throws whatever `learn`, `on_progress` or `options.valid_metric.evaluate` throws (the other
///   threads are stopped first), e.g. `evaluation::undefined_metric` for ROC-AUC on a
///   validation set of one class.
/// @complexity O(epochs · (nnz · cost of one example's step + T · parameters)) plus the validation
///   set once per epoch.
template <sgd_model M>
training_summary train(M& model, const sparse_batch& train_set, const sparse_batch* valid,
                       const train_options& options, const progress_callback& on_progress = {}) {
  options.validate();
  if (options.stopping.patience > 0 && valid == nullptr) {
    throw config_error("stopping.patience", "0 when there is no validation set");
  }
  if (train_set.empty()) {
    throw input_error({"training set"}, "at least one example", "0 examples");
  }
  if (valid != nullptr && valid->empty()) {
    throw input_error({"validation set"}, "at least one example", "0 examples");
  }
  detail::check_examples(model, train_set, "training set");
  if (valid != nullptr) {
    detail::check_examples(model, *valid, "validation set");
  }

  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto seconds = [&] { return std::chrono::duration<double>(clock::now() - start).count(); };
  const std::size_t n = train_set.size();
  const std::size_t threads = std::min(options.threads, n);
  const bool early_stopping = options.stopping.patience > 0;

  training_summary summary;
  if (options.valid_metric) {
    summary.valid_metric_name = options.valid_metric.name;
  }
  std::vector<float> best_parameters;
  detail::metric_scratch metric_scratch; // for `options.valid_metric`
  detail::early_stopper stopper(options);
  std::atomic<bool> stop{false};
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::vector<std::size_t> next_order; // deterministic mode: shuffled while the copies are mixed
  bool next_order_ready = false;
  std::optional<detail::hot_features> hot_set; // Hogwild's hot rows, chosen at the first epoch
  std::vector<M> replicas; // deterministic mode: threads - 1 copies, kept between epochs

  for (std::size_t epoch = 0; epoch < options.epochs; ++epoch) {
    const auto draw_order = [&] {
      if (next_order_ready) {
        order.swap(next_order);
        next_order_ready = false;
      } else if (options.shuffle) {
        shuffled_order(std::span<std::size_t>(order), options.seed, epoch);
      }
    };
    const bool copies = threads > 1 && options.mode == parallel_mode::deterministic;
    if (copies && replicas.size() != threads - 1) {
      detail::make_replicas(model, replicas, threads, stop, draw_order); // kept between epochs
    } else {
      draw_order();
    }
    const auto multiplier = static_cast<float>(options.schedule.multiplier(epoch));
    const std::unique_ptr<detail::shard_progress[]> progress(new detail::shard_progress[threads]);
    const auto totals = [&] {
      std::size_t done = 0;
      double loss = 0.0;
      for (std::size_t t = 0; t < threads; ++t) {
        done += progress[t].done.load(std::memory_order_relaxed);
        loss += progress[t].loss_sum.load(std::memory_order_relaxed);
      }
      return std::pair{done, loss};
    };
    const auto report = [&](bool epoch_done, const detail::validation_figures* figures) {
      if (!on_progress) {
        return;
      }
      const auto [done, loss] = totals();
      progress_report r;
      r.epoch = epoch;
      r.epochs = options.epochs;
      r.examples_done = done;
      r.examples_total = n;
      r.train_loss = done > 0 ? loss / static_cast<double>(done) : 0.0;
      if (figures != nullptr) {
        r.valid_loss = figures->loss;
        r.valid_metric = figures->metric;
      }
      if (options.valid_metric) {
        r.valid_metric_name = options.valid_metric.name;
      }
      r.seconds = seconds();
      r.epoch_done = epoch_done;
      if (!on_progress(r)) {
        stop.store(true, std::memory_order_relaxed);
      }
    };
    const auto after_batch = [&] { report(false, nullptr); };
    const auto nothing = [] {};
    const std::span<const std::size_t> all(order);

    if (threads == 1) {
      detail::train_shard(model, train_set, all, multiplier, options.batch_size, progress[0], stop,
                          after_batch);
    } else if (options.mode == parallel_mode::hogwild) {
      std::atomic<std::size_t> next{0};
      const detail::hot_features* hot = nullptr;
      std::size_t hot_block = 0; // scratch rows per thread
      detail::scratch_rows_release<M> release;
      if constexpr (detail::scratch_row_model<M>) {
        if (options.hot_row_bytes > 0) {
          if (!hot_set) {
            hot_set.emplace(train_set, model.feature_row(0).size() * sizeof(float),
                            options.hot_row_bytes, options.batch_size);
          }
          // Each thread's block of scratch rows starts a cache line (when the first does), and
          // every row index stays below 2^32 - 1 (the empty key of the lookup).
          const std::size_t row_bytes = model.feature_row(0).size() * sizeof(float);
          hot_block = hot_set->features.size();
          while (hot_block > 0 && hot_block * row_bytes % 64 != 0) {
            ++hot_block;
          }
          if (hot_block > 0 &&
              static_cast<std::size_t>(model.feature_count()) + threads * hot_block <
                  std::numeric_limits<std::uint32_t>::max()) {
            hot = &*hot_set;
            model.set_scratch_rows(threads * hot_block);
            release.model = &model;
          }
        }
      }
      const auto work = [&](std::size_t t, const auto& report_batch) {
        if constexpr (detail::scratch_row_model<M>) {
          if (hot != nullptr) {
            detail::private_hot_rows<M> rows(
                model, *hot, static_cast<std::size_t>(model.feature_count()) + t * hot_block);
            detail::train_hogwild(model, train_set, all, multiplier, options.batch_size, next,
                                  progress[t], stop, report_batch, rows);
            return;
          }
        }
        detail::train_hogwild(model, train_set, all, multiplier, options.batch_size, next,
                              progress[t], stop, report_batch);
      };
      detail::run_parts(threads, stop, [&](std::size_t t) {
        if (t == 0) {
          work(t, after_batch);
        } else {
          work(t, nothing);
        }
      });
    } else {
      detail::run_parts(threads, stop, [&](std::size_t t) {
        const std::size_t first = n * t / threads, last = n * (t + 1) / threads;
        const auto shard = all.subspan(first, last - first);
        if (t == 0) {
          detail::train_shard(model, train_set, shard, multiplier, options.batch_size, progress[0],
                              stop, after_batch);
        } else {
          detail::train_shard(replicas[t - 1], train_set, shard, multiplier, options.batch_size,
                              progress[t], stop, nothing);
        }
      });
      // The next epoch's order does not depend on this one's training: part 0 draws it while
      // the other parts start the mixing.
      const bool prepare_next = options.shuffle && epoch + 1 < options.epochs;
      if (prepare_next) {
        next_order.resize(n);
      }
      detail::mix_into(model, replicas, threads, stop, [&] {
        if (prepare_next) {
          shuffled_order(std::span<std::size_t>(next_order), options.seed, epoch + 1);
          next_order_ready = true;
        }
      });
    }

    const auto [done, loss] = totals();
    summary.train_loss.push_back(done > 0 ? loss / static_cast<double>(done) : 0.0);
    summary.epochs_run = epoch + 1;
    summary.best_epoch = epoch;
    std::optional<detail::validation_figures> figures;
    if (valid != nullptr) {
      figures = detail::validate(model, *valid, options.valid_metric, metric_scratch);
      summary.valid_loss.push_back(figures->loss);
      if (figures->metric) {
        summary.valid_metric.push_back(*figures->metric);
      }
    }
    bool patience_exhausted = false;
    if (early_stopping) {
      if (stopper.record(epoch, figures->metric.value_or(figures->loss))) {
        const std::span<float> p = model.parameters();
        best_parameters.assign(p.begin(), p.end());
      }
      patience_exhausted = stopper.exhausted();
      summary.best_epoch = stopper.best_epoch();
    }
    report(true, figures ? &*figures : nullptr);
    if (patience_exhausted || stop.load(std::memory_order_relaxed)) {
      summary.stopped_early = epoch + 1 < options.epochs;
      break;
    }
  }
  if (early_stopping && summary.best_epoch + 1 != summary.epochs_run) {
    const std::span<float> p = model.parameters();
    std::copy(best_parameters.begin(), best_parameters.end(), p.begin());
  }
  summary.seconds = seconds();
  return summary;
}

} // namespace model
MLSD_END_NAMESPACE
