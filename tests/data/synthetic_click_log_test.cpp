// The synthetic click log generator and its writers (include/mlsd/data/synthetic_click_log.hpp).
#include <mlsd/data/synthetic_click_log.hpp>

#include <mlsd/data/criteo.hpp>
#include <mlsd/data/hashing.hpp>
#include <mlsd/data/libffm.hpp>
#include <mlsd/data/libsvm.hpp>

#include "parser_fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using mlsd::sparse_row;
using mlsd::data::click_log_hasher;
using mlsd::data::criteo_record;
using mlsd::data::synthetic_click;
using mlsd::data::synthetic_click_log;
using mlsd::data::synthetic_click_log_config;
using mlsd::data::zipf_distribution;

using u32s = std::vector<std::uint32_t>;
using floats = std::vector<float>;

synthetic_click_log_config small_config(std::uint64_t rows, std::uint64_t seed = 7) {
  synthetic_click_log_config c;
  c.rows = rows;
  c.seed = seed;
  return c;
}

/// P(k) of a Zipf law on 1..n, computed directly from the definition.
double zipf_pmf(std::uint64_t k, std::uint64_t n, double s) {
  double norm = 0.0;
  for (std::uint64_t i = 1; i <= n; ++i) {
    norm += 1.0 / std::pow(static_cast<double>(i), s);
  }
  return 1.0 / std::pow(static_cast<double>(k), s) / norm;
}

/// |observed - expected| within `sigmas` binomial standard deviations of `n` draws.
bool within_binomial(double observed_fraction, double p, std::uint64_t n, double sigmas = 5.0) {
  return std::abs(observed_fraction - p) <=
         sigmas * std::sqrt(p * (1.0 - p) / static_cast<double>(n));
}

struct temp_dir : mlsd_test::temp_dir {
  explicit temp_dir(std::string_view tag)
      : mlsd_test::temp_dir("synthetic_click_log", tag) {}
};

} // namespace

TEST_CASE("zipf_distribution: frequencies match k^-s / H(n, s)", "[data][synthetic]") {
  for (const auto& [n, s] : {std::pair<std::uint64_t, double>{10, 1.1},
                             {5, 0.5},
                             {1000, 1.0},
                             {200000, 1.05},
                             {3, 2.5}}) {
    const zipf_distribution zipf(n, s);
    mlsd::data::detail::splitmix64 rng(42);
    constexpr std::uint64_t draws = 200000;
    std::vector<std::uint64_t> count(std::min<std::uint64_t>(n, 20) + 1, 0);
    std::uint64_t lowest = n, highest = 1;
    for (std::uint64_t i = 0; i < draws; ++i) {
      const std::uint64_t k = zipf(rng);
      lowest = std::min(lowest, k);
      highest = std::max(highest, k);
      if (k < count.size()) {
        ++count[k];
      }
    }
    CHECK(lowest == 1);
    CHECK(highest <= n);
    for (std::uint64_t k = 1; k < count.size() && k <= 10; ++k) {
      const double p = zipf_pmf(k, n, s);
      INFO("n = " << n << ", s = " << s << ", k = " << k);
      CHECK(within_binomial(static_cast<double>(count[k]) / draws, p, draws));
      CHECK(zipf.probability(k) == Approx(p).epsilon(1e-9));
    }
  }
  CHECK(zipf_distribution(4, 1.0).probability(0) == 0.0);
  CHECK(zipf_distribution(4, 1.0).probability(5) == 0.0);
  CHECK(zipf_distribution(4, 1.0).probability(1) == Approx(1.0 / (1.0 + 0.5 + 1.0 / 3 + 0.25)));
  const zipf_distribution one(1, 1.3);
  mlsd::data::detail::splitmix64 rng(1);
  CHECK(one(rng) == 1);
  CHECK_THROWS_AS(zipf_distribution(0, 1.0), mlsd::config_error);
  CHECK_THROWS_AS(zipf_distribution(5, 0.0), mlsd::config_error);
  CHECK_THROWS_AS(zipf_distribution(5, std::nan("")), mlsd::config_error);
}

TEST_CASE("synthetic_click_log: a record is a pure function of the seed and its row",
          "[data][synthetic]") {
  const synthetic_click_log a(small_config(1000)), b(small_config(1000));
  const synthetic_click_log other(small_config(1000, 8));
  std::size_t different = 0;
  for (std::uint64_t i : {0u, 1u, 17u, 500u, 999u}) {
    const synthetic_click x = a.record(i), y = b.record(i);
    CHECK(x.row == i);
    CHECK(x.features == y.features);
    CHECK(x.true_probability == y.true_probability);
    CHECK(x.time == y.time);
    CHECK(x.position == y.position);
    different += other.record(i).features == x.features ? 0 : 1;
  }
  CHECK(different == 5); // another seed, another log

  // Streaming gives the same records as random access, across read calls.
  synthetic_click_log stream(small_config(10));
  std::vector<synthetic_click> buf(4);
  std::uint64_t next = 0;
  while (const std::size_t n = stream.read(buf)) {
    for (std::size_t k = 0; k < n; ++k, ++next) {
      CHECK(buf[k].row == next);
      CHECK(buf[k].features == a.record(next).features);
    }
  }
  CHECK(next == 10);
  CHECK(stream.read(buf) == 0);
  stream.seek(8);
  CHECK(stream.read(buf) == 2);
  CHECK(buf[0].row == 8);
}

TEST_CASE("synthetic_click_log: the record's parts agree with each other", "[data][synthetic]") {
  synthetic_click_log_config cfg = small_config(2000);
  cfg.start_time_us = 1'000'000;
  cfg.mean_gap_us = 1000;
  const synthetic_click_log log(cfg);
  std::int64_t previous = 0;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    const synthetic_click c = log.record(i);
    REQUIRE(c.features.label.has_value());
    CHECK((*c.features.label == 0.0f || *c.features.label == 1.0f));
    CHECK(c.true_probability == Approx(1.0 / (1.0 + std::exp(-c.true_logit))).epsilon(1e-12));
    CHECK(c.true_probability > 0.0);
    CHECK(c.true_probability < 1.0);
    // C1, C2 and C3 are the user, the ad and the position, never missing.
    REQUIRE(c.features.categories[0].has_value());
    CHECK(*c.features.categories[0] == log.category_value(0, c.user));
    CHECK(*c.features.categories[1] == log.category_value(1, c.ad));
    CHECK(*c.features.categories[2] == log.category_value(2, c.position));
    CHECK(c.user >= 1);
    CHECK(c.user <= cfg.users);
    CHECK(c.ad >= 1);
    CHECK(c.ad <= cfg.ads);
    CHECK(c.position >= 1);
    CHECK(c.position <= cfg.positions);
    // Row i happens in [start + i·gap, start + (i+1)·gap): time order is row order.
    const std::int64_t t = c.time.micros();
    CHECK(t >= 1'000'000 + static_cast<std::int64_t>(i) * 1000);
    CHECK(t < 1'000'000 + static_cast<std::int64_t>(i + 1) * 1000);
    CHECK(t >= previous);
    previous = t;
    CHECK_FALSE(c.drifted);
    for (const auto& v : c.features.integers) {
      CHECK((!v || *v >= 0));
    }
  }
}

TEST_CASE("synthetic_click_log: the click rate matches the mean true probability",
          "[data][synthetic]") {
  for (const double base : {-1.2, -3.0}) {
    synthetic_click_log_config cfg = small_config(40000, 3);
    cfg.base_logit = base;
    const synthetic_click_log log(cfg);
    double clicks = 0.0, sum_p = 0.0, var = 0.0;
    // Calibration of the labels against the truth, by decile of the true probability.
    std::vector<double> bin_clicks(10, 0.0), bin_p(10, 0.0), bin_var(10, 0.0);
    for (std::uint64_t i = 0; i < cfg.rows; ++i) {
      const synthetic_click c = log.record(i);
      const double y = c.clicked() ? 1.0 : 0.0;
      const double p = c.true_probability;
      clicks += y;
      sum_p += p;
      var += p * (1.0 - p);
      const auto b = std::min<std::size_t>(9, static_cast<std::size_t>(p * 10.0));
      bin_clicks[b] += y;
      bin_p[b] += p;
      bin_var[b] += p * (1.0 - p);
    }
    INFO("base_logit " << base << ": clicks " << clicks << ", sum of p " << sum_p);
    CHECK(std::abs(clicks - sum_p) <= 5.0 * std::sqrt(var));
    for (std::size_t b = 0; b < 10; ++b) {
      CHECK(std::abs(bin_clicks[b] - bin_p[b]) <= 5.0 * std::sqrt(bin_var[b]) + 1e-9);
    }
    if (base == -1.2) {
      CHECK(sum_p / static_cast<double>(cfg.rows) > 0.15); // a Criteo-like click rate
      CHECK(sum_p / static_cast<double>(cfg.rows) < 0.30);
    } else {
      CHECK(sum_p / static_cast<double>(cfg.rows) < 0.08);
    }
  }
}

TEST_CASE("synthetic_click_log: Zipf users and ads, geometric positions, missing rates",
          "[data][synthetic]") {
  synthetic_click_log_config cfg = small_config(60000, 11);
  cfg.users = 5000;
  cfg.ads = 300;
  cfg.positions = 6;
  cfg.position_decay = 0.5;
  const synthetic_click_log log(cfg);
  std::vector<std::uint64_t> user(4, 0), ad(4, 0), position(7, 0);
  std::uint64_t i12_missing = 0, c22_missing = 0, c4_rank1 = 0;
  const std::uint32_t c4_top = log.category_value(3, 1);
  for (std::uint64_t i = 0; i < cfg.rows; ++i) {
    const synthetic_click c = log.record(i);
    user[std::min<std::uint64_t>(c.user, 3)] += c.user <= 2 ? 1 : 0;
    ad[std::min<std::uint64_t>(c.ad, 3)] += c.ad <= 2 ? 1 : 0;
    ++position[c.position];
    i12_missing += c.features.integers[11] ? 0 : 1;
    c22_missing += c.features.categories[21] ? 0 : 1;
    c4_rank1 += c.features.categories[3] == c4_top ? 1 : 0;
  }
  const auto n = cfg.rows;
  const auto frac = [n](std::uint64_t k) {
    return static_cast<double>(k) / static_cast<double>(n);
  };
  CHECK(within_binomial(frac(user[1]), zipf_pmf(1, 5000, 1.05), n));
  CHECK(within_binomial(frac(user[2]), zipf_pmf(2, 5000, 1.05), n));
  CHECK(within_binomial(frac(ad[1]), zipf_pmf(1, 300, 1.1), n));
  CHECK(within_binomial(frac(ad[2]), zipf_pmf(2, 300, 1.1), n));
  CHECK(within_binomial(frac(c4_rank1), zipf_pmf(1, 1000, 1.1), n));
  // P(position = k) = d^(k-1) (1 - d) / (1 - d^P).
  for (std::uint64_t k = 1; k <= 6; ++k) {
    const double p = std::pow(0.5, static_cast<double>(k - 1)) * 0.5 / (1.0 - std::pow(0.5, 6.0));
    CHECK(within_binomial(frac(position[k]), p, n));
  }
  CHECK(within_binomial(frac(i12_missing), 0.76, n));
  CHECK(within_binomial(frac(c22_missing), 0.76, n));
  CHECK(log.cardinality(0) == 5000);
  CHECK(log.cardinality(1) == 300);
  CHECK(log.cardinality(2) == 6);
  CHECK(log.cardinality(3) == 1000);
  CHECK(log.popularity(1).exponent() == 1.1);
}

TEST_CASE("synthetic_click_log: position bias and pairwise interactions move the logit",
          "[data][synthetic]") {
  // With every effect but the position bias off, the logit is base - bias·ln(position) plus the
  // time terms, which are 0 with trend and daily amplitude 0.
  synthetic_click_log_config cfg = small_config(200, 5);
  cfg.main_effect_scale = 0.0;
  cfg.interaction_scale = 0.0;
  cfg.time_trend = 0.0;
  cfg.daily_amplitude = 0.0;
  cfg.position_bias = 0.8;
  const synthetic_click_log log(cfg);
  for (std::uint64_t i = 0; i < 200; ++i) {
    const synthetic_click c = log.record(i);
    CHECK(c.true_logit == Approx(-1.2 - 0.8 * std::log(static_cast<double>(c.position))));
  }
  // Turning the interactions on changes the logit of some rows and not the features.
  synthetic_click_log_config with = cfg;
  with.interaction_scale = 1.0;
  const synthetic_click_log log2(with);
  std::size_t changed = 0;
  for (std::uint64_t i = 0; i < 200; ++i) {
    const synthetic_click a = log.record(i), b = log2.record(i);
    CHECK(a.user == b.user);
    CHECK(a.features.integers == b.features.integers);
    CHECK(a.features.categories == b.features.categories);
    changed += a.true_logit != b.true_logit ? 1 : 0;
  }
  CHECK(changed > 150);
}

TEST_CASE("synthetic_click_log: drift in the last part changes the popular ads",
          "[data][synthetic]") {
  synthetic_click_log_config cfg = small_config(20000, 9);
  cfg.ads = 1000;
  cfg.drift_fraction = 0.5;
  const synthetic_click_log log(cfg);
  CHECK(log.drift_start() == 10000);
  std::uint64_t top_before = 0, top_after = 0, shifted_after = 0;
  for (std::uint64_t i = 0; i < cfg.rows; ++i) {
    const synthetic_click c = log.record(i);
    CHECK(c.drifted == (i >= 10000));
    (c.drifted ? top_after : top_before) += c.ad == 1 ? 1 : 0;
    shifted_after += c.drifted && c.ad == 501 ? 1 : 0; // rank 1 rotated by ads / 2
  }
  const double p1 = zipf_pmf(1, 1000, 1.1);
  CHECK(within_binomial(static_cast<double>(top_before) / 10000.0, p1, 10000));
  CHECK(within_binomial(static_cast<double>(shifted_after) / 10000.0, p1, 10000));
  CHECK(top_after < top_before / 4);
}

TEST_CASE("synthetic_click_log_config: validation and JSON", "[data][synthetic]") {
  synthetic_click_log_config c;
  c.rows = 12;
  c.seed = 99;
  c.drift_fraction = 0.25;
  c.position_bias = 0.3;
  const auto back = synthetic_click_log_config::from_json(c.to_json());
  CHECK(back == c);
  CHECK(synthetic_click_log_config::from_json(nlohmann::json::object()) ==
        synthetic_click_log_config{});

  const auto field_of = [](const nlohmann::json& j) {
    try {
      (void)synthetic_click_log_config::from_json(j);
    } catch (const mlsd::config_error& e) {
      return e.field();
    }
    return std::string();
  };
  CHECK(field_of({{"rows", 0}}) == "synthetic_click_log.rows");
  CHECK(field_of({{"drift_fraction", 1.0}}) == "synthetic_click_log.drift_fraction");
  CHECK(field_of({{"position_decay", 0.0}}) == "synthetic_click_log.position_decay");
  CHECK(field_of({{"users", 0}}) == "synthetic_click_log.users");
  CHECK(field_of({{"colour", 1}}) == "synthetic_click_log.colour");
  CHECK(field_of({{"rows", "many"}}) == "synthetic_click_log.rows");
  CHECK(field_of({{"max_cardinality", 1ULL << 32}}) == "synthetic_click_log.max_cardinality");
  synthetic_click_log_config bad;
  bad.interaction_scale = -1.0;
  CHECK_THROWS_AS(synthetic_click_log(bad), mlsd::config_error);
}

TEST_CASE("synthetic_click_log: max_cardinality caps every field but users, ads, positions",
          "[data][synthetic]") {
  // The default keeps the Criteo-like cardinalities, row for row.
  const synthetic_click_log plain(small_config(2000));
  synthetic_click_log_config zero = small_config(2000);
  zero.max_cardinality = 0;
  const synthetic_click_log same(zero);
  for (std::uint64_t i = 0; i < 2000; i += 97) {
    CHECK(plain.record(i).features.categories == same.record(i).features.categories);
  }
  CHECK(plain.cardinality(11) == 200000); // C12
  CHECK(plain.cardinality(0) == 100000);  // users

  synthetic_click_log_config c = small_config(20000);
  c.users = 300;
  c.ads = 40;
  c.max_cardinality = 25;
  const synthetic_click_log capped(c);
  CHECK(capped.cardinality(0) == 300); // users: their own setting
  CHECK(capped.cardinality(1) == 40);  // ads
  CHECK(capped.cardinality(2) == 10);  // positions
  CHECK(capped.cardinality(5) == 20);  // C6 has 20 values, under the cap
  CHECK(capped.cardinality(8) == 3);   // C9 has 3
  CHECK(capped.cardinality(11) == 25); // C12: 200,000 capped
  CHECK(capped.cardinality(3) == 25);  // C4: 1000 capped
  // Every value of a capped field is one of the cap's ranks: at most 25 distinct values appear,
  // and the most frequent rank's value does appear.
  std::vector<std::uint32_t> seen;
  for (std::uint64_t i = 0; i < c.rows; ++i) {
    if (const auto v = capped.record(i).features.categories[11]) {
      seen.push_back(*v);
    }
  }
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  CHECK(seen.size() <= 25);
  CHECK(seen.size() >= 20);
  CHECK(std::binary_search(seen.begin(), seen.end(), capped.category_value(11, 1)));
  for (const std::uint32_t v : seen) {
    bool found = false;
    for (std::uint64_t r = 1; r <= 25 && !found; ++r) {
      found = capped.category_value(11, r) == v;
    }
    CHECK(found);
  }
  CHECK(synthetic_click_log_config::from_json(c.to_json()) == c);
}

TEST_CASE("criteo_numeric_bucket: floor(ln(v)^2) above 2", "[data][synthetic]") {
  using mlsd::data::criteo_numeric_bucket;
  CHECK(criteo_numeric_bucket(-2) == -2);
  CHECK(criteo_numeric_bucket(0) == 0);
  CHECK(criteo_numeric_bucket(1) == 1);
  CHECK(criteo_numeric_bucket(2) == 2);
  CHECK(criteo_numeric_bucket(3) == 1);     // ln 3 = 1.0986, squared 1.2069
  CHECK(criteo_numeric_bucket(10) == 5);    // 2.3026² = 5.3019
  CHECK(criteo_numeric_bucket(100) == 21);  // 4.6052² = 21.2076
  CHECK(criteo_numeric_bucket(1000) == 47); // 6.9078² = 47.7171
}

TEST_CASE("click_log_hasher: one feature per column, hashed like feature_hasher",
          "[data][synthetic]") {
  click_log_hasher::config hc;
  hc.bits = 16;
  hc.seed = 3;
  const click_log_hasher hasher(hc);
  mlsd::data::feature_hasher_config fc;
  fc.bits = 16;
  fc.seed = 3;
  for (std::size_t c = 0; c < 39; ++c) {
    // Built with += (not "I" + std::to_string(...)): g++ 12 warns falsely on the latter at -O3.
    std::string name(1, c < 13 ? 'I' : 'C');
    name += std::to_string(c < 13 ? c + 1 : c - 12);
    fc.fields.push_back(name);
  }
  const mlsd::data::feature_hasher reference(fc);

  criteo_record r;
  r.label = 1.0f;
  r.integers[0] = 100; // bucket 21
  r.integers[1] = -1;  // stays -1
  r.categories[0] = 0xabcdef01u;
  const sparse_row x = hasher(r);
  REQUIRE(x.nnz() == 39);
  CHECK(x.label == 1.0f);
  for (std::uint32_t c = 0; c < 39; ++c) {
    CHECK(x.fields[c] == c);
    CHECK(x.values[c] == 1.0f);
    CHECK(x.indices[c] < (1u << 16));
  }
  CHECK(x.indices[0] == reference.bucket(0, std::uint64_t{21}));
  CHECK(x.indices[1] == reference.bucket(1, static_cast<std::uint64_t>(std::int64_t{-1})));
  CHECK(x.indices[2] == reference.bucket(2, click_log_hasher::missing_id));
  CHECK(x.indices[13] == reference.bucket(13, std::uint64_t{0xabcdef01u}));
  CHECK(x.indices[14] == reference.bucket(14, click_log_hasher::missing_id));
  // "Missing" in two fields is two different features (each field is its own namespace).
  CHECK(x.indices[2] != x.indices[3]);

  CHECK(click_log_hasher::from_json(hasher.to_json()).configuration() == hc);
  click_log_hasher::config bad;
  bad.bits = 33;
  CHECK_THROWS_AS(click_log_hasher(bad), mlsd::config_error);
}

TEST_CASE("merge_duplicate_indices and the line writers", "[data][synthetic]") {
  sparse_row row;
  row.label = 1.0f;
  row.push_back(0, 5, 1.0f);
  row.push_back(1, 2, 1.0f);
  row.push_back(2, 5, 0.5f);
  std::string ffm;
  mlsd::data::append_libffm_line(ffm, row);
  CHECK(ffm == "1 0:5:1 1:2:1 2:5:0.5\n");
  CHECK(mlsd::data::merge_duplicate_indices(row) == 1);
  CHECK(row.indices == u32s{2, 5});
  CHECK(row.values == floats{1.0f, 1.5f});
  CHECK(row.fields.empty());
  std::string svm;
  mlsd::data::append_libsvm_line(svm, row);
  mlsd::data::append_libsvm_line(svm, row, 0);
  CHECK(svm == "1 3:1 6:1.5\n1 2:1 5:1.5\n");

  sparse_row no_fields;
  no_fields.push_back(1, 1.0f);
  std::string out;
  CHECK_THROWS_AS(mlsd::data::append_libffm_line(out, no_fields), mlsd::input_error);

  criteo_record r;
  r.label = 0.0f;
  r.integers[0] = 5;
  r.integers[12] = -1;
  r.categories[0] = 0xabu;
  r.categories[25] = 0xdeadbeefu;
  std::string tsv;
  mlsd::data::append_criteo_tsv_line(tsv, r);
  std::string expected = "0\t5";
  expected += std::string(11, '\t');
  expected += "\t-1\t000000ab";
  expected += std::string(25, '\t');
  expected += "deadbeef\n";
  CHECK(tsv == expected);
}

TEST_CASE("synthetic_click_log: the three formats parse back", "[data][synthetic]") {
  const temp_dir dir("formats");
  const synthetic_click_log log(small_config(300, 21));
  click_log_hasher::config hc;
  hc.bits = 12; // small: hash collisions inside rows do occur
  const click_log_hasher hasher(hc);
  std::string tsv, svm, ffm;
  std::vector<criteo_record> records;
  std::vector<sparse_row> ffm_rows, svm_rows;
  std::size_t merged = 0;
  for (std::uint64_t i = 0; i < 300; ++i) {
    const synthetic_click c = log.record(i);
    records.push_back(c.features);
    mlsd::data::append_criteo_tsv_line(tsv, c.features);
    sparse_row x;
    hasher.encode(c.features, x);
    ffm_rows.push_back(x);
    mlsd::data::append_libffm_line(ffm, x);
    merged += mlsd::data::merge_duplicate_indices(x);
    svm_rows.push_back(x);
    mlsd::data::append_libsvm_line(svm, x);
  }
  CHECK(merged > 0); // 39 columns in 4096 buckets: some rows collide

  mlsd::data::criteo_source tsv_source(dir.write("log.tsv", tsv));
  const auto tsv_back = mlsd_test::read_all(tsv_source, 64);
  REQUIRE(tsv_back.size() == 300);
  for (std::size_t i = 0; i < 300; ++i) {
    CHECK(tsv_back[i] == records[i]);
  }

  mlsd::data::libffm_source ffm_source(dir.write("log.ffm", ffm));
  const auto ffm_back = mlsd_test::read_all(ffm_source, 64);
  REQUIRE(ffm_back.size() == 300);
  for (std::size_t i = 0; i < 300; ++i) {
    CHECK(ffm_back[i].nnz() == 39);
    CHECK(ffm_back[i].label == ffm_rows[i].label);
    CHECK(ffm_back[i].fields == ffm_rows[i].fields);
    CHECK(ffm_back[i].indices == ffm_rows[i].indices);
    CHECK(ffm_back[i].values == ffm_rows[i].values);
  }

  mlsd::data::libsvm_source svm_source(dir.write("log.svm", svm)); // 1-based
  const auto svm_back = mlsd_test::read_all(svm_source, 64);
  REQUIRE(svm_back.size() == 300);
  std::size_t entries = 0;
  for (std::size_t i = 0; i < 300; ++i) {
    CHECK(svm_back[i].label == svm_rows[i].label);
    CHECK(svm_back[i].indices == svm_rows[i].indices);
    CHECK(svm_back[i].values == svm_rows[i].values);
    entries += svm_back[i].nnz();
  }
  CHECK(svm_source.unsorted_rows() == 0);
  CHECK(entries + merged == 300 * 39); // merged entries are accounted for, none lost
}
