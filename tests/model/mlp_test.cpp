// The MLP ranker: its input convention, the forward pass against a hand-written reference, the
// whole network's gradient against finite differences (in double), Adam's step against values
// computed by hand, learning interactions an additive model cannot, determinism, early stopping,
// the model file, and the errors for bad configs and bad rows.
#include <mlsd/model/mlp.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace {
using namespace mlsd;
using namespace mlsd::model;

static_assert(scorer<mlp_ranker> && trainable<mlp_ranker>);

/// A row with dense values (field `fields`, slots 0..) and one categorical id per field.
sparse_row make_row(float label, std::vector<std::uint32_t> ids, std::vector<float> dense) {
  sparse_row row;
  row.label = label;
  const auto fields = static_cast<std::uint32_t>(ids.size());
  for (std::uint32_t f = 0; f < fields; ++f) {
    row.push_back(f, ids[f], 1.0f);
  }
  for (std::uint32_t s = 0; s < dense.size(); ++s) {
    row.push_back(fields, s, dense[s]);
  }
  return row;
}

double sigmoid(double z) {
  return 1.0 / (1.0 + std::exp(-z));
}

/// XOR of two dense inputs, each of the four points `copies` times.
sparse_batch xor_batch(int copies) {
  sparse_batch batch;
  for (int c = 0; c < copies; ++c) {
    for (int a = 0; a < 2; ++a) {
      for (int b = 0; b < 2; ++b) {
        batch.start_row(static_cast<float>(a ^ b));
        batch.push_back(0, static_cast<float>(a));
        batch.push_back(1, static_cast<float>(b));
        batch.finish_row();
      }
    }
  }
  return batch;
}

/// Two categorical fields of 4 values each; the label is the parity of their sum.
sparse_batch parity_batch() {
  sparse_batch batch;
  for (std::uint32_t a = 0; a < 4; ++a) {
    for (std::uint32_t b = 0; b < 4; ++b) {
      batch.start_row(static_cast<float>((a + b) % 2));
      batch.push_back(0, a, 1.0f);
      batch.push_back(1, b, 1.0f);
      batch.finish_row();
    }
  }
  return batch;
}

/// Two categorical fields of 4 ids (3-dimensional embeddings), one dense feature, ReLU layers 8
/// and 4: the network of the determinism tests.
mlp_config two_fields_one_dense() {
  mlp_config c;
  c.embedding_rows = {4, 4};
  c.embedding_dim = 3;
  c.dense_features = 1;
  c.hidden = {8, 4};
  return c;
}

} // namespace

TEST_CASE("mlp_config: validation names the field, JSON round-trips", "[model][mlp]") {
  mlp_config c;
  c.embedding_rows = {10, 0};
  REQUIRE_THROWS_AS(mlp_ranker(c), config_error);
  try {
    mlp_ranker bad(c);
  } catch (const config_error& e) {
    CHECK(e.field() == "embedding_rows[1]");
  }
  c.embedding_rows = {};
  c.dense_features = 0;
  REQUIRE_THROWS_WITH(mlp_ranker(c), Catch::Contains("dense_features"));
  c.dense_features = 3;
  c.hidden = {4, 0};
  REQUIRE_THROWS_WITH(mlp_ranker(c), Catch::Contains("hidden[1]"));
  c.hidden = {4};
  c.beta2 = 1.0;
  REQUIRE_THROWS_WITH(mlp_ranker(c), Catch::Contains("beta2"));

  mlp_config d;
  d.embedding_rows = {100, 7};
  d.embedding_dim = 4;
  d.dense_features = 2;
  d.hidden = {16, 8};
  d.loss = loss_function::squared;
  d.learning_rate = 0.01;
  d.weight_decay = 1e-4;
  d.seed = 99;
  const mlp_config back = mlp_config::from_json(d.to_json());
  CHECK(back.to_json() == d.to_json());
  CHECK(back.embedding_rows == d.embedding_rows);
  CHECK(back.loss == loss_function::squared);
  CHECK(back.input_dim() == 2 * 4 + 2);

  nlohmann::json typo = d.to_json();
  typo["hiden"] = nlohmann::json::array({3});
  REQUIRE_THROWS_WITH(mlp_config::from_json(typo), Catch::Contains("hiden"));
}

TEST_CASE("mlp_ranker: the forward pass matches a hand-written reference", "[model][mlp]") {
  // One categorical field (3 rows, d = 2), one dense slot, one hidden layer of width 2.
  mlp_config c;
  c.embedding_rows = {3};
  c.embedding_dim = 2;
  c.dense_features = 1;
  c.hidden = {2};
  basic_mlp_ranker<double> m(c);
  REQUIRE(m.input_dim() == 3);
  REQUIRE(m.parameters().size() == (2 * 3 + 2) + (1 * 2 + 1) + 3 * 2);
  // Layout: W0 (2 x 3 row-major), b0 (2), W1 (1 x 2), b1 (1), table (3 x 2 row-major).
  const std::vector<double> p = {0.5,      -1.0, 0.25,      /**/ 1.5, 0.75,      -0.5,
                                 /**/ 0.1, -0.2,
                                 /**/ 2.0, -3.0, /**/ 0.3,
                                 /**/ 1.0, 2.0,  /**/ -1.0, 0.5,      /**/ 0.25, -0.75};
  std::copy(p.begin(), p.end(), m.parameters().begin());
  CHECK(m.weights(0)(1, 2) == -0.5);
  CHECK(m.bias(1)(0) == 0.3);
  CHECK(m.embedding_table(0)(2, 1) == -0.75);

  // ids 1 and 5 (5 mod 3 = 2) with weights 1 and 2, mean-pooled: (e1 + 2 e2) / 2.
  sparse_row x;
  x.push_back(0, 1, 1.0f);
  x.push_back(0, 5, 2.0f);
  x.push_back(1, 0, 4.0f); // the dense slot
  const double in0 = (-1.0 + 2 * 0.25) / 2, in1 = (0.5 + 2 * -0.75) / 2, in2 = 4.0;
  const double h0 = std::max(0.0, 0.5 * in0 - 1.0 * in1 + 0.25 * in2 + 0.1);
  const double h1 = std::max(0.0, 1.5 * in0 + 0.75 * in1 - 0.5 * in2 - 0.2);
  const double z = 2.0 * h0 - 3.0 * h1 + 0.3;
  CHECK(m.margin(x) == Approx(z).epsilon(1e-14));
  CHECK(m(x) == Approx(sigmoid(z)).epsilon(1e-14));

  // A field with no ids pools to zero; the batch path agrees with the single-row path.
  sparse_row only_dense;
  only_dense.push_back(1, 0, -2.0f);
  sparse_batch batch;
  batch.push_back(x);
  batch.push_back(only_dense);
  const std::vector<double> z_batch = m.margins(batch);
  CHECK(z_batch[0] == Approx(z).epsilon(1e-14));
  const double g0 = std::max(0.0, 0.25 * -2.0 + 0.1), g1 = std::max(0.0, -0.5 * -2.0 - 0.2);
  CHECK(z_batch[1] == Approx(2.0 * g0 - 3.0 * g1 + 0.3).epsilon(1e-14));
}

TEST_CASE("mlp_ranker: back-propagation matches central finite differences", "[model][mlp]") {
  // In double, with h = 1e-6: the truncation error of a central difference is O(h^2) ~ 1e-12
  // times the third derivative, and the rounding error ~ 1e-16 / 1e-6 = 1e-10, so agreement to
  // 1e-7 absolute (plus 1e-6 relative) leaves a wide margin while catching any wrong term.
  // ReLU kinks could spoil a coordinate; the inputs are generic, so no pre-activation lies
  // within h of zero (checked implicitly: a kink would show up as a mismatch).
  for (const loss_function loss : {loss_function::logistic, loss_function::squared}) {
    mlp_config c;
    c.embedding_rows = {5, 3};
    c.embedding_dim = 3;
    c.dense_features = 2;
    c.hidden = {6, 4};
    c.loss = loss;
    c.embedding_init_std = 0.5;
    c.seed = 7;
    basic_mlp_ranker<double> m(c);
    sparse_batch batch;
    for (std::uint32_t r = 0; r < 6; ++r) {
      batch.start_row(static_cast<float>(r % 2) + (loss == loss_function::squared ? 0.5f : 0.0f));
      batch.push_back(0, r, 1.0f);
      batch.push_back(0, r * 3 + 1, 0.5f); // two ids in field 0: mean pooling
      if (r % 3 != 0) {
        batch.push_back(1, r + 7, 1.5f); // field 1 sometimes absent
      }
      batch.push_back(2, 0, 0.3f * static_cast<float>(r) - 0.7f);
      batch.push_back(2, 1, 1.0f - 0.2f * static_cast<float>(r));
      batch.finish_row();
    }
    const std::vector<double> analytic = m.gradient(batch);
    REQUIRE(analytic.size() == m.parameters().size());
    const double h = 1e-6;
    std::size_t nonzero = 0;
    for (std::size_t i = 0; i < analytic.size(); ++i) {
      const double saved = m.parameters()[i];
      m.parameters()[i] = saved + h;
      const double up = m.mean_loss(batch);
      m.parameters()[i] = saved - h;
      const double down = m.mean_loss(batch);
      m.parameters()[i] = saved;
      const double numeric = (up - down) / (2 * h);
      INFO("loss " << to_string(loss) << ", parameter " << i);
      CHECK(std::fabs(numeric - analytic[i]) <= 1e-7 + 1e-6 * std::fabs(analytic[i]));
      nonzero += analytic[i] != 0.0 ? 1 : 0;
    }
    // Most parameters take part (untouched embedding rows and dead units do not).
    CHECK(nonzero > analytic.size() / 2);
  }
}

TEST_CASE("mlp_ranker: Adam's steps match values computed by hand", "[model][mlp]") {
  // A single linear unit z = w x + b (no hidden layer, no embeddings) under the logistic loss.
  mlp_config c;
  c.dense_features = 1;
  c.hidden = {};
  c.learning_rate = 0.01;
  const auto run = [](auto& m) {
    m.parameters()[0] = 0.5f;   // w
    m.parameters()[1] = -0.25f; // b
    sparse_row a, b;
    a.push_back(0, 2.0f);
    b.push_back(0, -1.0f);
    m.update(a, 1.0f);
    m.update(b, 0.0f);
  };
  // The reference: Kingma & Ba (2015), Algorithm 1, written out for two steps.
  double w = 0.5, bias = -0.25, mw = 0, vw = 0, mb = 0, vb = 0;
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8, lr = 0.01;
  const auto reference_step = [&](double x, double y, int t, double decay) {
    const double gz = sigmoid(w * x + bias) - y;
    const double gw = gz * x, gb = gz;
    mw = b1 * mw + (1 - b1) * gw;
    vw = b2 * vw + (1 - b2) * gw * gw;
    mb = b1 * mb + (1 - b1) * gb;
    vb = b2 * vb + (1 - b2) * gb * gb;
    const double c1 = 1 - std::pow(b1, t), c2 = 1 - std::pow(b2, t);
    w -= lr * ((mw / c1) / (std::sqrt(vw / c2) + eps) + decay * w);
    bias -= lr * ((mb / c1) / (std::sqrt(vb / c2) + eps));
  };
  reference_step(2.0, 1.0, 1, 0.0);
  // The first step of Adam moves every parameter by lr · g / (|g| + ε) ≈ ±lr: here the gradient
  // is negative for both, so w = 0.51 and b = -0.24 up to ε / |g| ~ 1e-8.
  CHECK(w == Approx(0.51).epsilon(1e-8));
  CHECK(bias == Approx(-0.24).epsilon(1e-8));
  reference_step(-1.0, 0.0, 2, 0.0);

  basic_mlp_ranker<double> md(c);
  run(md);
  CHECK(md.steps() == 2);
  CHECK(md.parameters()[0] == Approx(w).epsilon(1e-13));
  CHECK(md.parameters()[1] == Approx(bias).epsilon(1e-13));
  mlp_ranker mf(c);
  run(mf);
  CHECK(mf.parameters()[0] == Approx(w).epsilon(1e-6));
  CHECK(mf.parameters()[1] == Approx(bias).epsilon(1e-6));

  // Decoupled weight decay shrinks the weight by lr · λ · w each step, never the bias.
  w = 0.5, bias = -0.25, mw = vw = mb = vb = 0;
  reference_step(2.0, 1.0, 1, 0.1);
  CHECK(w == Approx(0.5 + 0.01 - 0.01 * 0.1 * 0.5).epsilon(1e-8));
  reference_step(-1.0, 0.0, 2, 0.1);
  c.weight_decay = 0.1;
  basic_mlp_ranker<double> decayed(c);
  run(decayed);
  CHECK(decayed.parameters()[0] == Approx(w).epsilon(1e-13));
  CHECK(decayed.parameters()[1] == Approx(bias).epsilon(1e-13));
}

TEST_CASE("mlp_ranker: learns XOR, which a linear model cannot", "[model][mlp]") {
  const sparse_batch data = xor_batch(4);
  train_options options;
  options.epochs = 400;
  options.batch_size = 4;
  options.seed = 3;

  mlp_config c;
  c.dense_features = 2;
  c.hidden = {32};
  c.learning_rate = 0.05;
  mlp_ranker deep(c);
  deep.fit(data, options);
  CHECK(deep.mean_loss(data) < 0.05);
  const std::vector<float> p = deep.predict(data);
  for (std::size_t r = 0; r < data.size(); ++r) {
    INFO("row " << r);
    CHECK((p[r] > 0.5f) == (data.row(r).label > 0.5f));
  }

  // Without a hidden layer the model is logistic regression; for XOR its best loss is ln 2 (the
  // flip x1 -> 1 - x1 maps the labels to their complement, so by convexity the optimum is z = 0).
  c.hidden = {};
  mlp_ranker linear(c);
  linear.fit(data, options);
  CHECK(linear.mean_loss(data) > std::log(2.0) - 1e-3);
}

TEST_CASE("mlp_ranker: learns a pairwise interaction of two categorical fields", "[model][mlp]") {
  // label = (a + b) mod 2: each field alone says nothing about the label, so an additive model
  // (LR on one-hot features, or this network without a hidden layer) is stuck at loss ln 2.
  const sparse_batch data = parity_batch();
  train_options options;
  options.epochs = 300;
  options.batch_size = 8;
  mlp_config c;
  c.embedding_rows = {4, 4};
  c.embedding_dim = 4;
  c.hidden = {16};
  c.learning_rate = 0.03;
  c.embedding_init_std = 0.5;
  mlp_ranker deep(c);
  deep.fit(data, options);
  CHECK(deep.mean_loss(data) < 0.05);
  const std::vector<float> p = deep.predict(data);
  for (std::size_t r = 0; r < data.size(); ++r) {
    CHECK((p[r] > 0.5f) == (data.row(r).label > 0.5f));
  }
  c.hidden = {};
  mlp_ranker additive(c);
  additive.fit(data, options);
  CHECK(additive.mean_loss(data) > std::log(2.0) - 1e-3);
}

TEST_CASE("mlp_ranker: the same seeds give bit-identical weights", "[model][mlp]") {
  const sparse_batch data = parity_batch();
  mlp_config c = two_fields_one_dense();
  train_options options;
  options.epochs = 5;
  options.batch_size = 3;
  options.seed = 11;
  mlp_ranker a(c), b(c);
  a.fit(data, options);
  b.fit(data, options);
  const std::vector<float> pa(a.parameters().begin(), a.parameters().end());
  const std::vector<float> pb(b.parameters().begin(), b.parameters().end());
  CHECK(pa == pb);
  CHECK(a.predict(data) == b.predict(data));

  // Another shuffling seed, or another initialisation seed, gives another model.
  options.seed = 12;
  mlp_ranker other_order(c);
  other_order.fit(data, options);
  CHECK(std::vector<float>(other_order.parameters().begin(), other_order.parameters().end()) != pa);
  const mlp_ranker seed1(c);
  c.seed = 2;
  const mlp_ranker seed2(c);
  CHECK(std::vector<float>(seed1.parameters().begin(), seed1.parameters().end()) !=
        std::vector<float>(seed2.parameters().begin(), seed2.parameters().end()));
}

TEST_CASE("mlp_ranker: threads share each mini-batch; the same seed and threads give the same "
          "bits",
          "[model][mlp][threads]") {
  // Three copies of the parity data, with a dense feature, so that every batch has embedding rows
  // met by several parts and dense columns.
  sparse_batch data;
  for (int copy = 0; copy < 3; ++copy) {
    const sparse_batch p = parity_batch();
    for (std::size_t r = 0; r < p.size(); ++r) {
      sparse_row row;
      const sparse_row_view v = p.row(r);
      row.label = v.label;
      for (std::size_t k = 0; k < v.nnz(); ++k) {
        row.push_back(v.fields[k], v.indices[k], v.values[k]);
      }
      row.push_back(2, 0, 0.25f * static_cast<float>(copy + 1));
      data.push_back(row);
    }
  }
  const mlp_config c = two_fields_one_dense();
  train_options options;
  options.epochs = 4;
  options.batch_size = 10; // 48 rows: batches of 10 and a last one of 8
  options.seed = 5;
  const auto trained = [&]<class Model>(std::size_t threads, Model) {
    Model m(c);
    options.threads = threads;
    m.fit(data, options);
    return std::vector<typename Model::scalar_type>(m.parameters().begin(), m.parameters().end());
  };
  const auto one = trained(1, mlp_ranker(c));
  const auto two = trained(2, mlp_ranker(c));
  const auto three = trained(3, mlp_ranker(c));
  CHECK(trained(2, mlp_ranker(c)) == two);
  CHECK(trained(3, mlp_ranker(c)) == three);
  CHECK(two != one); // the sum of the parts' gradients rounds differently
  // ... but it is the same step: in double precision the weights agree to rounding.
  const auto one_d = trained(1, basic_mlp_ranker<double>(c));
  // 12 threads for batches of 10 and 8 rows: the threads beyond the rows sit the step out.
  for (const std::size_t t : {std::size_t{2}, std::size_t{3}, std::size_t{7}, std::size_t{12}}) {
    const auto many_d = trained(t, basic_mlp_ranker<double>(c));
    REQUIRE(many_d.size() == one_d.size());
    double worst = 0.0;
    for (std::size_t i = 0; i < one_d.size(); ++i) {
      worst = std::max(worst, std::abs(many_d[i] - one_d[i]));
    }
    CAPTURE(t);
    CHECK(worst < 1e-9);
  }
}

TEST_CASE("mlp_ranker: fit reports progress, stops on request and restores the best epoch",
          "[model][mlp]") {
  const sparse_batch train = xor_batch(2);
  mlp_config c;
  c.dense_features = 2;
  c.hidden = {8};
  c.learning_rate = 0.05;

  train_options options;
  options.epochs = 10;
  options.batch_size = 2;
  SECTION("the callback sees every batch and can stop training") {
    mlp_ranker m(c);
    std::vector<progress_report> reports;
    const training_summary s = m.fit(train, options, [&](const progress_report& r) {
      reports.push_back(r);
      return reports.size() < 3;
    });
    // Batches of 2 over 8 examples: reports after 2 and 4 examples, then the stop after 6.
    REQUIRE(reports.size() == 3);
    CHECK(reports[0].examples_done == 2);
    CHECK(reports[2].examples_done == 6);
    CHECK(reports[2].examples_total == 8);
    CHECK_FALSE(reports[2].epoch_done);
    CHECK(m.steps() == 3);
    CHECK(s.stopped_early);
    CHECK(s.epochs_run == 1);
  }
  SECTION("early stopping keeps the epoch with the best validation loss") {
    // The validation labels are the complement of the training labels: the better the model
    // fits, the worse it validates, so the first epoch is the best and training stops after
    // `patience` more.
    sparse_batch flipped;
    for (std::size_t r = 0; r < train.size(); ++r) {
      sparse_row_view v = train.row(r);
      v.label = 1.0f - v.label;
      flipped.push_back(v);
    }
    options.epochs = 200;
    options.stopping.patience = 3;
    mlp_ranker m(c);
    const training_summary s = m.fit(train, options, {}, &flipped);
    CHECK(s.stopped_early);
    REQUIRE(s.valid_loss.size() == s.epochs_run);
    CHECK(s.epochs_run == s.best_epoch + 1 + 3);
    for (std::size_t e = 0; e < s.valid_loss.size(); ++e) {
      CHECK(s.valid_loss[s.best_epoch] <= s.valid_loss[e]);
    }
    CHECK(m.mean_loss(flipped) == s.valid_loss[s.best_epoch]); // the restored parameters
  }
  SECTION("early stopping watches the validation metric when one is set") {
    // The metric's figures are scripted: epoch 2 is the best whatever the loss does. It sees the
    // model's predictions of the validation rows.
    const std::vector<double> script = {0.5, 0.6, 0.9, 0.8, 0.85, 0.7};
    std::vector<std::vector<float>> seen;
    options.epochs = 6;
    options.stopping.patience = 2;
    options.valid_metric.name = "scripted";
    options.valid_metric.evaluate = [&](std::span<const float> p, std::span<const float> y) {
      CHECK(y.size() == train.size());
      seen.emplace_back(p.begin(), p.end());
      return script.at(seen.size() - 1);
    };
    mlp_ranker m(c);
    std::vector<double> reported;
    const training_summary s = m.fit(
        train, options,
        [&](const progress_report& r) {
          if (r.epoch_done) {
            CHECK(r.valid_metric_name == "scripted");
            reported.push_back(r.valid_metric.value_or(-1.0));
          }
          return true;
        },
        &train);
    CHECK(s.epochs_run == 5);
    CHECK(s.best_epoch == 2);
    CHECK(s.stopped_early);
    CHECK(s.valid_metric == std::vector<double>{0.5, 0.6, 0.9, 0.8, 0.85});
    CHECK(s.valid_metric_name == "scripted");
    CHECK(reported == s.valid_metric);
    // The restored parameters are epoch 2's: they predict what the metric saw then.
    const auto restored = m.predict(train);
    REQUIRE(seen.size() == 5);
    REQUIRE(restored.size() == seen[2].size());
    for (std::size_t r = 0; r < restored.size(); ++r) {
      CHECK(static_cast<float>(restored[r]) == seen[2][r]);
    }
    CHECK(m.mean_loss(train) == s.valid_loss[2]);
  }
  SECTION("options the MLP cannot honour are rejected") {
    mlp_ranker m(c);
    options.threads = 2;
    options.mode = parallel_mode::hogwild;
    REQUIRE_THROWS_WITH(m.fit(train, options), Catch::Contains("mode"));
    options.mode = parallel_mode::deterministic;
    options.threads = 1;
    options.stopping.patience = 2;
    REQUIRE_THROWS_WITH(m.fit(train, options), Catch::Contains("stopping.patience"));
    options.stopping.patience = 0;
    REQUIRE_THROWS_AS(m.fit(sparse_batch{}, options), input_error);
    const sparse_batch no_rows;
    REQUIRE_THROWS_WITH(m.fit(train, options, {}, &no_rows),
                        Catch::Contains("at least one validation example"));
    CHECK(m.steps() == 0);
  }
}

TEST_CASE("mlp_ranker: rows the model cannot read throw input_error naming row and entry",
          "[model][mlp]") {
  mlp_config c;
  c.embedding_rows = {10, 10};
  c.embedding_dim = 2;
  c.dense_features = 3;
  c.hidden = {4};
  mlp_ranker m(c);

  sparse_row field_too_large = make_row(1, {1, 2}, {0.5f});
  field_too_large.push_back(3, 0, 1.0f);
  REQUIRE_THROWS_WITH(m(field_too_large), Catch::Contains("row 0") && Catch::Contains("entry 3") &&
                                              Catch::Contains("a field from 0 to 2") &&
                                              Catch::Contains("'3'"));

  const sparse_row slot_too_large = make_row(1, {1, 2}, {0.5f, 1.0f, 2.0f, 3.0f});
  REQUIRE_THROWS_WITH(m(slot_too_large), Catch::Contains("entry 5") &&
                                             Catch::Contains("a dense slot below 3") &&
                                             Catch::Contains("'3'"));

  sparse_row not_finite = make_row(1, {1, 2}, {0.5f});
  not_finite.values[1] = std::nanf("");
  REQUIRE_THROWS_WITH(m(not_finite), Catch::Contains("entry 1") && Catch::Contains("finite"));

  sparse_row no_fields;
  no_fields.push_back(0, 1.0f);
  REQUIRE_THROWS_WITH(m(no_fields), Catch::Contains("field:index:value"));

  // In a batch the row number is the row's index in the batch; no step is taken.
  sparse_batch batch;
  batch.push_back(make_row(0, {1, 2}, {0.5f}));
  batch.push_back(slot_too_large);
  REQUIRE_THROWS_WITH(m.predict(batch), Catch::Contains("row 1"));
  train_options options;
  REQUIRE_THROWS_WITH(m.fit(batch, options), Catch::Contains("row 1"));
  CHECK(m.steps() == 0);
  REQUIRE_THROWS_AS(m.learn(batch), input_error);
  CHECK(m.steps() == 0);
}

TEST_CASE("mlp_ranker: the model file round-trips and rejects a table of the wrong shape",
          "[model][mlp]") {
  const sparse_batch data = parity_batch();
  mlp_config c;
  c.embedding_rows = {4, 5};
  c.embedding_dim = 3;
  c.hidden = {6};
  mlp_ranker m(c);
  train_options options;
  options.epochs = 3;
  m.fit(data, options);

  const model_file file = m.to_model_file();
  CHECK(file.model_type == "mlp");
  CHECK(file.table("layer0.weight").rows == 6);
  CHECK(file.table("layer0.weight").cols == 6);
  CHECK(file.table("layer1.weight").rows == 1);
  CHECK(file.table("layer1.bias").rows == 1);
  CHECK(file.table("embedding1").rows == 5);
  CHECK(file.table("layer0.weight").values[1] == m.weights(0)(0, 1)); // row-major
  const mlp_ranker back = mlp_ranker::from_model_file(file);
  CHECK(back.predict(data) == m.predict(data));
  CHECK(back.steps() == m.steps());

  const auto path = std::filesystem::temp_directory_path() / "mlsd_mlp_test.model";
  save_model(m, path);
  const mlp_ranker loaded = load_model<mlp_ranker>(path);
  std::filesystem::remove(path);
  CHECK(loaded.predict(data) == m.predict(data));

  model_file wrong = file;
  for (named_table& t : wrong.tables) {
    if (t.name == "embedding1") {
      t.rows = 4;
      t.values.resize(12);
    }
  }
  try {
    (void)mlp_ranker::from_model_file(wrong);
    FAIL("expected model_file_error");
  } catch (const model_file_error& e) {
    CHECK(e.problem() == model_file_error::kind::bad_table);
    CHECK_THAT(e.what(), Catch::Contains("embedding1"));
  }
  model_file other = file;
  other.model_type = "fm";
  REQUIRE_THROWS_AS(mlp_ranker::from_model_file(other), model_file_error);
}

TEST_CASE("mlp_ranker: the example of docs/mlp-and-anomaly-models.md", "[model][mlp]") {
  namespace m = mlsd::model;

  // Two categorical fields (hashed into 1000 and 100 rows) and one dense feature.
  m::mlp_config config;
  config.embedding_rows = {1000, 100};
  config.embedding_dim = 8;
  config.dense_features = 1;
  config.hidden = {32, 16};
  config.learning_rate = 0.01;
  m::mlp_ranker ranker(config);

  mlsd::sparse_batch train;
  for (std::uint32_t i = 0; i < 64; ++i) {
    train.start_row(static_cast<float>(i % 2)); // the label
    train.push_back(0, i * 7919, 1.0f);         // field 0: a hashed id
    train.push_back(1, i % 5, 1.0f);            // field 1
    train.push_back(2, 0, 0.1f * i);            // field 2 = E: dense slot 0
    train.finish_row();
  }
  m::train_options options;
  options.epochs = 5;
  options.batch_size = 16;
  const m::training_summary summary = ranker.fit(train, options);
  const std::vector<float> p = ranker.predict(train); // probabilities, one per row
  const auto path = std::filesystem::temp_directory_path() / "mlsd_mlp_doc_example.model";
  m::save_model(ranker, path); // the page saves to "ranker.model"

  CHECK(summary.epochs_run == 5);
  CHECK(summary.train_loss.size() == 5);
  CHECK(ranker.steps() == 5 * 4);
  REQUIRE(p.size() == 64);
  CHECK(m::load_model<m::mlp_ranker>(path).predict(train) == p);
  std::filesystem::remove(path);
}
