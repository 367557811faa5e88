// Logistic regression (include/mlsd/model/logistic_regression.hpp): each optimizer's step against
// a naive reference written from the formulas, L1 sparsity, training through model::train, the
// config and the model file.
#include <mlsd/model/logistic_regression.hpp>
#include <mlsd/model/trainer.hpp>

#include <mlsd/data/detail/random.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

using mlsd::sparse_batch;
using mlsd::sparse_row;
using mlsd::model::logistic_regression;
using mlsd::model::optimizer_kind;

static_assert(mlsd::model::sgd_model<logistic_regression>);
static_assert(mlsd::model::trainable<logistic_regression>);
static_assert(mlsd::model::scorer<logistic_regression>);

namespace {

logistic_regression::config with(std::size_t features, optimizer_kind kind) {
  logistic_regression::config c;
  c.features = features;
  c.optimizer.kind = kind;
  return c;
}

double sigmoid(double z) {
  return 1.0 / (1.0 + std::exp(-z));
}

// Random rows over `features` features with 1..max_nnz entries (indices may repeat), labels
// from a hidden linear rule with 10% noise.
std::vector<sparse_row> random_rows(std::size_t n, std::size_t features, std::size_t max_nnz,
                                    std::uint64_t seed) {
  mlsd::data::detail::splitmix64 rng(seed);
  std::vector<sparse_row> rows(n);
  for (auto& r : rows) {
    const std::size_t nnz = 1 + rng.below(max_nnz);
    double score = -0.3;
    for (std::size_t k = 0; k < nnz; ++k) {
      const auto j = static_cast<std::uint32_t>(rng.below(features));
      const auto v = static_cast<float>(rng.uniform() * 2.0 - 0.5);
      r.push_back(j, v);
      score += (j % 3 == 0 ? 1.0 : -0.7) * v;
    }
    const bool positive = (score > 0.0) != (rng.uniform() < 0.1);
    r.label = positive ? 1.0f : -1.0f;
  }
  return rows;
}

sparse_batch to_batch(const std::vector<sparse_row>& rows) {
  sparse_batch b;
  for (const auto& r : rows) {
    b.push_back(r.view());
  }
  return b;
}

// Algorithm 1 of McMahan et al. 2013 in double, with a map per coordinate (the bias is key -1,
// unregularised).
struct ftrl_reference {
  double alpha, beta, l1, l2;
  std::map<long, double> z, n;

  double weight(long i) {
    const double l1i = i < 0 ? 0.0 : l1, l2i = i < 0 ? 0.0 : l2;
    if (std::fabs(z[i]) <= l1i) {
      return 0.0;
    }
    const double sign = z[i] < 0 ? -1.0 : 1.0;
    return -(z[i] - sign * l1i) / ((beta + std::sqrt(n[i])) / alpha + l2i);
  }
  double margin(const sparse_row& x) {
    double s = weight(-1);
    for (std::size_t k = 0; k < x.nnz(); ++k) {
      s += weight(x.indices[k]) * x.values[k];
    }
    return s;
  }
  void learn(const sparse_row& x) {
    std::vector<double> w(x.nnz());
    for (std::size_t k = 0; k < x.nnz(); ++k) {
      w[k] = weight(x.indices[k]);
    }
    const double wb = weight(-1);
    const double p = sigmoid(margin(x));
    const double g = p - (x.label > 0 ? 1.0 : 0.0);
    const auto step = [&](long i, double wi, double gi) {
      const double sigma = (std::sqrt(n[i] + gi * gi) - std::sqrt(n[i])) / alpha;
      z[i] += gi - sigma * wi;
      n[i] += gi * gi;
    };
    for (std::size_t k = 0; k < x.nnz(); ++k) {
      step(x.indices[k], w[k], g * x.values[k]);
    }
    step(-1, wb, g);
  }
};

} // namespace

TEST_CASE("logistic_regression starts at zero and predicts 1/2", "[model][lr]") {
  for (const auto kind : {optimizer_kind::sgd, optimizer_kind::adagrad, optimizer_kind::ftrl}) {
    const logistic_regression m(with(8, kind));
    sparse_row x;
    x.push_back(3, 2.0f);
    CHECK(m.margin(x) == 0.0f);
    CHECK(m(x) == 0.5f);
    CHECK(m.bias() == 0.0f);
    CHECK(m.feature_count() == 8);
    CHECK(m.optimizer() == kind);
    CHECK(m.nonzero_weights() == 0);
    CHECK(m.parameters().size() == (kind == optimizer_kind::sgd ? 9u : 18u));
  }
}

TEST_CASE("sgd logistic regression: one step by hand", "[model][lr]") {
  auto c = with(4, optimizer_kind::sgd);
  c.optimizer.sgd.learning_rate = 0.5f;
  logistic_regression m(c);
  sparse_row x;
  x.label = 1.0f;
  x.push_back(1, 2.0f);
  x.push_back(3, -1.0f);
  // z = 0, dL/dz = 1/2 - 1 = -1/2: w1 = 0.5 * 0.5 * 2, w3 = -0.25, b = 0.25
  CHECK(m.learn(x, x.label) == Approx(std::log(2.0)));
  CHECK(m.weight(1) == 0.5f);
  CHECK(m.weight(3) == -0.25f);
  CHECK(m.bias() == 0.25f);
  CHECK(m.weight(0) == 0.0f);
  CHECK(m.margin(x) == 1.5f);
  CHECK(m(x) == Approx(sigmoid(1.5)));
  CHECK(m.weights() == std::vector<float>{0.0f, 0.5f, 0.0f, -0.25f});
  CHECK(m.nonzero_weights() == 2);
  // update() is learn with multiplier 1; the loss returned is the one before the step.
  CHECK(m.update(x, 1.0f) == Approx(std::log1p(std::exp(-1.5))));
}

TEST_CASE("sgd and adagrad steps match a naive loop; the forward pass is gather_dot",
          "[model][lr]") {
  const auto rows = random_rows(300, 50, 40, 11);
  for (const auto kind : {optimizer_kind::sgd, optimizer_kind::adagrad}) {
    auto c = with(50, kind);
    c.optimizer.sgd = {.learning_rate = 0.2f, .l1 = 0.001f, .l2 = 0.01f};
    c.optimizer.adagrad = {.learning_rate = 0.3f, .l1 = 0.001f, .l2 = 0.01f, .epsilon = 0.5f};
    logistic_regression m(c);
    std::vector<double> w(51, 0.0), acc(51, 0.0);
    const auto shrink = [](double u, double t) {
      return std::fabs(u) <= t ? 0.0 : (u > 0 ? u - t : u + t);
    };
    for (const auto& x : rows) {
      double z = w[50];
      for (std::size_t k = 0; k < x.nnz(); ++k) {
        z += w[x.indices[k]] * x.values[k];
      }
      CHECK(m.margin(x) == Approx(z).margin(1e-4));
      m.learn(x, x.label, 0.5f);
      const double g = sigmoid(z) - (x.label > 0 ? 1.0 : 0.0);
      for (std::size_t k = 0; k <= x.nnz(); ++k) {
        const bool bias = k == x.nnz();
        const std::size_t j = bias ? 50 : x.indices[k];
        double gj = bias ? g : g * x.values[k];
        if (kind == optimizer_kind::sgd) {
          const double eta = 0.2 * 0.5;
          w[j] = bias ? w[j] - eta * gj : shrink(w[j] - eta * (gj + 0.01 * w[j]), eta * 0.001);
        } else {
          gj += bias ? 0.0 : 0.01 * w[j];
          acc[j] += gj * gj;
          const double eta = 0.3 * 0.5 / std::sqrt(acc[j] + 0.5);
          w[j] = bias ? w[j] - eta * gj : shrink(w[j] - eta * gj, eta * 0.001);
        }
      }
    }
    for (std::size_t j = 0; j < 50; ++j) {
      CHECK(m.weight(j) == Approx(w[j]).margin(1e-4));
    }
    CHECK(m.bias() == Approx(w[50]).margin(1e-4));
  }
}

TEST_CASE("ftrl logistic regression matches Algorithm 1 and ignores the multiplier",
          "[model][lr][ftrl]") {
  const auto rows = random_rows(400, 30, 12, 12);
  auto c = with(30, optimizer_kind::ftrl);
  c.optimizer.ftrl = {.alpha = 0.3f, .beta = 1.0f, .l1 = 0.5f, .l2 = 0.1f};
  logistic_regression m(c);
  ftrl_reference ref{0.3, 1.0, 0.5, 0.1, {}, {}};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& x = rows[i];
    CHECK(m.margin(x) == Approx(ref.margin(x)).margin(1e-4));
    // Every other step with multiplier 0.25: FTRL's rates do not follow the schedule.
    m.learn(x, x.label, i % 2 == 0 ? 1.0f : 0.25f);
    ref.learn(x);
  }
  std::size_t zeros = 0;
  for (std::size_t j = 0; j < 30; ++j) {
    const double expected = ref.weight(static_cast<long>(j));
    CHECK(m.weight(j) == Approx(expected).margin(1e-4));
    if (expected == 0.0) {
      CHECK(m.weight(j) == 0.0f);
      ++zeros;
    }
  }
  CHECK(m.bias() == Approx(ref.weight(-1)).margin(1e-4));
  CHECK(m.nonzero_weights() == 30 - zeros);

  // A row with more than 256 entries takes the heap path: same result as the reference.
  sparse_row wide;
  wide.label = 1.0f;
  for (std::uint32_t k = 0; k < 300; ++k) {
    wide.push_back(k % 30, 0.01f * static_cast<float>(k % 7));
  }
  m.learn(wide, 1.0f);
  ref.learn(wide);
  for (std::size_t j = 0; j < 30; ++j) {
    CHECK(m.weight(j) == Approx(ref.weight(static_cast<long>(j))).margin(1e-4));
  }
}

TEST_CASE("ftrl with a strong L1 keeps most weights exactly zero", "[model][lr][ftrl]") {
  const sparse_batch data = to_batch(random_rows(2000, 200, 10, 13));
  auto sparse = with(200, optimizer_kind::ftrl);
  sparse.optimizer.ftrl = {.alpha = 0.1f, .beta = 1.0f, .l1 = 20.0f, .l2 = 1.0f};
  auto dense = sparse;
  dense.optimizer.ftrl.l1 = 0.0f;
  logistic_regression a(sparse), b(dense);
  mlsd::model::train_options o;
  o.epochs = 2;
  mlsd::model::train(a, data, nullptr, o);
  mlsd::model::train(b, data, nullptr, o);
  CHECK(b.nonzero_weights() == 200); // every feature was seen
  CHECK(a.nonzero_weights() < 100);
  CHECK(a.nonzero_weights() > 0);
  for (std::size_t j = 0; j < 200; ++j) {
    const float* zn = a.parameters().data() + 2 * j;
    CHECK((a.weight(j) == 0.0f) == (std::fabs(zn[0]) <= 20.0f));
  }
}

TEST_CASE("logistic regression learns through model::train with every optimizer",
          "[model][lr][trainer]") {
  const sparse_batch train_set = to_batch(random_rows(3000, 60, 8, 14));
  const sparse_batch test_set = to_batch(random_rows(1000, 60, 8, 15));
  for (const auto kind : {optimizer_kind::sgd, optimizer_kind::adagrad, optimizer_kind::ftrl}) {
    logistic_regression m(with(60, kind));
    const double before = mlsd::model::mean_loss(m, test_set);
    CHECK(before == Approx(std::log(2.0)));
    mlsd::model::train_options o;
    o.epochs = 5;
    o.threads = 2;
    const auto s = mlsd::model::train(m, train_set, &test_set, o);
    INFO(mlsd::model::to_string(kind));
    CHECK(s.valid_loss.back() < 0.5);
    CHECK(s.valid_loss.back() < s.valid_loss.front());
    std::size_t correct = 0;
    for (std::size_t r = 0; r < test_set.size(); ++r) {
      correct += (m(test_set[r]) > 0.5f) == (test_set[r].label > 0) ? 1 : 0;
    }
    CHECK(static_cast<double>(correct) / 1000.0 > 0.8);
  }

  // An index the model does not have: the trainer names the row.
  sparse_batch bad = train_set;
  bad.start_row(1.0f);
  bad.push_back(60, 1.0f);
  bad.finish_row();
  logistic_regression m(with(60, optimizer_kind::ftrl));
  try {
    mlsd::model::train(m, bad, nullptr, {});
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().line == 3001);
    CHECK(e.expected() == "a feature index below 60 (the model's feature count)");
  }
}

TEST_CASE("squared loss makes it linear regression", "[model][lr]") {
  sparse_batch data;
  for (int i = 0; i < 200; ++i) {
    const float x = static_cast<float>(i % 20) / 10.0f;
    data.start_row(2.0f * x + 1.0f);
    data.push_back(0, x);
    data.finish_row();
  }
  auto c = with(1, optimizer_kind::adagrad);
  c.loss = mlsd::model::loss_function::squared;
  c.optimizer.adagrad.learning_rate = 0.5f;
  logistic_regression m(c);
  mlsd::model::train_options o;
  o.epochs = 30;
  mlsd::model::train(m, data, nullptr, o);
  CHECK(m.weight(0) == Approx(2.0).margin(0.05));
  CHECK(m.bias() == Approx(1.0).margin(0.05));
  CHECK(m(data[5]) == Approx(2.0 * 0.5 + 1.0).margin(0.05));
}

TEST_CASE("logistic_regression config: validation and JSON", "[model][lr][config]") {
  using nlohmann::json;
  auto c = with(1000, optimizer_kind::adagrad);
  c.loss = mlsd::model::loss_function::squared;
  c.optimizer.adagrad.l2 = 0.5f;
  const json j = c;
  CHECK(j == json::parse(R"({"features": 1000, "loss": "squared", "optimizer": {"kind":
            "adagrad", "learning_rate": 0.10000000149011612, "l1": 0, "l2": 0.5,
            "epsilon": 9.999999974752427e-07}})"));
  CHECK(j.get<logistic_regression::config>() == c);
  CHECK(json::parse("{}").get<logistic_regression::config>() == logistic_regression::config{});

  const auto field = [](const char* text) {
    try {
      (void)json::parse(text).get<logistic_regression::config>();
    } catch (const mlsd::config_error& e) {
      return e.field();
    }
    return std::string("(no error)");
  };
  CHECK(field(R"({"features": 0})") == "logistic_regression.features");
  CHECK(field(R"({"features": 4294967296})") == "logistic_regression.features");
  CHECK(field(R"({"loss": "hinge"})") == "logistic_regression.loss");
  CHECK(field(R"({"optimiser": {}})") == "logistic_regression.optimiser");
  CHECK(field(R"({"optimizer": {"kind": "ftrl", "alpha": -1}})") == "ftrl.alpha");
  CHECK_THROWS_AS(logistic_regression(with(0, optimizer_kind::sgd)), mlsd::config_error);
  // Only the chosen optimizer's settings are checked.
  auto unused_bad = with(4, optimizer_kind::sgd);
  unused_bad.optimizer.ftrl.alpha = 0.0f;
  CHECK_NOTHROW(logistic_regression(unused_bad));
}

TEST_CASE("logistic_regression round-trips through model files", "[model][lr][model_file]") {
  const sparse_batch data = to_batch(random_rows(500, 40, 6, 16));
  const auto dir = std::filesystem::temp_directory_path() / "mlsd_lr_model_file_test";
  std::filesystem::create_directories(dir);
  for (const auto kind : {optimizer_kind::sgd, optimizer_kind::adagrad, optimizer_kind::ftrl}) {
    logistic_regression m(with(40, kind));
    mlsd::model::train_options o;
    o.epochs = 2;
    mlsd::model::train(m, data, nullptr, o);

    const mlsd::model::model_file f = m.to_model_file();
    CHECK(f.model_type == "logistic_regression");
    CHECK(f.hyper_parameters == nlohmann::json(m.settings()));
    CHECK(f.table("weights").values == m.weights());
    CHECK(f.table("bias").values == std::vector<float>{m.bias()});
    const auto back = logistic_regression::from_model_file(f);
    CHECK(std::vector<float>(back.parameters().begin(), back.parameters().end()) ==
          std::vector<float>(m.parameters().begin(), m.parameters().end()));

    for (const char* name : {"lr.bin", "lr.json"}) {
      mlsd::model::save_model(m, dir / name);
      auto loaded = mlsd::model::load_model<logistic_regression>(dir / name);
      CHECK(loaded.settings() == m.settings());
      for (std::size_t r = 0; r < 20; ++r) {
        CHECK(loaded(data[r]) == m(data[r]));
      }
      // Warm start from the file: the same step as the original model takes.
      logistic_regression copy = m;
      CHECK(loaded.learn(data[0], data[0].label) == copy.learn(data[0], data[0].label));
      CHECK(loaded.weights() == copy.weights());
    }

    // A table whose shape disagrees with the hyper-parameters.
    mlsd::model::model_file wrong = f;
    wrong.hyper_parameters["features"] = 41;
    try {
      (void)logistic_regression::from_model_file(wrong);
      FAIL("no exception");
    } catch (const mlsd::model::model_file_error& e) {
      CHECK(e.problem() == mlsd::model::model_file_error::kind::bad_table);
    }
    if (kind != optimizer_kind::sgd) {
      mlsd::model::model_file missing = f;
      missing.tables.pop_back();
      try {
        (void)logistic_regression::from_model_file(missing);
        FAIL("no exception");
      } catch (const mlsd::model::model_file_error& e) {
        CHECK(e.problem() == mlsd::model::model_file_error::kind::missing_table);
      }
    }
  }
  std::filesystem::remove_all(dir);
}
