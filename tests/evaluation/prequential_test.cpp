#include <mlsd/core/sparse.hpp>
#include <mlsd/evaluation/classification.hpp>
#include <mlsd/evaluation/prequential.hpp>
#include <mlsd/evaluation/regression.hpp>
#include <mlsd/model/logistic_regression.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace ev = mlsd::evaluation;

namespace {

// Predicts the Laplace-smoothed positive rate of the labels it has learned: (pos + 1) / (n + 2).
struct laplace_rate {
  std::uint64_t positives = 0;
  std::uint64_t n = 0;
  [[nodiscard]] double predict(int /*x*/) const {
    return static_cast<double>(positives + 1) / static_cast<double>(n + 2);
  }
  void update(int /*x*/, float y) {
    positives += y > 0 ? 1 : 0;
    ++n;
  }
};

// Predicts the mean of the targets it has learned (0 before the first).
struct running_mean {
  double sum = 0.0;
  std::uint64_t n = 0;
  [[nodiscard]] double predict(int /*x*/) const {
    return n == 0 ? 0.0 : sum / static_cast<double>(n);
  }
  void update(int /*x*/, float y) {
    sum += y;
    ++n;
  }
};

// A float in [0, 1) from the top 24 bits: the same on every standard library.
double unit(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 40) / 16777216.0;
}

} // namespace

static_assert(ev::online_learner<laplace_rate, int, float>);
static_assert(!ev::online_learner<mlsd::model::logistic_regression, mlsd::sparse_row_view, float>);
static_assert(ev::online_learner<ev::online_learner_of<mlsd::model::logistic_regression>,
                                 mlsd::sparse_row_view, float>);

TEST_CASE("prequential: a trivial model's series, cumulative, sliding and fading values by hand",
          "[evaluation][prequential]") {
  ev::prequential_config cfg;
  cfg.window = 2;
  cfg.fading_factor = 0.5;
  ev::prequential<ev::brier_score, ev::pointwise_squared_error> eval(cfg);
  laplace_rate model;
  const float labels[] = {1, 0, 1, 1, 0, 1};
  // Test before train: the predictions are 1/2, 2/3, 2/4, 3/5, 4/6, 4/7 (the rate of the labels
  // *before* each one), so the squared errors are:
  const double loss[] = {0.25, 4.0 / 9, 0.25, 0.16, 4.0 / 9, 9.0 / 49};
  const double predicted[] = {0.5, 2.0 / 3, 0.5, 0.6, 4.0 / 6, 4.0 / 7};
  for (int i = 0; i < 6; ++i) {
    const double score = ev::test_then_train(model, eval, i, labels[i]);
    CHECK(score == Approx(predicted[i]).epsilon(1e-15));
  }
  CHECK(model.n == 6);
  CHECK(eval.examples() == 6);
  const auto& s = eval.series();
  REQUIRE(s.size() == 3);
  const double tol = 1e-7; // the observations hold float scores
  for (std::size_t w = 0; w < 3; ++w) {
    CHECK(s[w].examples == 2 * (w + 1));
    CHECK(*s[w].window.value == Approx((loss[2 * w] + loss[2 * w + 1]) / 2).epsilon(tol));
    double cumulative = 0.0;
    for (std::size_t k = 0; k < 2 * (w + 1); ++k) {
      cumulative += loss[k];
    }
    CHECK(*s[w].cumulative.value == Approx(cumulative / (2.0 * (w + 1))).epsilon(tol));
  }
  // Fading factor, closed form: Σ α^(i-k) L_k / Σ α^(i-k) at i = 6 and at i = 4.
  const auto faded_at = [&](int i) {
    double num = 0.0;
    double den = 0.0;
    for (int k = 1; k <= i; ++k) {
      num += std::pow(0.5, i - k) * loss[k - 1];
      den += std::pow(0.5, i - k);
    }
    return num / den;
  };
  CHECK(*eval.faded() == Approx(faded_at(6)).epsilon(tol));
  CHECK(*s[1].faded == Approx(faded_at(4)).epsilon(tol));
  CHECK(eval.cumulative().result() ==
        Approx((0.25 + 4.0 / 9 + 0.25 + 0.16 + 4.0 / 9 + 9.0 / 49) / 6).epsilon(tol));
  // A 7th example (label 0, predicted 5/8): the sliding window holds examples 6 and 7; the
  // series still has 3 points (the 4th window is not complete).
  (void)ev::test_then_train(model, eval, 7, 0.0f);
  CHECK(eval.series().size() == 3);
  CHECK(*eval.sliding().value == Approx((9.0 / 49 + 25.0 / 64) / 2).epsilon(tol));
}

TEST_CASE("prequential: undefined windows carry their reason", "[evaluation][prequential]") {
  ev::prequential_config cfg;
  cfg.window = 2;
  ev::prequential<ev::roc_auc> eval(cfg);
  eval.add({0.9f, 1.0f});
  eval.add({0.8f, 1.0f}); // window 1: positives only
  eval.add({0.7f, 0.0f});
  eval.add({0.1f, 1.0f}); // window 2: 0.1 < 0.7 -> AUC 0
  REQUIRE(eval.series().size() == 2);
  CHECK_FALSE(eval.series()[0].window.defined());
  CHECK(eval.series()[0].window.undefined == "only one class (2 positives, 0 negatives)");
  CHECK(eval.series()[0].cumulative.undefined == "only one class (2 positives, 0 negatives)");
  CHECK(*eval.series()[1].window.value == 0.0);
  CHECK(*eval.series()[1].cumulative.value == Approx(2.0 / 3)); // 0.9, 0.8 beat 0.7; 0.1 not
  CHECK_FALSE(eval.series()[1].faded.has_value());              // no pointwise loss
  CHECK_FALSE(eval.faded().has_value());
}

TEST_CASE("prequential: regression with a running-mean model, window 0",
          "[evaluation][prequential]") {
  ev::prequential_config cfg;
  cfg.window = 0;
  ev::prequential<ev::mae, ev::pointwise_absolute_error> eval(cfg);
  running_mean model;
  // Predictions 0, 2, 3, 10/3 for targets 2, 4, 4, 0: errors 2, 2, 1, 10/3.
  const float targets[] = {2, 4, 4, 0};
  for (int i = 0; i < 4; ++i) {
    (void)ev::test_then_train(model, eval, i, targets[i]);
  }
  CHECK(eval.series().empty());
  CHECK(eval.sliding().undefined == "no observations");
  CHECK(eval.cumulative().result() == Approx((2 + 2 + 1 + 10.0 / 3) / 4));
  CHECK(*eval.faded() == Approx((2 + 2 + 1 + 10.0 / 3) / 4)); // α = 1: the running mean
}

TEST_CASE("prequential: a bad observation is not learned from", "[evaluation][prequential]") {
  ev::prequential<ev::log_loss, ev::pointwise_log_loss> eval;
  running_mean model;
  model.sum = 6.0; // predicts 6/1: not a probability
  model.n = 1;
  CHECK_THROWS_AS(ev::test_then_train(model, eval, 0, 1.0f), mlsd::input_error);
  CHECK(model.n == 1);
  CHECK(eval.examples() == 0);
}

TEST_CASE("prequential_config: validation and JSON round trip", "[evaluation][prequential]") {
  ev::prequential_config cfg;
  cfg.fading_factor = 0.0;
  CHECK_THROWS_AS(cfg.validate(), mlsd::config_error);
  cfg.fading_factor = 1.5;
  CHECK_THROWS_AS(cfg.validate(), mlsd::config_error);
  cfg.fading_factor = 0.99;
  cfg.window = 250;
  const nlohmann::json j = cfg;
  CHECK(j == nlohmann::json{{"window", 250}, {"fading_factor", 0.99}});
  CHECK(j.get<ev::prequential_config>() == cfg);
  const nlohmann::json unknown = {{"window", 2}, {"fade", 0.5}};
  CHECK_THROWS_AS(unknown.get<ev::prequential_config>(), mlsd::config_error);
  const nlohmann::json negative = {{"fading_factor", -1}};
  CHECK_THROWS_AS(negative.get<ev::prequential_config>(), mlsd::config_error);
  // A fading factor needs a pointwise loss.
  CHECK_THROWS_AS(ev::prequential<ev::roc_auc>(cfg), mlsd::config_error);
  CHECK_NOTHROW(ev::prequential<ev::log_loss, ev::pointwise_log_loss>(cfg));
}

TEST_CASE("prequential: logistic regression on a stream whose concept flips",
          "[evaluation][prequential]") {
  // One binary feature a; P(y = 1 | a) = 0.9 for a = 0 and 0.1 for a = 1 until example 4000,
  // then the other way round. A learner that adapts has a low loss before the shift, a high
  // loss just after it, and a low loss again once it has re-learned.
  mlsd::model::logistic_regression::config mc;
  mc.features = 2;
  mc.optimizer.kind = mlsd::model::optimizer_kind::sgd;
  mc.optimizer.sgd.learning_rate = 0.1f;
  mlsd::model::logistic_regression lr(mc);
  ev::prequential_config cfg;
  cfg.window = 500;
  cfg.fading_factor = 0.99;
  ev::prequential<ev::log_loss, ev::pointwise_log_loss> eval(cfg);
  std::mt19937_64 rng(2013);
  mlsd::sparse_row row;
  double faded_before_shift = 0.0;
  double faded_after_shift = 0.0;
  for (int i = 0; i < 8000; ++i) {
    const std::uint32_t a = rng() % 2;
    const bool shifted = i >= 4000;
    const double p = (a == 0) != shifted ? 0.9 : 0.1;
    const float y = unit(rng) < p ? 1.0f : 0.0f;
    row.clear();
    row.push_back(a, 1.0f);
    (void)ev::test_then_train(lr, eval, row.view(), y);
    if (i == 3999) {
      faded_before_shift = *eval.faded();
    }
    if (i == 4099) {
      faded_after_shift = *eval.faded();
    }
  }
  const auto& s = eval.series();
  REQUIRE(s.size() == 16);
  const double entropy = -(0.9 * std::log(0.9) + 0.1 * std::log(0.1)); // ≈ 0.325, the best loss
  const double last_before = *s[7].window.value;                       // examples 3500..4000
  const double first_after = *s[8].window.value;                       // examples 4000..4500
  const double last = *s[15].window.value;                             // examples 7500..8000
  INFO("windows: " << last_before << " " << first_after << " " << last);
  CHECK(last_before < entropy + 0.05);
  CHECK(first_after > last_before + 0.12); // the loss rises at the shift...
  CHECK(last < entropy + 0.05);            // ...and recovers
  // The fading estimate reacts within 100 examples; the cumulative one barely moves.
  CHECK(faded_after_shift > faded_before_shift + 0.3);
  CHECK(*s[8].cumulative.value < *s[7].cumulative.value + 0.1);
  // The cumulative value at the end is the mean over all windows (equal sizes).
  double mean_of_windows = 0.0;
  for (const auto& point : s) {
    mean_of_windows += *point.window.value / 16.0;
  }
  CHECK(*s[15].cumulative.value == Approx(mean_of_windows).epsilon(1e-9));
}
