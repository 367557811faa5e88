/// @file
/// Any metric per slice: one accumulator per slice key (a feature value such as a country or a
/// device, or a segment such as "new users"), with the number of observations per slice and the
/// overall value, so that a model that is better on average but worse for a segment is seen.
///
/// `sliced<Metric>` works for every `evaluation::metric_accumulator`, including the per-query
/// ranking metrics (their observations are views: only the accumulators are stored, never the
/// observations). Slices are reported in sorted key order (bytewise, `std::string` `<`), so two
/// runs on the same data print the same report. A slice whose metric has no value (ROC-AUC of a
/// slice with one class) reports `undefined_metric`'s reason instead of a value: it is never
/// dropped silently, and its count is still there.
///
/// ```cpp
/// namespace ev = mlsd::evaluation;
/// ev::sliced<ev::roc_auc> by_country;
/// for (const auto& r : rows) by_country.add(r.country, {r.score, r.label});
/// const auto report = by_country.result();     // report.slices: {key, count, outcome} sorted
/// for (const auto& s : report.slices)
///   if (s.outcome.defined()) use(s.key, *s.outcome.value); else warn(s.key, s.outcome.undefined);
/// ```
#pragma once

#include <mlsd/core/roles.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/evaluation/metric.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace evaluation {

/// The value of a metric, or why it has none: exactly one of `value` and `undefined` is set
/// (`undefined` holds `undefined_metric::reason()`, e.g. "only one class (3 positives, 0
/// negatives)"). What a report holds instead of a NaN.
template <class Result>
struct metric_outcome {
  /// The metric's value, when it is defined.
  std::optional<Result> value;
  /// Why the metric is undefined (empty when `value` is set).
  std::string undefined;

  /// Whether the metric has a value.
  [[nodiscard]] bool defined() const noexcept { return value.has_value(); }
};

/// `m.result()`, or the reason `m.result()` threw `undefined_metric`. Other exceptions propagate.
template <metric_accumulator Metric>
[[nodiscard]] metric_outcome<typename Metric::result_type> outcome_of(const Metric& m) {
  metric_outcome<typename Metric::result_type> out;
  try {
    out.value = m.result();
  } catch (const undefined_metric& e) {
    out.undefined = e.reason();
  }
  return out;
}

/// One observation of a sliced metric: the slice it belongs to and the metric's observation.
/// The key is a view: `sliced::add` copies it only when it opens a new slice.
template <class Observation>
struct keyed_observation {
  std::string_view key;
  Observation observation;
};

/// One slice of a `sliced_result`: its key, how many observations it received, and the metric.
template <class Result>
struct slice_outcome {
  std::string key;
  std::uint64_t count = 0;
  metric_outcome<Result> outcome;
};

/// What `sliced::result()` returns: every slice in sorted key order, then the overall metric
/// (the merge of every slice, i.e. the metric over all observations) and the total count.
template <class Result>
struct sliced_result {
  std::vector<slice_outcome<Result>> slices;
  std::uint64_t count = 0;
  metric_outcome<Result> overall;
};

/// JSON of an outcome: the value, or `null` (the reason is written by the containers below).
template <class Result>
void to_json(nlohmann::json& j, const metric_outcome<Result>& o) {
  if (o.value) {
    j = *o.value;
  } else {
    j = nullptr;
  }
}

/// JSON of a sliced result: `{"count": n, "overall": v, "slices": {"key": {"count": n, "value":
/// v}, ...}}`; an undefined value is `null` with `"undefined": reason` beside it (an undefined
/// overall adds `"overall_undefined"`). Slices keep their sorted order.
template <class Result>
void to_json(nlohmann::json& j, const sliced_result<Result>& r) {
  nlohmann::json slices = nlohmann::json::object();
  for (const slice_outcome<Result>& s : r.slices) {
    nlohmann::json one = nlohmann::json::object();
    one["count"] = s.count;
    one["value"] = s.outcome;
    if (!s.outcome.defined()) {
      one["undefined"] = s.outcome.undefined;
    }
    slices[s.key] = std::move(one);
  }
  j = nlohmann::json::object();
  j["count"] = r.count;
  j["overall"] = r.overall;
  if (!r.overall.defined()) {
    j["overall_undefined"] = r.overall.undefined;
  }
  j["slices"] = std::move(slices);
}

/// A metric computed per slice: one `Metric` accumulator per key, created on the first
/// observation of that key as a copy of a prototype (so every slice has the prototype's
/// configuration: threshold, k, bins...).
///
/// Itself a `metric_accumulator` over `keyed_observation`s whose `result()` never throws
/// `undefined_metric`: undefined slices (and an undefined overall value) carry their reason.
/// `merge` adds another sliced accumulator slice by slice (slices only the other one has are
/// created), so shards of a data set evaluated apart merge into the same report.
///
/// Complexity: `add` is O(log S) key comparisons (S slices) plus the metric's own `add`; memory
/// is S accumulators and keys. `result()` copies the prototype once and merges every slice into
/// it for the overall value (O(total state)). Not thread-safe (one per thread, then merge).
template <metric_accumulator Metric>
class sliced : public metric_tag {
public:
  /// The metric of every slice.
  using metric_type = Metric;
  using observation_type = keyed_observation<typename Metric::observation_type>;
  using result_type = sliced_result<typename Metric::result_type>;
  /// The name in reports and errors ("sliced"; the slices' metric is `Metric::name`).
  static constexpr std::string_view name = "sliced";

  /// Slices start as copies of `prototype` (which should have seen no observation).
  explicit sliced(Metric prototype = Metric{})
      : prototype_(std::move(prototype)) {}

  /// Adds `o` to the slice named `key`, creating it on the first use of `key`. When the
  /// metric's `add` throws (`input_error` for a bad observation), nothing changes: no slice is
  /// created and no count moves.
  void add(std::string_view key, const typename Metric::observation_type& o) {
    const auto it = slices_.find(key);
    if (it == slices_.end()) {
      Metric m = prototype_;
      m.add(o);
      slices_.emplace(std::string(key), slice_state{std::move(m), 1});
      return;
    }
    it->second.metric.add(o);
    ++it->second.count;
  }

  /// Adds `o.observation` to the slice `o.key` (the `metric_accumulator` form of `add`).
  void add(const observation_type& o) { add(o.key, o.observation); }

  /// Adds every slice of `other` (which may be `*this`) to the slice of the same key. The
  /// metric's `merge` may throw (`config_error` when the two were configured apart).
  void merge(const sliced& other) {
    if (&other == this) {
      const sliced copy = other;
      merge(copy);
      return;
    }
    for (const auto& [key, state] : other.slices_) {
      auto it = slices_.find(key);
      if (it == slices_.end()) {
        slices_.emplace(key, state);
      } else {
        it->second.metric.merge(state.metric);
        it->second.count += state.count;
      }
    }
  }

  /// Every slice's value or reason, in sorted key order, and the overall value. Throws only
  /// what the metric's `merge` or `result()` throws besides `undefined_metric`.
  [[nodiscard]] result_type result() const {
    result_type out;
    out.slices.reserve(slices_.size());
    Metric overall = prototype_;
    for (const auto& [key, state] : slices_) {
      out.slices.push_back({key, state.count, outcome_of(state.metric)});
      out.count += state.count;
      overall.merge(state.metric);
    }
    out.overall = outcome_of(overall);
    return out;
  }

  /// The number of slices seen.
  [[nodiscard]] std::size_t slice_count() const noexcept { return slices_.size(); }
  /// Observations added so far, over every slice.
  [[nodiscard]] std::uint64_t count() const noexcept {
    std::uint64_t n = 0;
    for (const auto& entry : slices_) {
      n += entry.second.count;
    }
    return n;
  }
  /// Observations added to the slice `key` (0 for a key never seen).
  [[nodiscard]] std::uint64_t count(std::string_view key) const {
    const auto it = slices_.find(key);
    return it == slices_.end() ? 0 : it->second.count;
  }
  /// The accumulator of slice `key`, or nullptr for a key never seen.
  [[nodiscard]] const Metric* slice(std::string_view key) const {
    const auto it = slices_.find(key);
    return it == slices_.end() ? nullptr : &it->second.metric;
  }
  /// The slice keys, sorted.
  [[nodiscard]] std::vector<std::string> keys() const {
    std::vector<std::string> out;
    out.reserve(slices_.size());
    for (const auto& entry : slices_) {
      out.push_back(entry.first);
    }
    return out;
  }

private:
  struct slice_state {
    Metric metric;
    std::uint64_t count = 0;
  };
  Metric prototype_;
  std::map<std::string, slice_state, std::less<>> slices_;
};

} // namespace evaluation
MLSD_END_NAMESPACE
