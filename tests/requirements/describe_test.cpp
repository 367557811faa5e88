// describe(): pipelines as JSON, Mermaid and DOT; requirements JSON round trip
// (include/mlsd/requirements/describe.hpp).
#include <mlsd/requirements/describe.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

using namespace std::chrono_literals;

namespace {

using candidates = std::vector<int>;
struct retrieve : mlsd::retriever_tag {
  using input_type = int;
  using output_type = candidates;
  candidates operator()(int n) const { return candidates(static_cast<std::size_t>(n)); }
};
struct rank : mlsd::ranker_tag {
  using input_type = const candidates&;
  using output_type = candidates;
  candidates operator()(const candidates& c) const { return c; }
};
struct encode : mlsd::stage_tag {
  using input_type = float;
  using output_type = int;
  int operator()(float x) const { return static_cast<int>(x); }
};

inline constexpr mlsd::requirements feed{
    .objective = mlsd::business_objective::engagement,
    .task = mlsd::ml_task::ranking,
    .offline = {mlsd::offline_metric::ndcg_at_k, mlsd::offline_metric::gauc},
    .online = {mlsd::online_metric::session_length, mlsd::online_metric::user_reports},
    .slo = {.p99_latency = 80ms,
            .peak_qps = 12'000,
            .catalog_size = 50'000,
            .feature_freshness = 90s,
            .availability = 0.9995}};

auto design() {
  return encode{} |
         mlsd::with_budget<mlsd::stage_budget{
             .name = "retrieve", .latency = 20ms, .items_in = 50'000, .items_out = 500}>(
             retrieve{}) |
         mlsd::with_budget<mlsd::stage_budget{
             .name = "rank", .latency = 40ms, .items_in = 500, .items_out = 50}>(rank{});
}

} // namespace

TEST_CASE("requirements round-trip through JSON", "[requirements][describe]") {
  const nlohmann::json j = mlsd::requirements_to_json(feed);
  CHECK(j.at("objective") == "engagement");
  CHECK(j.at("offline_metrics") == nlohmann::json::array({"ndcg_at_k", "gauc"}));
  CHECK(j.at("slo").at("p99_latency_ms") == 80.0);
  CHECK(j.at("slo").at("feature_freshness_ms") == 90'000.0);
  CHECK(mlsd::requirements_from_json(j) == feed);
  CHECK(mlsd::requirements_from_json(nlohmann::json::parse(j.dump())) == feed);
}

TEST_CASE("requirements JSON errors name the field and what was expected",
          "[requirements][describe]") {
  const nlohmann::json good = mlsd::requirements_to_json(feed);
  auto with = [&](const nlohmann::json::json_pointer& at, const nlohmann::json& value) {
    nlohmann::json j = good;
    j[at] = value;
    return j;
  };
  using ptr = nlohmann::json::json_pointer;
  CHECK_THROWS_WITH(mlsd::requirements_from_json(with(ptr("/task"), "clustering")),
                    Catch::Contains("field 'task'") && Catch::Contains("binary_classification") &&
                        Catch::Contains("got \"clustering\""));
  CHECK_THROWS_WITH(mlsd::requirements_from_json(with(ptr("/slo/peak_qps"), -3)),
                    Catch::Contains("field 'slo.peak_qps'") &&
                        Catch::Contains("non-negative integer"));
  CHECK_THROWS_WITH(mlsd::requirements_from_json(with(ptr("/slo/p99_latency_ms"), "fast")),
                    Catch::Contains("field 'slo.p99_latency_ms'"));
  CHECK_THROWS_WITH(mlsd::requirements_from_json(with(ptr("/offline_metrics/1"), "ndcg")),
                    Catch::Contains("field 'offline_metrics[1]'"));
  CHECK_THROWS_WITH(mlsd::requirements_from_json(with(ptr("/slo/availability"), 99.9)),
                    Catch::Contains("field 'slo.availability'"));
  nlohmann::json missing = good;
  missing["slo"].erase("catalog_size");
  CHECK_THROWS_WITH(mlsd::requirements_from_json(missing),
                    Catch::Contains("field 'slo.catalog_size'") && Catch::Contains("missing"));
  CHECK_THROWS_AS(mlsd::requirements_from_json(nlohmann::json::array()), std::invalid_argument);
}

TEST_CASE("describe lists stages with types, roles and budgets", "[requirements][describe]") {
  const auto d = mlsd::describe(feed, design());
  REQUIRE(d.stages.size() == 3);
  CHECK(d.stages[0].name == "encode");
  CHECK(d.stages[0].role == mlsd::stage_role::other);
  CHECK_FALSE(d.stages[0].budget.has_value());
  CHECK(d.stages[0].input_type == "float");
  CHECK(d.stages[1].name == "retrieve");
  CHECK(d.stages[1].type.ends_with("retrieve"));
  CHECK(d.stages[1].role == mlsd::stage_role::retriever);
  CHECK(d.stages[2].input_type == "const std::vector<int>&");
  CHECK(d.stages[2].output_type == "std::vector<int>");
  REQUIRE(d.review.has_value());
  CHECK(d.review->ok());

  const nlohmann::json j = d.to_json();
  CHECK(j.at("requirements") == mlsd::requirements_to_json(feed));
  CHECK(j.at("stages").size() == 3);
  CHECK(j.at("stages")[0].at("budget").is_null());
  CHECK(j.at("stages")[1].at("budget") ==
        nlohmann::json{{"latency_ms", 20.0}, {"items_in", 50'000}, {"items_out", 500}});
  CHECK(j.at("stages")[2].at("role") == "ranker");
  CHECK(j.at("input_type") == "float");
  CHECK(j.at("output_type") == "std::vector<int>");
  CHECK(j.at("review").at("ok") == true);
  CHECK(j.at("review").at("budgeted_latency_ms") == 60.0);

  // Without requirements: no requirements, no review.
  const nlohmann::json bare = mlsd::describe(design()).to_json();
  CHECK_FALSE(bare.contains("requirements"));
  CHECK_FALSE(bare.contains("review"));
}

TEST_CASE("describe draws Mermaid and DOT diagrams", "[requirements][describe]") {
  const auto d = mlsd::describe(feed, design());
  const std::string mermaid = d.to_mermaid();
  CHECK(mermaid.starts_with("flowchart LR\n"));
  CHECK(mermaid.find("s1[\"<b>retrieve</b><br/>retriever<br/>20 ms budget<br/>50,000 \u2192 500 "
                     "items\"]") != std::string::npos);
  // Types on the edges, with angle brackets escaped for Mermaid.
  CHECK(mermaid.find("s1 -->|\"const std::vector#lt;int#gt;&\"| s2") != std::string::npos);
  CHECK(mermaid.find("s2 -->|\"std::vector#lt;int#gt;\"| response") != std::string::npos);
  CHECK(mermaid.find("objective: engagement<br/>task: ranking") != std::string::npos);

  const std::string dot = d.to_dot();
  CHECK(dot.starts_with("digraph mlsd_pipeline {"));
  CHECK(dot.ends_with("}\n"));
  CHECK(dot.find("s2 [label=\"rank\\nranker\\n40 ms budget\\n500 \u2192 50 items\"") !=
        std::string::npos);
  CHECK(dot.find("request -> s0 [label=\"float\"];") != std::string::npos);
  CHECK(dot.find("s2 -> response [label=\"std::vector<int>\"];") != std::string::npos);
  CHECK(dot.find("review: the design meets its requirements") != std::string::npos);
  // Every quote inside a label is escaped: the count of unescaped quotes is even on each line.
  std::size_t start = 0;
  while (start < dot.size()) {
    const std::size_t end = dot.find('\n', start);
    const std::string line = dot.substr(start, end - start);
    std::size_t quotes = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
      quotes += line[i] == '"' && (i == 0 || line[i - 1] != '\\');
    }
    CAPTURE(line);
    CHECK(quotes % 2 == 0);
    start = end + 1;
  }
}
