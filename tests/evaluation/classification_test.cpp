// Classification metrics (include/mlsd/evaluation/classification.hpp): hand-computed values,
// ties, merge == add-all, exact AUC against O(n²) pair counting, the radix sort against
// std::sort, average precision against its definition, undefined cases and bad input.
#include <mlsd/evaluation/classification.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace ev = mlsd::evaluation;

namespace {

using floats = std::vector<float>;

// AUC by counting every (positive, negative) pair: twice the wins plus the ties, as integers.
double pairwise_auc(const floats& scores, const floats& labels) {
  std::uint64_t twice_wins = 0;
  std::uint64_t positives = 0;
  std::uint64_t negatives = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (labels[i] > 0) {
      ++positives;
    } else {
      ++negatives;
    }
  }
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!(labels[i] > 0)) {
      continue;
    }
    for (std::size_t j = 0; j < scores.size(); ++j) {
      if (labels[j] > 0) {
        continue;
      }
      twice_wins += scores[i] > scores[j] ? 2 : scores[i] == scores[j] ? 1 : 0;
    }
  }
  return static_cast<double>(twice_wins) /
         (2.0 * static_cast<double>(positives) * static_cast<double>(negatives));
}

struct labelled_scores {
  floats scores;
  floats labels;
};

// Random scores on `levels` distinct values (many ties when levels is small) and 0/1 labels
// whose rate rises with the score, so that the AUC is neither 0.5 nor 1.
labelled_scores random_scores(std::mt19937& rng, std::size_t n, int levels) {
  std::uniform_int_distribution<int> level(0, levels - 1);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  labelled_scores d;
  for (std::size_t i = 0; i < n; ++i) {
    const float s = (static_cast<float>(level(rng)) + 0.5f) / static_cast<float>(levels);
    d.scores.push_back(s);
    d.labels.push_back(u(rng) < 0.2f + 0.6f * s ? 1.0f : 0.0f);
  }
  return d;
}

// Adds all observations to one accumulator, and the same observations split at random cut
// points into shards that are then merged; both results must agree.
template <class Metric>
void check_merge_equals_add_all(const labelled_scores& d, std::mt19937& rng,
                                const Metric& prototype, bool exact) {
  Metric all = prototype;
  for (std::size_t i = 0; i < d.scores.size(); ++i) {
    all.add({d.scores[i], d.labels[i]});
  }
  std::uniform_int_distribution<std::size_t> cut(0, d.scores.size());
  std::vector<std::size_t> cuts = {0, cut(rng), cut(rng), cut(rng), d.scores.size()};
  std::sort(cuts.begin(), cuts.end());
  Metric merged = prototype;
  for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
    Metric shard = prototype; // possibly empty: merging an empty shard must change nothing
    for (std::size_t i = cuts[k]; i < cuts[k + 1]; ++i) {
      shard.add({d.scores[i], d.labels[i]});
    }
    merged.merge(shard);
  }
  if (exact) {
    CHECK(merged.result() == all.result());
  } else {
    CHECK(merged.result() == Approx(all.result()).epsilon(1e-12));
  }
}

} // namespace

TEST_CASE("roc_auc: hand-computed values", "[evaluation][classification]") {
  // scikit-learn's roc_auc_score example: pairs (0.35 vs 0.1, 0.35 vs 0.4, 0.8 vs 0.1,
  // 0.8 vs 0.4) win 3 of 4.
  CHECK(ev::roc_auc_of(floats{0.1f, 0.4f, 0.35f, 0.8f}, floats{0, 0, 1, 1}) == 0.75);
  // Perfect and reversed rankings; -1/+1 labels work like 0/1.
  CHECK(ev::roc_auc_of(floats{0.1f, 0.2f, 0.8f, 0.9f}, floats{-1, -1, 1, 1}) == 1.0);
  CHECK(ev::roc_auc_of(floats{0.9f, 0.8f, 0.2f, 0.1f}, floats{-1, -1, 1, 1}) == 0.0);
  // Only the order matters: margins, negative scores and infinities are fine.
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(ev::roc_auc_of(floats{-inf, -3.0f, 2.0f, inf}, floats{0, 1, 0, 1}) == 0.75);
}

TEST_CASE("roc_auc: a tie counts one half", "[evaluation][classification]") {
  // All scores equal: every pair is a tie.
  CHECK(ev::roc_auc_of(floats{0.3f, 0.3f, 0.3f, 0.3f, 0.3f}, floats{1, 0, 0, 1, 0}) == 0.5);
  // Positives {0.5, 0.9}, negatives {0.5, 0.2}: pairs 1/2 + 1 + 1 + 1 = 3.5 of 4.
  CHECK(ev::roc_auc_of(floats{0.5f, 0.5f, 0.2f, 0.9f}, floats{1, 0, 0, 1}) == 0.875);
  // -0 and +0 are the same score.
  CHECK(ev::roc_auc_of(floats{-0.0f, 0.0f}, floats{1, 0}) == 0.5);
}

TEST_CASE("roc_auc equals O(n^2) pair counting on random data with many ties",
          "[evaluation][classification]") {
  std::mt19937 rng(42);
  for (const int levels : {1, 2, 3, 7, 50, 100000}) {
    for (const std::size_t n : {2u, 3u, 17u, 400u}) {
      auto d = random_scores(rng, n, levels);
      d.labels[0] = 1.0f; // both classes present
      d.labels[1] = 0.0f;
      INFO("levels " << levels << ", n " << n);
      CHECK(ev::roc_auc_of(d.scores, d.labels) == pairwise_auc(d.scores, d.labels));
    }
  }
}

TEST_CASE("roc_auc: result() twice, and add after result()", "[evaluation][classification]") {
  ev::roc_auc auc;
  auc.add({0.9f, 1});
  auc.add({0.1f, 0});
  CHECK(auc.result() == 1.0);
  CHECK(auc.result() == 1.0);
  auc.add({0.95f, 0}); // after the in-place sort: positives {0.9}, negatives {0.1, 0.95}
  CHECK(auc.result() == 0.5);
  CHECK(auc.count() == 3);
  CHECK(auc.positives() == 1);
  CHECK(auc.negatives() == 2);
  // Merging with itself doubles every observation: the ratio stays.
  auc.merge(auc);
  CHECK(auc.count() == 6);
  CHECK(auc.result() == 0.5);
}

TEST_CASE("log_loss: hand-computed values and clipping", "[evaluation][classification]") {
  // scikit-learn's log_loss example, binary: p(spam) = 0.9, 0.1, 0.2, 0.65 for spam, ham, ham,
  // spam: (-ln 0.9 - ln 0.9 - ln 0.8 - ln 0.65) / 4.
  CHECK(ev::log_loss_of(floats{0.9f, 0.1f, 0.2f, 0.65f}, floats{1, 0, 0, 1}) ==
        Approx(0.21616187468057912).epsilon(1e-7));
  // p = 0 for a positive is clipped to 2^-23: -ln(2^-23) = 23 ln 2.
  CHECK(ev::log_loss_of(floats{0.0f}, floats{1}) == Approx(15.942385152878742).epsilon(1e-12));
  CHECK(ev::log_loss_of(floats{1.0f}, floats{0}) == Approx(15.942385152878742).epsilon(1e-12));
  // A confident correct prediction costs -ln(1 - 2^-23), about 2^-23.
  CHECK(ev::log_loss_of(floats{1.0f}, floats{1}) == Approx(1.1920929e-7).epsilon(1e-6));
  // scikit-learn's pre-1.2 epsilon: -ln(1e-15).
  CHECK(ev::log_loss_of(floats{0.0f}, floats{1}, {.epsilon = 1e-15}) ==
        Approx(34.538776394910684).epsilon(1e-12));
  // -1/+1 labels.
  CHECK(ev::log_loss_of(floats{0.5f, 0.5f}, floats{-1, 1}) ==
        Approx(0.6931471805599453).epsilon(1e-12));
}

TEST_CASE("accuracy: a score at the threshold is positive; the threshold is configurable",
          "[evaluation][classification]") {
  // 0.5 -> positive (wrong), 0.49 -> negative (wrong), 0.2 -> negative (correct),
  // 0.7 -> positive (wrong).
  CHECK(ev::accuracy_of(floats{0.5f, 0.49f, 0.2f, 0.7f}, floats{0, 1, 0, 0}) == 0.25);
  CHECK(ev::accuracy_of(floats{0.5f, 0.49f}, floats{1, 0}) == 1.0);
  // Margins with threshold 0 and -1/+1 labels: 0 is positive, so 2 of 3 are right.
  CHECK(ev::accuracy_of(floats{-2.0f, 0.0f, 3.0f}, floats{1, 1, 1}, {.threshold = 0.0}) ==
        Approx(2.0 / 3.0).epsilon(1e-15));
  ev::accuracy a({.threshold = 0.8});
  a.add({0.7f, 0});
  a.add({0.9f, 1});
  a.add({0.75f, 1});
  CHECK(a.correct() == 2);
  CHECK(a.result() == Approx(2.0 / 3.0).epsilon(1e-15));
}

TEST_CASE("brier_score: hand-computed values", "[evaluation][classification]") {
  // scikit-learn's brier_score_loss example: (0.01 + 0.01 + 0.04 + 0.09) / 4.
  CHECK(ev::brier_score_of(floats{0.1f, 0.9f, 0.8f, 0.3f}, floats{0, 1, 1, 0}) ==
        Approx(0.0375).epsilon(1e-6));
  CHECK(ev::brier_score_of(floats{1.0f, 0.0f}, floats{0, 1}) == 1.0);
  CHECK(ev::brier_score_of(floats{1.0f, 0.0f}, floats{1, -1}) == 0.0);
}

TEST_CASE("normalized_entropy: a known case", "[evaluation][classification]") {
  // Labels {1, 0, 0, 0}, predictions {0.5, 0.25, 0.25, 0.25}:
  // log loss = (ln 2 + 3 ln(4/3)) / 4 = 0.389048349..., base rate 1/4,
  // H(1/4) = -(1/4 ln 1/4 + 3/4 ln 3/4) = 0.562335144..., NE = 0.691844273...
  CHECK(ev::normalized_entropy_of(floats{0.5f, 0.25f, 0.25f, 0.25f}, floats{1, 0, 0, 0}) ==
        Approx(0.6918442732981721).epsilon(1e-7));
  // Predicting the base rate for everyone is NE = 1 by definition.
  CHECK(ev::normalized_entropy_of(floats{0.25f, 0.25f, 0.25f, 0.25f}, floats{0, 1, 0, 0}) ==
        Approx(1.0).epsilon(1e-7));
  // NE is log loss over the base-rate entropy: check against log_loss on random data.
  std::mt19937 rng(7);
  const auto d = random_scores(rng, 1000, 1000);
  double positives = 0;
  for (const float y : d.labels) {
    positives += y > 0 ? 1 : 0;
  }
  const double r = positives / 1000.0;
  const double h = -(r * std::log(r) + (1 - r) * std::log(1 - r));
  CHECK(ev::normalized_entropy_of(d.scores, d.labels) ==
        Approx(ev::log_loss_of(d.scores, d.labels) / h).epsilon(1e-12));
}

TEST_CASE("calibration_ratio: mean prediction over the positive rate",
          "[evaluation][classification]") {
  // Σp = 1.4, one positive: the model predicts 40% more positives than happened.
  CHECK(ev::calibration_ratio_of(floats{0.2f, 0.4f, 0.6f, 0.2f}, floats{1, 0, 0, 0}) ==
        Approx(1.4).epsilon(1e-7));
  ev::calibration_ratio c;
  c.add({0.5f, 1});
  c.add({0.5f, 0});
  CHECK(c.result() == 1.0);
  CHECK(c.predicted_positives() == 1.0);
  CHECK(c.positives() == 1);
}

TEST_CASE("every classification metric: merge equals add-all on random splits",
          "[evaluation][classification]") {
  std::mt19937 rng(2024);
  for (int trial = 0; trial < 20; ++trial) {
    auto d = random_scores(rng, 300, trial % 2 == 0 ? 5 : 100000);
    d.labels[0] = 1.0f;
    d.labels[1] = 0.0f;
    check_merge_equals_add_all(d, rng, ev::roc_auc(), true);
    check_merge_equals_add_all(d, rng, ev::accuracy({.threshold = 0.45}), true);
    check_merge_equals_add_all(d, rng, ev::log_loss(), false);
    check_merge_equals_add_all(d, rng, ev::normalized_entropy(), false);
    check_merge_equals_add_all(d, rng, ev::brier_score(), false);
    check_merge_equals_add_all(d, rng, ev::calibration_ratio(), false);
  }
}

TEST_CASE("undefined classification metrics throw undefined_metric, never NaN",
          "[evaluation][classification]") {
  const floats none;
  CHECK_THROWS_AS(ev::roc_auc_of(none, none), ev::undefined_metric);
  CHECK_THROWS_AS(ev::log_loss_of(none, none), ev::undefined_metric);
  CHECK_THROWS_AS(ev::normalized_entropy_of(none, none), ev::undefined_metric);
  CHECK_THROWS_AS(ev::accuracy_of(none, none), ev::undefined_metric);
  CHECK_THROWS_AS(ev::brier_score_of(none, none), ev::undefined_metric);
  CHECK_THROWS_AS(ev::calibration_ratio_of(none, none), ev::undefined_metric);

  // One class only.
  const floats s = {0.2f, 0.7f, 0.9f};
  CHECK_THROWS_AS(ev::roc_auc_of(s, floats{1, 1, 1}), ev::undefined_metric);
  CHECK_THROWS_AS(ev::roc_auc_of(s, floats{0, -1, 0}), ev::undefined_metric);
  CHECK_THROWS_AS(ev::normalized_entropy_of(s, floats{1, 1, 1}), ev::undefined_metric);
  CHECK_THROWS_AS(ev::normalized_entropy_of(s, floats{0, 0, 0}), ev::undefined_metric);
  CHECK_THROWS_AS(ev::calibration_ratio_of(s, floats{0, 0, 0}), ev::undefined_metric);
  // ... while the metrics defined on one class still answer.
  CHECK(ev::log_loss_of(s, floats{1, 1, 1}) > 0.0);
  CHECK(ev::calibration_ratio_of(s, floats{1, 1, 1}) == Approx(1.8 / 3.0).epsilon(1e-7));

  // The error is a std::domain_error that names the metric and the reason.
  try {
    (void)ev::roc_auc_of(s, floats{1, 1, 1});
    FAIL("no exception");
  } catch (const std::domain_error& e) {
    CHECK(std::string(e.what()) ==
          "mlsd::evaluation::roc_auc is undefined: only one class (3 positives, 0 negatives)");
  }
  try {
    (void)ev::log_loss().result();
    FAIL("no exception");
  } catch (const ev::undefined_metric& e) {
    CHECK(e.metric() == "log_loss");
    CHECK(e.reason() == "no observations");
  }
}

TEST_CASE("no NaN escapes a classification metric", "[evaluation][classification]") {
  // Extreme but valid inputs: probabilities exactly 0 and 1, denormals, -0, infinite margins.
  const float inf = std::numeric_limits<float>::infinity();
  const float tiny = std::numeric_limits<float>::denorm_min();
  const floats probabilities = {0.0f, 1.0f, tiny, 1.0f - tiny, -0.0f, 1.0f, 0.0f, 0.5f};
  const floats labels = {1, 0, 1, 0, 0, 1, 0, 1};
  const floats margins = {-inf, inf, inf, -inf, 0.0f, -0.0f, inf, inf};
  const double values[] = {ev::roc_auc_of(probabilities, labels),
                           ev::roc_auc_of(margins, labels),
                           ev::accuracy_of(margins, labels),
                           ev::log_loss_of(probabilities, labels),
                           ev::normalized_entropy_of(probabilities, labels),
                           ev::brier_score_of(probabilities, labels),
                           ev::calibration_ratio_of(probabilities, labels),
                           ev::log_loss_of(probabilities, labels, {.epsilon = 1e-15})};
  for (const double v : values) {
    CHECK(std::isfinite(v));
  }
  CHECK(ev::roc_auc_of(margins, labels) == pairwise_auc(margins, labels));
}

TEST_CASE("bad classification input is an error naming the element",
          "[evaluation][classification]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Size mismatch.
  CHECK_THROWS_AS(ev::roc_auc_of(floats{0.1f, 0.2f}, floats{1}), std::invalid_argument);
  CHECK_THROWS_WITH(ev::log_loss_of(floats{0.1f}, floats{1, 0}),
                    "mlsd::evaluation::log_loss_of: 1 scores but 2 labels");
  // NaN score or label.
  try {
    (void)ev::roc_auc_of(floats{0.1f, 0.2f, nan}, floats{1, 0, 1});
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().field == "scores[2]");
    CHECK(std::string(e.what()) ==
          "roc_auc: field 'scores[2]': expected a number (not NaN), found 'nan'");
  }
  CHECK_THROWS_AS(ev::accuracy_of(floats{0.1f}, floats{nan}), mlsd::input_error);
  CHECK_THROWS_AS(ev::brier_score_of(floats{0.1f}, floats{nan}), mlsd::input_error);
  // A probability outside [0, 1] (a logit passed by mistake).
  try {
    (void)ev::log_loss_of(floats{0.5f, 1.5f}, floats{1, 0});
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(std::string(e.what()) ==
          "log_loss: field 'scores[1]': expected a probability in [0, 1], found '1.5'");
  }
  CHECK_THROWS_AS(ev::normalized_entropy_of(floats{-0.1f}, floats{1}), mlsd::input_error);
  CHECK_THROWS_AS(ev::calibration_ratio_of(floats{nan}, floats{1}), mlsd::input_error);
  // The accumulator names the field without an index.
  ev::brier_score b;
  CHECK_THROWS_WITH(b.add({2.0f, 1.0f}),
                    "brier_score: field 'score': expected a probability in [0, 1], found '2'");
  CHECK(b.count() == 0); // the bad observation was not added
}

TEST_CASE("classification configs: validation, JSON round trip, merge of different configs",
          "[evaluation][classification]") {
  CHECK_THROWS_AS(ev::log_loss({.epsilon = 0.0}), mlsd::config_error);
  CHECK_THROWS_AS(ev::normalized_entropy({.epsilon = 0.5}), mlsd::config_error);
  // Below 2^-52, 1 - epsilon would round to 1 and the clipping would not prevent log(0).
  CHECK_THROWS_AS(ev::log_loss({.epsilon = 1e-300}), mlsd::config_error);
  CHECK_NOTHROW(ev::log_loss({.epsilon = 0x1p-52}));
  CHECK_THROWS_AS(ev::accuracy({.threshold = std::numeric_limits<double>::infinity()}),
                  mlsd::config_error);
  try {
    ev::log_loss bad({.epsilon = -1.0});
    FAIL("no exception");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "log_loss.epsilon");
  }

  const ev::log_loss_config lc{.epsilon = 1e-15};
  const nlohmann::json lj = lc;
  CHECK(lj == nlohmann::json::parse(R"({"epsilon": 1e-15})"));
  CHECK(lj.get<ev::log_loss_config>() == lc);
  const ev::accuracy_config ac{.threshold = 0.25};
  CHECK(nlohmann::json(ac).get<ev::accuracy_config>() == ac);
  // An absent key keeps the default; an unknown key or a bad value is an error naming the field.
  CHECK(nlohmann::json::object().get<ev::accuracy_config>().threshold == 0.5);
  try {
    (void)nlohmann::json::parse(R"({"treshold": 0.3})").get<ev::accuracy_config>();
    FAIL("no exception");
  } catch (const mlsd::config_error& e) {
    CHECK(e.field() == "accuracy.treshold");
  }
  CHECK_THROWS_AS(nlohmann::json::parse(R"({"epsilon": 2})").get<ev::log_loss_config>(),
                  mlsd::config_error);

  ev::accuracy a({.threshold = 0.5});
  CHECK_THROWS_AS(a.merge(ev::accuracy({.threshold = 0.6})), mlsd::config_error);
  ev::log_loss l;
  CHECK_THROWS_AS(l.merge(ev::log_loss({.epsilon = 1e-15})), mlsd::config_error);
}

TEST_CASE("classification metrics model metric_accumulator and name their requirement",
          "[evaluation][classification]") {
  STATIC_REQUIRE(ev::metric_accumulator<ev::roc_auc>);
  STATIC_REQUIRE(ev::metric_accumulator<ev::calibration_ratio>);
  STATIC_REQUIRE(ev::roc_auc::metric == mlsd::offline_metric::roc_auc);
  STATIC_REQUIRE(ev::normalized_entropy::metric == mlsd::offline_metric::normalized_entropy);
  STATIC_REQUIRE(!ev::metric_accumulator<ev::scored_label>);
}

// ---------------------------------------------------------------------------------------------
// Sorting keys: order_key, the radix sort against std::sort
// ---------------------------------------------------------------------------------------------

TEST_CASE("order_key: the order of floats, -0 and +0 one key, +-inf at the ends",
          "[evaluation][classification]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float tiny = std::numeric_limits<float>::denorm_min();
  const float big = std::numeric_limits<float>::max();
  const floats ascending = {-inf, -big,   -1.5f, -1.0f, -tiny, 0.0f,
                            tiny, 1e-30f, 0.5f,  1.0f,  big,   inf};
  for (std::size_t i = 0; i + 1 < ascending.size(); ++i) {
    INFO(ascending[i] << " < " << ascending[i + 1]);
    CHECK(ev::detail::order_key(ascending[i]) < ev::detail::order_key(ascending[i + 1]));
  }
  CHECK(ev::detail::order_key(-0.0f) == ev::detail::order_key(0.0f));
  CHECK(ev::detail::order_key(0.0f) == 0x80000000u);
  CHECK(ev::detail::order_key(-inf) == 0x007FFFFFu);
  CHECK(ev::detail::order_key(inf) == 0xFF800000u);
  for (const float s : ascending) {
    CHECK(ev::detail::key_score(ev::detail::order_key(s)) == s);
  }
  CHECK(!std::signbit(ev::detail::key_score(ev::detail::order_key(-0.0f))));
}

TEST_CASE("radix_sort_keys sorts like std::sort: many ties, specials, every size",
          "[evaluation][classification]") {
  std::mt19937 rng(11);
  const float inf = std::numeric_limits<float>::infinity();
  const floats specials = {-inf, inf, -0.0f, 0.0f, -1.0f, 1.0f, 0.5f, -0.5f};
  for (const std::size_t n : {0u, 1u, 2u, 3u, 100u, 4095u, 4096u, 4097u, 50000u}) {
    for (const int kind : {0, 1, 2, 3, 4}) {
      std::vector<std::uint32_t> keys;
      std::uniform_int_distribution<int> few(0, 6);
      std::uniform_int_distribution<std::size_t> pick(0, specials.size() - 1);
      std::uniform_real_distribution<float> u(-1e6f, 1e6f);
      std::uniform_int_distribution<std::uint32_t> any;
      for (std::size_t i = 0; i < n; ++i) {
        switch (kind) {
        case 0: // few distinct values: most keys tie
          keys.push_back(ev::detail::order_key(static_cast<float>(few(rng)) * 0.25f - 0.5f));
          break;
        case 1: // the special values only
          keys.push_back(ev::detail::order_key(specials[pick(rng)]));
          break;
        case 2: // wide range of magnitudes and both signs
          keys.push_back(ev::detail::order_key(u(rng) * std::ldexp(1.0f, few(rng) * 10 - 30)));
          break;
        case 3: // constant: every pass is skipped
          keys.push_back(ev::detail::order_key(0.25f));
          break;
        default: // only the top digit varies: passes 1 and 2 are skipped, pass 3 runs alone
          keys.push_back(static_cast<std::uint32_t>(few(rng)) << 22 | 0x155u);
          break;
        }
      }
      if (kind == 2 && n > 10) {
        keys[3] = any(rng) & 0x7FFFFFFFu; // arbitrary keys too (not all are floats' keys)
      }
      std::vector<std::uint32_t> expected = keys;
      std::sort(expected.begin(), expected.end());
      std::vector<std::uint32_t> radix = keys;
      ev::detail::radix_sort_keys(radix);
      std::vector<std::uint32_t> dispatched = keys;
      ev::detail::sort_keys(dispatched);
      INFO("n " << n << ", kind " << kind);
      CHECK(radix == expected);
      CHECK(dispatched == expected);
    }
  }
}

namespace {

// The AUC over floats sorted with std::sort and compared as floats (the implementation before
// the radix sort): the reference for large inputs, where O(n^2) is too slow.
double sorted_float_auc(floats positives, floats negatives) {
  std::sort(positives.begin(), positives.end());
  std::sort(negatives.begin(), negatives.end());
  std::uint64_t twice_u = 0;
  std::size_t below = 0;
  std::size_t not_above = 0;
  for (std::size_t i = 0; i < positives.size();) {
    const float s = positives[i];
    std::size_t j = i + 1;
    while (j < positives.size() && positives[j] == s) {
      ++j;
    }
    while (below < negatives.size() && negatives[below] < s) {
      ++below;
    }
    not_above = std::max(not_above, below);
    while (not_above < negatives.size() && !(s < negatives[not_above])) {
      ++not_above;
    }
    twice_u += (j - i) * (2 * static_cast<std::uint64_t>(below) + (not_above - below));
    i = j;
  }
  return static_cast<double>(twice_u) /
         (2.0 * static_cast<double>(positives.size()) * static_cast<double>(negatives.size()));
}

} // namespace

TEST_CASE("roc_auc on the radix path equals the std::sort reference and pair counting",
          "[evaluation][classification]") {
  std::mt19937 rng(5);
  const float inf = std::numeric_limits<float>::infinity();
  // Above radix_sort_min_size per class: specials (+-inf, -0 and +0 mixed) and many ties,
  // checked against O(n^2) pair counting.
  {
    const floats values = {-inf, -0.0f, 0.0f, inf, -1.0f, 1.0f, 0.25f};
    std::uniform_int_distribution<std::size_t> pick(0, values.size() - 1);
    std::bernoulli_distribution coin(0.5);
    floats s;
    floats y;
    for (std::size_t i = 0; i < 10000; ++i) {
      s.push_back(values[pick(rng)]);
      y.push_back(coin(rng) ? 1.0f : 0.0f);
    }
    CHECK(ev::roc_auc_of(s, y) == pairwise_auc(s, y));
  }
  // Larger, on the std::sort reference.
  for (const int levels : {3, 1000, 1 << 24}) {
    const auto d = random_scores(rng, 200000, levels);
    floats pos;
    floats neg;
    for (std::size_t i = 0; i < d.scores.size(); ++i) {
      (d.labels[i] > 0 ? pos : neg).push_back(d.scores[i]);
    }
    INFO("levels " << levels);
    CHECK(ev::roc_auc_of(d.scores, d.labels) == sorted_float_auc(pos, neg));
  }
  // -0 and +0 tie on the radix path too: every positive at -0, every negative at +0.
  floats s(10000, -0.0f);
  floats y(10000, 1.0f);
  for (std::size_t i = 0; i < 5000; ++i) {
    s[i] = 0.0f;
    y[i] = 0.0f;
  }
  CHECK(ev::roc_auc_of(s, y) == 0.5);
}

// ---------------------------------------------------------------------------------------------
// Average precision
// ---------------------------------------------------------------------------------------------

namespace {

// Average precision straight from its definition: every distinct score as a threshold
// (predicted positive: score >= t), from the highest down, AP = Σ (R_n - R_{n-1}) P_n.
// O(n · distinct scores), in long double.
double naive_average_precision(const floats& scores, const floats& labels) {
  floats thresholds = scores;
  for (float& t : thresholds) {
    t = t + 0.0f; // -0 is +0
  }
  std::sort(thresholds.begin(), thresholds.end(), std::greater<>());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  long double positives = 0;
  for (const float y : labels) {
    positives += y > 0 ? 1 : 0;
  }
  long double ap = 0;
  long double previous_recall = 0;
  for (const float t : thresholds) {
    long double tp = 0;
    long double fp = 0;
    for (std::size_t i = 0; i < scores.size(); ++i) {
      if (scores[i] >= t) {
        (labels[i] > 0 ? tp : fp) += 1;
      }
    }
    const long double recall = tp / positives;
    ap += (recall - previous_recall) * (tp / (tp + fp));
    previous_recall = recall;
  }
  return static_cast<double>(ap);
}

} // namespace

TEST_CASE("average_precision: hand-computed values, as scikit-learn",
          "[evaluation][classification]") {
  // scikit-learn's average_precision_score example: thresholds 0.8 (P 1, R 1/2), 0.4 (P 1/2,
  // R 1/2), 0.35 (P 2/3, R 1): AP = 1/2 · 1 + 1/2 · 2/3 = 0.8333...
  CHECK(ev::average_precision_of(floats{0.1f, 0.4f, 0.35f, 0.8f}, floats{0, 0, 1, 1}) ==
        Approx(0.8333333333333333).epsilon(1e-15));
  // A tie is one threshold: 0.9 (P 1, R 1/3), 0.5 with a positive and a negative (P 2/3,
  // R 2/3), 0.1 (P 3/4, R 1): AP = (1 + 2/3 + 3/4) / 3 = 29/36 (scikit-learn 0.8055555555555556).
  CHECK(ev::average_precision_of(floats{0.9f, 0.5f, 0.5f, 0.1f}, floats{1, 1, 0, 1}) ==
        Approx(29.0 / 36.0).epsilon(1e-15));
  // All scores equal: one threshold, AP = the positive rate.
  CHECK(ev::average_precision_of(floats{0.3f, 0.3f, 0.3f, 0.3f}, floats{1, 0, 1, 0}) == 0.5);
  // Perfect ranking, and positives only: 1.
  CHECK(ev::average_precision_of(floats{0.1f, 0.2f, 0.8f}, floats{-1, 1, 1}) == 1.0);
  CHECK(ev::average_precision_of(floats{0.1f, 0.2f, 0.3f}, floats{1, 1, 1}) == 1.0);
  // Worst ranking, one positive below two negatives: P = 1/3 at R = 1.
  CHECK(ev::average_precision_of(floats{0.1f, 0.2f, 0.3f}, floats{1, 0, 0}) ==
        Approx(1.0 / 3.0).epsilon(1e-15));
  // -0 ties with +0; infinities order like any score: inf (P 1, R 1/2), 1 (a negative), -inf
  // with a positive and a negative (P 2/4, R 1): AP = 1/2 + 1/4.
  CHECK(ev::average_precision_of(floats{-0.0f, 0.0f}, floats{1, 0}) == 0.5);
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(ev::average_precision_of(floats{inf, -inf, 1.0f, -inf}, floats{1, 0, 0, 1}) == 0.75);
}

TEST_CASE("average_precision equals its definition on random data with many ties",
          "[evaluation][classification]") {
  std::mt19937 rng(99);
  for (const int levels : {1, 2, 5, 40, 100000}) {
    for (const std::size_t n : {1u, 2u, 9u, 300u, 9000u}) {
      if (n == 9000 && levels == 100000) {
        continue; // the naive reference is O(n · distinct scores)
      }
      auto d = random_scores(rng, n, levels);
      d.labels[0] = 1.0f;
      INFO("levels " << levels << ", n " << n);
      CHECK(ev::average_precision_of(d.scores, d.labels) ==
            Approx(naive_average_precision(d.scores, d.labels)).epsilon(1e-12));
    }
  }
}

TEST_CASE("average_precision: merge equals add-all, result() twice, undefined cases",
          "[evaluation][classification]") {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 10; ++trial) {
    auto d = random_scores(rng, 500, trial % 2 == 0 ? 4 : 100000);
    d.labels[0] = 1.0f;
    check_merge_equals_add_all(d, rng, ev::average_precision(), true);
  }
  ev::average_precision ap;
  ap.add({0.9f, 0});
  ap.add({0.1f, 1});
  CHECK(ap.result() == 0.5);
  CHECK(ap.result() == 0.5);
  ap.merge(ap);
  CHECK(ap.count() == 4);
  CHECK(ap.positives() == 2);
  CHECK(ap.result() == 0.5);

  CHECK_THROWS_AS(ev::average_precision_of(floats{}, floats{}), ev::undefined_metric);
  try {
    (void)ev::average_precision_of(floats{0.2f, 0.7f}, floats{0, -1});
    FAIL("no exception");
  } catch (const ev::undefined_metric& e) {
    CHECK(e.metric() == "average_precision");
    CHECK(e.reason() == "no positive among 2 observations: recall is 0/0");
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  try {
    (void)ev::average_precision_of(floats{0.2f, nan}, floats{0, 1});
    FAIL("no exception");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().field == "scores[1]");
  }
  STATIC_REQUIRE(ev::metric_accumulator<ev::average_precision>);
  STATIC_REQUIRE(ev::average_precision::metric == mlsd::offline_metric::pr_auc);
}
