// The per-coordinate optimizers (include/mlsd/model/optimizer.hpp): update rules against values
// worked out by hand (in double, from the formulas of the papers), configs and their JSON.
#include <mlsd/model/optimizer.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

using mlsd::model::optimizer_kind;

namespace {

template <class F>
std::string config_error_field(F&& f) {
  try {
    f();
  } catch (const mlsd::config_error& e) {
    return e.field();
  }
  return "(no error)";
}

} // namespace

TEST_CASE("optimizer_kind prints and parses", "[model][optimizer]") {
  for (const auto k : {optimizer_kind::sgd, optimizer_kind::adagrad, optimizer_kind::ftrl}) {
    CHECK(mlsd::model::parse_optimizer_kind(mlsd::model::to_string(k)) == k);
  }
  CHECK(mlsd::model::to_string(optimizer_kind::ftrl) == "ftrl");
  CHECK(mlsd::model::parse_optimizer_kind("ftrl_proximal") == optimizer_kind::ftrl);
  CHECK(config_error_field([] { (void)mlsd::model::parse_optimizer_kind("adam"); }) == "optimizer");
  CHECK(config_error_field([] { (void)mlsd::model::parse_optimizer_kind("Sgd", "--optimizer"); }) ==
        "--optimizer");
  CHECK(mlsd::model::state_size(optimizer_kind::sgd) == 0);
  CHECK(mlsd::model::state_size(optimizer_kind::adagrad) == 1);
  CHECK(mlsd::model::state_size(optimizer_kind::ftrl) == 2);
}

TEST_CASE("sgd: gradient step with L2, then the L1 proximal step", "[model][optimizer]") {
  const mlsd::model::sgd plain({.learning_rate = 0.1f});
  float w = 0.5f;
  plain.step(w, 0.2f, 1.0f);
  CHECK(w == Approx(0.48));
  plain.step(w, 0.2f, 0.5f); // the schedule halves the step
  CHECK(w == Approx(0.47));

  const mlsd::model::sgd reg({.learning_rate = 0.1f, .l1 = 0.5f, .l2 = 0.1f});
  w = 0.5f;
  reg.step(w, 0.2f, 1.0f);
  // u = 0.5 - 0.1 (0.2 + 0.1 * 0.5) = 0.475; shrunk by 0.1 * 0.5 = 0.05
  CHECK(w == Approx(0.425));
  w = -0.5f;
  reg.step(w, -0.2f, 1.0f);
  CHECK(w == Approx(-0.425));
  w = 0.04f;
  reg.step(w, 0.0f, 1.0f); // |u| = 0.0396 <= 0.05: exactly 0
  CHECK(w == 0.0f);
  w = 0.04f;
  reg.step(w, 0.0f, 1.0f, false); // a bias is not regularised
  CHECK(w == 0.04f);

  std::vector<float> block = {0.5f, -0.5f, 0.04f};
  const std::vector<float> g = {0.2f, -0.2f, 0.0f};
  reg.step(block, g, 1.0f);
  CHECK(block[0] == Approx(0.425));
  CHECK(block[1] == Approx(-0.425));
  CHECK(block[2] == 0.0f);
}

TEST_CASE("adagrad: per-coordinate rate eta / sqrt(n + epsilon)", "[model][optimizer]") {
  const mlsd::model::adagrad opt({.learning_rate = 0.1f, .epsilon = 1e-6f});
  float w = 0.0f, n = 0.0f;
  opt.step(w, n, 2.0f, 1.0f);
  CHECK(n == 4.0f);
  double expected = -0.1 * 2.0 / std::sqrt(4.0 + 1e-6);
  CHECK(w == Approx(expected));
  opt.step(w, n, 1.0f, 1.0f);
  expected -= 0.1 * 1.0 / std::sqrt(5.0 + 1e-6);
  CHECK(n == 5.0f);
  CHECK(w == Approx(expected));

  // L2 enters the gradient (and the accumulator); L1 shrinks by the coordinate's rate.
  const mlsd::model::adagrad reg({.learning_rate = 0.5f, .l1 = 0.2f, .l2 = 1.0f, .epsilon = 1.0f});
  w = 1.0f;
  n = 0.0f;
  reg.step(w, n, 1.0f, 1.0f);
  // g' = 1 + 1 * 1 = 2; n = 4; rate = 0.5 / sqrt(5); u = 1 - 2 rate; w = u - 0.2 rate
  const double rate = 0.5 / std::sqrt(5.0);
  CHECK(n == 4.0f);
  CHECK(w == Approx(1.0 - 2.0 * rate - 0.2 * rate));
  w = 0.01f;
  n = 0.0f;
  reg.step(w, n, 0.0f, 1.0f); // g' = 0.01, u ≈ 0.0095 < 0.2 rate: exactly 0
  CHECK(w == 0.0f);
  w = 0.01f;
  n = 0.0f;
  reg.step(w, n, 0.0f, 1.0f, false); // the bias: no L2, no L1
  CHECK(w == 0.01f);
  CHECK(n == 0.0f);

  // The schedule multiplier scales the rate.
  float a = 0.0f, na = 0.0f;
  opt.step(a, na, 2.0f, 0.25f);
  CHECK(a == Approx(-0.25 * 0.1 * 2.0 / std::sqrt(4.0 + 1e-6)));
}

TEST_CASE("ftrl_proximal follows McMahan et al. 2013, Algorithm 1", "[model][optimizer]") {
  const mlsd::model::ftrl_proximal opt({.alpha = 0.5f, .beta = 1.0f, .l1 = 0.1f, .l2 = 0.2f});
  float z = 0.0f, n = 0.0f;
  CHECK(opt.weight(z, n) == 0.0f);
  opt.step(z, n, 0.0f, 0.5f);
  // sigma = (sqrt(0.25) - 0) / 0.5 = 1; z = 0.5 - 1 * 0; n = 0.25
  CHECK(z == 0.5f);
  CHECK(n == 0.25f);
  float w = opt.weight(z, n);
  // w = -(0.5 - 0.1) / ((1 + 0.5) / 0.5 + 0.2) = -0.4 / 3.2
  CHECK(w == Approx(-0.125));
  opt.step(z, n, w, -0.3f);
  const double sigma = (std::sqrt(0.34) - 0.5) / 0.5;
  const double z2 = 0.5 - 0.3 - sigma * -0.125;
  CHECK(n == Approx(0.34));
  CHECK(z == Approx(z2));
  w = opt.weight(z, n);
  CHECK(w == Approx(-(z2 - 0.1) / ((1.0 + std::sqrt(0.34)) / 0.5 + 0.2)));

  // Exact zeros: |z| <= l1 gives w = 0, for either sign; just above, w is not 0.
  CHECK(opt.weight(0.1f, 4.0f) == 0.0f);
  CHECK(opt.weight(-0.1f, 4.0f) == 0.0f);
  CHECK(opt.weight(0.0999f, 0.0f) == 0.0f);
  CHECK(opt.weight(-0.3f, 4.0f) == Approx(0.2 / (3.0 / 0.5 + 0.2)));
  // The bias uses l1 = l2 = 0.
  CHECK(opt.weight(0.05f, 4.0f, false) == Approx(-0.05 / (3.0 / 0.5)));
}

TEST_CASE("optimizer configs validate and name the field", "[model][optimizer][config]") {
  using mlsd::model::adagrad;
  using mlsd::model::ftrl_proximal;
  using mlsd::model::sgd;
  CHECK(config_error_field([] { sgd s({.learning_rate = 0.0f}); }) == "sgd.learning_rate");
  CHECK(config_error_field([] { sgd s({.l1 = -1.0f}); }) == "sgd.l1");
  CHECK(config_error_field([] { sgd s({.l2 = NAN}); }) == "sgd.l2");
  CHECK(config_error_field([] { adagrad a({.epsilon = 0.0f}); }) == "adagrad.epsilon");
  CHECK(config_error_field([] { adagrad a({.learning_rate = INFINITY}); }) ==
        "adagrad.learning_rate");
  CHECK(config_error_field([] { ftrl_proximal f({.alpha = -0.1f}); }) == "ftrl.alpha");
  CHECK(config_error_field([] { ftrl_proximal f({.beta = -1.0f}); }) == "ftrl.beta");
  CHECK(config_error_field([] { ftrl_proximal f({.beta = 0.0f, .l2 = 0.0f}); }) == "ftrl.beta");
  CHECK(config_error_field([] { ftrl_proximal f({.beta = 0.0f, .l2 = 0.5f}); }) == "(no error)");
  CHECK(config_error_field([] { ftrl_proximal f({.l1 = -1.0f}); }) == "ftrl.l1");

  mlsd::model::optimizer_config c;
  c.kind = optimizer_kind::sgd;
  c.ftrl.alpha = -1.0f; // not the chosen one: not validated
  CHECK_NOTHROW(c.validate());
  c.kind = optimizer_kind::ftrl;
  CHECK_THROWS_AS(c.validate(), mlsd::config_error);
}

TEST_CASE("optimizer configs round-trip through JSON", "[model][optimizer][config]") {
  using nlohmann::json;
  const mlsd::model::sgd_config s{.learning_rate = 0.25f, .l1 = 0.5f, .l2 = 0.125f};
  CHECK(json(s).get<mlsd::model::sgd_config>() == s);
  CHECK(json(s) == json::parse(R"({"learning_rate": 0.25, "l1": 0.5, "l2": 0.125})"));
  const mlsd::model::adagrad_config a{.learning_rate = 0.5f, .epsilon = 0.25f};
  CHECK(json(a).get<mlsd::model::adagrad_config>() == a);
  const mlsd::model::ftrl_config f{.alpha = 0.5f, .beta = 2.0f, .l1 = 0.0f, .l2 = 4.0f};
  CHECK(json(f).get<mlsd::model::ftrl_config>() == f);
  // Missing keys keep their defaults.
  CHECK(json::parse(R"({"alpha": 0.5})").get<mlsd::model::ftrl_config>() ==
        mlsd::model::ftrl_config{.alpha = 0.5f});
  CHECK(config_error_field([] {
          (void)json::parse(R"({"alpha": 0.5, "lambda": 1})").get<mlsd::model::ftrl_config>();
        }) == "ftrl.lambda");
  CHECK(config_error_field([] {
          (void)json::parse(R"({"alpha": 0})").get<mlsd::model::ftrl_config>();
        }) == "ftrl.alpha");

  mlsd::model::optimizer_config c;
  for (const auto k : {optimizer_kind::sgd, optimizer_kind::adagrad, optimizer_kind::ftrl}) {
    c.kind = k;
    c.sgd.learning_rate = 0.5f;
    c.adagrad.l2 = 0.25f;
    c.ftrl.beta = 0.5f;
    const json j = c;
    CHECK(j.at("kind") == std::string(mlsd::model::to_string(k)));
    const auto back = j.get<mlsd::model::optimizer_config>();
    CHECK(back.kind == k);
    CHECK(json(back) == j);
  }
  c.kind = optimizer_kind::adagrad;
  const auto parsed = json::parse(R"({"kind": "adagrad", "learning_rate": 0.1, "l1": 0,
                                      "l2": 0.25, "epsilon": 1e-6})")
                          .get<mlsd::model::optimizer_config>();
  CHECK(parsed.adagrad == c.adagrad);
  CHECK(json(parsed) == json(c));
  CHECK(config_error_field([] {
          (void)json::parse(R"({"kind": "sgd", "alpha": 1})").get<mlsd::model::optimizer_config>();
        }) == "optimizer.alpha");
  CHECK(config_error_field([] {
          (void)json::parse(R"({"learning_rate": 1})").get<mlsd::model::optimizer_config>();
        }) == "optimizer.kind");
  CHECK(config_error_field([] {
          (void)json::parse(R"({"kind": "adam"})").get<mlsd::model::optimizer_config>();
        }) == "optimizer.kind");
}
