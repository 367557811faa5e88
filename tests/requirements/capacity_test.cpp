#include <mlsd/requirements/capacity.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

// The machine of the examples: 10 GB/s and 32 GFLOP/s per core, two cores.
const mlsd::machine_profile laptop{.memory_bandwidth = 10e9, .flops = 32e9, .cores = 2};

mlsd::requirements requirements_with(mlsd::time_span p99, std::uint64_t peak_qps,
                                     std::uint64_t catalog) {
  mlsd::requirements r;
  r.task = mlsd::ml_task::retrieval;
  r.slo.p99_latency = p99;
  r.slo.peak_qps = peak_qps;
  r.slo.catalog_size = catalog;
  return r;
}

mlsd::stage_shape shape(mlsd::stage_budget b, mlsd::stage_role role) {
  return mlsd::stage_shape{.budget = b, .has_budget = true, .role = role};
}

const mlsd::design_suggestion* find_suggestion(const mlsd::capacity_report& report,
                                               mlsd::design_change change) {
  const auto it =
      std::find_if(report.suggestions.begin(), report.suggestions.end(),
                   [&](const mlsd::design_suggestion& s) { return s.change == change; });
  return it == report.suggestions.end() ? nullptr : &*it;
}

bool any_finding_contains(const mlsd::capacity_report& report, const std::string& a,
                          const std::string& b = "") {
  return std::any_of(report.findings.begin(), report.findings.end(), [&](const std::string& f) {
    return f.find(a) != std::string::npos && f.find(b) != std::string::npos;
  });
}

// Tiny stages for the pipeline overload: an exact fp32 scan that states its cost, and a
// re-ranker that does not.
struct exact_scan : mlsd::retriever_tag {
  using input_type = int;
  using output_type = int;
  std::size_t dim = 64;
  int operator()(int x) const { return x; }
  [[nodiscard]] mlsd::cost_model cost() const {
    return {.bytes_per_item = 4.0 * static_cast<double>(dim),
            .flops_per_item = 2.0 * static_cast<double>(dim)};
  }
};
struct truncate_list : mlsd::re_ranker_tag {
  using input_type = int;
  using output_type = int;
  int operator()(int x) const { return x; }
};
static_assert(mlsd::costed_stage<exact_scan>);
static_assert(!mlsd::costed_stage<truncate_list>);

} // namespace

TEST_CASE("an exact fp32 scan of 100M items misses a 100 ms p99; the suggestions are computed",
          "[requirements][capacity]") {
  // The issue's example: 100M x 64 fp32 embeddings, 256 B and 128 FLOPs per item.
  const auto r = requirements_with(100ms, 500, 100'000'000);
  const std::array shapes{
      shape({.name = "retrieve", .latency = 100ms, .items_in = 100'000'000, .items_out = 1000},
            mlsd::stage_role::retriever)};
  const std::array<std::optional<mlsd::cost_model>, 1> costs{
      mlsd::cost_model{.bytes_per_item = 256, .flops_per_item = 128}};
  const auto report = mlsd::estimate_capacity(r, shapes, costs, laptop);

  REQUIRE(report.stages.size() == 1);
  const auto& s = report.stages[0];
  CHECK(s.name == "retrieve");
  CHECK(s.role == mlsd::stage_role::retriever);
  CHECK(s.has_cost_model);
  CHECK(s.items_in == 100'000'000);
  CHECK(s.items_out == 1000);
  CHECK(s.budget == mlsd::time_span(100ms));
  CHECK(s.bytes == Approx(25.6e9)); // 100M x 256 B
  CHECK(s.flops == Approx(12.8e9)); // 100M x 128
  CHECK(s.seconds == Approx(2.56)); // 25.6 GB / 10 GB/s; the FLOPs take 0.4 s
  CHECK(s.bound == mlsd::roofline_bound::memory);
  CHECK_FALSE(s.fits_budget);
  CHECK(report.total_seconds == Approx(2.56));
  CHECK(report.cpu_seconds_per_request == Approx(2.56));
  CHECK_FALSE(report.fits_latency());
  CHECK_FALSE(report.fits());

  // Findings name the stage over its budget, and the pipeline over the p99.
  CHECK(any_finding_contains(report, "'retrieve'", "over its 100 ms budget"));
  CHECK(any_finding_contains(report, "over the 100 ms p99 budget", "'retrieve'"));

  // int8: 6.4 GB at 10 GB/s = 0.64 s, which alone does not fit.
  const auto* int8 = find_suggestion(report, mlsd::design_change::int8_quantization);
  REQUIRE(int8 != nullptr);
  CHECK(int8->stage == "retrieve");
  CHECK(int8->value == Approx(6.4e9));
  CHECK(int8->estimated_seconds == Approx(0.64));
  CHECK_FALSE(int8->fits);
  CHECK(int8->text.find("alone does not fit") != std::string::npos);

  // IVF: 100 ms x 10 GB/s = 1 GB, i.e. 1e9 / 256 = 3 906 250 items of 100M = 3.90625%; the
  // compute side would allow 100 ms x 32 GFLOP/s / 128 = 25M. nprobe/nlist <= 1/ceil(25.6).
  const auto* ivf = find_suggestion(report, mlsd::design_change::partitioned_index);
  REQUIRE(ivf != nullptr);
  CHECK(ivf->value == Approx(0.0390625));
  CHECK(ivf->fits);
  CHECK(ivf->estimated_seconds == Approx(0.1));
  CHECK(ivf->text.find("3.91%") != std::string::npos);
  CHECK(ivf->text.find("nprobe/nlist <= 1/26") != std::string::npos);

  // Sharding: 2.56 s / 100 ms = 25.6, so 26 cores per request.
  const auto* shard = find_suggestion(report, mlsd::design_change::shard_over_cores);
  REQUIRE(shard != nullptr);
  CHECK(shard->value == 26);
  CHECK(shard->fits);
  CHECK(shard->estimated_seconds <= 0.1);

  // The largest candidate set: 100 ms x 10 GB/s / 256 B = 3.9M items.
  const auto* limit = find_suggestion(report, mlsd::design_change::limit_items);
  REQUIRE(limit != nullptr);
  CHECK(limit->value == 3'906'250);
  CHECK(limit->estimated_seconds == Approx(0.1));
  CHECK(limit->text.find("3.91M") != std::string::npos);

  // Cores at peak: 2.56 s x 500 QPS / 0.7 = 1828.57 cores, 915 machines of 2 cores.
  CHECK(report.cores_needed == Approx(2.56 * 500 / 0.7));
  CHECK(report.machines_needed == 915);
  CHECK(any_finding_contains(report, "1829 cores", "more than the machine's 2"));

  const std::string text = report.to_text();
  CHECK(text.find("retrieve") != std::string::npos);
  CHECK(text.find("100M -> 1000") != std::string::npos);
  CHECK(text.find("2.56 s") != std::string::npos);
  CHECK(text.find("memory") != std::string::npos);
  CHECK(text.find("findings:") != std::string::npos);
  CHECK(text.find("suggestions:") != std::string::npos);
}

TEST_CASE("1M x 64 int8 codes at 10 GB/s take 6.4 ms and fit", "[requirements][capacity]") {
  const auto r = requirements_with(100ms, 100, 1'000'000);
  const std::array shapes{
      shape({.name = "retrieve", .latency = 10ms, .items_in = 1'000'000, .items_out = 100},
            mlsd::stage_role::retriever)};
  const std::array<std::optional<mlsd::cost_model>, 1> costs{
      mlsd::cost_model{.bytes_per_item = 64, .flops_per_item = 128}};
  const auto report = mlsd::estimate_capacity(r, shapes, costs, laptop);
  CHECK(report.stages[0].seconds == Approx(6.4e-3)); // 64 MB / 10 GB/s; FLOPs take 4 ms
  CHECK(report.stages[0].bound == mlsd::roofline_bound::memory);
  CHECK(report.stages[0].fits_budget);
  // 6.4 ms x 100 QPS / 0.7 = 0.914 cores: one machine.
  CHECK(report.cores_needed == Approx(6.4e-3 * 100 / 0.7));
  CHECK(report.machines_needed == 1);
  CHECK(report.fits_latency());
  CHECK(report.fits());
  CHECK(report.findings.empty());
  CHECK(report.suggestions.empty());
  CHECK(report.to_text().find("fits: yes") != std::string::npos);
}

TEST_CASE("cores needed at peak follow CPU time, QPS and the target utilisation",
          "[requirements][capacity]") {
  // Two costed stages: 6.4 ms (memory) + 62.5 us (compute) = 6.4625 ms of CPU per request.
  const auto r = requirements_with(50ms, 20'000, 1'000'000);
  const std::array shapes{
      shape({.name = "retrieve", .latency = 10ms, .items_in = 1'000'000, .items_out = 1000},
            mlsd::stage_role::retriever),
      shape({.name = "rank", .latency = 30ms, .items_in = 1000, .items_out = 100},
            mlsd::stage_role::ranker)};
  const std::array<std::optional<mlsd::cost_model>, 2> costs{
      mlsd::cost_model{.bytes_per_item = 64, .flops_per_item = 128},
      mlsd::cost_model{.bytes_per_item = 0, .flops_per_item = 2000}};
  const auto at_70 = mlsd::estimate_capacity(r, shapes, costs, laptop);
  CHECK(at_70.stages[1].seconds == Approx(62.5e-6)); // 2M FLOPs / 32 GFLOP/s
  CHECK(at_70.stages[1].bound == mlsd::roofline_bound::compute);
  CHECK(at_70.cpu_seconds_per_request == Approx(6.4625e-3));
  // 6.4625 ms x 20 000 QPS = 129.25 busy cores; / 0.7 = 184.64 cores; 93 machines of 2.
  CHECK(at_70.cores_needed == Approx(129.25 / 0.7));
  CHECK(at_70.machines_needed == 93);
  CHECK(at_70.fits_latency());
  CHECK_FALSE(at_70.fits());
  // Both stages fit their budgets; the peak does not fit the machine, so the suggestions are for
  // the largest stage, 'retrieve', at the scale of the whole peak load.
  REQUIRE(at_70.suggestions.size() == 2);
  // int8: 64 -> 16 bytes per item, but 128 FLOPs per item at 32 GFLOP/s keep it at 4 ms
  // (compute-bound); 4.0625 ms x 20 000 / 0.7 = 116 cores, 59 machines.
  CHECK(at_70.suggestions[0].change == mlsd::design_change::int8_quantization);
  CHECK(at_70.suggestions[0].estimated_seconds == Approx(4e-3));
  CHECK_FALSE(at_70.suggestions[0].fits);
  CHECK(at_70.suggestions[0].text.find(
            "116 cores (59 machines like this one), then compute-bound") != std::string::npos);
  // One machine affords 2 x 0.7 / 20 000 = 70 us per request; 62.5 us go to 'rank', leaving
  // 7.5 us = 75 kB at 10 GB/s = 1171.875 of the 1M items: 0.117%, nprobe/nlist <= 1/854.
  CHECK(at_70.suggestions[1].change == mlsd::design_change::partitioned_index);
  CHECK(at_70.suggestions[1].value == Approx(1171.875 / 1e6));
  CHECK(at_70.suggestions[1].fits);
  CHECK(at_70.suggestions[1].text.find("nprobe/nlist <= 1/854") != std::string::npos);
  REQUIRE(at_70.findings.size() == 1);
  CHECK(at_70.findings[0].find("20000 QPS") != std::string::npos);
  CHECK(at_70.findings[0].find("more than the machine's 2") != std::string::npos);

  const auto at_50 = mlsd::estimate_capacity(r, shapes, costs, laptop, 0.5);
  CHECK(at_50.cores_needed == Approx(258.5));
  CHECK(at_50.target_utilization == 0.5);
}

TEST_CASE("a compute-bound ranker over its budget: the largest items_in that fits",
          "[requirements][capacity]") {
  // 1000 candidates through a 1M-parameter network (2 MFLOP each) = 2 GFLOP = 62.5 ms at
  // 32 GFLOP/s; its 1 MB of weights take 0.1 ms to read.
  const auto r = requirements_with(100ms, 10, 1'000'000);
  const std::array shapes{
      shape({.name = "rank", .latency = 20ms, .items_in = 1000, .items_out = 100},
            mlsd::stage_role::ranker)};
  const std::array<std::optional<mlsd::cost_model>, 1> costs{
      mlsd::cost_model{.bytes_per_item = 0, .flops_per_item = 2e6, .bytes_per_request = 1e6}};
  const auto report = mlsd::estimate_capacity(r, shapes, costs, laptop);
  const auto& s = report.stages[0];
  CHECK(s.seconds == Approx(62.5e-3));
  CHECK(s.bound == mlsd::roofline_bound::compute);
  CHECK_FALSE(s.fits_budget);
  CHECK(any_finding_contains(report, "'rank'", "compute-bound"));
  // The whole pipeline (62.5 ms) is within the 100 ms p99: no p99 finding.
  CHECK_FALSE(any_finding_contains(report, "p99"));

  // No quantisation or partitioned index for a compute-bound ranker.
  CHECK(find_suggestion(report, mlsd::design_change::int8_quantization) == nullptr);
  CHECK(find_suggestion(report, mlsd::design_change::partitioned_index) == nullptr);
  // 20 ms x 32 GFLOP/s / 2 MFLOP = 320 items.
  const auto* limit = find_suggestion(report, mlsd::design_change::limit_items);
  REQUIRE(limit != nullptr);
  CHECK(limit->value == 320);
  CHECK(limit->estimated_seconds == Approx(20e-3));
  // 62.5 ms / 20 ms = 3.125: four cores.
  const auto* shard = find_suggestion(report, mlsd::design_change::shard_over_cores);
  REQUIRE(shard != nullptr);
  CHECK(shard->value == 4);
}

TEST_CASE("a stage whose per-request cost alone exceeds its budget cannot be fixed by items",
          "[requirements][capacity]") {
  const auto r = requirements_with(100ms, 1, 1000);
  const std::array shapes{shape({.name = "score", .latency = 1ms, .items_in = 10, .items_out = 10},
                                mlsd::stage_role::scorer)};
  // 100 MB of weights per request: 10 ms at 10 GB/s, over a 1 ms budget whatever the items.
  const std::array<std::optional<mlsd::cost_model>, 1> costs{
      mlsd::cost_model{.bytes_per_item = 1000, .bytes_per_request = 1e8}};
  const auto report = mlsd::estimate_capacity(r, shapes, costs, laptop);
  const auto* limit = find_suggestion(report, mlsd::design_change::limit_items);
  REQUIRE(limit != nullptr);
  CHECK(limit->value == 0);
  CHECK_FALSE(limit->fits);
  const auto* shard = find_suggestion(report, mlsd::design_change::shard_over_cores);
  REQUIRE(shard != nullptr);
  CHECK_FALSE(shard->fits);
  for (const auto& suggestion : report.suggestions) {
    CHECK(std::isfinite(suggestion.value));
    CHECK(std::isfinite(suggestion.estimated_seconds));
  }
}

TEST_CASE("a stage without a cost model is listed, left out of the sums, and named in a finding",
          "[requirements][capacity]") {
  const auto r = requirements_with(100ms, 100, 1'000'000);
  const std::array shapes{
      shape({.name = "retrieve", .latency = 10ms, .items_in = 1'000'000, .items_out = 100},
            mlsd::stage_role::retriever),
      shape({.name = "rerank", .latency = 5ms, .items_in = 100, .items_out = 10},
            mlsd::stage_role::re_ranker)};
  const std::array<std::optional<mlsd::cost_model>, 2> costs{
      mlsd::cost_model{.bytes_per_item = 64, .flops_per_item = 128}, std::nullopt};
  const auto report = mlsd::estimate_capacity(r, shapes, costs, laptop);
  REQUIRE(report.stages.size() == 2);
  CHECK_FALSE(report.stages[1].has_cost_model);
  CHECK(report.stages[1].seconds == 0);
  CHECK(report.stages[1].fits_budget);
  CHECK(report.total_seconds == Approx(6.4e-3));
  CHECK(any_finding_contains(report, "'rerank'", "no cost model"));
  CHECK(report.fits()); // the finding informs; it breaks no constraint
  CHECK(report.to_text().find("no cost model") != std::string::npos);
  const auto j = report.to_json();
  CHECK(j["stages"][1]["cost_model"] == false);
  CHECK(j["stages"][1]["seconds"].is_null());
  CHECK(j["stages"][1]["bound"].is_null());
}

TEST_CASE("stages without a budget handle one item and are held to the p99",
          "[requirements][capacity]") {
  const auto r = requirements_with(1ms, 1, 1);
  const std::array shapes{mlsd::stage_shape{.role = mlsd::stage_role::feature_transform}};
  // 50 MB per request: 5 ms at 10 GB/s, over the 1 ms p99.
  const std::array<std::optional<mlsd::cost_model>, 1> costs{
      mlsd::cost_model{.bytes_per_item = 5e7}};
  const auto report = mlsd::estimate_capacity(r, shapes, costs, laptop);
  const auto& s = report.stages[0];
  CHECK(s.name == "stage 0");
  CHECK_FALSE(s.has_budget);
  CHECK(s.items_in == 1);
  CHECK(s.seconds == Approx(5e-3));
  CHECK(s.fits_budget); // no budget of its own to break
  CHECK_FALSE(report.fits_latency());
  CHECK(any_finding_contains(report, "over the 1 ms p99 budget", "'stage 0'"));
  // Its target is the p99: int8 brings it to 1.25 ms, still over 1 ms.
  const auto* int8 = find_suggestion(report, mlsd::design_change::int8_quantization);
  REQUIRE(int8 != nullptr);
  CHECK(int8->estimated_seconds == Approx(1.25e-3));
  CHECK_FALSE(int8->fits);
  CHECK(report.to_json()["stages"][0]["budget_seconds"].is_null());
}

TEST_CASE("the pipeline overload takes shapes from the budgets and costs from cost()",
          "[requirements][capacity]") {
  const auto serve =
      mlsd::with_budget<mlsd::stage_budget{
          .name = "retrieve", .latency = 80ms, .items_in = 100'000'000, .items_out = 1000}>(
          exact_scan{}) |
      mlsd::with_budget<mlsd::stage_budget{
          .name = "truncate", .latency = 1ms, .items_in = 1000, .items_out = 10}>(truncate_list{});
  const auto r = requirements_with(100ms, 500, 100'000'000);
  const auto report = mlsd::estimate_capacity(r, serve, laptop);
  REQUIRE(report.stages.size() == 2);
  CHECK(report.stages[0].name == "retrieve");
  CHECK(report.stages[0].role == mlsd::stage_role::retriever);
  CHECK(report.stages[0].has_cost_model);
  CHECK(report.stages[0].seconds == Approx(2.56));
  CHECK(report.stages[1].name == "truncate");
  CHECK(report.stages[1].role == mlsd::stage_role::re_ranker);
  CHECK_FALSE(report.stages[1].has_cost_model);
  CHECK(any_finding_contains(report, "'truncate'", "no cost model"));
  // Against the stage's own 80 ms budget: 80 ms x 10 GB/s / 256 B = 3 125 000 items.
  const auto* limit = find_suggestion(report, mlsd::design_change::limit_items);
  REQUIRE(limit != nullptr);
  CHECK(limit->value == 3'125'000);

  // A single costed stage without a budget: one item per request.
  const auto single = mlsd::estimate_capacity(r, exact_scan{}, laptop, 0.5);
  REQUIRE(single.stages.size() == 1);
  CHECK(single.stages[0].has_cost_model);
  CHECK(single.stages[0].items_in == 1);
  CHECK(single.stages[0].bytes == 256);
  CHECK(single.target_utilization == 0.5);
}

TEST_CASE("machine_profile round-trips through JSON", "[requirements][capacity]") {
  const mlsd::machine_profile given{
      .memory_bandwidth = 12.5e9, .flops = 1.5e11, .cores = 16, .source = "given"};
  const nlohmann::json j = given;
  CHECK(j["memory_bandwidth"] == 12.5e9);
  CHECK(j["flops"] == 1.5e11);
  CHECK(j["cores"] == 16);
  CHECK(j["source"] == "given");
  CHECK(j.get<mlsd::machine_profile>() == given);
  CHECK(nlohmann::json::parse(j.dump()).get<mlsd::machine_profile>() == given);

  // source is optional and defaults to "given"; integers are accepted for the rates.
  const auto parsed = nlohmann::json::parse(R"({"memory_bandwidth": 10000000000, "flops": 3.2e10,
                                                "cores": 2})")
                          .get<mlsd::machine_profile>();
  CHECK(parsed == laptop);
}

TEST_CASE("machine_profile from JSON names a missing or wrong-typed field",
          "[requirements][capacity]") {
  using Catch::Matchers::Contains;
  const auto read = [](const char* text) {
    return nlohmann::json::parse(text).get<mlsd::machine_profile>();
  };
  CHECK_THROWS_AS(read(R"({"flops": 1e9, "cores": 2})"), std::invalid_argument);
  CHECK_THROWS_WITH(read(R"({"flops": 1e9, "cores": 2})"),
                    Contains("'memory_bandwidth'") && Contains("missing"));
  CHECK_THROWS_WITH(read(R"({"memory_bandwidth": 1e9, "cores": 2})"),
                    Contains("'flops'") && Contains("missing"));
  CHECK_THROWS_WITH(read(R"({"memory_bandwidth": 1e9, "flops": 1e9})"),
                    Contains("'cores'") && Contains("missing"));
  CHECK_THROWS_WITH(read(R"({"memory_bandwidth": "fast", "flops": 1e9, "cores": 2})"),
                    Contains("'memory_bandwidth'") && Contains("string"));
  CHECK_THROWS_WITH(read(R"({"memory_bandwidth": 1e9, "flops": 1e9, "cores": "two"})"),
                    Contains("'cores'"));
  CHECK_THROWS_WITH(read(R"({"memory_bandwidth": 1e9, "flops": 1e9, "cores": 2.5})"),
                    Contains("'cores'"));
  CHECK_THROWS_WITH(read(R"({"memory_bandwidth": 1e9, "flops": 1e9, "cores": -1})"),
                    Contains("'cores'"));
  CHECK_THROWS_WITH(read(R"({"memory_bandwidth": 1e9, "flops": 1e9, "cores": 2, "source": 1})"),
                    Contains("'source'"));
  CHECK_THROWS_WITH(read(R"({"memory_bandwidth": -1, "flops": 1e9, "cores": 2})"),
                    Contains("memory_bandwidth"));
  CHECK_THROWS_WITH(read("[1, 2]"), Contains("object"));
}

TEST_CASE("machine_profile validation names the field", "[requirements][capacity]") {
  using Catch::Matchers::Contains;
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_NOTHROW(laptop.validate());
  CHECK_THROWS_WITH(
      (mlsd::machine_profile{.memory_bandwidth = 0, .flops = 1, .cores = 1}.validate()),
      Contains("memory_bandwidth"));
  CHECK_THROWS_WITH(
      (mlsd::machine_profile{.memory_bandwidth = inf, .flops = 1, .cores = 1}.validate()),
      Contains("memory_bandwidth"));
  CHECK_THROWS_WITH(
      (mlsd::machine_profile{.memory_bandwidth = 1, .flops = nan, .cores = 1}.validate()),
      Contains("flops"));
  CHECK_THROWS_WITH(
      (mlsd::machine_profile{.memory_bandwidth = 1, .flops = -5, .cores = 1}.validate()),
      Contains("flops"));
  CHECK_THROWS_WITH(
      (mlsd::machine_profile{.memory_bandwidth = 1, .flops = 1, .cores = 0}.validate()),
      Contains("cores"));
  CHECK_THROWS_WITH(
      (mlsd::machine_profile{.memory_bandwidth = 1, .flops = 1, .cores = 1, .source = ""}
           .validate()),
      Contains("source"));
}

TEST_CASE("estimate_capacity rejects bad arguments with clear messages",
          "[requirements][capacity]") {
  using Catch::Matchers::Contains;
  const auto r = requirements_with(100ms, 100, 1000);
  const std::array shapes{
      shape({.name = "scan", .latency = 10ms, .items_in = 1000, .items_out = 10},
            mlsd::stage_role::retriever)};
  const std::array<std::optional<mlsd::cost_model>, 1> costs{
      mlsd::cost_model{.bytes_per_item = 256, .flops_per_item = 128}};

  const std::vector<std::optional<mlsd::cost_model>> two(2);
  CHECK_THROWS_WITH(mlsd::estimate_capacity(r, shapes, two, laptop),
                    Contains("1 stage shapes but 2 cost models"));
  CHECK_THROWS_WITH(
      mlsd::estimate_capacity(requirements_with(0ms, 100, 1000), shapes, costs, laptop),
      Contains("p99_latency"));
  CHECK_THROWS_WITH(mlsd::estimate_capacity(r, shapes, costs, laptop, 0.0),
                    Contains("target_utilization"));
  CHECK_THROWS_WITH(mlsd::estimate_capacity(r, shapes, costs, laptop, 1.5),
                    Contains("target_utilization"));
  CHECK_THROWS_WITH(mlsd::estimate_capacity(r, shapes, costs, mlsd::machine_profile{}),
                    Contains("memory_bandwidth"));
  const std::array<std::optional<mlsd::cost_model>, 1> negative{
      mlsd::cost_model{.bytes_per_item = 256, .flops_per_request = -1}};
  CHECK_THROWS_WITH(mlsd::estimate_capacity(r, shapes, negative, laptop),
                    Contains("flops_per_request") && Contains("'scan'"));
  CHECK_NOTHROW(mlsd::estimate_capacity(r, shapes, costs, laptop, 1.0));
}

TEST_CASE("the report JSON has the documented structure", "[requirements][capacity]") {
  const auto r = requirements_with(100ms, 500, 100'000'000);
  const std::array shapes{
      shape({.name = "retrieve", .latency = 100ms, .items_in = 100'000'000, .items_out = 1000},
            mlsd::stage_role::retriever)};
  const std::array<std::optional<mlsd::cost_model>, 1> costs{
      mlsd::cost_model{.bytes_per_item = 256, .flops_per_item = 128}};
  const auto report = mlsd::estimate_capacity(r, shapes, costs, laptop);
  const nlohmann::json j = report.to_json();

  CHECK(j["machine"].get<mlsd::machine_profile>() == laptop);
  CHECK(j["p99_budget_seconds"] == Approx(0.1));
  CHECK(j["total_seconds"] == Approx(2.56));
  CHECK(j["cpu_seconds_per_request"] == Approx(2.56));
  CHECK(j["peak_qps"] == 500);
  CHECK(j["target_utilization"] == Approx(0.7));
  CHECK(j["cores_needed"] == Approx(2.56 * 500 / 0.7));
  CHECK(j["machines_needed"] == 915);
  CHECK(j["fits"] == false);
  CHECK(j["fits_latency"] == false);

  REQUIRE(j["stages"].is_array());
  REQUIRE(j["stages"].size() == 1);
  const auto& s = j["stages"][0];
  CHECK(s["name"] == "retrieve");
  CHECK(s["role"] == "retriever");
  CHECK(s["budget_seconds"] == Approx(0.1));
  CHECK(s["items_in"] == 100'000'000);
  CHECK(s["items_out"] == 1000);
  CHECK(s["cost_model"] == true);
  CHECK(s["bytes"] == Approx(25.6e9));
  CHECK(s["flops"] == Approx(12.8e9));
  CHECK(s["seconds"] == Approx(2.56));
  CHECK(s["bound"] == "memory");
  CHECK(s["fits"] == false);

  REQUIRE(j["findings"].is_array());
  CHECK(j["findings"].size() == report.findings.size());
  CHECK(j["findings"][0].is_string());

  REQUIRE(j["suggestions"].is_array());
  REQUIRE(j["suggestions"].size() == report.suggestions.size());
  std::vector<std::string> changes;
  for (const auto& d : j["suggestions"]) {
    CHECK(d["stage"] == "retrieve");
    CHECK(d["value"].is_number());
    CHECK(d["estimated_seconds"].is_number());
    CHECK(d["fits"].is_boolean());
    CHECK(d["text"].is_string());
    changes.push_back(d["change"].get<std::string>());
  }
  // Four changes for the stage over its budget, then two for the peak load over the machine.
  CHECK(changes == std::vector<std::string>{"int8_quantization", "partitioned_index",
                                            "shard_over_cores", "limit_items", "int8_quantization",
                                            "partitioned_index"});
  // One machine affords 2 x 0.7 / 500 = 2.8 ms per request = 28 MB at 10 GB/s = 109 375 items.
  CHECK(j["suggestions"][5]["value"] == Approx(109'375 / 1e8));
}

TEST_CASE("probe_machine measures positive, finite numbers", "[requirements][capacity]") {
  const mlsd::machine_profile m = mlsd::probe_machine(std::chrono::milliseconds(100));
  CHECK(m.source == "probe");
  CHECK(std::isfinite(m.memory_bandwidth));
  CHECK(m.memory_bandwidth > 0);
  CHECK(std::isfinite(m.flops));
  CHECK(m.flops > 0);
  CHECK(m.cores >= 1);
  CHECK_NOTHROW(m.validate());
  CHECK(nlohmann::json(m).get<mlsd::machine_profile>() == m);

  CHECK_THROWS_AS(mlsd::probe_machine(std::chrono::milliseconds(0)), std::invalid_argument);
}

TEST_CASE("the probe's buffer is four times the cache, within [64 MiB, 256 MiB]",
          "[requirements][capacity]") {
  constexpr std::size_t mib = std::size_t{1} << 20;
  CHECK(mlsd::detail::probe_buffer_bytes(0) == 128 * mib); // unknown: 32 MiB assumed
  CHECK(mlsd::detail::probe_buffer_bytes(1 * mib) == 64 * mib);
  CHECK(mlsd::detail::probe_buffer_bytes(30 * mib) == 120 * mib);
  CHECK(mlsd::detail::probe_buffer_bytes(105 * mib) == 256 * mib);
  CHECK(mlsd::detail::probe_buffer_bytes(std::numeric_limits<std::size_t>::max() / 2) == 256 * mib);
}

TEST_CASE("durations and counts print with their units", "[requirements][capacity]") {
  CHECK(mlsd::detail::format_seconds(2.56) == "2.56 s");
  CHECK(mlsd::detail::format_seconds(0.1) == "100 ms");
  CHECK(mlsd::detail::format_seconds(6.4e-3) == "6.4 ms");
  CHECK(mlsd::detail::format_seconds(62.5e-6) == "62.5 us");
  CHECK(mlsd::detail::format_seconds(0.9999) == "1 s");
  CHECK(mlsd::detail::format_seconds(0) == "0 s");
  CHECK(mlsd::detail::format_count(100'000'000) == "100M");
  CHECK(mlsd::detail::format_count(3'906'250) == "3.91M");
  CHECK(mlsd::detail::format_count(1000) == "1000");
  CHECK(mlsd::detail::format_si(25.6e9, "B") == "25.6 GB");
  CHECK(mlsd::detail::format_si(32e9, "FLOP/s") == "32 GFLOP/s");
}
