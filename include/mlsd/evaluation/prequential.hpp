/// @file
/// Prequential (test-then-train) evaluation of online learners (Gama, Sebastião & Rodrigues 2013,
/// "On evaluating stream learning algorithms", Machine Learning 90(3)): every example is first
/// scored by the model, the score is added to the metric, and only then does the model learn
/// from the example. Each example is used once for testing before it is used for training, so no
/// hold-out set is needed and the estimate follows the model as it changes.
///
/// Three views of the same stream, as Gama et al. recommend, because the cumulative mean forgets
/// nothing and hides a concept drift that a forgetting estimate shows at once:
/// - cumulative: the metric over every example so far;
/// - sliding window: the metric over the last `window` examples (exact: the observations are kept);
/// - fading factor: `P_α(i) = S_α(i) / B_α(i)`, `S_α(i) = L_i + α S_α(i-1)`,
///   `B_α(i) = 1 + α B_α(i-1)` (Gama et al. 2013, section 4.2), for a per-example loss `L`;
/// plus a series with one point per `window` examples (consecutive, non-overlapping windows) for
/// plotting, e.g., normalized entropy over time.
///
/// ```cpp
/// namespace ev = mlsd::evaluation;
/// mlsd::model::logistic_regression lr(cfg);
/// ev::prequential<ev::log_loss, ev::pointwise_log_loss> eval({.window = 1000, .fading_factor =
/// 0.999}); for (const mlsd::sparse_row& r : stream) ev::test_then_train(lr, eval, r.view(),
/// r.label); for (const auto& p : eval.series()) plot(p.examples, *p.window.value);
/// ```
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/evaluation/classification.hpp>
#include <mlsd/evaluation/metric.hpp>
#include <mlsd/evaluation/regression.hpp>
#include <mlsd/evaluation/slices.hpp>
#include <mlsd/model/loss.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace evaluation {

/// The settings of a prequential evaluation.
struct prequential_config {
  /// Examples per sliding window and per point of the series; 0 turns both off (only the
  /// cumulative value and the fading factor remain). The window's observations are kept:
  /// memory O(window).
  std::uint64_t window = 1000;
  /// The fading factor α in (0, 1]; 1 turns fading off. Only used with a pointwise loss (see
  /// `prequential`). α = 1 - 1/w weighs the last w examples about as a window of w does (Gama et
  /// al. 2013, section 4.2).
  double fading_factor = 1.0;

  /// @throws config_error naming `prequential.fading_factor` unless 0 < α <= 1.
  void validate() const {
    if (!(fading_factor > 0.0 && fading_factor <= 1.0)) {
      throw config_error("prequential.fading_factor", "a number in (0, 1]");
    }
  }
  friend bool operator==(const prequential_config&, const prequential_config&) = default;
};

/// JSON: `{"window": w, "fading_factor": a}`.
inline void to_json(nlohmann::json& j, const prequential_config& c) {
  j = nlohmann::json{{"window", c.window}, {"fading_factor", c.fading_factor}};
}
/// Reads `to_json`'s form (absent keys keep their defaults, unknown keys are errors) and
/// validates it. @throws config_error naming the field.
inline void from_json(const nlohmann::json& j, prequential_config& c) {
  data::detail::config_reader r(j, "prequential");
  prequential_config out;
  r.read("window", out.window);
  r.read("fading_factor", out.fading_factor);
  r.finish();
  out.validate();
  c = out;
}

/// No pointwise loss: the evaluation has no fading-factor estimate (the metric need not be a
/// mean of per-example losses: ROC-AUC is not).
struct no_pointwise_loss {};

/// The per-example log loss `-log p` or `-log(1 - p)`, `p` clipped as `log_loss` clips it, so
/// the fading estimate of a `log_loss` evaluation is on the same scale as its cumulative value.
struct pointwise_log_loss {
  /// The clipping of `log_loss` (same default).
  log_loss_config clipping{};
  /// The loss of one observation (the metric's `add` has checked it first).
  [[nodiscard]] double operator()(const scored_label& o) const noexcept {
    return detail::clipped_log_loss(o.score, model::is_positive(o.label), clipping.epsilon);
  }
};

/// The per-example squared error `(p - y)^2`: Brier score for classification (`y` as 0 or 1),
/// squared error for regression.
struct pointwise_squared_error {
  /// Squared error of a probability against the 0/1 label.
  [[nodiscard]] double operator()(const scored_label& o) const noexcept {
    const double r = static_cast<double>(o.score) - (model::is_positive(o.label) ? 1.0 : 0.0);
    return r * r;
  }
  /// Squared error of a prediction against its target.
  [[nodiscard]] double operator()(const prediction_target& o) const noexcept {
    const double r = static_cast<double>(o.prediction) - static_cast<double>(o.target);
    return r * r;
  }
};

/// The per-example absolute error `|ŷ - y|` of a regression (the loss whose mean is MAE).
struct pointwise_absolute_error {
  /// Absolute error of a prediction against its target.
  [[nodiscard]] double operator()(const prediction_target& o) const noexcept {
    return std::fabs(static_cast<double>(o.prediction) - static_cast<double>(o.target));
  }
};

/// One point of the prequential series, at the end of a window of `config.window` examples.
template <class Result>
struct prequential_point {
  /// Examples seen so far (a multiple of the window).
  std::uint64_t examples = 0;
  /// The metric over this window's examples alone.
  metric_outcome<Result> window;
  /// The metric over every example so far.
  metric_outcome<Result> cumulative;
  /// The fading-factor estimate at this point (nullopt without a pointwise loss).
  std::optional<double> faded;
};

/// A prequential evaluation of one metric: feed it the model's score for each example *before*
/// the model learns from it (`add`, or `test_then_train` which does both steps in that order).
///
/// `Metric` is any `metric_accumulator` whose observation is built from a score and a label
/// (`scored_label`, `prediction_target`). `PointwiseLoss` (`no_pointwise_loss` by default) gives
/// the per-example loss of the fading-factor estimate; pick the one whose mean is the metric
/// (`pointwise_log_loss` for `log_loss`, `pointwise_squared_error` for `brier_score`), or any
/// callable `double(const observation&)`.
///
/// Complexity per example: the metric's `add` twice (cumulative and window), O(1) otherwise;
/// at the end of each window, one `result()` over the window (O(window) for sums, more for
/// sorting metrics) and one of the cumulative metric (for ROC-AUC, a sort of everything so far:
/// use a large window with such metrics). Memory: the cumulative metric's state, the window's
/// observations and the series. Not thread-safe.
template <metric_accumulator Metric, class PointwiseLoss = no_pointwise_loss>
class prequential {
public:
  using config = prequential_config;
  using metric_type = Metric;
  using observation_type = typename Metric::observation_type;
  using result_type = typename Metric::result_type;
  /// Whether this evaluation has a fading-factor estimate.
  static constexpr bool has_pointwise_loss = !std::is_same_v<PointwiseLoss, no_pointwise_loss>;

  /// @throws config_error when `cfg` is invalid, or when it asks for a fading factor (< 1)
  /// without a pointwise loss.
  explicit prequential(config cfg = {}, Metric prototype = Metric{}, PointwiseLoss loss = {})
      : cfg_(cfg)
      , prototype_(prototype)
      , cumulative_(std::move(prototype))
      , window_metric_(prototype_)
      , loss_(std::move(loss)) {
    cfg_.validate();
    if (!has_pointwise_loss && cfg_.fading_factor != 1.0) {
      throw config_error("prequential.fading_factor",
                         "1 (off) when no pointwise loss is given (prequential<Metric, Loss>)");
    }
  }

  /// Records the score of one example that the model has not yet learned from. The metric's
  /// `add` checks `o` first (`input_error`; then nothing changes).
  void add(const observation_type& o) {
    cumulative_.add(o);
    if constexpr (has_pointwise_loss) {
      const double l = static_cast<double>(loss_(o));
      faded_sum_ = l + cfg_.fading_factor * faded_sum_;
      faded_weight_ = 1.0 + cfg_.fading_factor * faded_weight_;
    }
    ++examples_;
    if (cfg_.window == 0) {
      return;
    }
    window_metric_.add(o);
    if (recent_.size() < cfg_.window) {
      recent_.push_back(o);
    } else {
      recent_[next_] = o;
    }
    next_ = (next_ + 1) % cfg_.window;
    if (examples_ % cfg_.window == 0) {
      series_.push_back({examples_, outcome_of(window_metric_), outcome_of(cumulative_), faded()});
      window_metric_ = prototype_;
    }
  }

  /// The metric over every example so far (the accumulator: `result()` may throw
  /// `undefined_metric`).
  [[nodiscard]] const Metric& cumulative() const noexcept { return cumulative_; }
  /// The metric over the last `min(window, examples)` examples, or its reason ("no
  /// observations" when `window` is 0). O(window) per call: it re-adds the kept observations to
  /// a fresh accumulator.
  [[nodiscard]] metric_outcome<result_type> sliding() const {
    Metric m = prototype_;
    for (const observation_type& o : recent_) {
      m.add(o);
    }
    return outcome_of(m);
  }
  /// The fading-factor estimate `S_α / B_α` (nullopt without a pointwise loss or before the first
  /// example). With α = 1 it is the running mean of the pointwise loss.
  [[nodiscard]] std::optional<double> faded() const noexcept {
    if constexpr (has_pointwise_loss) {
      if (examples_ > 0) {
        return faded_sum_ / faded_weight_;
      }
    }
    return std::nullopt;
  }
  /// One point per complete window, in order (a trailing partial window is not a point: read it
  /// with `sliding()`).
  [[nodiscard]] const std::vector<prequential_point<result_type>>& series() const noexcept {
    return series_;
  }
  /// Examples seen so far.
  [[nodiscard]] std::uint64_t examples() const noexcept { return examples_; }
  /// The configuration.
  [[nodiscard]] const config& configuration() const noexcept { return cfg_; }

private:
  config cfg_;
  Metric prototype_;
  Metric cumulative_;
  Metric window_metric_;
  PointwiseLoss loss_;
  std::vector<observation_type> recent_; // ring buffer of the last `window` observations
  std::size_t next_ = 0;
  std::uint64_t examples_ = 0;
  double faded_sum_ = 0.0;
  double faded_weight_ = 0.0;
  std::vector<prequential_point<result_type>> series_;
};

/// An online learner over examples `X` with labels `Y`: `predict(x)` scores an example (without
/// learning), `update(x, y)` learns from it. mlsd's trainable models (`model::trainable`: call
/// operator and `update`) are wrapped by `online_learner_of`.
template <class L, class X, class Y>
concept online_learner = requires(L& l, const X& x, const Y& y) {
  { l.predict(x) } -> std::convertible_to<double>;
  l.update(x, y);
};

/// Adapts a `model::trainable` mlsd model (`logistic_regression`, `factorization_machine`, ...)
/// to `online_learner`: `predict(x)` is `model(x)` (a probability under the logistic loss),
/// `update(x, y)` is `model.update(x, y)`. Holds a reference: the model must outlive it.
template <class Model>
class online_learner_of {
public:
  /// Wraps `m` (not copied).
  explicit online_learner_of(Model& m) noexcept
      : model_(&m) {}
  /// The model's score of `x`.
  template <class X>
  [[nodiscard]] auto predict(const X& x) const {
    return (*model_)(x);
  }
  /// One online step of the model on `(x, y)`.
  template <class X, class Y>
  void update(const X& x, const Y& y) {
    (void)model_->update(x, y);
  }
  /// The wrapped model.
  [[nodiscard]] Model& model() const noexcept { return *model_; }

private:
  Model* model_;
};

/// An observation type built from `{score, label}` (`scored_label`, `prediction_target`).
template <class O>
concept score_label_observation = requires(float score, float label) {
  O{score, label};
};

/// One prequential step: scores `x` with `learner`, adds `{score, y}` to `eval`, then lets the
/// learner learn `(x, y)`. Returns the score. When the observation is bad (`input_error` from the
/// metric), the learner does not learn from the example either.
template <class Learner, class X, class Y, class Metric, class Loss>
requires online_learner<Learner, X, Y> && score_label_observation<typename Metric::observation_type>
double test_then_train(Learner& learner, prequential<Metric, Loss>& eval, const X& x, const Y& y) {
  const double score = static_cast<double>(learner.predict(x));
  eval.add(typename Metric::observation_type{static_cast<float>(score), static_cast<float>(y)});
  learner.update(x, y);
  return score;
}

/// `test_then_train` for an mlsd `model::trainable` model used directly.
template <class Model, class X, class Y, class Metric, class Loss>
requires(!online_learner<Model, X, Y>) &&
    model::trainable<Model>&& score_label_observation<
        typename Metric::observation_type> double test_then_train(Model& model,
                                                                  prequential<Metric, Loss>& eval,
                                                                  const X& x, const Y& y) {
  online_learner_of<Model> learner(model);
  return test_then_train(learner, eval, x, y);
}

} // namespace evaluation
MLSD_END_NAMESPACE
