#include <mlsd/evaluation/classification.hpp>
#include <mlsd/evaluation/regression.hpp>
#include <mlsd/evaluation/slices.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace ev = mlsd::evaluation;

namespace {

// A per-query metric whose observation is a view, as the ranking metrics' are: the mean
// reciprocal rank of the first relevant item of each query (items given best first).
class test_reciprocal_rank : public mlsd::metric_tag {
public:
  using observation_type = std::span<const float>; // relevance of the items, best first
  using result_type = double;
  static constexpr std::string_view name = "test_reciprocal_rank";
  void add(std::span<const float> relevance) {
    double rr = 0.0;
    for (std::size_t i = 0; i < relevance.size(); ++i) {
      if (relevance[i] > 0) {
        rr = 1.0 / static_cast<double>(i + 1);
        break;
      }
    }
    sum_ += rr;
    ++queries_;
  }
  void merge(const test_reciprocal_rank& o) {
    sum_ += o.sum_;
    queries_ += o.queries_;
  }
  [[nodiscard]] double result() const {
    if (queries_ == 0) {
      throw ev::undefined_metric(std::string(name), "no queries");
    }
    return sum_ / static_cast<double>(queries_);
  }

private:
  double sum_ = 0.0;
  std::uint64_t queries_ = 0;
};

} // namespace

static_assert(mlsd::evaluation::metric_accumulator<ev::sliced<ev::roc_auc>>);
static_assert(mlsd::evaluation::metric_accumulator<ev::sliced<ev::rmse>>);
static_assert(mlsd::evaluation::metric_accumulator<ev::sliced<test_reciprocal_rank>>);

TEST_CASE("sliced roc_auc: sorted slices, counts, undefined slices kept with their reason",
          "[evaluation][slices]") {
  ev::sliced<ev::roc_auc> m;
  // Slice "b": positives 0.9, 0.4; negatives 0.5, 0.1 -> pairs won: (0.9>0.5, 0.9>0.1, 0.4>0.1)
  // = 3 of 4 -> AUC 0.75.
  m.add("b", {0.9f, 1.0f});
  m.add("b", {0.5f, 0.0f});
  m.add("b", {0.4f, 1.0f});
  m.add("b", {0.1f, 0.0f});
  // Slice "a": one positive 0.3, one negative 0.3 -> a tie -> 0.5.
  m.add("a", {0.3f, 1.0f});
  m.add("a", {0.3f, 0.0f});
  // Slice "c": positives only.
  m.add("c", {0.7f, 1.0f});
  m.add("c", {0.2f, 1.0f});
  m.add("c", {0.6f, 1.0f});

  const auto r = m.result();
  REQUIRE(r.slices.size() == 3);
  CHECK(r.slices[0].key == "a");
  CHECK(r.slices[1].key == "b");
  CHECK(r.slices[2].key == "c");
  CHECK(r.slices[0].count == 2);
  CHECK(r.slices[1].count == 4);
  CHECK(r.slices[2].count == 3);
  CHECK(*r.slices[0].outcome.value == 0.5);
  CHECK(*r.slices[1].outcome.value == 0.75);
  CHECK_FALSE(r.slices[2].outcome.defined());
  CHECK(r.slices[2].outcome.undefined == "only one class (3 positives, 0 negatives)");
  CHECK(r.count == 9);
  CHECK(m.count() == 9);
  CHECK(m.count("b") == 4);
  CHECK(m.count("zz") == 0);
  CHECK(m.slice("zz") == nullptr);
  CHECK(m.slice("b")->count() == 4);
  CHECK(m.keys() == std::vector<std::string>{"a", "b", "c"});
  // Overall: positives {0.9, 0.4, 0.3, 0.7, 0.2, 0.6}, negatives {0.5, 0.1, 0.3}. Pairs won out
  // of 18, counted by hand: 0.9: 3, 0.4: 2, 0.3: 1 + tie 0.5, 0.7: 3, 0.2: 1, 0.6: 3 -> 13.5.
  REQUIRE(r.overall.defined());
  CHECK(*r.overall.value == Approx(13.5 / 18.0).epsilon(1e-15));
}

TEST_CASE("sliced: an empty accumulator has no slice and an undefined overall",
          "[evaluation][slices]") {
  const ev::sliced<ev::log_loss> m;
  const auto r = m.result();
  CHECK(r.slices.empty());
  CHECK(r.count == 0);
  CHECK_FALSE(r.overall.defined());
  CHECK(r.overall.undefined == "no observations");
}

TEST_CASE("sliced: every slice starts as a copy of the prototype (its configuration)",
          "[evaluation][slices]") {
  ev::log_loss_config cfg;
  cfg.epsilon = 0.1;
  ev::sliced<ev::log_loss> m{ev::log_loss(cfg)};
  m.add("x", {0.0f, 1.0f}); // clipped to 0.1: loss -log(0.1)
  m.add("y", {1.0f, 1.0f}); // clipped to 0.9: loss -log(0.9)
  const auto r = m.result();
  CHECK(*r.slices[0].outcome.value == Approx(-std::log(0.1)).epsilon(1e-12));
  CHECK(*r.slices[1].outcome.value == Approx(-std::log(0.9)).epsilon(1e-12));
  CHECK(*r.overall.value == Approx((-std::log(0.1) - std::log(0.9)) / 2).epsilon(1e-12));

  ev::accuracy_config at;
  at.threshold = 0.0;
  ev::sliced<ev::accuracy> acc{ev::accuracy(at)};
  acc.add("m", {0.2f, 1.0f}); // 0.2 > 0: correct at threshold 0, wrong at the default 0.5
  CHECK(*acc.result().slices[0].outcome.value == 1.0);
}

TEST_CASE("sliced: a bad observation changes nothing", "[evaluation][slices]") {
  ev::sliced<ev::brier_score> m;
  m.add("a", {0.5f, 1.0f});
  CHECK_THROWS_AS(m.add("new", {1.5f, 1.0f}), mlsd::input_error); // not a probability
  CHECK_THROWS_AS(m.add("a", {NAN, 1.0f}), mlsd::input_error);
  CHECK(m.slice_count() == 1);
  CHECK(m.count() == 1);
  CHECK(*m.result().overall.value == 0.25);
}

TEST_CASE("sliced: merge equals adding everything to one accumulator", "[evaluation][slices]") {
  std::mt19937_64 rng(17);
  const char* keys[] = {"de", "fr", "us", "jp", "br"};
  for (int trial = 0; trial < 20; ++trial) {
    ev::sliced<ev::roc_auc> all;
    ev::sliced<ev::roc_auc> part_a;
    ev::sliced<ev::roc_auc> part_b;
    ev::sliced<ev::rmse> rmse_all;
    ev::sliced<ev::rmse> rmse_a;
    ev::sliced<ev::rmse> rmse_b;
    const std::size_t n = 1 + rng() % 200;
    for (std::size_t i = 0; i < n; ++i) {
      // Keys 0..3 mostly, key 4 only in part b: merge must create it.
      const bool to_a = rng() % 2 == 0;
      const std::size_t k = to_a ? rng() % 4 : rng() % 5;
      const float score = static_cast<float>(rng() % 16) / 16.0f; // many ties
      const float label = static_cast<float>(rng() % 2);
      all.add(keys[k], {score, label});
      rmse_all.add(keys[k], {score, label});
      (to_a ? part_a : part_b).add(keys[k], {score, label});
      (to_a ? rmse_a : rmse_b).add(keys[k], {score, label});
    }
    part_a.merge(part_b);
    rmse_a.merge(rmse_b);
    const auto want = all.result();
    const auto got = part_a.result();
    REQUIRE(got.slices.size() == want.slices.size());
    for (std::size_t s = 0; s < want.slices.size(); ++s) {
      CHECK(got.slices[s].key == want.slices[s].key);
      CHECK(got.slices[s].count == want.slices[s].count);
      CHECK(got.slices[s].outcome.value == want.slices[s].outcome.value); // exact: integer counts
      CHECK(got.slices[s].outcome.undefined == want.slices[s].outcome.undefined);
    }
    CHECK(got.overall.value == want.overall.value);
    const auto rw = rmse_all.result();
    const auto rg = rmse_a.result();
    REQUIRE(rg.slices.size() == rw.slices.size());
    for (std::size_t s = 0; s < rw.slices.size(); ++s) {
      CHECK(*rg.slices[s].outcome.value == Approx(*rw.slices[s].outcome.value).epsilon(1e-12));
    }
  }
}

TEST_CASE("sliced: merging with itself doubles every count", "[evaluation][slices]") {
  ev::sliced<ev::accuracy> m;
  m.add("a", {0.9f, 1.0f});
  m.add("a", {0.9f, 0.0f});
  m.add("b", {0.1f, 0.0f});
  m.merge(m);
  const auto r = m.result();
  CHECK(r.slices[0].count == 4);
  CHECK(r.slices[1].count == 2);
  CHECK(*r.slices[0].outcome.value == 0.5);
  CHECK(*r.slices[1].outcome.value == 1.0);
  CHECK(*r.overall.value == Approx(4.0 / 6.0));
}

TEST_CASE("sliced: per-query metrics whose observations are views", "[evaluation][slices]") {
  ev::sliced<test_reciprocal_rank> m;
  {
    std::vector<float> q1 = {0, 0, 1}; // RR 1/3
    std::vector<float> q2 = {1, 0};    // RR 1
    std::vector<float> q3 = {0, 1};    // RR 1/2
    m.add("mobile", q1);
    m.add("mobile", q2);
    m.add("web", q3);
  } // the views are gone: only the accumulators were kept
  const auto r = m.result();
  CHECK(r.slices[0].key == "mobile");
  CHECK(*r.slices[0].outcome.value == Approx((1.0 / 3 + 1.0) / 2));
  CHECK(*r.slices[1].outcome.value == 0.5);
  CHECK(*r.overall.value == Approx((1.0 / 3 + 1.0 + 0.5) / 3));
}

TEST_CASE("sliced_result as JSON: values, nulls with reasons, sorted keys",
          "[evaluation][slices]") {
  ev::sliced<ev::roc_auc> m;
  m.add("z", {0.9f, 1.0f});
  m.add("z", {0.6f, 0.0f});
  m.add("a", {0.5f, 1.0f}); // overall: 0.9 beats 0.6, 0.5 does not -> 0.5
  const nlohmann::json j = m.result();
  const nlohmann::json want = nlohmann::json::parse(R"json({
    "count": 3, "overall": 0.5,
    "slices": {"a": {"count": 1, "value": null, "undefined": "only one class (1 positives, 0 negatives)"},
               "z": {"count": 2, "value": 1.0}}})json");
  CHECK(j == want);
  CHECK(j["slices"].begin().key() == "a");

  const ev::sliced<ev::roc_auc> empty;
  const nlohmann::json e = empty.result();
  CHECK(e["overall"].is_null());
  CHECK(e["overall_undefined"] == "no observations");
}
