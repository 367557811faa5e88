// The trainer (include/mlsd/model/trainer.hpp), driven by a tiny linear model defined here so that
// every expected number can be recomputed by a plain loop in the test.
#include <mlsd/model/trainer.hpp>

#include <mlsd/data/detail/random.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using mlsd::sparse_batch;
using mlsd::sparse_row_view;
using mlsd::model::loss_function;

// Logistic regression with plain SGD: w[feature] for each feature, the bias last.
struct tiny_linear : mlsd::scorer_tag, mlsd::trainable_tag {
  using input_type = sparse_row_view;
  using output_type = float;
  using label_type = float;

  explicit tiny_linear(std::size_t features, float eta = 0.1f)
      : w(features + 1, 0.0f)
      , rate(eta) {}

  std::vector<float> w;
  float rate;
  float poison = std::numeric_limits<float>::quiet_NaN(); // learn throws on this label

  [[nodiscard]] std::size_t feature_count() const { return w.size() - 1; }
  [[nodiscard]] loss_function loss() const { return loss_function::logistic; }
  [[nodiscard]] float margin(sparse_row_view x) const {
    float z = w.back();
    for (std::size_t i = 0; i < x.nnz(); ++i) {
      z += w[x.indices[i]] * x.values[i];
    }
    return z;
  }
  float learn(sparse_row_view x, float label, float multiplier) {
    if (label == poison) {
      throw std::runtime_error("poisoned example");
    }
    const float z = margin(x);
    const float step = rate * multiplier * mlsd::model::loss_gradient(loss(), z, label);
    for (std::size_t i = 0; i < x.nnz(); ++i) {
      w[x.indices[i]] -= step * x.values[i];
    }
    w.back() -= step;
    return mlsd::model::loss_value(loss(), z, label);
  }
  float operator()(sparse_row_view x) const {
    return mlsd::model::predict_from_margin(loss(), margin(x));
  }
  float update(sparse_row_view x, float label) { return learn(x, label, 1.0f); }
  std::span<float> parameters() { return w; }
};
static_assert(mlsd::model::sgd_model<tiny_linear>);

// `n` rows over `features` features, 4 active features each (value in [0.5, 1.5)), labelled
// ±1 by the sign of a fixed hidden weight vector (linearly separable).
sparse_batch synthetic(std::size_t n, std::size_t features, std::uint64_t seed) {
  mlsd::data::detail::splitmix64 rng(seed);
  std::vector<float> hidden(features);
  for (std::size_t f = 0; f < features; ++f) {
    hidden[f] = static_cast<float>(f % 2 == 0 ? 1.0 : -1.0) * static_cast<float>(1 + f % 3);
  }
  sparse_batch out;
  for (std::size_t r = 0; r < n; ++r) {
    std::vector<std::uint32_t> idx;
    std::vector<float> val;
    float score = 0.0f;
    for (int k = 0; k < 4; ++k) {
      const auto i = static_cast<std::uint32_t>(rng.below(features));
      const auto v = static_cast<float>(0.5 + rng.uniform());
      idx.push_back(i);
      val.push_back(v);
      score += hidden[i] * v;
    }
    out.start_row(score > 0.0f ? 1.0f : -1.0f);
    for (std::size_t k = 0; k < idx.size(); ++k) {
      out.push_back(idx[k], val[k]);
    }
    out.finish_row();
  }
  return out;
}

mlsd::model::train_options options_with(std::size_t epochs, std::size_t threads,
                                        std::size_t batch = 8) {
  mlsd::model::train_options o;
  o.epochs = epochs;
  o.threads = threads;
  o.batch_size = batch;
  o.seed = 42;
  return o;
}

// One epoch of the plain sequential loop over `order`; returns the sum of the losses.
double sequential_epoch(tiny_linear& m, const sparse_batch& data,
                        const std::vector<std::size_t>& order, float multiplier) {
  double loss = 0.0;
  for (const std::size_t i : order) {
    loss += m.learn(data.row(i), data.row(i).label, multiplier);
  }
  return loss;
}

} // namespace

TEST_CASE("shuffled_order is a seeded Fisher-Yates permutation", "[model][trainer]") {
  const auto a = mlsd::model::shuffled_order(1000, 7, 0);
  REQUIRE(a.size() == 1000);
  std::vector<std::size_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> iota(1000);
  std::iota(iota.begin(), iota.end(), std::size_t{0});
  CHECK(sorted == iota);
  CHECK(a == mlsd::model::shuffled_order(1000, 7, 0));
  CHECK(a != mlsd::model::shuffled_order(1000, 7, 1));
  CHECK(a != mlsd::model::shuffled_order(1000, 8, 0));
  CHECK(a != iota);

  // The same shuffle written out: i from n down to 2 swaps slot i-1 with a draw below i.
  std::vector<std::size_t> expected = iota;
  mlsd::data::detail::splitmix64 rng(mlsd::data::detail::splitmix64::hash(7, 0));
  for (std::size_t i = expected.size(); i > 1; --i) {
    std::swap(expected[i - 1], expected[rng.below(i)]);
  }
  CHECK(a == expected);
  CHECK(mlsd::model::shuffled_order(0, 1, 0).empty());
  CHECK(mlsd::model::shuffled_order(1, 1, 0) == std::vector<std::size_t>{0});
}

TEST_CASE("one thread is exactly the sequential loop over the shuffled order", "[model][trainer]") {
  const sparse_batch data = synthetic(203, 16, 1);
  auto options = options_with(4, 1, 16);
  options.schedule.type = mlsd::model::learning_rate_schedule::kind::inverse_sqrt;

  tiny_linear trained(16);
  const auto summary = mlsd::model::train(trained, data, nullptr, options);

  tiny_linear reference(16);
  std::vector<double> losses;
  for (std::size_t e = 0; e < 4; ++e) {
    const auto order = mlsd::model::shuffled_order(data.size(), 42, e);
    const auto multiplier = static_cast<float>(1.0 / std::sqrt(1.0 + static_cast<double>(e)));
    losses.push_back(sequential_epoch(reference, data, order, multiplier) / 203.0);
  }
  CHECK(trained.w == reference.w); // bit for bit
  CHECK(summary.epochs_run == 4);
  CHECK(summary.best_epoch == 3);
  CHECK_FALSE(summary.stopped_early);
  CHECK(summary.valid_loss.empty());
  REQUIRE(summary.train_loss.size() == 4);
  for (std::size_t e = 0; e < 4; ++e) {
    CHECK(summary.train_loss[e] == Approx(losses[e]).epsilon(1e-12));
  }
  CHECK(summary.train_loss[3] < summary.train_loss[0]);

  // Without shuffling the order is the row order; Hogwild on one thread is the same loop.
  options.shuffle = false;
  options.mode = mlsd::model::parallel_mode::hogwild;
  tiny_linear unshuffled(16);
  mlsd::model::train(unshuffled, data, nullptr, options);
  tiny_linear in_order(16);
  std::vector<std::size_t> rows(data.size());
  std::iota(rows.begin(), rows.end(), std::size_t{0});
  for (std::size_t e = 0; e < 4; ++e) {
    sequential_epoch(in_order, data, rows,
                     static_cast<float>(1.0 / std::sqrt(1.0 + static_cast<double>(e))));
  }
  CHECK(unshuffled.w == in_order.w);
}

TEST_CASE("learning-rate schedules: multipliers by epoch, exponential decay validated",
          "[model][trainer]") {
  using schedule = mlsd::model::learning_rate_schedule;
  schedule s;
  CHECK(s.multiplier(0) == 1.0);
  CHECK(s.multiplier(7) == 1.0);
  s.type = schedule::kind::inverse_sqrt;
  CHECK(s.multiplier(0) == 1.0);
  CHECK(s.multiplier(3) == 0.5);
  s.type = schedule::kind::exponential;
  s.decay = 0.5;
  CHECK(s.multiplier(0) == 1.0);
  CHECK(s.multiplier(1) == 0.5);
  CHECK(s.multiplier(4) == 0.0625);

  // Training with it is the sequential loop with the rate scaled by decay^epoch.
  const sparse_batch data = synthetic(150, 10, 4);
  auto options = options_with(3, 1, 16);
  options.schedule.type = schedule::kind::exponential;
  options.schedule.decay = 0.5;
  tiny_linear trained(10);
  (void)mlsd::model::train(trained, data, nullptr, options);
  tiny_linear reference(10);
  const float multipliers[] = {1.0f, 0.5f, 0.25f};
  for (std::size_t e = 0; e < 3; ++e) {
    (void)sequential_epoch(reference, data, mlsd::model::shuffled_order(150, 42, e),
                           multipliers[e]);
  }
  CHECK(trained.w == reference.w);
  tiny_linear constant(10);
  (void)mlsd::model::train(constant, data, nullptr, options_with(3, 1, 16));
  CHECK(constant.w != trained.w);

  // decay must lie in (0, 1]; it is not checked when the schedule is not exponential.
  for (const double decay : {0.0, -0.5, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    CAPTURE(decay);
    options.schedule.decay = decay;
    tiny_linear m(10);
    try {
      (void)mlsd::model::train(m, data, nullptr, options);
      FAIL("no exception");
    } catch (const mlsd::config_error& e) {
      CHECK(e.field() == "schedule.decay");
    }
  }
  options.schedule.decay = 1.0;
  CHECK_NOTHROW(options.validate());
  options.schedule.type = schedule::kind::constant;
  options.schedule.decay = 1.5;
  CHECK_NOTHROW(options.validate());
}

TEST_CASE("deterministic mode: two threads average two shards, bit-identical across runs",
          "[model][trainer]") {
  const sparse_batch data = synthetic(301, 12, 2);
  const auto options = options_with(3, 2, 8);

  tiny_linear first(12), second(12);
  const auto s1 = mlsd::model::train(first, data, nullptr, options);
  const auto s2 = mlsd::model::train(second, data, nullptr, options);
  CHECK(first.w == second.w);
  CHECK(s1.train_loss == s2.train_loss);

  // Reference: per epoch, copy A trains on the first half of the order, copy B on the second
  // (301 rows: 150 and 151), then every weight becomes (a + b) / 2 computed in double.
  tiny_linear reference(12);
  for (std::size_t e = 0; e < 3; ++e) {
    const auto order = mlsd::model::shuffled_order(301, 42, e);
    tiny_linear a = reference, b = reference;
    sequential_epoch(a, data, {order.begin(), order.begin() + 150}, 1.0f);
    sequential_epoch(b, data, {order.begin() + 150, order.end()}, 1.0f);
    for (std::size_t i = 0; i < reference.w.size(); ++i) {
      reference.w[i] =
          static_cast<float>((static_cast<double>(a.w[i]) + static_cast<double>(b.w[i])) / 2.0);
    }
  }
  CHECK(first.w == reference.w);

  // More threads than rows: one thread per row at most.
  const sparse_batch three = synthetic(3, 12, 3);
  tiny_linear small(12);
  CHECK(mlsd::model::train(small, three, nullptr, options_with(1, 8)).epochs_run == 1);
}

TEST_CASE("deterministic mode: three threads mix in slices, copies refreshed between epochs",
          "[model][trainer]") {
  // 100 weights + the bias: 7 cache lines of floats, the last one partial, cut among 3 threads.
  // The copies are made once and refreshed by the mixing; the result must be what fresh copies
  // of the model at every epoch give.
  const sparse_batch data = synthetic(400, 100, 5);
  const auto options = options_with(4, 3, 16);
  tiny_linear trained(100);
  const auto summary = mlsd::model::train(trained, data, nullptr, options);
  REQUIRE(summary.epochs_run == 4);

  tiny_linear reference(100);
  for (std::size_t e = 0; e < 4; ++e) {
    const auto order = mlsd::model::shuffled_order(400, 42, e);
    // Shards of 400 · t / 3: 133, 133, 134 rows.
    std::vector<tiny_linear> copies(3, reference);
    const std::size_t cut[] = {0, 133, 266, 400};
    for (std::size_t t = 0; t < 3; ++t) {
      sequential_epoch(copies[t], data, {order.begin() + cut[t], order.begin() + cut[t + 1]}, 1.0f);
    }
    for (std::size_t i = 0; i < reference.w.size(); ++i) {
      const double sum = static_cast<double>(copies[0].w[i]) + static_cast<double>(copies[1].w[i]) +
                         static_cast<double>(copies[2].w[i]);
      reference.w[i] = static_cast<float>(sum / 3.0);
    }
  }
  CHECK(trained.w == reference.w);
  // Not a trivial agreement: the copies diverged within each epoch.
  tiny_linear one_thread(100);
  mlsd::model::train(one_thread, data, nullptr, options_with(4, 1, 16));
  CHECK(one_thread.w != trained.w);
}

namespace {

// tiny_linear whose unwritten copies hold NaN: any parameter the trainer failed to fill would
// turn the mean of its copies into NaN.
struct poisoned_copies : tiny_linear {
  using tiny_linear::tiny_linear;
  [[nodiscard]] poisoned_copies unwritten_replica(mlsd::model::training_key) const {
    poisoned_copies r = *this;
    std::fill(r.w.begin(), r.w.end(), std::numeric_limits<float>::quiet_NaN());
    return r;
  }
};
static_assert(mlsd::model::detail::unwritten_replica_model<poisoned_copies>);
static_assert(!mlsd::model::detail::unwritten_replica_model<tiny_linear>);

} // namespace

TEST_CASE("deterministic mode fills every float of copies it allocates unwritten",
          "[model][trainer]") {
  // 40,000 weights + the bias: two whole 16,384-float chunks of the copy and a partial one.
  const sparse_batch data = synthetic(600, 40000, 9);
  for (const std::size_t threads : {2, 3}) {
    CAPTURE(threads);
    const auto options = options_with(2, threads, 16);
    poisoned_copies filled(40000);
    tiny_linear copied(40000);
    (void)mlsd::model::train(filled, data, nullptr, options);
    (void)mlsd::model::train(copied, data, nullptr, options);
    CHECK(std::equal(filled.w.begin(), filled.w.end(), copied.w.begin(), copied.w.end()));
    CHECK(std::none_of(filled.w.begin(), filled.w.end(), [](float v) { return std::isnan(v); }));
  }
}

TEST_CASE("hogwild mode converges on separable data", "[model][trainer][hogwild]") {
  const sparse_batch data = synthetic(4000, 32, 3);
  auto options = options_with(10, 2, 64);
  options.mode = mlsd::model::parallel_mode::hogwild;
  tiny_linear m(32, 0.2f);
  const double initial = mlsd::model::mean_loss(m, data);
  CHECK(initial == Approx(std::log(2.0)));
  const auto summary = mlsd::model::train(m, data, nullptr, options);
  CHECK(summary.epochs_run == 10);
  CHECK(summary.train_loss.back() < 0.25);
  CHECK(mlsd::model::mean_loss(m, data) < 0.2);
}

TEST_CASE("early stopping restores the best epoch when validation gets worse",
          "[model][trainer][early_stopping]") {
  // Training: feature 0 means positive. Validation: feature 0 means negative, so every epoch
  // that learns the training data makes the validation loss worse; epoch 0 is the best.
  sparse_batch train_set, valid_set;
  for (int r = 0; r < 40; ++r) {
    train_set.start_row(1.0f);
    train_set.push_back(0, 1.0f);
    train_set.finish_row();
  }
  valid_set.start_row(-1.0f);
  valid_set.push_back(0, 1.0f);
  valid_set.finish_row();

  auto options = options_with(10, 1, 8);
  options.stopping.patience = 2;
  tiny_linear m(1);
  const auto summary = mlsd::model::train(m, train_set, &valid_set, options);
  CHECK(summary.epochs_run == 3);
  CHECK(summary.best_epoch == 0);
  CHECK(summary.stopped_early);
  REQUIRE(summary.valid_loss.size() == 3);
  CHECK(summary.valid_loss[0] < summary.valid_loss[1]);
  CHECK(summary.valid_loss[1] < summary.valid_loss[2]);

  // The kept model is the one after epoch 0: the same as a one-epoch run.
  tiny_linear one_epoch(1);
  mlsd::model::train(one_epoch, train_set, nullptr, options_with(1, 1, 8));
  CHECK(m.w == one_epoch.w);
  CHECK(mlsd::model::mean_loss(m, valid_set) == Approx(summary.valid_loss[0]).epsilon(1e-12));

  // A min_delta larger than any improvement stops after `patience` epochs too, on data where the
  // validation loss does improve.
  const sparse_batch data = synthetic(200, 8, 4);
  auto strict = options_with(10, 1, 8);
  strict.stopping = {.patience = 1, .min_delta = 10.0};
  tiny_linear s(8);
  const auto strict_summary = mlsd::model::train(s, data, &data, strict);
  CHECK(strict_summary.epochs_run == 2);
  CHECK(strict_summary.best_epoch == 0);
  CHECK(strict_summary.valid_loss[1] < strict_summary.valid_loss[0]);
}

namespace {

// A validation metric whose figure for epoch e is `script[e]`, recording the predictions and
// labels it was given.
struct scripted_metric {
  std::vector<double> script;
  std::vector<std::vector<float>> predictions;
  std::vector<std::vector<float>> labels;

  mlsd::model::validation_metric as_metric(bool higher_is_better) {
    mlsd::model::validation_metric m;
    m.name = "scripted";
    m.higher_is_better = higher_is_better;
    m.evaluate = [this](std::span<const float> p, std::span<const float> y) {
      predictions.emplace_back(p.begin(), p.end());
      labels.emplace_back(y.begin(), y.end());
      return script.at(predictions.size() - 1);
    };
    return m;
  }
};

} // namespace

TEST_CASE("a validation metric is reported per epoch and watched by early stopping",
          "[model][trainer][early_stopping]") {
  const sparse_batch data = synthetic(200, 8, 4);
  const sparse_batch valid = synthetic(60, 8, 5);

  SECTION("it sees model(x) of every validation row after each epoch") {
    scripted_metric metric{{0.25, 0.5, 0.75}, {}, {}};
    auto options = options_with(3, 1, 8);
    options.valid_metric = metric.as_metric(true);
    tiny_linear m(8);
    std::vector<std::optional<double>> reported;
    std::vector<std::string> names;
    const auto summary = mlsd::model::train(m, data, &valid, options, [&](const auto& r) {
      if (r.epoch_done) {
        reported.push_back(r.valid_metric);
        names.emplace_back(r.valid_metric_name);
      }
      return true;
    });
    CHECK(summary.valid_metric == std::vector<double>{0.25, 0.5, 0.75});
    CHECK(summary.valid_metric_name == "scripted");
    CHECK(reported == std::vector<std::optional<double>>{0.25, 0.5, 0.75});
    CHECK(names == std::vector<std::string>(3, "scripted"));
    REQUIRE(metric.predictions.size() == 3);
    std::vector<float> expected, labels;
    for (std::size_t r = 0; r < valid.size(); ++r) {
      expected.push_back(m(valid.row(r)));
      labels.push_back(valid.row(r).label > 0.0f ? 1.0f : 0.0f); // the data's ±1, as 0 / 1
    }
    CHECK(metric.predictions.back() == expected);
    CHECK(metric.labels.back() == labels);
    // The loss beside it is `mean_loss`, as without a metric.
    CHECK(summary.valid_loss.back() == mlsd::model::mean_loss(m, valid));
  }

  // Trains with early stopping (patience 2) on the figures of `script`; returns the summary, and
  // whether the model kept is the one of a run of `best_epoch + 1` epochs without validation.
  const auto stop_on = [&](std::vector<double> script, bool higher_is_better) {
    scripted_metric metric{std::move(script), {}, {}};
    auto options = options_with(10, 1, 8);
    options.stopping.patience = 2;
    options.valid_metric = metric.as_metric(higher_is_better);
    tiny_linear m(8);
    const auto summary = mlsd::model::train(m, data, &valid, options);
    tiny_linear reference(8);
    mlsd::model::train(reference, data, nullptr, options_with(summary.best_epoch + 1, 1, 8));
    return std::pair{summary, m.w == reference.w};
  };

  SECTION("higher is better: the best epoch is the largest figure, and its model is kept") {
    // Epoch 1 is the best; epochs 2 and 3 do not beat it (the loss improves meanwhile).
    const auto [summary, kept] = stop_on({0.5, 0.7, 0.6, 0.65, 0.9}, true);
    CHECK(summary.epochs_run == 4);
    CHECK(summary.best_epoch == 1);
    CHECK(summary.stopped_early);
    CHECK(summary.valid_loss[3] < summary.valid_loss[1]);
    CHECK(kept);
  }

  SECTION("lower is better: the same figures pick epoch 0") {
    const auto [summary, kept] = stop_on({0.5, 0.7, 0.6, 0.65, 0.9}, false);
    CHECK(summary.epochs_run == 3);
    CHECK(summary.best_epoch == 0);
    CHECK(kept);
  }

  SECTION("a NaN figure never beats a number, and a number beats a NaN first epoch") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const auto [summary, kept] = stop_on({nan, 0.6, nan, nan, 0.9}, true);
    CHECK(summary.epochs_run == 4);
    CHECK(summary.best_epoch == 1);
    CHECK(kept);
  }

  SECTION("a diverged epoch has a NaN figure, the metric is not called, the best epoch is kept") {
    // From the third epoch on the model's margins are NaN (as after a diverging step).
    struct diverging : tiny_linear {
      using tiny_linear::tiny_linear;
      std::size_t steps = 0, healthy_steps = 0;
      [[nodiscard]] float margin(sparse_row_view x) const {
        return steps > healthy_steps ? std::numeric_limits<float>::quiet_NaN()
                                     : tiny_linear::margin(x);
      }
      float learn(sparse_row_view x, float label, float multiplier) {
        ++steps;
        return tiny_linear::learn(x, label, multiplier);
      }
      float operator()(sparse_row_view x) const {
        return mlsd::model::predict_from_margin(loss(), margin(x));
      }
      float update(sparse_row_view x, float label) { return learn(x, label, 1.0f); }
    };
    static_assert(mlsd::model::sgd_model<diverging>);
    scripted_metric metric{{0.5, 0.6}, {}, {}};
    auto options = options_with(10, 1, 8);
    options.stopping.patience = 2;
    options.valid_metric = metric.as_metric(true);
    diverging m(8);
    m.healthy_steps = 2 * data.size();
    const auto summary = mlsd::model::train(m, data, &valid, options);
    CHECK(metric.predictions.size() == 2); // never called on NaN predictions
    REQUIRE(summary.valid_metric.size() == 4);
    CHECK(std::isnan(summary.valid_metric[2]));
    CHECK(std::isnan(summary.valid_metric[3]));
    CHECK(summary.best_epoch == 1);
    tiny_linear two_epochs(8);
    mlsd::model::train(two_epochs, data, nullptr, options_with(2, 1, 8));
    CHECK(m.w == two_epochs.w);
  }

  SECTION("what the metric throws ends training and reaches the caller") {
    auto options = options_with(3, 2, 8);
    options.valid_metric.name = "throws";
    options.valid_metric.evaluate = [](std::span<const float>, std::span<const float>) -> double {
      throw std::runtime_error("undefined metric");
    };
    tiny_linear m(8);
    CHECK_THROWS_WITH(mlsd::model::train(m, data, &valid, options), "undefined metric");
  }

  SECTION("a metric needs a name and a function") {
    auto named = options_with(3, 1, 8);
    named.valid_metric.name = "auc";
    tiny_linear n(8);
    try {
      mlsd::model::train(n, data, &valid, named);
      FAIL("no config_error");
    } catch (const mlsd::config_error& e) {
      CHECK(e.field() == "valid_metric.evaluate");
    }
    auto options = options_with(3, 1, 8);
    options.valid_metric.evaluate = [](std::span<const float>, std::span<const float>) {
      return 0.0;
    };
    tiny_linear m(8);
    try {
      mlsd::model::train(m, data, &valid, options);
      FAIL("no config_error");
    } catch (const mlsd::config_error& e) {
      CHECK(e.field() == "valid_metric.name");
    }
  }
}

TEST_CASE("warm start continues from the model's parameters", "[model][trainer]") {
  const sparse_batch data = synthetic(120, 10, 5);
  tiny_linear twice(10);
  mlsd::model::train(twice, data, nullptr, options_with(1, 1));
  mlsd::model::train(twice, data, nullptr, options_with(1, 1));
  tiny_linear reference(10);
  const auto order = mlsd::model::shuffled_order(120, 42, 0);
  sequential_epoch(reference, data, order, 1.0f);
  sequential_epoch(reference, data, order, 1.0f);
  CHECK(twice.w == reference.w);
}

TEST_CASE("progress reports after each mini-batch and epoch; false stops training",
          "[model][trainer][progress]") {
  const sparse_batch data = synthetic(10, 6, 6);
  std::vector<mlsd::model::progress_report> reports;
  tiny_linear m(6);
  const auto summary =
      mlsd::model::train(m, data, &data, options_with(2, 1, 4), [&](const auto& r) {
        reports.push_back(r);
        return true;
      });
  REQUIRE(reports.size() == 8); // 3 batches + the epoch's end, twice
  const std::vector<std::size_t> done = {4, 8, 10, 10, 4, 8, 10, 10};
  for (std::size_t i = 0; i < reports.size(); ++i) {
    CHECK(reports[i].examples_done == done[i]);
    CHECK(reports[i].examples_total == 10);
    CHECK(reports[i].epochs == 2);
    CHECK(reports[i].epoch == i / 4);
    CHECK(reports[i].epoch_done == (i % 4 == 3));
    CHECK(reports[i].valid_loss.has_value() == (i % 4 == 3));
  }
  CHECK(reports[3].train_loss == summary.train_loss[0]);
  CHECK(*reports[3].valid_loss == summary.valid_loss[0]);
  CHECK(*reports[7].valid_loss == summary.valid_loss[1]);

  // Returning false after the first batch: 4 examples learned, the epoch is closed and counted.
  tiny_linear stopped(6);
  std::size_t calls = 0;
  const auto s = mlsd::model::train(stopped, data, nullptr, options_with(5, 1, 4),
                                    [&](const mlsd::model::progress_report& r) {
                                      ++calls;
                                      CHECK(r.examples_done == 4);
                                      return false;
                                    });
  CHECK(calls == 2); // the batch, then the end of the epoch
  CHECK(s.epochs_run == 1);
  CHECK(s.stopped_early);
  tiny_linear four(6);
  const auto order = mlsd::model::shuffled_order(10, 42, 0);
  sequential_epoch(four, data, {order.begin(), order.begin() + 4}, 1.0f);
  CHECK(stopped.w == four.w);
}

TEST_CASE("train validates its options and data before any update", "[model][trainer]") {
  const sparse_batch data = synthetic(20, 4, 7);
  tiny_linear m(4);
  auto bad = options_with(0, 1);
  CHECK_THROWS_AS(mlsd::model::train(m, data, nullptr, bad), mlsd::config_error);
  bad = options_with(1, 0);
  CHECK_THROWS_AS(mlsd::model::train(m, data, nullptr, bad), mlsd::config_error);
  bad = options_with(1, 1, 0);
  CHECK_THROWS_AS(mlsd::model::train(m, data, nullptr, bad), mlsd::config_error);
  bad = options_with(1, 1);
  bad.stopping.patience = 1;
  try {
    mlsd::model::train(m, data, nullptr, bad);
    FAIL("no exception");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "stopping.patience");
  }

  CHECK_THROWS_AS(mlsd::model::train(m, sparse_batch{}, nullptr, options_with(1, 1)),
                  mlsd::input_error);
  const sparse_batch empty;
  CHECK_THROWS_AS(mlsd::model::train(m, data, &empty, options_with(1, 1)), mlsd::input_error);

  // Row 3 (counted from 1) has feature 4 in a 4-feature model.
  sparse_batch out_of_range = synthetic(2, 4, 8);
  out_of_range.start_row(1.0f);
  out_of_range.push_back(1, 1.0f);
  out_of_range.push_back(4, 1.0f);
  out_of_range.finish_row();
  try {
    mlsd::model::train(m, out_of_range, nullptr, options_with(1, 2));
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().file == "training set");
    CHECK(e.where().line == 3);
    CHECK(e.where().field == "index");
    CHECK(e.found() == "4");
    CHECK(std::string(e.what()) ==
          "training set:3: field 'index': expected a feature index below 4 (the model's feature "
          "count), found '4'");
  }
  try {
    mlsd::model::train(m, data, &out_of_range, options_with(1, 1));
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().file == "validation set");
    CHECK(e.where().line == 3);
  }

  sparse_batch nan_value = synthetic(1, 4, 9);
  nan_value.start_row(1.0f);
  nan_value.push_back(0, std::numeric_limits<float>::infinity());
  nan_value.finish_row();
  try {
    mlsd::model::train(m, nan_value, nullptr, options_with(1, 1));
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().line == 2);
    CHECK(e.where().field == "value");
  }
  sparse_batch nan_label = synthetic(4, 4, 9);
  nan_label.start_row(std::numeric_limits<float>::quiet_NaN());
  nan_label.finish_row();
  try {
    mlsd::model::train(m, nan_label, nullptr, options_with(1, 1));
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().line == 5);
    CHECK(e.where().field == "label");
  }
  CHECK(m.w == std::vector<float>(5, 0.0f)); // nothing was learned
}

TEST_CASE("an exception in a worker thread reaches the caller", "[model][trainer]") {
  sparse_batch data = synthetic(100, 4, 10);
  data.start_row(7.0f);
  data.push_back(0, 1.0f);
  data.finish_row();
  tiny_linear m(4);
  m.poison = 7.0f;
  for (const auto mode :
       {mlsd::model::parallel_mode::deterministic, mlsd::model::parallel_mode::hogwild}) {
    auto options = options_with(1, 2);
    options.mode = mode;
    CHECK_THROWS_WITH(mlsd::model::train(m, data, nullptr, options), "poisoned example");
  }
}
