/// @file
/// The roles of the framework's steps as concepts: data source, feature transform, feature store,
/// scorer and trainable model, metric accumulator, retriever, ranker, re-ranker, drift detector.
///
/// Several roles share a syntax (a retriever, a ranker and a re-ranker are all stages from one
/// list to another), so a type opts into a role by deriving from the role's tag: syntax alone never
/// makes a type a ranker by accident. Tags are empty (no size, no virtual functions) and live in
/// namespace `mlsd`, which makes `operator|` reachable by argument-dependent lookup. A type may
/// carry several tags (a model that is both a `scorer` and `trainable`). Every type mlsd ships is
/// checked against its roles with `static_assert` next to its definition; the design page
/// (docs/pipeline.md) lists them.
#pragma once

#include <mlsd/core/stage.hpp>
#include <mlsd/core/version.hpp>

#include <nlohmann/json_fwd.hpp>

#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <type_traits>

MLSD_BEGIN_NAMESPACE

/// Role tags: derive from the tag of every role a type plays.
struct data_source_tag {};
struct feature_transform_tag : stage_tag {};
struct feature_store_tag {};
struct scorer_tag : stage_tag {};
struct trainable_tag {};
struct metric_tag {};
struct retriever_tag : stage_tag {};
struct ranker_tag : stage_tag {};
struct re_ranker_tag : stage_tag {};
struct drift_detector_tag {};

/// `T` carries role tag `Tag` (possibly among others; `is_base_of` is also true for the repeated,
/// ambiguous `stage_tag` base of a type with two stage roles).
template <class T, class Tag>
concept has_role = std::is_base_of_v<Tag, T>;

namespace data {

/// A data source: yields records in chunks, so that memory stays bounded whatever the input size.
///
/// `s.read(out)` fills a prefix of `out` with the next records and returns how many; 0 means the
/// source is exhausted. Bad input is reported by the source's error policy (an exception naming
/// file, line, column and field, or a counted skip), never dropped silently. Not thread-safe: one
/// reader per source. Complexity: linear in the bytes read.
template <class S>
concept source = has_role<S, data_source_tag> && requires(S& s) {
  typename S::record_type;
  { s.read(std::declval<std::span<typename S::record_type>>()) } -> std::same_as<std::size_t>;
};

/// A feature transform: fitted on training data, then applied identically at training and serving
/// time (one object, so no training/serving skew), and saved and loaded as JSON.
///
/// - `t.fit(rows)` learns the transform's parameters from a span of training inputs;
/// - `t(x)` (a stage, callable as `const`) applies it: pure and thread-safe once fitted;
/// - `t.to_json()` / `T::from_json(j)` round-trip the fitted parameters.
template <class T>
concept feature_transform = has_role<T, feature_transform_tag> && stage<T> &&
    std::invocable<const T&, stage_input_t<T>> &&
    requires(T& t, const T& ct, std::span<const std::remove_cvref_t<stage_input_t<T>>> rows,
             const nlohmann::json& j) {
  t.fit(rows);
  { ct.to_json() } -> std::same_as<nlohmann::json>;
  { T::from_json(j) } -> std::same_as<T>;
};

/// A feature store: feature values keyed by entity (user, item, ad, ...).
///
/// `get` returns the value or `std::nullopt` (also when the value has expired, for stores with a
/// TTL); `get_many` looks up a batch into `out` (one optional per key); `put` inserts, or replaces
/// a value that is not newer (mlsd's stores keep the newest by event time: a late, older write is
/// rejected and counted). Implementations document their consistency; the online stores are safe
/// for concurrent readers and writers. Complexity: expected O(1) per key. Models:
/// `data::sharded_feature_store`, `data::sqlite_feature_store` (data/feature_store.hpp,
/// data/sqlite_store.hpp).
template <class S>
concept feature_store = has_role<S, feature_store_tag> &&
    requires(S& s, const S& cs, const typename S::key_type& key, typename S::value_type value,
             std::span<const typename S::key_type> keys,
             std::span<std::optional<typename S::value_type>> out) {
  { cs.get(key) } -> std::same_as<std::optional<typename S::value_type>>;
  cs.get_many(keys, out);
  s.put(key, std::move(value));
};

} // namespace data

namespace model {

/// A scorer: a stage from one example's features to a score (a probability, a rating, a relevance).
/// Scoring is pure; models document whether concurrent scoring is safe (it is for every mlsd
/// model whose call operator is `const`).
template <class M>
concept scorer = has_role<M, scorer_tag> && stage<M> && std::is_arithmetic_v<stage_output_t<M>>;

/// A trainable model: a scorer that learns from labelled examples one at a time or in a stream
/// (`m.update(x, label)`, which returns the example's loss before the update). Updates are not
/// thread-safe unless the model documents a lock-free (Hogwild) mode.
template <class M>
concept trainable = scorer<M> && has_role<M, trainable_tag> &&
    requires(M& m, stage_input_t<M> x, const typename M::label_type& label) {
  { m.update(std::forward<stage_input_t<M>>(x), label) } -> std::floating_point;
};

} // namespace model

namespace evaluation {

/// A metric accumulator: `add` observations, `merge` another accumulator of the same metric (for
/// slices, parallel shards and streams), read `result()`. `a.merge(b)` then `result()` equals
/// adding all of `b`'s observations to `a`. Not thread-safe: one accumulator per thread, then
/// merge. `add` is O(1) amortised unless the metric documents otherwise (exact ROC-AUC sorts).
template <class M>
concept metric_accumulator = has_role<M, metric_tag> && std::copy_constructible<M> &&
    requires(M& m, const M& cm, const typename M::observation_type& obs) {
  typename M::result_type;
  m.add(obs);
  m.merge(cm);
  { cm.result() } -> std::same_as<typename M::result_type>;
};

} // namespace evaluation

namespace serving {

/// A retriever: a stage from a request (a query embedding, a user) to candidates from the whole
/// catalog, best first. Sub-linear or a memory-bandwidth-bound scan; documented per type.
template <class R>
concept retriever = has_role<R, retriever_tag> && stage<R>;

/// A ranker: a stage that scores candidates more precisely than retrieval did, best first.
template <class R>
concept ranker = has_role<R, ranker_tag> && stage<R>;

/// A re-ranker: a stage that reorders or filters a ranked list (diversity, business rules,
/// truncation) and returns the same type it takes; its output is a subset of its input.
template <class R>
concept re_ranker = has_role<R, re_ranker_tag> && stage<R> &&
    std::same_as<std::remove_cvref_t<stage_input_t<R>>, std::remove_cvref_t<stage_output_t<R>>>;

} // namespace serving

namespace monitoring {

/// A drift detector: `observe` values from production and compare them against a reference;
/// `statistic()` is the current drift statistic and `drift_detected()` whether it crosses the
/// detector's threshold. Not thread-safe; O(1) or O(log bins) per observation.
template <class D>
concept drift_detector = has_role<D, drift_detector_tag> &&
    requires(D& d, const D& cd, const typename D::value_type& v) {
  d.observe(v);
  { cd.statistic() } -> std::floating_point;
  { cd.drift_detected() } -> std::same_as<bool>;
};

} // namespace monitoring

MLSD_END_NAMESPACE
