// The data steps of the ad click case study (step 3 of the framework): where the impressions come
// from, how they get their labels, how they are split in time, and the features each one gets:
// the hashed Criteo columns with crosses, history features read point-in-time from the feature
// store, and real-time windowed CTR features.
//
// Two sources end in the same `click_dataset`:
// - `build_synthetic`: impressions from data::synthetic_click_log, clicks from them with random
//   delays, labels from data::attribution_labeler, the whole feature pipeline;
// - `load_directory`: Criteo TSV (train.tsv, optional dev.tsv, test.tsv) or LIBSVM / libffm
//   (train and test) files, labelled already, with no user, ad or time columns: only hashing (for
//   Criteo) or the given features (LIBSVM, libffm).
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/time.hpp>
#include <mlsd/data/criteo.hpp>
#include <mlsd/data/feature_store.hpp>
#include <mlsd/data/hashing.hpp>
#include <mlsd/data/labeling.hpp>
#include <mlsd/data/libffm.hpp>
#include <mlsd/data/libsvm.hpp>
#include <mlsd/data/point_in_time.hpp>
#include <mlsd/data/split.hpp>
#include <mlsd/data/synthetic_click_log.hpp>
#include <mlsd/data/windowed.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <queue>
#include <string>
#include <vector>

namespace ad_click {

namespace data = mlsd::data;
using mlsd::event_time;
using mlsd::known_at_time;
using nlohmann::json;

/// Everything the model steps need: the three periods as CSR rows (unit-norm values, fields
/// when the source has them), the truth where it is known, and what each data step reported.
struct click_dataset {
  std::string source;
  bool synthetic = false;
  mlsd::sparse_batch train, test, stream;
  /// The ground truth's probability of an *attributed* click, per test and stream row
  /// (synthetic data only; empty otherwise).
  std::vector<float> test_truth, stream_truth;
  /// A slice key per test row (the ad position, "1" .. "4+"); empty when the source has none.
  std::vector<std::string> test_slices;
  std::size_t features = 0;
  /// Field count for FFM; 0 when the rows have no fields (LIBSVM).
  std::size_t fields = 0;
  /// The hasher's configuration (what a server must rebuild); null for LIBSVM / libffm.
  json feature_encoder;
  /// What each step did, for the terminal summary and report.json.
  json steps = json::object();
  /// The last request contexts the serving demonstration replays (column ids, synthetic only).
  std::vector<std::vector<std::uint64_t>> serving_contexts;
  /// Per ad (by rank, from 1): its latest ids of the ad columns and ad features (C2 and the
  /// feature-store and real-time ad features), what a server would read for a candidate.
  std::vector<std::array<std::uint64_t, 4>> ad_features;
};

/// The settings of the synthetic pipeline (the command line's --rows, --seed, --bits).
struct synthetic_settings {
  std::uint64_t rows = 500'000;
  std::uint64_t seed = 1;
  std::uint32_t bits = 16;
};

// Column and feature names: the 39 Criteo columns, then the history features.
inline constexpr std::size_t criteo_columns = 39;
inline constexpr std::array<const char*, 6> history_fields = {
    "user_ctr_store", "user_impressions_store", "ad_ctr_store", "ad_impressions_store",
    "ad_ctr_30m",     "user_impressions_30m"};
inline constexpr std::size_t feature_fields = criteo_columns + history_fields.size();

/// The generator settings the case study uses: modest cardinalities (500 users, 100 ads, at most
/// 50 values per other field) so that 500,000 rows are enough to learn the pairwise
/// interactions; a drift over the last fifth; a 2.8-hour span. Everything else is the generator's
/// default.
[[nodiscard]] inline data::synthetic_click_log_config
generator_config(const synthetic_settings& s) {
  data::synthetic_click_log_config c;
  c.rows = s.rows;
  c.seed = s.seed;
  c.users = 500;
  c.ads = 100;
  c.max_cardinality = 50;
  // The log spans the same 10,000 seconds (2.8 hours) whatever its size, so that the windows,
  // the batch jobs and the split keep their shape: 20 ms between impressions for 500,000 rows.
  c.mean_gap_us = std::max<std::int64_t>(1, static_cast<std::int64_t>(10'000'000'000 / s.rows));
  c.drift_fraction = 0.2;
  return c;
}

/// The feature hasher: 45 fields (39 Criteo columns, 6 history features) and two crosses,
/// user x ad and ad x position (Chapelle et al. 2014 hash such conjunctions for LR).
[[nodiscard]] inline data::feature_hasher make_hasher(std::uint32_t bits) {
  data::feature_hasher_config h;
  h.bits = bits;
  h.output_fields = true;
  // Built as prefix += number: `"I" + std::to_string(...)` trips g++ 12's false -Wrestrict at -O3.
  for (std::size_t j = 0; j < 13; ++j) {
    std::string name(1, 'I');
    name += std::to_string(j + 1);
    h.fields.push_back(std::move(name));
  }
  for (std::size_t j = 0; j < 26; ++j) {
    std::string name(1, 'C');
    name += std::to_string(j + 1);
    h.fields.push_back(std::move(name));
  }
  for (const char* f : history_fields) {
    h.fields.emplace_back(f);
  }
  h.crosses = {{"C1", "C2"}, {"C2", "C3"}};
  return data::feature_hasher(std::move(h));
}

/// The 39 column ids of a Criteo record as `click_log_hasher` defines them: integers through
/// `criteo_numeric_bucket`, categories by value, a missing column as `missing_id`.
inline void column_ids(const data::criteo_record& r, std::uint64_t* out) {
  for (std::size_t j = 0; j < data::criteo_record::integer_count; ++j) {
    out[j] = r.integers[j] ? static_cast<std::uint64_t>(data::criteo_numeric_bucket(*r.integers[j]))
                           : data::click_log_hasher::missing_id;
  }
  for (std::size_t f = 0; f < data::criteo_record::categorical_count; ++f) {
    out[13 + f] = r.categories[f] ? *r.categories[f] : data::click_log_hasher::missing_id;
  }
}

/// A CTR as a categorical id: its logit in steps of 0.25 (so that a linear model can give each
/// range its own weight); `missing_id` when there is no value.
[[nodiscard]] inline std::uint64_t ctr_bucket(std::optional<double> ctr) {
  if (!ctr) {
    return data::click_log_hasher::missing_id;
  }
  const double p = std::clamp(*ctr, 1e-4, 1.0 - 1e-4);
  return static_cast<std::uint64_t>(std::floor(std::log(p / (1.0 - p)) * 4.0) + 1000.0);
}
/// A count as a categorical id: floor(log2(1 + n)).
[[nodiscard]] inline std::uint64_t count_bucket(std::optional<double> n) {
  if (!n) {
    return data::click_log_hasher::missing_id;
  }
  return static_cast<std::uint64_t>(std::floor(std::log2(1.0 + std::max(0.0, *n))));
}

/// `row` scaled to unit L2 norm (libffm's and xLearn's instance normalisation, Juan et al. 2016
/// section 3.4), appended to `out` with its fields when it has them.
inline void append_unit_norm(mlsd::sparse_batch& out, const mlsd::sparse_row& row) {
  double squares = 0.0;
  for (const float v : row.values) {
    squares += static_cast<double>(v) * v;
  }
  const float scale = squares > 0.0 ? static_cast<float>(1.0 / std::sqrt(squares)) : 1.0f;
  out.start_row(row.label);
  for (std::size_t i = 0; i < row.nnz(); ++i) {
    if (row.fields.empty()) {
      out.push_back(row.indices[i], row.values[i] * scale);
    } else {
      out.push_back(row.fields[i], row.indices[i], row.values[i] * scale);
    }
  }
  out.finish_row();
}

// --- the synthetic pipeline -------------------------------------------------------------------

/// Click delays: 95% exponential with a 1-minute mean, 5% with a 20-minute mean (a slow tail,
/// e.g. a user who comes back to the tab). Under the 10-minute attribution window a click is
/// attributed with probability `attributed_share`.
inline constexpr double fast_delay_mean_s = 60.0;
inline constexpr double slow_delay_mean_s = 1200.0;
inline constexpr double slow_delay_share = 0.05;
inline constexpr auto attribution_window = std::chrono::minutes(10);
inline constexpr double click_without_id_share = 0.05;

[[nodiscard]] inline double attributed_share() {
  const double w = std::chrono::duration<double>(attribution_window).count();
  return (1.0 - slow_delay_share) * (1.0 - std::exp(-w / fast_delay_mean_s)) +
         slow_delay_share * (1.0 - std::exp(-w / slow_delay_mean_s));
}

struct pending_click {
  event_time time;
  data::outcome click;
  bool operator>(const pending_click& o) const { return time > o.time; }
};

/// The whole data pipeline on the generated log; `progress` prints one line per step.
template <class Progress>
[[nodiscard]] click_dataset build_synthetic(const synthetic_settings& s, Progress&& progress) {
  using namespace std::chrono;
  click_dataset out;
  out.synthetic = true;
  const data::synthetic_click_log log(generator_config(s));
  const std::uint64_t n = log.size();
  out.source = "synthetic click log (" + std::to_string(n) + " impressions, seed " +
               std::to_string(s.seed) + ")";
  out.steps["generator"] = log.settings().to_json();

  // 1. Impressions and click events, labelled by the attribution labeler as a stream.
  std::vector<event_time> time(n);
  std::vector<std::uint64_t> user(n), ad(n);
  std::vector<std::uint32_t> position(n);
  std::vector<double> truth(n);
  std::vector<float> label(n, 0.0f);
  std::vector<known_at_time> known_at(n);
  std::vector<std::int64_t> click_us(n, -1); // when the impression's click happened, if it did
  data::attribution_labeler labeler({.window = attribution_window});
  std::priority_queue<pending_click, std::vector<pending_click>, std::greater<>> clicks;
  std::vector<data::labeled_impression> done;
  std::uint64_t generated_clicks = 0;
  const auto take = [&](std::vector<data::labeled_impression>& examples) {
    for (const auto& e : examples) {
      label[e.impression_id] = e.label;
      known_at[e.impression_id] = e.label_known_at;
    }
    examples.clear();
  };
  data::synthetic_click c;
  for (std::uint64_t i = 0; i < n; ++i) {
    log.generate(i, c);
    time[i] = c.time;
    user[i] = c.user;
    ad[i] = c.ad;
    position[i] = c.position;
    truth[i] = c.true_probability;
    while (!clicks.empty() && clicks.top().time <= c.time) {
      labeler.add(clicks.top().click);
      clicks.pop();
    }
    labeler.add(
        data::impression{.impression_id = i, .user_id = c.user, .ad_id = c.ad, .time = c.time});
    if (c.clicked()) {
      ++generated_clicks;
      data::detail::splitmix64 rng(data::detail::splitmix64::hash(s.seed ^ 0x636c69636bULL, i));
      const double mean = rng.uniform() < slow_delay_share ? slow_delay_mean_s : fast_delay_mean_s;
      const double delay_s = -mean * std::log1p(-rng.uniform());
      data::outcome o{.user_id = c.user,
                      .ad_id = c.ad,
                      .time =
                          c.time + mlsd::time_span_us(static_cast<std::int64_t>(delay_s * 1e6))};
      if (rng.uniform() >= click_without_id_share) {
        o.impression_id = i;
      }
      clicks.push({o.time, o});
      click_us[i] = o.time.micros();
    }
    if ((i & 1023) == 1023) {
      labeler.advance_watermark(c.time, done);
      take(done);
    }
  }
  while (!clicks.empty()) {
    labeler.add(clicks.top().click);
    clicks.pop();
  }
  labeler.advance_watermark(time.back() + hours(24), done);
  take(done);
  const auto& lr = labeler.report();
  out.steps["labeling"] = {{"attribution_window_minutes", 10},
                           {"generated_clicks", generated_clicks},
                           {"impressions", lr.impressions},
                           {"labeled", lr.labeled},
                           {"positives", lr.positives},
                           {"outcomes_attributed", lr.outcomes_attributed},
                           {"outcomes_after_window", lr.outcomes_after_window},
                           {"orphan_outcomes", lr.orphan_outcomes},
                           {"expected_attributed_share", attributed_share()},
                           {"summary", lr.summary()}};
  progress("label", lr.summary());

  // 2. The time split: train before the cutoff minus a gap of one attribution window (so that
  //    every training label is final before the test period), test from the cutoff to the
  //    drift, the drifted part as the online-learning stream.
  const std::uint64_t drift_start = log.drift_start();
  const event_time cutoff = time[static_cast<std::size_t>(static_cast<double>(n) * 0.6)];
  const data::index_split split = data::time_split(
      std::span<const event_time>(time.data(), drift_start),
      {.cutoff = cutoff, .gap = duration_cast<mlsd::time_span_us>(attribution_window)});
  const data::leakage_report time_check =
      data::check_time_split(split, std::span<const event_time>(time.data(), drift_start));
  const data::leakage_report label_check =
      data::check_label_availability(split, std::span<const event_time>(time.data(), drift_start),
                                     std::span<const known_at_time>(known_at.data(), drift_start));
  if (!time_check.ok() || !label_check.ok()) {
    throw std::runtime_error("the time split leaks: " + time_check.summary() + "; " +
                             label_check.summary());
  }
  out.steps["split"] = {{"train_rows", split.train.size()},
                        {"gap_rows_excluded", split.excluded.size()},
                        {"test_rows", split.test.size()},
                        {"stream_rows", n - drift_start},
                        {"cutoff_us", cutoff.micros()},
                        {"leakage_check", "no leakage (times and label availability)"}};
  progress("split",
           std::to_string(split.train.size()) + " train, " + std::to_string(split.excluded.size()) +
               " in the gap, " + std::to_string(split.test.size()) + " test, " +
               std::to_string(n - drift_start) + " drifted stream; " + label_check.summary());

  // 3. The offline feature store: every 15 minutes a batch job writes each user's and ad's
  //    smoothed CTR and impression count from the labels final by then; the values become known
  //    5 minutes after the job's time (its run time), and live for a day.
  const auto batch_every = minutes(15);
  const auto batch_delay = minutes(5);
  data::feature_history<double> history;
  const double prior_mean = 0.2;
  const double prior_weight = 20.0;
  {
    struct counts {
      double impressions = 0, clicks = 0;
      bool dirty = false;
    };
    std::vector<counts> users(log.settings().users + 1), ads(log.settings().ads + 1);
    std::uint64_t next = 0; // next impression whose label is not yet counted
    for (event_time b = time.front() + batch_every; b <= time.back() + batch_every;
         b += batch_every) {
      while (next < n && mlsd::is_known_by(known_at[next], b)) {
        for (auto* e : {&users[user[next]], &ads[ad[next]]}) {
          e->impressions += 1;
          e->clicks += label[next];
          e->dirty = true;
        }
        ++next;
      }
      const known_at_time known = mlsd::known_after(b, batch_delay);
      const auto write = [&](const char* kind, std::vector<counts>& table) {
        for (std::size_t id = 0; id < table.size(); ++id) {
          if (!table[id].dirty) {
            continue;
          }
          table[id].dirty = false;
          const double ctr = (table[id].clicks + prior_mean * prior_weight) /
                             (table[id].impressions + prior_weight);
          const std::string k = kind;
          history.add({{k, id}, k + ".ctr"}, {ctr, b, known, hours(24)});
          history.add({{k, id}, k + ".impressions"}, {table[id].impressions, b, known, hours(24)});
        }
      };
      write("user", users);
      write("ad", ads);
    }
  }
  std::vector<data::labelled_event<float>> user_events(n), ad_events(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    user_events[i] = {{"user", user[i]}, time[i], label[i]};
    ad_events[i] = {{"ad", ad[i]}, time[i], label[i]};
  }
  const std::vector<std::string> user_features = {"user.ctr", "user.impressions"};
  const std::vector<std::string> ad_features = {"ad.ctr", "ad.impressions"};
  const auto user_table = data::point_in_time_join(user_events, history, user_features);
  const auto ad_table = data::point_in_time_join(ad_events, history, ad_features);
  user_events = {};
  ad_events = {};
  json joins = json::object();
  for (const auto* t : {&user_table, &ad_table}) {
    for (std::size_t f = 0; f < t->features.size(); ++f) {
      const auto& k = t->counts[f];
      joins[t->features[f]] = {{"found", k.found},
                               {"none_yet", k.none_yet},
                               {"all_expired", k.all_expired},
                               {"only_known_later", k.only_known_later}};
    }
  }
  out.steps["feature_store"] = {{"history_rows", history.size()},
                                {"batch_every_minutes", 15},
                                {"known_after_minutes", 5},
                                {"point_in_time_join", joins}};
  progress("feature store", std::to_string(history.size()) + " history rows; user.ctr found for " +
                                std::to_string(user_table.counts[0].found) + " of " +
                                std::to_string(n) + " impressions (" +
                                std::to_string(user_table.counts[0].only_known_later) +
                                " only known later, " +
                                std::to_string(user_table.counts[0].none_yet) + " none yet)");

  // 4. Real-time windowed features and encoding, in event-time order: each impression reads its
  //    ad's 30-minute CTR and its user's 30-minute impressions *before* it is counted; clicks
  //    enter when they happen (so the real-time CTR lags by the click delay, as it does live).
  data::windowed_config wc;
  wc.windows = {{"30m", data::window_kind::sliding, minutes(30), minutes(1)}};
  wc.ctr_prior = {prior_mean * prior_weight, (1.0 - prior_mean) * prior_weight};
  data::windowed_features<std::uint64_t> ad_rt(wc), user_rt(wc);
  std::priority_queue<std::pair<event_time, std::uint64_t>,
                      std::vector<std::pair<event_time, std::uint64_t>>, std::greater<>>
      click_times; // (time, ad) of generated clicks, entering the real-time counts
  const data::feature_hasher hasher = make_hasher(s.bits);
  out.feature_encoder = hasher.to_json();
  out.features = hasher.dimension();
  out.fields = hasher.field_count();
  const double share = attributed_share();
  std::vector<std::uint64_t> ids(feature_fields);
  mlsd::sparse_row row;
  std::size_t next_train = 0, next_test = 0;
  out.ad_features.assign(log.settings().ads + 1, {});
  for (std::uint64_t i = 0; i < n; ++i) {
    log.generate(i, c);
    while (!click_times.empty() && click_times.top().first <= c.time) {
      ad_rt.add(click_times.top().second, {.time = click_times.top().first, .clicks = 1});
      click_times.pop();
    }
    column_ids(c.features, ids.data());
    const auto value = [](const data::as_of_value<double>& v) -> std::optional<double> {
      return v.found() ? std::optional<double>(v.value->value) : std::nullopt;
    };
    ids[39] = ctr_bucket(value(user_table.at(i, 0)));
    ids[40] = count_bucket(value(user_table.at(i, 1)));
    ids[41] = ctr_bucket(value(ad_table.at(i, 0)));
    ids[42] = count_bucket(value(ad_table.at(i, 1)));
    const auto ad_now = ad_rt.query(c.ad, 0, c.time);
    ids[43] = ctr_bucket(ad_now.impressions > 0 ? std::optional<double>(ad_now.smoothed_ctr)
                                                : std::nullopt);
    ids[44] = count_bucket(static_cast<double>(user_rt.query(c.user, 0, c.time).count));
    ad_rt.add(c.ad, {.time = c.time, .impressions = 1});
    user_rt.add(c.user, {.time = c.time, .value = 1.0});
    if (click_us[i] >= 0) {
      click_times.push({event_time::from_micros(click_us[i]), c.ad});
    }

    out.ad_features[c.ad] = {ids[14], ids[41], ids[42], ids[43]};
    row.clear();
    row.label = label[i];
    hasher.encode_ids(ids, row);
    const bool in_train = next_train < split.train.size() && split.train[next_train] == i;
    const bool in_test = next_test < split.test.size() && split.test[next_test] == i;
    if (in_train) {
      ++next_train;
      append_unit_norm(out.train, row);
    } else if (in_test) {
      ++next_test;
      append_unit_norm(out.test, row);
      out.test_truth.push_back(static_cast<float>(truth[i] * share));
      out.test_slices.push_back(position[i] >= 4 ? std::string("4+") : std::to_string(position[i]));
    } else if (i >= drift_start) {
      append_unit_norm(out.stream, row);
      out.stream_truth.push_back(static_cast<float>(truth[i] * share));
    }
    if (i + 200 >= drift_start && i < drift_start) {
      out.serving_contexts.push_back(ids);
    }
  }
  const auto& counters = ad_rt.counters();
  out.steps["windowed"] = {{"window", "30m sliding, 1-minute buckets"},
                           {"ad_events_applied", counters.applied},
                           {"ad_events_late_dropped", counters.late_dropped},
                           {"ad_events_future_dropped", counters.future_dropped},
                           {"ads_tracked", ad_rt.size()},
                           {"users_tracked", user_rt.size()}};
  out.steps["hashing"] = {
      {"bits", s.bits},
      {"fields", hasher.field_count()},
      {"crosses", json::array({"C1 x C2 (user x ad)", "C2 x C3 (ad x position)"})},
      {"entries_per_row", out.train.empty() ? 0 : out.train.row(0).nnz()}};
  progress("features", std::to_string(hasher.field_count()) +
                           " fields per row (39 columns, 4 feature-store, 2 real-time, 2 crosses) "
                           "hashed into 2^" +
                           std::to_string(s.bits) + " buckets");
  return out;
}

// --- files --------------------------------------------------------------------------------------

/// The first existing file among `dir/name + each suffix`, or nothing.
[[nodiscard]] inline std::optional<std::filesystem::path>
find_file(const std::filesystem::path& dir, const std::string& name,
          std::initializer_list<const char*> suffixes) {
  for (const char* s : suffixes) {
    std::filesystem::path p = dir / (name + s);
    if (std::filesystem::is_regular_file(p)) {
      return p;
    }
  }
  return std::nullopt;
}

/// Whether the first non-blank line of `p` looks like libffm (`label f:i:v`) rather than LIBSVM.
[[nodiscard]] inline bool looks_like_libffm(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t first = line.find(':');
    if (first == std::string::npos) {
      continue;
    }
    const std::size_t space = line.find_first_of(" \t", first);
    const std::size_t second = line.find(':', first + 1);
    return second != std::string::npos && (space == std::string::npos || second < space);
  }
  return false;
}

/// Reads a Criteo TSV file into hashed, unit-norm rows. Malformed lines throw `input_error`
/// (file:line:column).
inline std::size_t read_criteo(const std::filesystem::path& p, const data::feature_hasher& hasher,
                               mlsd::sparse_batch& out) {
  data::criteo_source src(p);
  std::vector<data::criteo_record> records(512);
  std::vector<std::uint64_t> ids(feature_fields, data::click_log_hasher::missing_id);
  mlsd::sparse_row row;
  std::size_t rows = 0;
  while (const std::size_t got = src.read(records)) {
    for (std::size_t r = 0; r < got; ++r) {
      column_ids(records[r], ids.data());
      row.clear();
      row.label = records[r].label.value_or(0.0f);
      hasher.encode_ids(ids, row);
      append_unit_norm(out, row);
    }
    rows += got;
  }
  return rows;
}

/// Reads a LIBSVM or libffm file into unit-norm rows; returns the largest index and field + 1.
template <class Source>
std::pair<std::size_t, std::size_t> read_sparse(const std::filesystem::path& p,
                                                mlsd::sparse_batch& out) {
  Source src(p);
  std::vector<mlsd::sparse_row> rows(256);
  std::size_t features = 0, fields = 0;
  while (const std::size_t got = src.read(rows)) {
    for (std::size_t r = 0; r < got; ++r) {
      auto& x = rows[r];
      x.label = x.label > 0.0f ? 1.0f : 0.0f; // LIBSVM files often write -1 / +1
      for (const std::uint32_t j : x.indices) {
        features = std::max<std::size_t>(features, std::size_t{j} + 1);
      }
      for (const std::uint32_t f : x.fields) {
        fields = std::max<std::size_t>(fields, std::size_t{f} + 1);
      }
      append_unit_norm(out, x);
    }
  }
  return {features, fields};
}

/// Loads `dir`: Criteo TSV (train.tsv, optional dev.tsv, test.tsv) or LIBSVM / libffm (train and
/// test, with or without a .svm / .libsvm / .ffm / .txt suffix). The last quarter of the test
/// file is the online-learning stream. Throws std::runtime_error naming what is missing, and
/// input_error (file:line:column) for a malformed line.
template <class Progress>
[[nodiscard]] click_dataset load_directory(const std::filesystem::path& dir, std::uint32_t bits,
                                           Progress&& progress) {
  if (!std::filesystem::is_directory(dir)) {
    throw std::runtime_error("--data " + dir.string() + ": no such directory");
  }
  click_dataset out;
  mlsd::sparse_batch test;
  if (const auto train_tsv = find_file(dir, "train", {".tsv"})) {
    const auto test_path = find_file(dir, "test", {".tsv"});
    if (!test_path) {
      throw std::runtime_error("--data " + dir.string() +
                               ": train.tsv is there but test.tsv is missing");
    }
    const data::feature_hasher hasher = make_hasher(bits);
    out.feature_encoder = hasher.to_json();
    out.features = hasher.dimension();
    out.fields = hasher.field_count();
    const std::size_t n_train = read_criteo(*train_tsv, hasher, out.train);
    std::size_t n_dev = 0;
    if (const auto dev = find_file(dir, "dev", {".tsv"})) {
      n_dev = read_criteo(*dev, hasher, out.train); // dev joins training: no tuning here
    }
    read_criteo(*test_path, hasher, test);
    out.source = "Criteo TSV in " + dir.string();
    out.steps["files"] = {{"format", "criteo_tsv"},
                          {"train_rows", n_train},
                          {"dev_rows", n_dev},
                          {"test_rows", test.size()}};
  } else {
    const auto train = find_file(dir, "train", {"", ".svm", ".libsvm", ".ffm", ".libffm", ".txt"});
    const auto test_path =
        find_file(dir, "test", {"", ".svm", ".libsvm", ".ffm", ".libffm", ".txt"});
    if (!train || !test_path) {
      throw std::runtime_error(
          "--data " + dir.string() +
          ": expected train.tsv and test.tsv (Criteo), or train and test files in LIBSVM or "
          "libffm format (optionally .svm, .libsvm, .ffm, .libffm or .txt); found " +
          std::string(train ? "no test file" : "no train file"));
    }
    const bool ffm = looks_like_libffm(*train);
    const auto read = [&](const std::filesystem::path& p, mlsd::sparse_batch& b) {
      return ffm ? read_sparse<data::libffm_source>(p, b) : read_sparse<data::libsvm_source>(p, b);
    };
    const auto [f1, k1] = read(*train, out.train);
    const auto [f2, k2] = read(*test_path, test);
    out.features = std::max<std::size_t>(1, std::max(f1, f2));
    out.fields = ffm ? std::max<std::size_t>(1, std::max(k1, k2)) : 0;
    out.source = std::string(ffm ? "libffm" : "LIBSVM") + " files in " + dir.string();
    out.steps["files"] = {{"format", ffm ? "libffm" : "libsvm"},
                          {"train_rows", out.train.size()},
                          {"test_rows", test.size()}};
  }
  if (out.train.empty() || test.size() < 4) {
    throw std::runtime_error("--data " + dir.string() +
                             ": the train file needs at least 1 row and the test file 4");
  }
  // The files carry no user, ad or time: labels are given, the split is the files' order, and
  // there is no history to join.
  const std::size_t stream_from = test.size() - test.size() / 4;
  for (std::size_t r = 0; r < test.size(); ++r) {
    (r < stream_from ? out.test : out.stream).push_back(test.row(r));
  }
  out.steps["split"] = {{"train_rows", out.train.size()},
                        {"test_rows", out.test.size()},
                        {"stream_rows", out.stream.size()},
                        {"note", "file order is time order; the last quarter of the test file is "
                                 "the online-learning stream"}};
  out.steps["history_features"] =
      "skipped: the files carry no user or ad ids and no times (feature store and real-time "
      "windows need both)";
  progress("load", out.source + ": " + std::to_string(out.train.size()) + " train, " +
                       std::to_string(out.test.size()) + " test, " +
                       std::to_string(out.stream.size()) + " stream rows");
  return out;
}

} // namespace ad_click
