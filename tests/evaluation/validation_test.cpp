// The evaluation metrics as validation metrics (include/mlsd/evaluation/validation.hpp): each
// supported metric's name, direction and figure, the metrics refused, and early stopping on the
// validation ROC-AUC of a real model.
#include <mlsd/evaluation/validation.hpp>

#include <mlsd/model/logistic_regression.hpp>
#include <mlsd/model/trainer.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ev = mlsd::evaluation;
using mlsd::offline_metric;

namespace {

// Probabilities and 0/1 labels with some errors in the ranking, so that no metric is trivial.
const std::vector<float> scores = {0.9f, 0.8f, 0.7f, 0.65f, 0.4f, 0.35f, 0.3f, 0.2f, 0.1f, 0.6f};
const std::vector<float> labels = {1.0f, 1.0f, 0.0f, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f};

} // namespace

TEST_CASE("validation_metric_for: names, directions and figures of the evaluation metrics",
          "[evaluation][validation]") {
  struct expected {
    offline_metric metric;
    bool higher_is_better;
    double figure;
  };
  const std::span<const float> p(scores), y(labels);
  const std::vector<expected> table = {
      {offline_metric::roc_auc, true, ev::roc_auc_of(p, y)},
      {offline_metric::pr_auc, true, ev::average_precision_of(p, y)},
      {offline_metric::accuracy, true, ev::accuracy_of(p, y)},
      {offline_metric::r2, true, ev::r_squared_of(p, y)},
      {offline_metric::log_loss, false, ev::log_loss_of(p, y)},
      {offline_metric::normalized_entropy, false, ev::normalized_entropy_of(p, y)},
      {offline_metric::brier_score, false, ev::brier_score_of(p, y)},
      {offline_metric::rmse, false, ev::rmse_of(p, y)},
      {offline_metric::mae, false, ev::mae_of(p, y)},
  };
  for (const expected& e : table) {
    INFO(mlsd::to_string(e.metric));
    const mlsd::model::validation_metric m = ev::validation_metric_for(e.metric);
    REQUIRE(m);
    CHECK(m.name == mlsd::to_string(e.metric));
    CHECK(m.higher_is_better == e.higher_is_better);
    CHECK(m.evaluate(p, y) == e.figure);
  }
  // 20 of the 24 positive-negative pairs are ordered right.
  CHECK(ev::validation_metric_for(offline_metric::roc_auc).evaluate(p, y) == 20.0 / 24.0);
}

TEST_CASE("validation_metric_for refuses metrics that are not a figure of scored labels",
          "[evaluation][validation]") {
  for (const offline_metric m : {offline_metric::ndcg_at_k, offline_metric::gauc,
                                 offline_metric::calibration_ratio, offline_metric::novelty}) {
    INFO(mlsd::to_string(m));
    try {
      (void)ev::validation_metric_for(m);
      FAIL("accepted");
    } catch (const mlsd::config_error& e) {
      CHECK(e.field() == "valid_metric");
      CHECK_THAT(e.what(), Catch::Contains(std::string(mlsd::to_string(m))));
    }
  }
}

TEST_CASE("a logistic regression reports its validation ROC-AUC after every epoch",
          "[evaluation][validation][model]") {
  // Feature 0 marks a positive and feature 1 a negative, in both sets; the other features are
  // noise.
  mlsd::sparse_batch train, valid;
  for (int r = 0; r < 64; ++r) {
    const bool positive = r % 2 == 0;
    train.start_row(positive ? 1.0f : 0.0f);
    train.push_back(positive ? 0 : 1, 1.0f);
    train.push_back(2, 1.0f);
    train.finish_row();
  }
  for (int r = 0; r < 32; ++r) {
    const bool positive = r % 2 == 0;
    valid.start_row(positive ? 1.0f : 0.0f);
    valid.push_back(positive ? 0 : 1, 1.0f);
    valid.push_back(3 + static_cast<std::uint32_t>(r % 4), 1.0f);
    valid.finish_row();
  }
  mlsd::model::logistic_regression_config c;
  c.features = 8;
  mlsd::model::train_options options;
  options.epochs = 4;
  options.batch_size = 8;
  options.valid_metric = ev::validation_metric_for(offline_metric::roc_auc);
  mlsd::model::logistic_regression model(c);
  const auto summary = mlsd::model::train(model, train, &valid, options);
  REQUIRE(summary.valid_metric.size() == 4);
  CHECK(summary.valid_metric_name == "roc_auc");
  // The last figure is the AUC of the final model's predictions.
  std::vector<float> predictions;
  for (std::size_t r = 0; r < valid.size(); ++r) {
    predictions.push_back(model(valid.row(r)));
  }
  CHECK(summary.valid_metric.back() == ev::roc_auc_of(predictions, valid.labels()));
  CHECK(summary.valid_metric.back() == 1.0); // features 0 and 1 separate the classes

  // A validation set of one class has no AUC: the error reaches the caller.
  mlsd::sparse_batch one_class;
  one_class.start_row(1.0f);
  one_class.push_back(0, 1.0f);
  one_class.finish_row();
  mlsd::model::logistic_regression other(c);
  CHECK_THROWS_AS(mlsd::model::train(other, train, &one_class, options), ev::undefined_metric);
}
