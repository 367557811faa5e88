// Factorization machines (model/fm.hpp): the margin against hand-computed values, the fused SIMD
// step against the scalar reference step (several k, both optimizers and losses, repeated
// indices, values other than 1), gradients against finite differences, convergence on a
// pairwise problem that a linear model cannot fit, errors, configs and model files.
#include <mlsd/kernels/fm.hpp>
#include <mlsd/model/fm.hpp>
#include <mlsd/model/model_file.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using mlsd::sparse_row;
using mlsd::sparse_row_view;
using mlsd::model::factorization_machine;
using mlsd::model::fm_optimizer;
using mlsd::model::loss_function;

factorization_machine::config small_config(std::size_t n, std::size_t k) {
  factorization_machine::config c;
  c.features = n;
  c.factors = k;
  c.init_stddev = 0.3f;
  return c;
}

// Rows of 0 to `max_nnz` entries over `n` features; when `repeats`, indices are drawn from a
// few values so that most rows repeat some. Values in [-2, 2), labels 0/1 or real.
std::vector<sparse_row> random_rows(std::size_t count, std::size_t n, std::size_t max_nnz,
                                    bool repeats, std::uint64_t seed) {
  mlsd::data::detail::splitmix64 rng(seed);
  std::vector<sparse_row> rows(count);
  for (auto& r : rows) {
    r.label = rng.uniform() < 0.4 ? 1.0f : 0.0f;
    const std::size_t nnz = rng.below(max_nnz + 1);
    for (std::size_t i = 0; i < nnz; ++i) {
      const auto j = static_cast<std::uint32_t>(rng.below(repeats ? 5 : n));
      r.push_back(j, static_cast<float>(4.0 * rng.uniform() - 2.0));
    }
  }
  return rows;
}

// The rows-with-distinct-indices version (for finite differences).
sparse_row distinct_row(std::size_t n, std::size_t nnz, std::uint64_t seed) {
  mlsd::data::detail::splitmix64 rng(seed);
  sparse_row r;
  std::vector<bool> used(n, false);
  while (r.nnz() < nnz) {
    const auto j = static_cast<std::uint32_t>(rng.below(n));
    if (!used[j]) {
      used[j] = true;
      r.push_back(j, static_cast<float>(2.0 * rng.uniform() - 1.0));
    }
  }
  return r;
}

bool close(float a, float b, float rel, float abs) {
  return std::fabs(a - b) <= abs + rel * std::fmax(std::fabs(a), std::fabs(b));
}

// Floats per row of the documented layout: [v (k rounded up to 4) | (AdaGrad: g_v) | w | (g_w)],
// padded to a multiple of 16.
std::size_t documented_stride(std::size_t k, bool adagrad) {
  const std::size_t kp = (k + 3) / 4 * 4;
  const std::size_t used = adagrad ? 2 * kp + 2 : kp + 1;
  return (used + 15) / 16 * 16;
}

} // namespace

TEST_CASE("factorization_machine models sgd_model, scorer and trainable", "[model][fm]") {
  STATIC_REQUIRE(mlsd::model::sgd_model<factorization_machine>);
  STATIC_REQUIRE(mlsd::model::scorer<factorization_machine>);
  STATIC_REQUIRE(mlsd::model::trainable<factorization_machine>);
  STATIC_REQUIRE(mlsd::model::model_file_serializable<factorization_machine>);
  STATIC_REQUIRE(factorization_machine::model_type == "fm");
}

TEST_CASE("factorization_machine margin equals a hand computation", "[model][fm]") {
  // b = 0.5; w0 = 1, w2 = -2; v0 = (1, 2), v2 = (3, -1), v5 = (0.5, 0.5); x = {0: 2, 2: 0.5,
  // 5: -1}. Linear: 2 - 1 + 0 = 1. Pairs: <v0,v2> 2·0.5 = 1·1 = 1; <v0,v5> 2·(-1) = 1.5·(-2) =
  // -3; <v2,v5> 0.5·(-1) = 1·(-0.5) = -0.5. Margin 0.5 + 1 - 2.5 = -1.
  for (const auto optimizer : {fm_optimizer::sgd, fm_optimizer::adagrad}) {
    auto c = small_config(8, 2);
    c.optimizer = optimizer;
    c.init_stddev = 0.0f;
    factorization_machine m(c);
    m.set_bias(0.5f);
    m.set_linear(0, 1.0f);
    m.set_linear(2, -2.0f);
    m.set_factor(0, 0, 1.0f);
    m.set_factor(0, 1, 2.0f);
    m.set_factor(2, 0, 3.0f);
    m.set_factor(2, 1, -1.0f);
    m.set_factor(5, 0, 0.5f);
    m.set_factor(5, 1, 0.5f);
    sparse_row x;
    x.push_back(0, 2.0f);
    x.push_back(2, 0.5f);
    x.push_back(5, -1.0f);
    CHECK(m.margin(x) == Approx(-1.0f).margin(1e-6));
    CHECK(mlsd::model::reference::fm_margin(m, x) == Approx(-1.0f).margin(1e-6));
    CHECK(m(x) == Approx(1.0 / (1.0 + std::exp(1.0))).epsilon(1e-6));
    CHECK(m.bias() == 0.5f);
    CHECK(m.linear(2) == -2.0f);
    CHECK(m.factors_of(2)[0] == 3.0f);
    CHECK(m.factors_of(2).size() == 2);
    // An empty row scores the bias alone.
    CHECK(m.margin(sparse_row{}) == 0.5f);
  }
}

TEST_CASE("factorization_machine margin equals the O(k nnz^2) reference for every k",
          "[model][fm]") {
  for (const std::size_t k : {1, 2, 3, 4, 5, 8, 12, 16, 20, 32, 64, 100}) {
    factorization_machine m(small_config(50, k));
    const auto rows = random_rows(30, 50, 25, false, 100 + k);
    for (const auto& r : rows) {
      // The reference sums O(nnz²) float products: allow their rounding.
      CAPTURE(k, r.nnz(), m.margin(r), mlsd::model::reference::fm_margin(m, r));
      CHECK(close(m.margin(r), mlsd::model::reference::fm_margin(m, r), 1e-5f, 1e-4f));
    }
  }
}

TEST_CASE("factorization_machine fused step equals the scalar reference step", "[model][fm]") {
  for (const std::size_t k : {1, 3, 4, 7, 8, 12, 16, 20, 32, 64}) {
    for (const auto optimizer : {fm_optimizer::sgd, fm_optimizer::adagrad}) {
      for (const auto loss : {loss_function::logistic, loss_function::squared}) {
        for (const bool repeats : {false, true}) {
          auto c = small_config(40, k);
          c.optimizer = optimizer;
          c.loss = loss;
          // Small enough that SGD on the squared loss does not diverge on these rows.
          c.learning_rate = optimizer == fm_optimizer::sgd ? 0.002f : 0.1f;
          c.init_stddev = 0.1f;
          c.l2_bias = 0.01f;
          c.l2_linear = 0.02f;
          c.l2_factors = 0.03f;
          factorization_machine fused(c), scalar(c);
          REQUIRE(fused.parameters().size() ==
                  16 + 40 * documented_stride(k, c.optimizer == fm_optimizer::adagrad));
          const auto rows =
              random_rows(150, 40, repeats ? 10 : 20, repeats, 7 * k + (repeats ? 1 : 0));
          // Every step starts both models from the same parameters (the fused model's so far), so
          // that rounding differences cannot accumulate over the trajectory.
          std::size_t mismatches = 0;
          for (std::size_t r = 0; r < rows.size(); ++r) {
            scalar = fused;
            const float rate = r % 3 == 0 ? 0.5f : 1.0f;
            const float a = fused.learn(rows[r], rows[r].label, rate);
            const float b = mlsd::model::reference::fm_learn(scalar, rows[r], rows[r].label, rate);
            CAPTURE(k, r, static_cast<int>(optimizer), static_cast<int>(loss), repeats, a, b);
            REQUIRE(std::isfinite(a));
            REQUIRE(close(a, b, 1e-4f, 1e-5f));
            const auto pa = fused.parameters(), pb = scalar.parameters();
            for (std::size_t i = 0; i < pa.size(); ++i) {
              mismatches += close(pa[i], pb[i], 1e-5f, 1e-6f) ? 0 : 1;
            }
          }
          CAPTURE(k, static_cast<int>(optimizer), static_cast<int>(loss), repeats);
          CHECK(mismatches == 0);
          const auto pa = fused.parameters();
          // The padding lanes k..kp-1 of every row stay exactly zero.
          const std::size_t stride = documented_stride(k, optimizer == fm_optimizer::adagrad);
          bool padding_zero = true;
          for (std::size_t j = 0; j < 40; ++j) {
            for (std::size_t d = k; d < (k + 3) / 4 * 4; ++d) {
              padding_zero = padding_zero && pa[16 + j * stride + d] == 0.0f;
            }
          }
          CHECK(padding_zero);
        }
      }
    }
  }
}

TEST_CASE("factorization_machine learn with an outside header updates it, not the model's bias",
          "[model][fm]") {
  for (const auto optimizer : {fm_optimizer::sgd, fm_optimizer::adagrad}) {
    auto c = small_config(40, 8);
    c.optimizer = optimizer;
    c.learning_rate = 0.1f;
    c.l2_bias = 0.01f;
    factorization_machine own(c);
    own.set_bias(0.25f);
    factorization_machine outside = own;
    // The header is the bias's line: 16 floats, the bias first.
    REQUIRE(outside.header_row().size() == 16);
    REQUIRE(outside.header_row()[0] == 0.25f);
    std::vector<float> header(outside.header_row().begin(), outside.header_row().end());
    const auto rows = random_rows(20, 40, 8, false, 5);
    for (const auto& r : rows) {
      const float a = own.learn(r, r.label, 1.0f);
      const float b = outside.learn(r, r.label, 1.0f, header);
      CAPTURE(static_cast<int>(optimizer));
      REQUIRE(a == b);
    }
    // Both optimizers moved the bias, in `header` only; the feature rows agree bit for bit.
    CAPTURE(static_cast<int>(optimizer));
    CHECK(own.bias() != 0.25f);
    CHECK(header[0] == own.bias());
    CHECK(header[1] == own.header_row()[1]);
    CHECK(outside.bias() == 0.25f);
    const auto pa = own.parameters(), pb = outside.parameters();
    CHECK(std::equal(pa.begin() + 16, pa.end(), pb.begin() + 16));
    // The scalar reference step takes the same form.
    factorization_machine scalar = own;
    std::vector<float> scalar_header(scalar.header_row().begin(), scalar.header_row().end());
    (void)mlsd::model::reference::fm_learn(scalar, rows[0], rows[0].label, 1.0f, scalar_header);
    (void)own.learn(rows[0], rows[0].label, 1.0f);
    CHECK(scalar.bias() == header[0]);
    CHECK(close(scalar_header[0], own.bias(), 1e-5f, 1e-6f));
  }
}

TEST_CASE("factorization_machine SGD step is -eta times the gradient (finite differences)",
          "[model][fm]") {
  for (const auto loss : {loss_function::logistic, loss_function::squared}) {
    for (const std::size_t k : {3, 8}) {
      auto c = small_config(30, k);
      c.optimizer = fm_optimizer::sgd;
      c.loss = loss;
      c.learning_rate = 0.25f;
      factorization_machine m(c);
      for (std::size_t j = 0; j < 30; ++j) {
        m.set_linear(j, 0.1f * static_cast<float>(j % 7) - 0.3f);
      }
      m.set_bias(0.2f);
      sparse_row x = distinct_row(30, 9, 5 + k);
      x.label = loss == loss_function::logistic ? 1.0f : 0.7f;
      const auto loss_at = [&](const factorization_machine& model) {
        return static_cast<double>(mlsd::model::loss_value(loss, model.margin(x), x.label));
      };
      const double h = 1e-2;
      // Numerical gradients of the bias, the active linear weights and factors.
      std::vector<double> numeric;
      {
        factorization_machine p = m, q = m;
        p.set_bias(m.bias() + static_cast<float>(h));
        q.set_bias(m.bias() - static_cast<float>(h));
        numeric.push_back((loss_at(p) - loss_at(q)) / (2 * h));
      }
      for (const std::uint32_t j : x.indices) {
        factorization_machine p = m, q = m;
        p.set_linear(j, m.linear(j) + static_cast<float>(h));
        q.set_linear(j, m.linear(j) - static_cast<float>(h));
        numeric.push_back((loss_at(p) - loss_at(q)) / (2 * h));
        for (std::size_t f = 0; f < k; ++f) {
          factorization_machine pf = m, qf = m;
          pf.set_factor(j, f, m.factors_of(j)[f] + static_cast<float>(h));
          qf.set_factor(j, f, m.factors_of(j)[f] - static_cast<float>(h));
          numeric.push_back((loss_at(pf) - loss_at(qf)) / (2 * h));
        }
      }
      // The analytic gradient of the pairwise term from the kernel's identity (Rendle 2010,
      // eq. 8), times dL/dz.
      const float z = m.margin(x);
      const double dz = mlsd::model::loss_gradient(loss, z, x.label);
      std::vector<float> rows(30 * k), sum(k), grad(x.nnz() * k);
      for (std::size_t j = 0; j < 30; ++j) {
        for (std::size_t f = 0; f < k; ++f) {
          rows[j * k + f] = m.factors_of(j)[f];
        }
      }
      const mlsd::matrix_view<const float> v(rows.data(), 30, k);
      (void)mlsd::kernels::fm_pairwise(v, x.indices.data(), x.values.data(), x.nnz(), sum.data());
      mlsd::kernels::fm_pairwise_gradient(v, x.indices.data(), x.values.data(), x.nnz(), sum.data(),
                                          mlsd::matrix_view<float>(grad.data(), x.nnz(), k));

      factorization_machine stepped = m;
      stepped.learn(x, x.label);
      std::size_t at = 0;
      const double eta = c.learning_rate;
      CAPTURE(static_cast<int>(loss), k);
      CHECK((m.bias() - stepped.bias()) / eta == Approx(numeric[at++]).margin(2e-3));
      for (std::size_t i = 0; i < x.nnz(); ++i) {
        const std::uint32_t j = x.indices[i];
        CHECK((m.linear(j) - stepped.linear(j)) / eta == Approx(numeric[at++]).margin(2e-3));
        for (std::size_t f = 0; f < k; ++f) {
          const double step = (m.factors_of(j)[f] - stepped.factors_of(j)[f]) / eta;
          CHECK(step == Approx(numeric[at++]).margin(2e-3));
          CHECK(step == Approx(dz * grad[i * k + f]).margin(1e-5));
        }
      }
    }
  }
}

TEST_CASE("factorization_machine learns an interaction that a linear model cannot fit",
          "[model][fm]") {
  // Two one-hot groups of 10 values each (features 0-9 and 10-19); the label is positive when
  // exactly one of the two values is below 5: an XOR of the groups' halves, with balanced
  // classes and every single feature uninformative. It is rank 1 in the pairwise weights.
  mlsd::data::detail::splitmix64 rng(3);
  std::vector<sparse_row> rows(2000);
  for (auto& r : rows) {
    const auto a = static_cast<std::uint32_t>(rng.below(10));
    const auto b = static_cast<std::uint32_t>(rng.below(10));
    r.push_back(a, 1.0f);
    r.push_back(10 + b, 1.0f);
    r.label = (a < 5) != (b < 5) ? 1.0f : 0.0f;
  }
  const auto mean_loss = [&](const factorization_machine& m) {
    double sum = 0.0;
    for (const auto& r : rows) {
      sum += mlsd::model::loss_value(m.loss(), m.margin(r), r.label);
    }
    return sum / static_cast<double>(rows.size());
  };
  auto c = small_config(20, 4);
  c.learning_rate = 0.2f;
  c.init_stddev = 0.1f;
  factorization_machine fm(c);
  // With all factors 0 the factor gradients x (s - v x) stay 0: the linear part alone, i.e.
  // logistic regression on the same features.
  c.init_stddev = 0.0f;
  factorization_machine linear(c);
  for (int epoch = 0; epoch < 30; ++epoch) {
    for (const auto& r : rows) {
      fm.learn(r, r.label);
      linear.learn(r, r.label);
    }
  }
  const double fm_loss = mean_loss(fm), linear_loss = mean_loss(linear);
  CAPTURE(fm_loss, linear_loss);
  CHECK(linear_loss > 0.65); // log 2 = 0.693: no better than the base rate
  CHECK(fm_loss < 0.05);
  for (std::size_t j = 0; j < 20; ++j) {
    CHECK(linear.factors_of(j)[0] == 0.0f);
  }
}

TEST_CASE("factorization_machine with squared loss recovers a teacher FM", "[model][fm]") {
  auto c = small_config(60, 3);
  c.loss = loss_function::squared;
  c.init_stddev = 0.5f;
  c.seed = 99;
  const factorization_machine teacher(c);
  c.seed = 1;
  c.init_stddev = 0.1f;
  c.learning_rate = 0.05f;
  factorization_machine student(c);
  auto rows = random_rows(3000, 60, 6, false, 17);
  for (auto& r : rows) {
    r.label = teacher.margin(r);
  }
  double first = 0.0, last = 0.0;
  for (int epoch = 0; epoch < 40; ++epoch) {
    double sum = 0.0;
    for (const auto& r : rows) {
      sum += student.learn(r, r.label);
    }
    (epoch == 0 ? first : last) = sum / static_cast<double>(rows.size());
  }
  CAPTURE(first, last);
  CHECK(last < 0.02 * first);
}

TEST_CASE("factorization_machine rejects an index outside its table and stays unchanged",
          "[model][fm]") {
  factorization_machine m(small_config(10, 8));
  sparse_row x;
  x.push_back(3, 1.0f);
  x.push_back(10, 1.0f);
  const std::vector<float> before(m.parameters().begin(), m.parameters().end());
  try {
    m.learn(x, 1.0f);
    FAIL("no input_error");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().field == "indices[1]");
    CHECK(e.found() == "10");
    CHECK_THAT(e.expected(), Catch::Contains("below 10"));
  }
  CHECK(std::vector<float>(m.parameters().begin(), m.parameters().end()) == before);
  CHECK_THROWS_AS(m.margin(x), mlsd::input_error);
  CHECK_THROWS_AS(mlsd::model::reference::fm_learn(m, x, 1.0f, 1.0f), mlsd::input_error);
}

TEST_CASE("factorization_machine initial factors: N(0, sigma), seeded", "[model][fm]") {
  auto c = small_config(4000, 8);
  c.init_stddev = 0.2f;
  const factorization_machine a(c), b(c);
  c.seed = 2;
  const factorization_machine other(c);
  double sum = 0.0, squares = 0.0;
  bool same = true, differs = false;
  for (std::size_t j = 0; j < 4000; ++j) {
    CHECK(a.linear(j) == 0.0f);
    for (std::size_t f = 0; f < 8; ++f) {
      const double v = a.factors_of(j)[f];
      sum += v;
      squares += v * v;
      same = same && a.factors_of(j)[f] == b.factors_of(j)[f];
      differs = differs || a.factors_of(j)[f] != other.factors_of(j)[f];
    }
  }
  const double n = 32000.0;
  CHECK(std::fabs(sum / n) < 0.005);                          // 4.5 standard errors
  CHECK(std::sqrt(squares / n) == Approx(0.2).epsilon(0.02)); // about 4 standard errors
  CHECK(same);
  CHECK(differs);
  CHECK(a.bias() == 0.0f);
}

TEST_CASE("factorization_machine config: validation and JSON", "[model][fm][config]") {
  const auto rejects = [](auto change, const std::string& field) {
    factorization_machine::config c = small_config(10, 4);
    change(c);
    try {
      factorization_machine m(c);
      FAIL("accepted");
    } catch (const mlsd::config_error& e) {
      CHECK(e.field() == field);
    }
  };
  using cfg = factorization_machine::config;
  rejects([](cfg& c) { c.features = 0; }, "factorization_machine.features");
  rejects([](cfg& c) { c.factors = 0; }, "factorization_machine.factors");
  rejects([](cfg& c) { c.factors = 1025; }, "factorization_machine.factors");
  rejects([](cfg& c) { c.learning_rate = 0.0f; }, "factorization_machine.learning_rate");
  rejects([](cfg& c) { c.learning_rate = std::nanf(""); }, "factorization_machine.learning_rate");
  rejects([](cfg& c) { c.l2_linear = -1.0f; }, "factorization_machine.l2_linear");
  rejects([](cfg& c) { c.l2_factors = INFINITY; }, "factorization_machine.l2_factors");
  rejects([](cfg& c) { c.init_stddev = -0.1f; }, "factorization_machine.init_stddev");
  rejects([](cfg& c) { c.adagrad_initial = 0.0f; }, "factorization_machine.adagrad_initial");

  cfg c = small_config(123, 16);
  c.loss = loss_function::squared;
  c.optimizer = fm_optimizer::sgd;
  c.l2_linear = 0.5f;
  c.seed = 77;
  const cfg back = cfg::from_json(c.to_json());
  CHECK(back.to_json() == c.to_json());
  CHECK(back.features == 123);
  CHECK(back.factors == 16);
  CHECK(back.loss == loss_function::squared);
  CHECK(back.optimizer == fm_optimizer::sgd);
  CHECK(back.seed == 77);
  CHECK(cfg::from_json(nlohmann::json{{"loss", "log"}}).loss == loss_function::logistic);
  CHECK_THROWS_AS(cfg::from_json(nlohmann::json{{"factor", 4}}), mlsd::config_error);
  CHECK_THROWS_WITH(cfg::from_json(nlohmann::json{{"optimizer", "adam"}}),
                    Catch::Contains("factorization_machine.optimizer"));
  CHECK_THROWS_WITH(cfg::from_json(nlohmann::json{{"factors", 0}}),
                    Catch::Contains("factorization_machine.factors"));
}

TEST_CASE("factorization_machine model file round trip", "[model][fm][model_file]") {
  for (const auto optimizer : {fm_optimizer::sgd, fm_optimizer::adagrad}) {
    auto c = small_config(25, 5);
    c.optimizer = optimizer;
    factorization_machine m(c);
    for (const auto& r : random_rows(200, 25, 8, false, 4)) {
      m.learn(r, r.label);
    }
    const auto dir = std::filesystem::temp_directory_path();
    const auto path = dir / (optimizer == fm_optimizer::sgd ? "mlsd_fm_sgd.bin" : "mlsd_fm.json");
    mlsd::model::save_model(m, path);
    factorization_machine back = mlsd::model::load_model<factorization_machine>(path);
    std::filesystem::remove(path);
    // Same parameters, padding and optimizer state included: the same scores, and training
    // continues identically.
    CHECK(std::vector<float>(back.parameters().begin(), back.parameters().end()) ==
          std::vector<float>(m.parameters().begin(), m.parameters().end()));
    const auto more = random_rows(20, 25, 8, false, 5);
    for (const auto& r : more) {
      CHECK(back.learn(r, r.label) == m.learn(r, r.label));
    }

    auto f = m.to_model_file();
    CHECK(f.model_type == "fm");
    CHECK(f.table("factors").rows == 25);
    CHECK(f.table("factors").cols == 5);
    CHECK(f.table("linear").cols == 25);
    CHECK(f.tables.size() == (optimizer == fm_optimizer::adagrad ? 6u : 3u));
    f.hyper_parameters["factors"] = 6;
    try {
      (void)factorization_machine::from_model_file(f);
      FAIL("accepted");
    } catch (const mlsd::model::model_file_error& e) {
      CHECK(e.problem() == mlsd::model::model_file_error::kind::bad_table);
    }
  }
}
