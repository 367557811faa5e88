/// @file
/// The back-of-the-envelope capacity estimate of system design, as code: what each serving stage
/// costs per request on a given machine, whether it fits its latency budget and the p99, how many
/// cores the peak load needs, and, when something does not fit, which design change would make it
/// fit and by how much.
///
/// ```cpp
/// const mlsd::machine_profile m = mlsd::probe_machine();   // or {.memory_bandwidth = 10e9, ...}
/// const mlsd::capacity_report report = mlsd::estimate_capacity(ad_click, serve, m);
/// std::cout << report.to_text();                           // table, findings, suggestions
/// ```
///
/// The model is a roofline (Williams, Waterman and Patterson, "Roofline: an insightful visual
/// performance model for multicore architectures", CACM 2009) on one core: a stage that reads `B`
/// bytes and does `F` floating-point operations per request takes `max(B / bandwidth, F / FLOP/s)`
/// seconds. Each stage's `cost_model` (`requirements/budget.hpp`) gives `B` and `F` per item, and
/// its budget gives the items per request. The result is a *lower bound* on the typical latency:
/// it ignores queueing, cache misses beyond streaming, branch mispredictions and the tail, so a
/// stage estimated near its budget will miss its p99; treat a fit with less than 2x headroom as a
/// risk, not a pass.
#pragma once

#include <mlsd/core/stage.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/kernels/arch.hpp>
#include <mlsd/kernels/dot.hpp>
#include <mlsd/requirements/budget.hpp>
#include <mlsd/requirements/requirements.hpp>

#include <nlohmann/json.hpp>

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE

/// What one machine can do, per core: the two roofs of the roofline model.
///
/// Either measured by `probe_machine` (`source == "probe"`) or written down from a data sheet or an
/// earlier probe (`source == "given"`, the default), e.g.
/// `machine_profile{.memory_bandwidth = 10e9, .flops = 32e9, .cores = 2}`.
struct machine_profile {
  double memory_bandwidth = 0;  ///< bytes/s one core reads in a streaming scan
  double flops = 0;             ///< FLOP/s of one core (an fp32 FMA counts as 2 FLOPs)
  unsigned cores = 0;           ///< cores (logical CPUs) one machine gives the service
  std::string source = "given"; ///< "probe" (measured by `probe_machine`) or "given"

  /// Throws `std::invalid_argument` naming the field when a number is not positive and finite
  /// or `source` is empty.
  void validate() const {
    const auto positive = [](double x) { return std::isfinite(x) && x > 0; };
    if (!positive(memory_bandwidth)) {
      throw std::invalid_argument("mlsd::machine_profile: memory_bandwidth must be a positive, "
                                  "finite number of bytes/s, got " +
                                  std::to_string(memory_bandwidth));
    }
    if (!positive(flops)) {
      throw std::invalid_argument(
          "mlsd::machine_profile: flops must be a positive, finite number of FLOP/s, got " +
          std::to_string(flops));
    }
    if (cores == 0) {
      throw std::invalid_argument("mlsd::machine_profile: cores must be at least 1, got 0");
    }
    if (source.empty()) {
      throw std::invalid_argument(
          "mlsd::machine_profile: source must say where the numbers come from (\"probe\" or "
          "\"given\"), got an empty string");
    }
  }

  friend bool operator==(const machine_profile&, const machine_profile&) = default;
};

/// `machine_profile` as JSON: `{"memory_bandwidth": ..., "flops": ..., "cores": ..., "source":
// The JSON and report functions in this header are templates (over the JSON type, always
// `nlohmann::json`, or a defaulted dummy parameter) so that their bodies are compiled only in
// translation units that call them: including <mlsd/mlsd.hpp> stays cheap (bench/compile_cost.py).

/// ...}`. Found by nlohmann_json through argument-dependent lookup: `nlohmann::json j = m;`.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void to_json(Json& j, const machine_profile& m) {
  j = nlohmann::json{{"memory_bandwidth", m.memory_bandwidth},
                     {"flops", m.flops},
                     {"cores", m.cores},
                     {"source", m.source}};
}

/// Reads a `machine_profile` from JSON (`j.get<mlsd::machine_profile>()`). `memory_bandwidth`,
/// `flops` (numbers) and `cores` (a positive integer) are required, `source` (a string) defaults
/// to "given". Throws `std::invalid_argument` naming the field when one is missing or has the
/// wrong type, and whatever `machine_profile::validate` throws for bad values.
template <class Json>
requires std::same_as<Json, nlohmann::json>
void from_json(const Json& j, machine_profile& m) {
  const nlohmann::json& json = j; // non-dependent from here on
  if (!json.is_object()) {
    throw std::invalid_argument("mlsd::machine_profile: expected a JSON object, got " +
                                std::string(json.type_name()));
  }
  const auto field = [&json](const char* name, bool ok(const nlohmann::json&),
                             const char* expected) -> const nlohmann::json& {
    const auto it = json.find(name);
    if (it == json.end()) {
      throw std::invalid_argument(std::string("mlsd::machine_profile: JSON field '") + name +
                                  "' is missing");
    }
    if (!ok(*it)) {
      throw std::invalid_argument(std::string("mlsd::machine_profile: JSON field '") + name +
                                  "' must be " + expected + ", got " + it->type_name());
    }
    return *it;
  };
  const auto is_number = [](const nlohmann::json& x) { return x.is_number(); };
  const auto is_count = [](const nlohmann::json& x) {
    constexpr auto max = std::numeric_limits<unsigned>::max();
    return x.is_number_unsigned() ? x.get<std::uint64_t>() <= max
                                  : x.is_number_integer() && x.get<std::int64_t>() >= 0 &&
                                        x.get<std::int64_t>() <= std::int64_t{max};
  };
  const auto is_string = [](const nlohmann::json& x) { return x.is_string(); };
  machine_profile out;
  out.memory_bandwidth = field("memory_bandwidth", is_number, "a number").template get<double>();
  out.flops = field("flops", is_number, "a number").template get<double>();
  out.cores = field("cores", is_count, "a non-negative integer").template get<unsigned>();
  if (json.contains("source")) {
    out.source = field("source", is_string, "a string").template get<std::string>();
  }
  out.validate();
  m = std::move(out);
}

namespace detail {

/// Bytes of the last-level cache (L3, else L2) as the C library reports it, or 0 when unknown.
inline std::size_t last_level_cache_bytes() noexcept {
#if defined(_SC_LEVEL3_CACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
  for (const int name : {_SC_LEVEL3_CACHE_SIZE, _SC_LEVEL2_CACHE_SIZE}) {
    const long bytes = ::sysconf(name);
    if (bytes > 0) {
      return static_cast<std::size_t>(bytes);
    }
  }
#endif
  return 0;
}

/// The probe's buffer: four times the last-level cache (32 MiB assumed when unknown), at least
/// 64 MiB and at most 256 MiB. The cap keeps the probe's memory and first-touch time bounded
/// (faulting pages in runs at 1-2 GB/s); a cyclic scan over a buffer twice the cache size
/// still misses in an LRU-like cache, so the cap costs accuracy only for caches above 128 MiB.
inline constexpr std::size_t probe_min_bytes = std::size_t{64} << 20;
inline constexpr std::size_t probe_max_bytes = std::size_t{256} << 20;
inline constexpr std::size_t probe_fallback_cache_bytes = std::size_t{32} << 20;

[[nodiscard]] inline std::size_t probe_buffer_bytes(std::size_t cache_bytes) noexcept {
  const std::size_t cache = cache_bytes > 0 ? cache_bytes : probe_fallback_cache_bytes;
  return std::clamp(cache <= probe_max_bytes ? 4 * cache : probe_max_bytes, probe_min_bytes,
                    probe_max_bytes);
}

// Seconds as a quotient (exact for whole milliseconds), not `time_span::seconds()`'s product
// with 1e-6, so that 100 ms compares equal to 0.1.
[[nodiscard]] constexpr double to_seconds(time_span t) noexcept {
  return static_cast<double>(t.microseconds) / 1e6;
}

using probe_clock = std::chrono::steady_clock;

[[nodiscard]] inline double seconds_between(probe_clock::time_point a,
                                            probe_clock::time_point b) noexcept {
  return std::chrono::duration<double>(b - a).count();
}

// Bytes/s one core streams with kernels::sum: the median of the timed passes over the buffer
// (at least one, more while `deadline` allows, at most nine). The median rather than the best:
// memory bandwidth is shared with the other cores and tenants of the machine, and the capacity
// estimate should use what a scan typically gets, not its luckiest pass.
template <class Arch>
[[nodiscard]] double probe_memory_bandwidth(probe_clock::time_point deadline) {
  const std::size_t n = probe_buffer_bytes(last_level_cache_bytes()) / sizeof(float);
  const auto buffer = std::make_unique_for_overwrite<float[]>(n);
  // Writing every element maps every page: untouched pages would all read from the zero page and
  // measure the cache instead.
  std::fill_n(buffer.get(), n, 0.5f);
  std::vector<double> rates;
  constexpr std::size_t max_passes = 9;
  double last_pass = 0;
  while (rates.empty() ||
         (rates.size() < max_passes &&
          probe_clock::now() + std::chrono::duration<double>(last_pass) <= deadline)) {
    const auto start = probe_clock::now();
    volatile float sink = kernels::sum<Arch>(buffer.get(), n);
    static_cast<void>(sink);
    last_pass = seconds_between(start, probe_clock::now());
    rates.push_back(static_cast<double>(n * sizeof(float)) / std::max(last_pass, 1e-9));
  }
  std::sort(rates.begin(), rates.end());
  const std::size_t mid = rates.size() / 2;
  return rates.size() % 2 == 1 ? rates[mid] : 0.5 * (rates[mid - 1] + rates[mid]);
}

// FLOP/s of one core: `iterations` rounds of ten independent FMAs on `Arch` registers, 2 FLOPs
// per lane each. Ten chains cover an FMA latency of 4-5 cycles on two FMA ports (8-10 in
// flight), and ten accumulators plus two operands fit in the 16 registers of SSE/AVX2 without
// spilling. Multiplier and addend come from volatile reads, so nothing folds at compile time; the
// chains converge to 1 (no overflow, no denormals); the result goes to a volatile sink.
template <class Arch>
[[nodiscard]] double fma_rounds(std::uint64_t iterations) noexcept {
  using batch = xsimd::batch<float, Arch>;
  volatile float multiplier = 0.999999f;
  volatile float addend = 1e-6f;
  const batch m(static_cast<float>(multiplier)), a(static_cast<float>(addend));
  batch c0(0.0f), c1(0.1f), c2(0.2f), c3(0.3f), c4(0.4f), c5(0.5f), c6(0.6f), c7(0.7f), c8(0.8f),
      c9(0.9f);
  for (std::uint64_t i = 0; i < iterations; ++i) {
    c0 = xsimd::fma(c0, m, a);
    c1 = xsimd::fma(c1, m, a);
    c2 = xsimd::fma(c2, m, a);
    c3 = xsimd::fma(c3, m, a);
    c4 = xsimd::fma(c4, m, a);
    c5 = xsimd::fma(c5, m, a);
    c6 = xsimd::fma(c6, m, a);
    c7 = xsimd::fma(c7, m, a);
    c8 = xsimd::fma(c8, m, a);
    c9 = xsimd::fma(c9, m, a);
  }
  volatile float sink = xsimd::hadd(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + (c8 + c9));
  static_cast<void>(sink);
  return static_cast<double>(iterations) * 10.0 * static_cast<double>(batch::size) * 2.0;
}

// The best rate over rounds of at least 0.5 ms (shorter ones are calibration: the round size
// doubles until one takes that long) until `deadline`. The best rather than the median: the FMA
// units are the core's own, so a slower round was interrupted, not a different machine.
template <class Arch>
[[nodiscard]] double probe_flops(probe_clock::time_point deadline) {
  constexpr double min_round = 0.5e-3;
  std::uint64_t iterations = 1024;
  double best = 0, best_any = 0;
  do {
    const auto start = probe_clock::now();
    const double flop = fma_rounds<Arch>(iterations);
    const double elapsed = std::max(seconds_between(start, probe_clock::now()), 1e-9);
    best_any = std::max(best_any, flop / elapsed);
    if (elapsed >= min_round) {
      best = std::max(best, flop / elapsed);
    } else {
      iterations *= 2;
    }
  } while (probe_clock::now() < deadline);
  return best > 0 ? best : best_any;
}

} // namespace detail

/// Measures this machine's `machine_profile` in about `time_budget` (`source == "probe"`).
///
/// - `memory_bandwidth`: one core's streaming read, `kernels::sum` (the bandwidth floor of every
///   exact scan) over a buffer of four times the last-level cache
///   (`sysconf(_SC_LEVEL3_CACHE_SIZE)`, 32 MiB assumed if unknown), clamped to [64 MiB, 256 MiB]:
///   the probe allocates and writes at most 256 MiB, freed on return. The median of up to nine
///   passes, as many as three quarters of the budget allow (the median because bandwidth is shared
///   with other cores and tenants).
/// - `flops`: one core running ten independent `xsimd::fma` chains on `Arch` registers, 2 FLOPs
///   per lane per FMA; the best round of the last quarter of the budget (the FMA units are the
///   core's own, so slower rounds were interrupted). It is what code compiled like this
///   translation unit reaches: SSE2 without `-march` flags, half as much in a Debug build. xsimd
///   8.1 has no AVX-512 FMA kernel and computes `x * y + z`, which g++ contracts into an FMA and
///   clang++ 14 does not, so clang++ builds probe about half the AVX-512 FLOP/s, as their kernels
///   run.
/// - `cores`: `std::thread::hardware_concurrency()` (logical CPUs, 1 if unknown). With SMT two of
///   them share one core's FMA units and bandwidth, so core counts are optimistic.
///
/// Single-core numbers at single-core clocks: with every core busy, clocks and per-core bandwidth
/// are lower. The budget bounds the number of passes, not the buffer: writing the buffer and one
/// pass over it always run (tens to hundreds of milliseconds), so a small budget is exceeded.
/// A template over `Arch` (default `kernels::default_arch`) so that translation units compiled
/// for different instruction sets get different functions. Not meant to run concurrently with
/// other work: it measures whatever the machine has left.
/// @throws std::invalid_argument if `time_budget` is not positive.
template <class Arch = kernels::default_arch>
[[nodiscard]] machine_profile
probe_machine(std::chrono::milliseconds time_budget = std::chrono::milliseconds(300)) {
  if (time_budget <= std::chrono::milliseconds(0)) {
    throw std::invalid_argument("mlsd::probe_machine: time_budget must be positive, got " +
                                std::to_string(time_budget.count()) + " ms");
  }
  const auto start = detail::probe_clock::now();
  machine_profile m;
  m.source = "probe";
  m.memory_bandwidth = detail::probe_memory_bandwidth<Arch>(start + time_budget * 3 / 4);
  m.flops = detail::probe_flops<Arch>(
      std::max(start + time_budget, detail::probe_clock::now() + time_budget / 4));
  m.cores = std::max(1u, std::thread::hardware_concurrency());
  return m;
}

/// Which roof of the roofline limits a stage.
enum class roofline_bound : std::uint8_t {
  memory, ///< reading its bytes takes longer than its arithmetic
  compute ///< its arithmetic takes longer than reading its bytes
};

/// A design change `estimate_capacity` suggests for a stage over its budget. What
/// `design_suggestion::value` holds depends on the change.
enum class design_change : std::uint8_t {
  int8_quantization, ///< int8 codes instead of fp32: a quarter of the per-item bytes. `value`:
                     ///< the stage's bytes per request after it
  partitioned_index, ///< an IVF-style index (k-means partitions, scan the `nprobe` nearest of
                     ///< `nlist`). `value`: the largest fraction of `items_in` it may scan
  shard_over_cores,  ///< split the stage's items over cores and merge. `value`: the number of
                     ///< cores one request needs
  limit_items        ///< hand the stage fewer items. `value`: the largest `items_in` that fits
};

namespace detail {
template <>
struct enum_names<roofline_bound> {
  static constexpr std::string_view values[] = {"memory", "compute"};
  static constexpr auto last = roofline_bound::compute;
};
template <>
struct enum_names<design_change> {
  static constexpr std::string_view values[] = {"int8_quantization", "partitioned_index",
                                                "shard_over_cores", "limit_items"};
  static constexpr auto last = design_change::limit_items;
};
} // namespace detail

/// The estimate for one stage of a pipeline, for one request.
struct stage_estimate {
  std::string name;                    ///< the budget's name, or "stage <index>"
  stage_role role = stage_role::other; ///< from the stage's role tags
  bool has_budget = false;             ///< whether the stage declares a `stage_budget`
  time_span budget{};                  ///< its latency budget (0 without one)
  std::uint64_t items_in = 1;          ///< items handed to it per request (1 without a budget)
  std::uint64_t items_out = 1;         ///< items it returns per request (1 without a budget)
  bool has_cost_model = false; ///< whether a `cost_model` was known; if not, the numbers below
                               ///< are 0 and the stage is left out of the sums
  double bytes = 0;            ///< bytes read per request
  double flops = 0;            ///< floating-point operations per request
  double seconds = 0;          ///< roofline estimate: `max(bytes / bandwidth, flops / FLOP/s)`
  roofline_bound bound = roofline_bound::memory; ///< the roof that gives `seconds`
  /// False only when the stage has a budget and a cost model and `seconds` exceeds the budget.
  bool fits_budget = true;
};

/// A design change for one stage with its estimated effect, computed from the stage's cost model
/// and the machine profile.
struct design_suggestion {
  std::string stage;                                       ///< the stage it applies to
  design_change change = design_change::int8_quantization; ///< what to change
  double value = 0;             ///< the change's number (see `design_change`); 0 if it cannot fit
  double estimated_seconds = 0; ///< the stage's estimate after the change
  bool fits = false;            ///< whether this change alone brings the stage within its target
  std::string text;             ///< one sentence for people
};

/// The capacity estimate of a serving design on a machine: per-stage roofline estimates, the
/// totals against the p99 budget and the peak load, what breaks and what would fix it.
struct capacity_report {
  std::vector<stage_estimate> stages; ///< in pipeline order
  double total_seconds = 0;           ///< sum of the costed stages' estimates, per request
  time_span p99_budget{};             ///< `requirements.slo.p99_latency`
  /// CPU time one request takes: `total_seconds`, since the model runs each stage on one core
  /// (sharding a stage lowers latency, not CPU time).
  double cpu_seconds_per_request = 0;
  std::uint64_t peak_qps = 0;      ///< `requirements.slo.peak_qps`
  double target_utilization = 0.7; ///< the busy fraction of a core planned for at peak
  /// `cpu_seconds_per_request * peak_qps / target_utilization`: the cores the peak needs while
  /// leaving `1 - target_utilization` of each idle as headroom for bursts and for queueing, which
  /// grows without bound as utilisation approaches 1.
  double cores_needed = 0;
  std::uint64_t machines_needed = 0; ///< `ceil(cores_needed / machine.cores)`
  machine_profile machine;           ///< the profile the estimate used
  std::vector<std::string> findings; ///< what breaks, one sentence each, naming stage and limit
  std::vector<design_suggestion> suggestions; ///< changes that would help, with their effect

  /// Every costed stage within its budget and the total within the p99 budget.
  [[nodiscard]] bool fits_latency() const noexcept {
    return total_seconds <= detail::to_seconds(p99_budget) &&
           std::all_of(stages.begin(), stages.end(),
                       [](const stage_estimate& s) { return s.fits_budget; });
  }
  /// `fits_latency()`, and the peak load fits on the machine's cores.
  [[nodiscard]] bool fits() const noexcept {
    return fits_latency() && cores_needed <= static_cast<double>(machine.cores);
  }

  /// The report as JSON: `machine`, `p99_budget_seconds`, `total_seconds`,
  /// `cpu_seconds_per_request`, `peak_qps`, `target_utilization`, `cores_needed`,
  /// `machines_needed`, `fits`, `fits_latency`, `stages` (objects with `name`, `role`,
  /// `budget_seconds` (null without a budget), `items_in`, `items_out`, `cost_model`, and
  /// `bytes`, `flops`, `seconds`, `bound` (null without a cost model), `fits`), `findings`
  /// (strings) and `suggestions` (objects with `stage`, `change`, `value`, `estimated_seconds`,
  /// `fits`, `text`).
  template <class Json = nlohmann::json>
  [[nodiscard]] Json to_json() const;

  /// A table for a terminal (stage, role, items in -> out, budget, estimate, bound, fits), the
  /// totals, then the findings and the suggestions.
  template <class = void>
  [[nodiscard]] std::string to_text() const;
};

namespace detail {

// Three significant digits, but whole numbers from 1000 up (1829 cores, not 1.83e+03).
[[nodiscard]] inline std::string format_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, std::abs(v) >= 1000 && std::abs(v) < 1e18 ? "%.0f" : "%.3g", v);
  return buf;
}

// `v` with the largest unit that keeps it at least 1 (units grow by `step`); 3 significant digits.
[[nodiscard]] inline std::string format_scaled(double v, std::initializer_list<const char*> units,
                                               double step, std::size_t base) {
  const std::vector<const char*> u(units);
  std::size_t i = base;
  double x = v;
  while (x != 0 && std::abs(x) < 1 && i > 0) {
    x *= step;
    --i;
  }
  // Rounding to 3 digits may carry into the next unit (999.7 ms prints as 1 s).
  while (std::abs(x) >= step - 0.5 && i + 1 < u.size()) {
    x /= step;
    ++i;
  }
  return format_number(x) + u[i];
}

[[nodiscard]] inline std::string format_seconds(double s) {
  return format_scaled(s, {" ns", " us", " ms", " s"}, 1000, 3);
}
[[nodiscard]] inline std::string format_count(double n) {
  if (n < 10000) {
    return std::to_string(static_cast<std::uint64_t>(std::max(0.0, std::floor(n))));
  }
  return format_scaled(n, {"", "k", "M", "B", "T"}, 1000, 0);
}
[[nodiscard]] inline std::string format_si(double v, const char* unit) {
  const std::string prefixes[] = {"", "k", "M", "G", "T", "P"};
  std::size_t i = 0;
  while (v >= 999.5 && i + 1 < std::size(prefixes)) {
    v /= 1000;
    ++i;
  }
  return format_number(v) + " " + prefixes[i] + unit;
}
[[nodiscard]] inline std::string format_percent(double fraction) {
  return format_number(fraction * 100) + "%";
}
// Appends rather than `"'" + std::string(s)`: g++ 12 flags that form with a false -Wrestrict
// (GCC bug 105329).
[[nodiscard]] inline std::string in_quotes(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.append(1, '\'').append(s).append(1, '\'');
  return out;
}

// Per-request bytes and FLOPs of `c` for `items` items, and the roofline time on `m`.
struct roofline_point {
  double bytes = 0, flops = 0, seconds = 0;
  roofline_bound bound = roofline_bound::memory;
};
[[nodiscard]] inline roofline_point roofline(const cost_model& c, double items,
                                             const machine_profile& m) noexcept {
  roofline_point p;
  p.bytes = c.bytes_per_item * items + c.bytes_per_request;
  p.flops = c.flops_per_item * items + c.flops_per_request;
  const double memory = p.bytes / m.memory_bandwidth, compute = p.flops / m.flops;
  p.seconds = std::max(memory, compute);
  p.bound = memory >= compute ? roofline_bound::memory : roofline_bound::compute;
  return p;
}

// The largest item count that keeps `c` within `target` seconds on `m` (+inf when items are
// free, 0 when the per-request part alone exceeds the target).
[[nodiscard]] inline double max_items_within(const cost_model& c, double target,
                                             const machine_profile& m) noexcept {
  const auto side = [](double per_item, double per_request, double capacity) {
    if (per_request > capacity) {
      return 0.0;
    }
    return per_item > 0 ? (capacity - per_request) / per_item
                        : std::numeric_limits<double>::infinity();
  };
  return std::min(side(c.bytes_per_item, c.bytes_per_request, target * m.memory_bandwidth),
                  side(c.flops_per_item, c.flops_per_request, target * m.flops));
}

// floor() that forgives the rounding of a quotient meant to be a whole number.
[[nodiscard]] inline double floor_count(double x) noexcept {
  return std::floor(x * (1 + 1e-12));
}

inline void validate_cost(const cost_model& c, const std::string& stage) {
  const std::pair<const char*, double> fields[] = {{"bytes_per_item", c.bytes_per_item},
                                                   {"flops_per_item", c.flops_per_item},
                                                   {"bytes_per_request", c.bytes_per_request},
                                                   {"flops_per_request", c.flops_per_request}};
  for (const auto& [field, value] : fields) {
    if (!std::isfinite(value) || value < 0) {
      throw std::invalid_argument("mlsd::estimate_capacity: cost_model." + std::string(field) +
                                  " of stage " + in_quotes(stage) +
                                  " must be a finite, non-negative number, got " +
                                  std::to_string(value));
    }
  }
}

// The suggestions for stage `s` (costed, over `target` seconds) with cost model `c`.
template <class = void>
void suggest(const stage_estimate& s, const cost_model& c, double target, const machine_profile& m,
             std::vector<design_suggestion>& out) {
  const double n = static_cast<double>(s.items_in);
  const std::string within = "within " + format_seconds(target);
  const auto add = [&](design_change change, double value, double seconds, bool fits,
                       std::string text) {
    out.push_back(design_suggestion{s.name, change, value, seconds, fits, std::move(text)});
  };

  // Quantisation and partitioned indexes shrink a scan's bytes; they only help a memory-bound
  // stage, and a partitioned index only makes sense for a scan over the catalog.
  if (s.bound == roofline_bound::memory && c.bytes_per_item > 0) {
    cost_model int8 = c;
    int8.bytes_per_item /= 4;
    const roofline_point q = roofline(int8, n, m);
    const bool fits = q.seconds <= target;
    add(design_change::int8_quantization, q.bytes, q.seconds, fits,
        in_quotes(s.name) + ": int8 quantisation (a quarter of the bytes per item) reads " +
            format_si(q.bytes, "B") + " per request: " + format_seconds(q.seconds) + ", " +
            (fits ? "which fits " : "which alone does not fit ") + within +
            (q.bound == roofline_bound::compute ? " (then compute-bound)" : ""));

    if (s.role == stage_role::retriever || s.role == stage_role::other) {
      const double fraction = std::min(1.0, max_items_within(c, target, m) / n);
      if (fraction > 0) {
        const double ratio = std::ceil(1 / fraction * (1 - 1e-12));
        const double fraction_int8 = std::min(1.0, max_items_within(int8, target, m) / n);
        const roofline_point p = roofline(c, n * fraction, m);
        add(design_change::partitioned_index, fraction, p.seconds, true,
            in_quotes(s.name) + ": an IVF-style partitioned index may scan at most " +
                format_percent(fraction) + " of its " + format_count(n) + " items to fit " +
                within + ": nprobe/nlist <= 1/" + format_number(ratio) + " (at most " +
                format_percent(fraction_int8) +
                " with int8 codes as well; recall must then be measured, and the centroid scan "
                "is extra)");
      } else {
        add(design_change::partitioned_index, 0, s.seconds, false,
            in_quotes(s.name) + ": a partitioned index cannot fit " + within +
                ": the per-request part of its cost alone exceeds it");
      }
    }
  }

  // Sharding: N cores each take n / N items; the per-request part is paid by every shard.
  const auto shards_for = [&](double per_item, double per_request, double capacity) {
    if (per_item * n == 0) {
      return per_request <= capacity ? 1.0 : std::numeric_limits<double>::infinity();
    }
    return per_request < capacity ? std::ceil(per_item * n / (capacity - per_request) * (1 - 1e-12))
                                  : std::numeric_limits<double>::infinity();
  };
  const double shards =
      std::max(shards_for(c.bytes_per_item, c.bytes_per_request, target * m.memory_bandwidth),
               shards_for(c.flops_per_item, c.flops_per_request, target * m.flops));
  if (std::isfinite(shards) && shards <= n) {
    const roofline_point p = roofline(c, std::ceil(n / shards), m);
    add(design_change::shard_over_cores, shards, p.seconds, true,
        in_quotes(s.name) + ": sharding its " + format_count(n) + " items over " +
            format_number(shards) + " cores (" + format_count(std::ceil(n / shards)) +
            " each, then a merge) brings it to " + format_seconds(p.seconds) +
            (shards > m.cores ? ", more cores than one machine's " + std::to_string(m.cores) +
                                    ", so the shards span machines"
                              : "") +
            "; CPU time per request does not fall" +
            (s.bound == roofline_bound::memory
                 ? ", and the memory system must sustain all the shards' streams"
                 : ""));
  } else {
    add(design_change::shard_over_cores, 0, s.seconds, false,
        in_quotes(s.name) + ": sharding cannot fit " + within +
            ": the per-request part of its cost alone exceeds it");
  }

  const double max_items = floor_count(max_items_within(c, target, m));
  if (max_items >= 1) {
    const roofline_point p = roofline(c, max_items, m);
    add(design_change::limit_items, max_items, p.seconds, true,
        in_quotes(s.name) + ": the largest " +
            (s.role == stage_role::retriever ? std::string("candidate set") : "items_in") +
            " that fits " + within + " is " + format_count(max_items) + " items (" +
            (max_items >= 10000 ? format_number(max_items) + ", " : std::string()) + "of " +
            format_count(n) + " now): " +
            (s.bound == roofline_bound::memory ? format_si(c.bytes_per_item, "B") + " each at " +
                                                     format_si(m.memory_bandwidth, "B/s")
                                               : format_si(c.flops_per_item, "FLOP") + " each at " +
                                                     format_si(m.flops, "FLOP/s")));
  } else {
    add(design_change::limit_items, 0, s.seconds, false,
        in_quotes(s.name) + ": not even one item fits " + within +
            ": the per-request part of its cost alone exceeds it");
  }
}

} // namespace detail

/// Estimates the capacity of a design: stage `i` has shape `shapes[i]` (budget and role, see
/// `pipeline_shape`) and cost `costs[i]` (`std::nullopt` when unknown).
///
/// Per request, a stage handles `budget.items_in` items (1 without a budget) on one core; its time
/// is the roofline `max(bytes / m.memory_bandwidth, flops / m.flops)`. Stages without a cost model
/// are reported as such and left out of the sums. Findings: a stage over its own budget; the
/// total over the p99 budget; more cores needed at peak than the machine has; stages without a
/// cost model. A stage over its *target* (its budget, or the p99 budget if it has none) gets
/// suggestions, each with its computed effect: for a memory-bound stage int8 quantisation and,
/// for retrievers and stages of no particular role, an IVF-style partitioned index; for any
/// stage sharding over cores and the largest `items_in` that fits. When the peak load needs more
/// cores than the machine has and the largest stage is memory-bound, two more: int8 quantisation
/// of that stage with the cores the peak then needs, and (for a retriever) the fraction of its
/// items a partitioned index may scan for the peak to fit on this one machine.
/// @param target_utilization the busy fraction of each core planned for at peak, in (0, 1]; the
///   default 0.7 leaves 30% headroom for bursts and keeps queueing delay moderate.
/// @throws std::invalid_argument if `shapes` and `costs` differ in size, the p99 budget is not
///   positive, `target_utilization` is outside (0, 1], the profile is invalid, or a cost model has
///   a negative or non-finite field (the message names the stage and field).
/// @complexity linear in the number of stages.
template <class = void>
[[nodiscard]] capacity_report
estimate_capacity(const requirements& r, std::span<const stage_shape> shapes,
                  std::span<const std::optional<cost_model>> costs, const machine_profile& m,
                  double target_utilization = 0.7) {
  if (shapes.size() != costs.size()) {
    throw std::invalid_argument("mlsd::estimate_capacity: " + std::to_string(shapes.size()) +
                                " stage shapes but " + std::to_string(costs.size()) +
                                " cost models; give one (or std::nullopt) per stage");
  }
  if (r.slo.p99_latency.microseconds <= 0) {
    throw std::invalid_argument(
        "mlsd::estimate_capacity: requirements.slo.p99_latency must be positive, got " +
        std::to_string(r.slo.p99_latency.microseconds) + " us");
  }
  if (!(target_utilization > 0 && target_utilization <= 1)) {
    throw std::invalid_argument(
        "mlsd::estimate_capacity: target_utilization must be in (0, 1], got " +
        std::to_string(target_utilization));
  }
  m.validate();

  capacity_report report;
  report.p99_budget = r.slo.p99_latency;
  report.peak_qps = r.slo.peak_qps;
  report.target_utilization = target_utilization;
  report.machine = m;
  const double p99 = detail::to_seconds(r.slo.p99_latency);

  std::vector<std::size_t> uncosted;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const stage_shape& shape = shapes[i];
    stage_estimate s;
    s.name = shape.has_budget && !shape.budget.name.empty() ? std::string(shape.budget.name.view())
                                                            : "stage " + std::to_string(i);
    s.role = shape.role;
    s.has_budget = shape.has_budget;
    if (shape.has_budget) {
      s.budget = shape.budget.latency;
      s.items_in = shape.budget.items_in;
      s.items_out = shape.budget.items_out;
    }
    if (costs[i]) {
      detail::validate_cost(*costs[i], s.name);
      const detail::roofline_point p =
          detail::roofline(*costs[i], static_cast<double>(s.items_in), m);
      s.has_cost_model = true;
      s.bytes = p.bytes;
      s.flops = p.flops;
      s.seconds = p.seconds;
      s.bound = p.bound;
      const double budget = detail::to_seconds(s.budget);
      s.fits_budget = !s.has_budget || s.seconds <= budget;
      if (!s.fits_budget) {
        report.findings.push_back("stage " + detail::in_quotes(s.name) + " (" +
                                  std::string(to_string(s.role)) + ") is estimated at " +
                                  detail::format_seconds(s.seconds) + ", over its " +
                                  detail::format_seconds(budget) +
                                  " budget: " + std::string(to_string(s.bound)) + "-bound, " +
                                  (s.bound == roofline_bound::memory
                                       ? detail::format_si(s.bytes, "B") + " read per request at " +
                                             detail::format_si(m.memory_bandwidth, "B/s")
                                       : detail::format_si(s.flops, "FLOP") + " per request at " +
                                             detail::format_si(m.flops, "FLOP/s")));
      }
      report.total_seconds += s.seconds;
    } else {
      uncosted.push_back(i);
    }
    report.stages.push_back(std::move(s));
  }

  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const stage_estimate& s = report.stages[i];
    const double target = s.has_budget ? detail::to_seconds(s.budget) : p99;
    if (s.has_cost_model && s.seconds > target) {
      detail::suggest(s, *costs[i], target, m, report.suggestions);
    }
  }

  // The costed stage that takes the most time, for findings about sums.
  const auto largest = std::max_element(
      report.stages.begin(), report.stages.end(),
      [](const stage_estimate& a, const stage_estimate& b) { return a.seconds < b.seconds; });
  const auto share_of_largest = [&](double total) {
    return largest != report.stages.end() && largest->has_cost_model && total > 0
               ? " (" + detail::format_percent(largest->seconds / total) + " of it in " +
                     detail::in_quotes(largest->name) + ")"
               : std::string();
  };

  if (report.total_seconds > p99) {
    report.findings.push_back("the pipeline is estimated at " +
                              detail::format_seconds(report.total_seconds) +
                              " per request, over the " + detail::format_seconds(p99) +
                              " p99 budget" + share_of_largest(report.total_seconds));
  }

  report.cpu_seconds_per_request = report.total_seconds;
  report.cores_needed =
      report.cpu_seconds_per_request * static_cast<double>(report.peak_qps) / target_utilization;
  report.machines_needed =
      static_cast<std::uint64_t>(std::ceil(report.cores_needed / m.cores * (1 - 1e-12)));
  if (report.cores_needed > m.cores) {
    report.findings.push_back("at the peak of " + std::to_string(report.peak_qps) + " QPS and " +
                              detail::format_percent(target_utilization) +
                              " target utilisation the costed stages need " +
                              detail::format_number(report.cores_needed) + " cores" +
                              share_of_largest(report.total_seconds) +
                              ", more than the machine's " + std::to_string(m.cores) + ": about " +
                              std::to_string(report.machines_needed) + " machines like it");
  }

  // The peak load does not fit on the machine: what cutting the largest stage's cost would buy.
  if (report.cores_needed > m.cores && largest != report.stages.end() && largest->has_cost_model &&
      largest->bound == roofline_bound::memory) {
    const std::size_t i = static_cast<std::size_t>(largest - report.stages.begin());
    const cost_model& c = *costs[i];
    const double n = static_cast<double>(largest->items_in);
    const double qps = static_cast<double>(report.peak_qps);
    const double others = report.total_seconds - largest->seconds;
    const auto cores_at = [&](double stage_seconds) {
      return (others + stage_seconds) * qps / target_utilization;
    };
    cost_model int8 = c;
    int8.bytes_per_item /= 4;
    const detail::roofline_point q = detail::roofline(int8, n, m);
    const double int8_cores = cores_at(q.seconds);
    report.suggestions.push_back(design_suggestion{
        largest->name, design_change::int8_quantization, q.bytes, q.seconds, int8_cores <= m.cores,
        detail::in_quotes(largest->name) +
            ": int8 quantisation (a quarter of the bytes per item) brings the peak to " +
            detail::format_number(int8_cores) + " cores (" +
            std::to_string(
                static_cast<std::uint64_t>(std::ceil(int8_cores / m.cores * (1 - 1e-12)))) +
            " machines like this one)" +
            (q.bound == roofline_bound::compute ? ", then compute-bound" : "")});
    // CPU seconds per request that this machine can afford at peak, and what is left for it.
    const double affordable = static_cast<double>(m.cores) * target_utilization / qps - others;
    if ((largest->role == stage_role::retriever || largest->role == stage_role::other) &&
        affordable > 0) {
      const double fraction = std::min(1.0, detail::max_items_within(c, affordable, m) / n);
      if (fraction > 0) {
        const detail::roofline_point p = detail::roofline(c, n * fraction, m);
        report.suggestions.push_back(design_suggestion{
            largest->name, design_change::partitioned_index, fraction, p.seconds, true,
            detail::in_quotes(largest->name) +
                ": to serve the peak on this one machine, an IVF-style partitioned index may "
                "scan at most " +
                detail::format_percent(fraction) + " of its " + detail::format_count(n) +
                " items per request: nprobe/nlist <= 1/" +
                detail::format_number(std::ceil(1 / fraction * (1 - 1e-12)))});
      }
    }
  }

  for (const std::size_t i : uncosted) {
    report.findings.push_back(
        "stage " + detail::in_quotes(report.stages[i].name) + " (" +
        std::string(to_string(report.stages[i].role)) +
        ") has no cost model: it is left out of the latency and core estimates, which are "
        "therefore lower bounds (give it a `cost_model cost() const`)");
  }
  return report;
}

/// `estimate_capacity` for a pipeline (or a single stage) `P`: shapes from `pipeline_shape<P>`,
/// and the cost of stage `I` from `p.get<I>().cost()` for stages that model `costed_stage`
/// (`std::nullopt` for the others).
template <class P>
requires stage<P>
[[nodiscard]] capacity_report estimate_capacity(const requirements& r, const P& pipeline_or_stage,
                                                const machine_profile& m,
                                                double target_utilization = 0.7) {
  constexpr auto shapes = pipeline_shape<P>;
  std::array<std::optional<cost_model>, shapes.size()> costs{};
  if constexpr (detail::is_pipeline<P>::value) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      const auto cost_of = [](const auto& s) -> std::optional<cost_model> {
        if constexpr (costed_stage<std::remove_cvref_t<decltype(s)>>) {
          return s.cost();
        } else {
          return std::nullopt;
        }
      };
      ((costs[I] = cost_of(pipeline_or_stage.template get<I>())), ...);
    }
    (std::make_index_sequence<shapes.size()>{});
  } else if constexpr (costed_stage<P>) {
    costs[0] = pipeline_or_stage.cost();
  }
  return estimate_capacity(r, std::span<const stage_shape>(shapes),
                           std::span<const std::optional<cost_model>>(costs), m,
                           target_utilization);
}

template <class Json>
Json capacity_report::to_json() const {
  nlohmann::json stage_list = nlohmann::json::array();
  for (const stage_estimate& s : stages) {
    const auto if_costed = [&](auto v) {
      return s.has_cost_model ? nlohmann::json(v) : nlohmann::json();
    };
    stage_list.push_back(
        {{"name", s.name},
         {"role", std::string(mlsd::to_string(s.role))},
         {"budget_seconds",
          s.has_budget ? nlohmann::json(detail::to_seconds(s.budget)) : nlohmann::json()},
         {"items_in", s.items_in},
         {"items_out", s.items_out},
         {"cost_model", s.has_cost_model},
         {"bytes", if_costed(s.bytes)},
         {"flops", if_costed(s.flops)},
         {"seconds", if_costed(s.seconds)},
         {"bound", if_costed(std::string(mlsd::to_string(s.bound)))},
         {"fits", s.fits_budget}});
  }
  nlohmann::json suggestion_list = nlohmann::json::array();
  for (const design_suggestion& d : suggestions) {
    suggestion_list.push_back({{"stage", d.stage},
                               {"change", std::string(mlsd::to_string(d.change))},
                               {"value", d.value},
                               {"estimated_seconds", d.estimated_seconds},
                               {"fits", d.fits},
                               {"text", d.text}});
  }
  return {{"machine", nlohmann::json(machine)},
          {"p99_budget_seconds", detail::to_seconds(p99_budget)},
          {"total_seconds", total_seconds},
          {"cpu_seconds_per_request", cpu_seconds_per_request},
          {"peak_qps", peak_qps},
          {"target_utilization", target_utilization},
          {"cores_needed", cores_needed},
          {"machines_needed", machines_needed},
          {"fits", fits()},
          {"fits_latency", fits_latency()},
          {"stages", std::move(stage_list)},
          {"findings", findings},
          {"suggestions", std::move(suggestion_list)}};
}

template <class>
std::string capacity_report::to_text() const {
  const auto pad = [](std::string s, std::size_t width) {
    if (s.size() < width) {
      s.append(width - s.size(), ' ');
    }
    return s;
  };
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"stage", "role", "items in -> out", "budget", "estimate", "bound", "fits"});
  for (const stage_estimate& s : stages) {
    rows.push_back({s.name, std::string(mlsd::to_string(s.role)),
                    detail::format_count(static_cast<double>(s.items_in)) + " -> " +
                        detail::format_count(static_cast<double>(s.items_out)),
                    s.has_budget ? detail::format_seconds(detail::to_seconds(s.budget)) : "-",
                    s.has_cost_model ? detail::format_seconds(s.seconds) : "no cost model",
                    s.has_cost_model ? std::string(mlsd::to_string(s.bound)) : "-",
                    !s.has_cost_model ? "?"
                    : s.fits_budget   ? "yes"
                                      : "no"});
  }
  rows.push_back({"total (p99)", "", "", detail::format_seconds(detail::to_seconds(p99_budget)),
                  detail::format_seconds(total_seconds), "",
                  total_seconds <= detail::to_seconds(p99_budget) ? "yes" : "no"});
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], row[c].size());
    }
  }
  std::string out = "capacity estimate (" + machine.source +
                    " machine profile): " + detail::format_si(machine.memory_bandwidth, "B/s") +
                    " and " + detail::format_si(machine.flops, "FLOP/s") + " per core, " +
                    std::to_string(machine.cores) + " cores\n";
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += c + 1 < row.size() ? pad(row[c], widths[c] + 2) : row[c];
    }
    out += line + "\n";
  }
  out += "CPU per request " + detail::format_seconds(cpu_seconds_per_request) + "; at " +
         std::to_string(peak_qps) + " QPS peak and " + detail::format_percent(target_utilization) +
         " utilisation: " + detail::format_number(cores_needed) + " cores (machine has " +
         std::to_string(machine.cores) + ", " + std::to_string(machines_needed) +
         " machines needed)\n";
  out += fits() ? "fits: yes\n" : "fits: no\n";
  if (!findings.empty()) {
    out += "findings:\n";
    for (const std::string& f : findings) {
      out += "  - " + f + "\n";
    }
  }
  if (!suggestions.empty()) {
    out += "suggestions:\n";
    for (const design_suggestion& d : suggestions) {
      out += "  - " + d.text + "\n";
    }
  }
  return out;
}

MLSD_END_NAMESPACE
