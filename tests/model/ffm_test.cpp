// Field-aware factorization machines (model/ffm.hpp): φ against a hand computation, the fused
// SIMD step against the scalar libffm step (several k, normalisation on and off, repeated
// entries), the AdaGrad step against finite-difference gradients, convergence on a field
// interaction a linear model cannot fit, errors, configs and model files.
#include <mlsd/model/ffm.hpp>
#include <mlsd/model/fm.hpp>
#include <mlsd/model/model_file.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using mlsd::sparse_row;
using ffm = mlsd::model::field_aware_factorization_machine;
using mlsd::model::loss_function;

ffm::config small_config(std::size_t n, std::size_t m, std::size_t k) {
  ffm::config c;
  c.features = n;
  c.fields = m;
  c.factors = k;
  return c;
}

// Rows of up to `max_nnz` field:index:value entries; with `repeats`, few distinct (field, index)
// pairs, so that entries repeat within a row.
std::vector<sparse_row> random_rows(std::size_t count, std::size_t n, std::size_t m,
                                    std::size_t max_nnz, bool repeats, std::uint64_t seed) {
  mlsd::data::detail::splitmix64 rng(seed);
  std::vector<sparse_row> rows(count);
  for (auto& r : rows) {
    r.label = rng.uniform() < 0.4 ? 1.0f : -1.0f;
    const std::size_t nnz = rng.below(max_nnz + 1);
    for (std::size_t i = 0; i < nnz; ++i) {
      const auto f = static_cast<std::uint32_t>(rng.below(repeats ? 2 : m));
      const auto j = static_cast<std::uint32_t>(rng.below(repeats ? 3 : n));
      r.push_back(f, j, static_cast<float>(3.0 * rng.uniform() - 1.0));
    }
  }
  return rows;
}

bool close(float a, float b, float rel, float abs) {
  return std::fabs(a - b) <= abs + rel * std::fmax(std::fabs(a), std::fabs(b));
}

} // namespace

TEST_CASE("field_aware_factorization_machine models sgd_model, scorer and trainable",
          "[model][ffm]") {
  STATIC_REQUIRE(mlsd::model::sgd_model<ffm>);
  STATIC_REQUIRE(mlsd::model::scorer<ffm>);
  STATIC_REQUIRE(mlsd::model::trainable<ffm>);
  STATIC_REQUIRE(mlsd::model::model_file_serializable<ffm>);
  STATIC_REQUIRE(ffm::model_type == "ffm");
}

TEST_CASE("field_aware_factorization_machine margin equals a hand computation", "[model][ffm]") {
  // Entries (field, index, value): (0, 0, 1), (1, 1, 2), (1, 2, 0.5); k = 2.
  // φ = <w_{0,1}, w_{1,0}>·1·2 + <w_{0,1}, w_{2,0}>·1·0.5 + <w_{1,1}, w_{2,1}>·2·0.5
  // with w_{0,1} = (1, 2), w_{1,0} = (3, -1), w_{2,0} = (0.5, 0.5), w_{1,1} = (2, 0),
  // w_{2,1} = (-1, 4): (3 - 2)·2 + (0.5 + 1)·0.5 + (-2)·1 = 2 + 0.75 - 2 = 0.75.
  // Normalised: Σx² = 1 + 4 + 0.25 = 5.25, φ = 0.75 / 5.25.
  for (const bool normalize : {false, true}) {
    auto c = small_config(4, 2, 2);
    c.normalize = normalize;
    c.init_scale = 0.0f;
    ffm m(c);
    const auto set = [&](std::size_t j, std::size_t f, float a, float b) {
      m.set_factor(j, f, 0, a);
      m.set_factor(j, f, 1, b);
    };
    set(0, 1, 1.0f, 2.0f);
    set(1, 0, 3.0f, -1.0f);
    set(2, 0, 0.5f, 0.5f);
    set(1, 1, 2.0f, 0.0f);
    set(2, 1, -1.0f, 4.0f);
    sparse_row x;
    x.push_back(0, 0, 1.0f);
    x.push_back(1, 1, 2.0f);
    x.push_back(1, 2, 0.5f);
    const float expected = normalize ? 0.75f / 5.25f : 0.75f;
    CHECK(m.margin(x) == Approx(expected).epsilon(1e-6));
    CHECK(mlsd::model::reference::ffm_margin(m, x) == Approx(expected).epsilon(1e-6));
    CHECK(m(x) == Approx(1.0 / (1.0 + std::exp(-expected))).epsilon(1e-6));
    CHECK(m.factors_of(2, 1)[1] == 4.0f);
    CHECK(m.margin(sparse_row{}) == 0.0f);
  }
}

TEST_CASE("field_aware_factorization_machine fused step equals the scalar libffm step",
          "[model][ffm]") {
  for (const std::size_t k : {1, 2, 3, 4, 5, 8, 12}) {
    for (const bool normalize : {true, false}) {
      for (const bool repeats : {false, true}) {
        auto c = small_config(30, 6, k);
        c.normalize = normalize;
        c.learning_rate = normalize ? 0.2f : 0.05f;
        c.l2 = 0.01f;
        ffm fused(c), scalar(c);
        REQUIRE(fused.parameters().size() == 30 * 6 * 2 * ((k + 3) / 4 * 4));
        const auto rows = random_rows(120, 30, 6, repeats ? 6 : 12, repeats, 11 * k + repeats);
        std::size_t mismatches = 0;
        for (std::size_t r = 0; r < rows.size(); ++r) {
          scalar = fused; // the same start for every step: rounding cannot accumulate
          const float rate = r % 4 == 0 ? 0.5f : 1.0f;
          const float a = fused.learn(rows[r], rows[r].label, rate);
          const float b = mlsd::model::reference::ffm_learn(scalar, rows[r], rows[r].label, rate);
          CAPTURE(k, normalize, repeats, r, a, b);
          REQUIRE(std::isfinite(a));
          REQUIRE(close(a, b, 1e-4f, 1e-5f));
          CHECK(close(fused.margin(rows[r]), mlsd::model::reference::ffm_margin(fused, rows[r]),
                      1e-4f, 1e-5f));
          // The fused step approximates 1/sqrt(G) (libffm's rsqrt): a weight's change is off by
          // at most ffm_rsqrt_error times itself, and |change| <= η·|g|/sqrt(G) < η. A block that
          // several pairs update carries the difference into the next; 4× covers that here.
          const float step_error =
              4.0f * c.learning_rate * rate * mlsd::model::detail::ffm_rsqrt_error;
          const auto pa = fused.parameters(), pb = scalar.parameters();
          for (std::size_t i = 0; i < pa.size(); ++i) {
            mismatches += close(pa[i], pb[i], 1e-5f, 1e-6f + step_error) ? 0 : 1;
          }
        }
        CAPTURE(k, normalize, repeats);
        CHECK(mismatches == 0);
        // Padding lanes (k..kp-1 of every weight half) stay zero.
        const std::size_t kp = (k + 3) / 4 * 4;
        bool padding_zero = true;
        const auto p = fused.parameters();
        for (std::size_t b = 0; b < 30 * 6; ++b) {
          for (std::size_t d = k; d < kp; ++d) {
            padding_zero = padding_zero && p[b * 2 * kp + d] == 0.0f;
          }
        }
        CHECK(padding_zero);
      }
    }
  }
}

TEST_CASE("field_aware_factorization_machine AdaGrad step follows the gradient (finite "
          "differences)",
          "[model][ffm]") {
  // With distinct features and distinct fields every block belongs to exactly one pair, so the
  // first AdaGrad step from accumulators at 1 and λ = 0 is Δw = -η g / sqrt(1 + g²) with g the
  // exact gradient.
  for (const bool normalize : {false, true}) {
    auto c = small_config(12, 6, 3);
    c.normalize = normalize;
    c.l2 = 0.0f;
    c.learning_rate = 0.3f;
    ffm m(c);
    sparse_row x;
    x.label = 1.0f;
    x.push_back(0, 3, 0.8f);
    x.push_back(2, 7, -1.3f);
    x.push_back(3, 1, 0.4f);
    x.push_back(5, 10, 1.1f);
    const auto loss_at = [&](const ffm& model) {
      return static_cast<double>(
          mlsd::model::loss_value(loss_function::logistic, model.margin(x), x.label));
    };
    ffm stepped = m;
    stepped.learn(x, x.label);
    const double h = 1e-2, eta = c.learning_rate;
    std::size_t checked = 0;
    for (std::size_t i = 0; i < x.nnz(); ++i) {
      for (std::size_t j = 0; j < x.nnz(); ++j) {
        if (i == j) {
          continue;
        }
        const std::uint32_t feature = x.indices[i], field = x.fields[j];
        for (std::size_t d = 0; d < 3; ++d) {
          ffm p = m, q = m;
          const float w = m.factors_of(feature, field)[d];
          p.set_factor(feature, field, d, w + static_cast<float>(h));
          q.set_factor(feature, field, d, w - static_cast<float>(h));
          const double g = (loss_at(p) - loss_at(q)) / (2 * h);
          const double expected = -eta * g / std::sqrt(1.0 + g * g);
          const double got = stepped.factors_of(feature, field)[d] - w;
          CAPTURE(normalize, i, j, d, g);
          CHECK(got == Approx(expected).margin(2e-4));
          ++checked;
        }
      }
    }
    CHECK(checked == 36);
    // A block no pair touches is unchanged.
    CHECK(stepped.factors_of(3, 1)[0] == m.factors_of(3, 1)[0]);
  }
}

TEST_CASE("field_aware_factorization_machine learns a field interaction a linear model cannot",
          "[model][ffm]") {
  // Field 0 holds one of 10 features (0-9), field 1 one of 10 (10-19); the label is the XOR of
  // "value below 5" in the two fields. A linear model (here an FM with zero factors, which
  // never leave zero) stays at log 2.
  mlsd::data::detail::splitmix64 rng(5);
  std::vector<sparse_row> rows(2000);
  for (auto& r : rows) {
    const auto a = static_cast<std::uint32_t>(rng.below(10));
    const auto b = static_cast<std::uint32_t>(rng.below(10));
    r.push_back(0, a, 1.0f);
    r.push_back(1, 10 + b, 1.0f);
    r.label = (a < 5) != (b < 5) ? 1.0f : -1.0f;
  }
  auto c = small_config(20, 2, 4);
  c.init_scale = 0.5f;
  ffm model(c);
  mlsd::model::factorization_machine::config lc;
  lc.features = 20;
  lc.init_stddev = 0.0f;
  lc.learning_rate = 0.2f;
  mlsd::model::factorization_machine linear(lc);
  for (int epoch = 0; epoch < 30; ++epoch) {
    for (const auto& r : rows) {
      model.learn(r, r.label);
      linear.learn(r, r.label);
    }
  }
  double ffm_loss = 0.0, linear_loss = 0.0;
  for (const auto& r : rows) {
    ffm_loss += mlsd::model::loss_value(loss_function::logistic, model.margin(r), r.label);
    linear_loss += mlsd::model::loss_value(loss_function::logistic, linear.margin(r), r.label);
  }
  ffm_loss /= 2000.0;
  linear_loss /= 2000.0;
  CAPTURE(ffm_loss, linear_loss);
  CHECK(linear_loss > 0.65);
  CHECK(ffm_loss < 0.1);
}

TEST_CASE("field_aware_factorization_machine rejects bad rows and stays unchanged",
          "[model][ffm]") {
  ffm m(small_config(10, 3, 4));
  const std::vector<float> before(m.parameters().begin(), m.parameters().end());
  const auto expect_error = [&](const sparse_row& x, const std::string& field) {
    try {
      m.learn(x, 1.0f);
      FAIL("no input_error");
    } catch (const mlsd::input_error& e) {
      CHECK(e.where().field == field);
    }
    CHECK_THROWS_AS(m.margin(x), mlsd::input_error);
    CHECK(std::vector<float>(m.parameters().begin(), m.parameters().end()) == before);
  };
  sparse_row no_fields;
  no_fields.push_back(1, 1.0f);
  no_fields.push_back(2, 1.0f);
  expect_error(no_fields, "fields");
  sparse_row bad_field;
  bad_field.push_back(0, 1, 1.0f);
  bad_field.push_back(3, 2, 1.0f);
  expect_error(bad_field, "fields[1]");
  sparse_row bad_index;
  bad_index.push_back(0, 1, 1.0f);
  bad_index.push_back(1, 2, 1.0f);
  bad_index.push_back(2, 10, 1.0f);
  expect_error(bad_index, "indices[2]");
}

TEST_CASE(
    "field_aware_factorization_machine initial weights: uniform between 0 and s/sqrt(k), seeded",
    "[model][ffm]") {
  auto c = small_config(500, 4, 4);
  const ffm a(c), b(c);
  float lo = 1.0f, hi = 0.0f;
  double sum = 0.0;
  bool same = true;
  for (std::size_t j = 0; j < 500; ++j) {
    for (std::size_t f = 0; f < 4; ++f) {
      for (std::size_t d = 0; d < 4; ++d) {
        const float w = a.factors_of(j, f)[d];
        lo = std::fmin(lo, w);
        hi = std::fmax(hi, w);
        sum += w;
        same = same && w == b.factors_of(j, f)[d];
      }
    }
  }
  CHECK(lo >= 0.0f);
  CHECK(hi < 0.5f);
  CHECK(hi > 0.49f);
  CHECK(sum / 8000.0 == Approx(0.25).margin(0.01)); // mean of U[0, 0.5); 1.5σ is 0.0022
  CHECK(same);
}

TEST_CASE("field_aware_factorization_machine config: validation and JSON", "[model][ffm][config]") {
  const auto rejects = [](auto change, const std::string& field) {
    ffm::config c = small_config(10, 3, 4);
    change(c);
    try {
      ffm m(c);
      FAIL("accepted");
    } catch (const mlsd::config_error& e) {
      CHECK(e.field() == field);
    }
  };
  rejects([](ffm::config& c) { c.features = 0; }, "field_aware_factorization_machine.features");
  rejects([](ffm::config& c) { c.fields = 0; }, "field_aware_factorization_machine.fields");
  rejects([](ffm::config& c) { c.factors = 0; }, "field_aware_factorization_machine.factors");
  rejects([](ffm::config& c) { c.learning_rate = -1.0f; },
          "field_aware_factorization_machine.learning_rate");
  rejects([](ffm::config& c) { c.l2 = -1.0f; }, "field_aware_factorization_machine.l2");
  rejects([](ffm::config& c) { c.init_scale = std::nanf(""); },
          "field_aware_factorization_machine.init_scale");

  ffm::config c = small_config(100, 7, 6);
  c.normalize = false;
  c.l2 = 0.001f;
  c.seed = 9;
  const ffm::config back = ffm::config::from_json(c.to_json());
  CHECK(back.to_json() == c.to_json());
  CHECK(back.fields == 7);
  CHECK_FALSE(back.normalize);
  CHECK(ffm::config{}.normalize); // libffm's default
  CHECK(ffm::config{}.factors == 4);
  CHECK_THROWS_WITH(ffm::config::from_json(nlohmann::json{{"norm", true}}),
                    Catch::Contains("field_aware_factorization_machine.norm"));
}

TEST_CASE("field_aware_factorization_machine model file round trip", "[model][ffm][model_file]") {
  ffm m(small_config(15, 3, 3));
  for (const auto& r : random_rows(100, 15, 3, 6, false, 8)) {
    m.learn(r, r.label);
  }
  const auto path = std::filesystem::temp_directory_path() / "mlsd_ffm_test.bin";
  mlsd::model::save_model(m, path);
  ffm back = mlsd::model::load_model<ffm>(path);
  std::filesystem::remove(path);
  CHECK(std::vector<float>(back.parameters().begin(), back.parameters().end()) ==
        std::vector<float>(m.parameters().begin(), m.parameters().end()));
  for (const auto& r : random_rows(10, 15, 3, 6, false, 9)) {
    CHECK(back.learn(r, r.label) == m.learn(r, r.label));
  }
  auto f = m.to_model_file();
  CHECK(f.table("factors").rows == 45);
  CHECK(f.table("accumulator").cols == 3);
  f.hyper_parameters["fields"] = 4;
  try {
    (void)ffm::from_model_file(f);
    FAIL("accepted");
  } catch (const mlsd::model::model_file_error& e) {
    CHECK(e.problem() == mlsd::model::model_file_error::kind::bad_table);
  }
}
