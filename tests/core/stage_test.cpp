// Stages, `|` composition and the role concepts (include/mlsd/core/stage.hpp, roles.hpp).
#include <mlsd/core/roles.hpp>
#include <mlsd/core/stage.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace {

struct add_one : mlsd::stage_tag {
  using input_type = int;
  using output_type = int;
  int operator()(int x) const { return x + 1; }
};

struct repeat : mlsd::stage_tag {
  using input_type = int;
  using output_type = std::vector<float>;
  std::vector<float> operator()(int n) const {
    std::vector<float> v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), 1.0f);
    return v;
  }
};

struct total : mlsd::stage_tag {
  using input_type = const std::vector<float>&;
  using output_type = float;
  float operator()(const std::vector<float>& v) const {
    return std::accumulate(v.begin(), v.end(), 0.0f);
  }
};

// A stage that returns a view into its own scratch buffer: the zero-copy idiom. Its call
// operator is not const, so a pipeline holding it has no const call operator.
struct squares_view : mlsd::stage_tag {
  using input_type = const std::vector<float>&;
  using output_type = std::span<const float>;
  std::span<const float> operator()(const std::vector<float>& v) {
    scratch_.resize(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      scratch_[i] = v[i] * v[i];
    }
    return scratch_;
  }
  std::vector<float> scratch_;
};

struct span_sum : mlsd::stage_tag {
  using input_type = std::span<const float>;
  using output_type = double;
  double operator()(std::span<const float> v) const {
    return std::accumulate(v.begin(), v.end(), 0.0);
  }
};

// Move-only: a pipeline must not need to copy its stages.
struct move_only_scale : mlsd::stage_tag {
  using input_type = int;
  using output_type = int;
  explicit move_only_scale(int s)
      : scale(std::make_unique<int>(s)) {}
  int operator()(int x) const { return x * *scale; }
  std::unique_ptr<int> scale;
};

// Lookalikes that are not stages.
struct no_output : mlsd::stage_tag {
  using input_type = int;
  int operator()(int x) const { return x; }
};
struct wrong_return : mlsd::stage_tag {
  using input_type = int;
  using output_type = long;
  int operator()(int x) const { return x; }
};

// Converts implicitly from std::vector<float>; still a different type at a stage boundary.
struct float_list {
  float_list(const std::vector<float>& v)
      : values(v) {} // NOLINT: implicit on purpose
  std::vector<float> values;
};
struct list_size : mlsd::stage_tag {
  using input_type = float_list;
  using output_type = std::size_t;
  std::size_t operator()(float_list l) const { return l.values.size(); }
};

} // namespace

TEST_CASE("stage concept: what is and is not a stage", "[core][stage]") {
  STATIC_REQUIRE(mlsd::stage<add_one>);
  STATIC_REQUIRE(mlsd::stage<total>);
  STATIC_REQUIRE(mlsd::stage<squares_view>);
  STATIC_REQUIRE(mlsd::stage<move_only_scale>);
  STATIC_REQUIRE_FALSE(mlsd::stage<no_output>);
  STATIC_REQUIRE_FALSE(mlsd::stage<wrong_return>);
  STATIC_REQUIRE_FALSE(mlsd::stage<int>);
  STATIC_REQUIRE_FALSE(mlsd::stage<add_one&>);
}

TEST_CASE("composable: exact types at the boundary, never conversions", "[core][stage]") {
  STATIC_REQUIRE(mlsd::composable<add_one, repeat>);
  STATIC_REQUIRE(mlsd::composable<repeat, total>); // value into const&
  STATIC_REQUIRE(mlsd::composable<squares_view, span_sum>);
  STATIC_REQUIRE_FALSE(mlsd::composable<repeat, span_sum>);  // vector is not a span
  STATIC_REQUIRE_FALSE(mlsd::composable<repeat, list_size>); // converts, but is not the same type
  STATIC_REQUIRE_FALSE(mlsd::composable<total, add_one>);    // float is not int
}

TEST_CASE("a | b | c is one flat pipeline that calls each stage in order", "[core][stage]") {
  auto p = add_one{} | repeat{} | total{};
  STATIC_REQUIRE(std::is_same_v<decltype(p), mlsd::pipeline<add_one, repeat, total>>);
  STATIC_REQUIRE(mlsd::stage<decltype(p)>);
  STATIC_REQUIRE(std::is_same_v<decltype(p)::input_type, int>);
  STATIC_REQUIRE(std::is_same_v<decltype(p)::output_type, float>);
  STATIC_REQUIRE(decltype(p)::size == 3);
  CHECK(p(3) == 10.0f); // 1 + 2 + 3 + 4
  const auto& cp = p;
  CHECK(cp(0) == 1.0f);

  // Associativity: both groupings give the same flat type.
  auto left = (add_one{} | repeat{}) | total{};
  auto right = add_one{} | (repeat{} | total{});
  STATIC_REQUIRE(std::is_same_v<decltype(left), decltype(right)>);
  STATIC_REQUIRE(
      std::is_same_v<decltype(mlsd::compose(add_one{}, repeat{}, total{})), decltype(p)>);
  CHECK(mlsd::compose(add_one{}, repeat{}, total{})(4) == 15.0f);
}

TEST_CASE("stages are reachable and keep their state", "[core][stage]") {
  auto p = repeat{} | squares_view{} | span_sum{};
  CHECK(p(3) == 14.0); // 1 + 4 + 9
  CHECK(p.get<1>().scratch_.size() == 3);
  // A non-const stage call makes the pipeline's call non-const only.
  STATIC_REQUIRE(std::is_invocable_v<decltype(p)&, int>);
  STATIC_REQUIRE_FALSE(std::is_invocable_v<const decltype(p)&, int>);
}

TEST_CASE("move-only stages compose by move", "[core][stage]") {
  move_only_scale s(3);
  auto p = add_one{} | std::move(s) | add_one{};
  CHECK(p(1) == 7);
  auto q = std::move(p) | add_one{};
  CHECK(q(1) == 8);
}

TEST_CASE("make_stage wraps a function object", "[core][stage]") {
  auto halve = mlsd::make_stage<float>([](float x) { return x / 2; });
  STATIC_REQUIRE(mlsd::stage<decltype(halve)>);
  STATIC_REQUIRE(std::is_same_v<decltype(halve)::output_type, float>);
  auto p = add_one{} | repeat{} | total{} | halve;
  CHECK(p(2) == 3.0f);
  int calls = 0;
  auto counting = mlsd::make_stage<int>([&calls](int x) mutable {
    ++calls;
    return x;
  });
  auto q = counting | add_one{};
  CHECK(q(1) == 2);
  CHECK(calls == 1);
}

namespace {

// Archetypes: the smallest types that model each role, checked against its concept.
struct source_archetype : mlsd::data_source_tag {
  using record_type = int;
  std::size_t read(std::span<int> out) {
    const std::size_t n = out.size() < left ? out.size() : left;
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = static_cast<int>(left - i);
    }
    left -= n;
    return n;
  }
  std::size_t left = 5;
};

struct transform_archetype : mlsd::feature_transform_tag {
  using input_type = float;
  using output_type = float;
  float operator()(float x) const { return x - mean; }
  void fit(std::span<const float> rows) {
    mean = rows.empty() ? 0.0f : std::accumulate(rows.begin(), rows.end(), 0.0f) / rows.size();
  }
  nlohmann::json to_json() const { return {{"mean", mean}}; }
  static transform_archetype from_json(const nlohmann::json& j) {
    transform_archetype t;
    t.mean = j.at("mean").get<float>();
    return t;
  }
  float mean = 0;
};

struct store_archetype : mlsd::feature_store_tag {
  using key_type = int;
  using value_type = std::string;
  std::optional<std::string> get(int) const { return std::nullopt; }
  void get_many(std::span<const int>, std::span<std::optional<std::string>>) const {}
  void put(int, std::string) {}
};

struct model_archetype : mlsd::scorer_tag, mlsd::trainable_tag {
  using input_type = float;
  using output_type = float;
  using label_type = float;
  float operator()(float x) const { return w * x; }
  double update(float x, float y) {
    const float e = w * x - y;
    w -= 0.1f * e * x;
    return 0.5 * e * e;
  }
  float w = 0;
};

struct metric_archetype : mlsd::metric_tag {
  using observation_type = double;
  using result_type = double;
  void add(double x) { sum += x, ++n; }
  void merge(const metric_archetype& o) { sum += o.sum, n += o.n; }
  double result() const { return n == 0 ? 0.0 : sum / n; }
  double sum = 0;
  long n = 0;
};

using candidates = std::vector<int>;
struct retriever_archetype : mlsd::retriever_tag {
  using input_type = int;
  using output_type = candidates;
  candidates operator()(int n) const { return candidates(static_cast<std::size_t>(n), 1); }
};
struct ranker_archetype : mlsd::ranker_tag {
  using input_type = const candidates&;
  using output_type = candidates;
  candidates operator()(const candidates& c) const { return c; }
};
struct re_ranker_archetype : mlsd::re_ranker_tag {
  using input_type = const candidates&;
  using output_type = candidates;
  candidates operator()(const candidates& c) const {
    return candidates(c.begin(), c.begin() + static_cast<long>(c.size() / 2));
  }
};
struct drift_archetype : mlsd::drift_detector_tag {
  using value_type = double;
  void observe(double) {}
  double statistic() const { return 0.0; }
  bool drift_detected() const { return false; }
};

// Same syntax as ranker_archetype, no tag: not a ranker by accident.
struct untagged_ranker {
  using input_type = const candidates&;
  using output_type = candidates;
  candidates operator()(const candidates& c) const { return c; }
};

} // namespace

TEST_CASE("role concepts: archetypes model their role, lookalikes without a tag do not",
          "[core][roles]") {
  STATIC_REQUIRE(mlsd::data::source<source_archetype>);
  STATIC_REQUIRE(mlsd::data::feature_transform<transform_archetype>);
  STATIC_REQUIRE(mlsd::data::feature_store<store_archetype>);
  STATIC_REQUIRE(mlsd::model::scorer<model_archetype>);
  STATIC_REQUIRE(mlsd::model::trainable<model_archetype>);
  STATIC_REQUIRE(mlsd::evaluation::metric_accumulator<metric_archetype>);
  STATIC_REQUIRE(mlsd::serving::retriever<retriever_archetype>);
  STATIC_REQUIRE(mlsd::serving::ranker<ranker_archetype>);
  STATIC_REQUIRE(mlsd::serving::re_ranker<re_ranker_archetype>);
  STATIC_REQUIRE(mlsd::monitoring::drift_detector<drift_archetype>);

  STATIC_REQUIRE(mlsd::stage<untagged_ranker>);
  STATIC_REQUIRE_FALSE(mlsd::serving::ranker<untagged_ranker>);
  STATIC_REQUIRE_FALSE(mlsd::serving::ranker<retriever_archetype>);
  STATIC_REQUIRE_FALSE(mlsd::serving::re_ranker<retriever_archetype>); // changes the type
  STATIC_REQUIRE_FALSE(mlsd::model::trainable<ranker_archetype>);
  STATIC_REQUIRE_FALSE(mlsd::data::feature_transform<add_one>);
}

TEST_CASE("role archetypes behave as their concepts document", "[core][roles]") {
  source_archetype src;
  std::vector<int> chunk(3);
  CHECK(src.read(chunk) == 3);
  CHECK(src.read(chunk) == 2);
  CHECK(src.read(chunk) == 0); // exhausted

  transform_archetype t;
  const std::vector<float> train{1.0f, 2.0f, 3.0f};
  t.fit(train);
  const auto restored = transform_archetype::from_json(t.to_json());
  CHECK(restored(5.0f) == t(5.0f));

  metric_archetype a, b, all;
  for (double x : {1.0, 2.0}) {
    a.add(x), all.add(x);
  }
  for (double x : {3.0, 10.0}) {
    b.add(x), all.add(x);
  }
  a.merge(b);
  CHECK(a.result() == all.result());

  // retrieve 6 -> rank -> keep the best half, composed across roles.
  auto serve = retriever_archetype{} | ranker_archetype{} | re_ranker_archetype{};
  CHECK(serve(6).size() == 3);
}
