// record_encoder (include/mlsd/data/feature_encoder.hpp): expected rows are computed by hand in the
// comments, or, where hashing is involved, with the single transforms' public API, built here
// independently of the encoder.
#include <mlsd/data/csv.hpp>
#include <mlsd/data/feature_encoder.hpp>
#include <mlsd/data/memory_source.hpp>

#include "dataset.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace mlsd::data;
using mlsd::config_error;
using mlsd::input_error;
using mlsd::sparse_row;

// A training file with numeric, categorical, id, text and label columns, and missing cells.
// Line 1 is the header, so record k (1-based) is on line k + 1.
const char* const training_csv = "user_id,age,income,country,device,message,label\n"
                                 "101,23,52000,US,mobile,Win a FREE phone,spam\n"
                                 "102,35,,FR,desktop,lunch today?,ham\n"
                                 "103,,61000,US,,see you at lunch,ham\n"
                                 ",41,48000,DE,mobile,free lunch,spam\n";

csv_config table_config() {
  csv_config cfg;
  cfg.schema = record_schema({{"user_id", column_type::int64, true},
                              {"age", column_type::float64, true},
                              {"income", column_type::float64, true},
                              {"country", column_type::string, true},
                              {"device", column_type::string, true},
                              {"message", column_type::string, true},
                              {"label", column_type::string, true}});
  return cfg;
}

std::vector<record> read_csv(const std::string& text, const std::string& name = "train.csv") {
  auto src = csv_source::from_string(text, table_config(), {}, name);
  return read_all(src);
}

hashing_vectorizer::config text_config() {
  hashing_vectorizer::config c;
  c.feature = "message"; // what the encoder names an unnamed vectorizer
  c.hash_bits = 7;
  return c;
}

record_encoder_config encoder_config(bool output_fields = false) {
  record_encoder_config c;
  c.schema = table_config().schema;
  c.label = {.column = "label", .positive = {"spam"}, .negative = {"ham"}, .threshold = {}};
  c.columns = {
      numeric_spec{.columns = {"age"},
                   .scaling = numeric_scaling::standard,
                   .missing = missing_policy::impute,
                   .impute = impute_strategy::mean,
                   .indicator = true},
      numeric_spec{.columns = {"income"},
                   .scaling = numeric_scaling::none,
                   .missing = missing_policy::impute,
                   .impute = impute_strategy::median},
      numeric_spec{.columns = {"income"},
                   .scaling = numeric_scaling::quantile_buckets,
                   .missing = missing_policy::skip,
                   .buckets = 2},
      categorical_spec{.columns = {"country", "device"},
                       .missing = missing_policy::skip,
                       .bits = 8,
                       .crosses = {{"country", "device"}}},
      id_spec{.columns = {"user_id"}, .bits = 6, .missing = missing_policy::skip},
      text_spec{.column = "message", .vectorizer = text_config()},
      categorical_spec{.columns = {"country"},
                       .encoding = categorical_encoding::vocabulary,
                       .missing = missing_policy::impute,
                       .min_count = 2},
  };
  c.output_fields = output_fields;
  return c;
}

// Block offsets, by hand: age 2 (value, indicator), income 1, income buckets 2, hashed 2^8,
// ids 2^6, text 2^7, vocabulary 1 OOV + 1 value (US, the only country seen twice).
constexpr std::uint32_t age_at = 0, income_at = 2, bucket_at = 3, hashed_at = 5, id_at = 261,
                        text_at = 325, vocab_at = 453, dimension = 455;

// The expected row, entry by entry, in block order.
struct expected_row {
  sparse_row row;
  void add(std::uint32_t index, float value) { row.push_back(index, value); }
  void add(const sparse_row& block, std::uint32_t offset) {
    for (std::size_t i = 0; i < block.nnz(); ++i) {
      row.push_back(block.indices[i] + offset, block.values[i]);
    }
  }
};

void require_equal(const sparse_row& got, const sparse_row& want) {
  CHECK(got.label == want.label);
  REQUIRE(got.indices == want.indices);
  REQUIRE(got.values == want.values); // bit for bit
  CHECK(got.fields == want.fields);
}

} // namespace

TEST_CASE("record_encoder: a hand-made CSV encodes to hand-computed rows", "[data][encoder]") {
  const std::vector<record> train = read_csv(training_csv);
  REQUIRE(train.size() == 4);
  record_encoder enc(encoder_config());
  const record_encoder_fit_report report = enc.fit(train);

  CHECK(enc.dimension() == dimension);
  CHECK(report.rows == 4);
  CHECK(report.positive_labels == 2);
  CHECK(report.missing_labels == 0);
  // used columns in first-use order: age, income, country, device, user_id, message
  CHECK(report.columns ==
        std::vector<std::string>{"age", "income", "country", "device", "user_id", "message"});
  CHECK(report.missing == std::vector<std::uint64_t>{1, 1, 0, 1, 1, 0});
  CHECK(report.sampled.empty());
  REQUIRE(report.vocabularies.size() == 1);
  CHECK(report.vocabularies[0].distinct == 3);
  CHECK(report.vocabularies[0].kept == 1);
  CHECK(report.vocabularies[0].oov_values == 2);

  // age: observed 23, 35, 41, mean 33; the missing one is imputed with 33, so the scaler sees
  // 23, 35, 33, 41: mean 33, population variance (100 + 4 + 0 + 64) / 4 = 42.
  const double age_std = std::sqrt(42.0);
  CHECK(enc.transform<imputer>(0).statistic() == 33.0);
  CHECK(enc.transform<standard_scaler>(0).mean() == 33.0);
  CHECK(enc.transform<standard_scaler>(0).std_dev() == age_std);
  // income: observed 52000, 61000, 48000, median 52000.
  CHECK(enc.transform<imputer>(1).statistic() == 52000.0);
  // buckets of income (skip): the type-7 median of {48000, 52000, 61000} is 52000.
  REQUIRE(enc.transform<quantile_bucketizer>(2).boundaries().size() == 1);
  CHECK(enc.transform<quantile_bucketizer>(2).boundaries()[0] == 52000.0);

  // Independent single transforms for the hashed blocks.
  const feature_hasher hasher(feature_hasher_config{.bits = 8,
                                                    .seed = 0,
                                                    .fields = {"country", "device"},
                                                    .crosses = {{"country", "device"}},
                                                    .sign_hash = false,
                                                    .output_fields = false,
                                                    .missing_token = {}});
  const feature_hasher ids(feature_hasher_config{.bits = 6,
                                                 .seed = 0,
                                                 .fields = {"user_id"},
                                                 .crosses = {},
                                                 .sign_hash = false,
                                                 .output_fields = false,
                                                 .missing_token = {}});
  hashing_vectorizer text(text_config());
  const std::vector<std::string> messages = {"Win a FREE phone", "lunch today?", "see you at lunch",
                                             "free lunch"};
  text.fit(messages);
  CHECK(enc.transform<hashing_vectorizer>(5).to_json() == text.to_json());

  const auto hashed = [&](std::string_view country, std::string_view device) {
    const std::vector<std::string_view> row = {country, device};
    return hasher(row);
  };

  std::vector<expected_row> want(4);
  // Record 1: age 23, income 52000 (bucket 1), US/mobile, id 101, spam.
  want[0].add(age_at, static_cast<float>((23.0 - 33.0) / age_std));
  want[0].add(income_at, 52000.0f);
  want[0].add(bucket_at + 1, 1.0f);
  want[0].add(hashed("US", "mobile"), hashed_at);
  want[0].add(id_at + ids.bucket(0, std::uint64_t{101}), 1.0f);
  want[0].add(text(messages[0]), text_at);
  want[0].add(vocab_at + 1, 1.0f); // US: the vocabulary's only value, after 1 OOV index
  want[0].row.label = 1.0f;
  // Record 2: income missing: imputed 52000 in block 1, skipped in the buckets.
  want[1].add(age_at, static_cast<float>((35.0 - 33.0) / age_std));
  want[1].add(income_at, 52000.0f);
  want[1].add(hashed("FR", "desktop"), hashed_at);
  want[1].add(id_at + ids.bucket(0, std::uint64_t{102}), 1.0f);
  want[1].add(text(messages[1]), text_at);
  want[1].add(vocab_at + 0, 1.0f); // FR: seen once, below min_count 2: OOV
  // Record 3: age missing: imputed 33 -> 0, and the indicator at index 1; device missing: the
  // hasher skips the device and the cross.
  want[2].add(age_at, 0.0f);
  want[2].add(age_at + 1, 1.0f);
  want[2].add(income_at, 61000.0f);
  want[2].add(bucket_at + 1, 1.0f);
  want[2].add(hashed("US", ""), hashed_at);
  want[2].add(id_at + ids.bucket(0, std::uint64_t{103}), 1.0f);
  want[2].add(text(messages[2]), text_at);
  want[2].add(vocab_at + 1, 1.0f);
  // Record 4: user id missing (skipped); income 48000 in bucket 0.
  want[3].add(age_at, static_cast<float>((41.0 - 33.0) / age_std));
  want[3].add(income_at, 48000.0f);
  want[3].add(bucket_at + 0, 1.0f);
  want[3].add(hashed("DE", "mobile"), hashed_at);
  want[3].add(text(messages[3]), text_at);
  want[3].add(vocab_at + 0, 1.0f);
  want[3].row.label = 1.0f;

  const std::size_t skipped[] = {0, 1, 2, 1};
  CHECK(hashed("US", "").nnz() == 1); // country only: no device, so no cross
  for (std::size_t i = 0; i < 4; ++i) {
    INFO("record " << i + 1);
    sparse_row got;
    const encode_stats stats = enc.encode(train[i], got);
    CHECK(stats.skipped == skipped[i]);
    CHECK_FALSE(stats.label_missing);
    require_equal(got, want[i].row);
    require_equal(enc(train[i]), want[i].row);
  }
}

TEST_CASE("record_encoder: the vocabulary and TF-IDF states equal the single transforms' fits",
          "[data][encoder]") {
  const std::vector<record> train = read_csv(training_csv);
  record_encoder enc(encoder_config());
  enc.fit(train);
  vocabulary vocab(vocabulary_config{.fields = {"country"},
                                     .min_count = 2,
                                     .max_size = 0,
                                     .oov_buckets = 1,
                                     .seed = 0,
                                     .output_fields = false,
                                     .missing_token = "<missing>"});
  const std::vector<std::string_view> us = {"US"}, fr = {"FR"}, de = {"DE"};
  const std::vector<std::span<const std::string_view>> rows = {us, fr, us, de};
  vocab.fit(rows);
  CHECK(enc.transform<vocabulary>(6).to_json() == vocab.to_json());
  CHECK_THROWS_AS(enc.transform<vocabulary>(0), std::invalid_argument);
}

TEST_CASE("record_encoder: training and serving encode bit for bit alike after a JSON round trip",
          "[data][encoder]") {
  const std::vector<record> train = read_csv(training_csv);
  record_encoder trained(encoder_config(true));
  trained.fit(train);
  const std::string saved = trained.to_json().dump();
  const record_encoder served = record_encoder::from_json(nlohmann::json::parse(saved));
  CHECK(served.to_json().dump() == saved);
  CHECK(served.dimension() == trained.dimension());

  // Held out: unseen countries, ids and words, missing cells, a missing label (a request).
  const std::vector<record> held_out = read_csv("user_id,age,income,country,device,message,label\n"
                                                "999,70,1000000,JP,tablet,call me now,\n"
                                                ",,,,,,ham\n"
                                                "-5,0,0,US,mobile,FREE FREE lunch!!,spam\n",
                                                "held_out.csv");
  REQUIRE(held_out.size() == 3);
  record_encoder::scratch scratch;
  sparse_row a, b;
  for (const record& r : held_out) {
    if (r.is_missing("message")) {
      CHECK_THROWS_AS(trained.encode(r, a), input_error); // text spec: missing is an error
      CHECK_THROWS_AS(served.encode(r, b), input_error);
      continue;
    }
    a.clear();
    b.clear();
    const encode_stats sa = trained.encode(r, a);
    const encode_stats sb = served.encode(r, b, scratch);
    CHECK(sa.skipped == sb.skipped);
    CHECK(sa.label_missing == sb.label_missing);
    require_equal(a, b);
    CHECK(a.fields.size() == a.indices.size());
  }
  a.clear();
  CHECK(trained.encode(held_out[0], a).label_missing);
  CHECK(a.label == 0.0f);
  // The unseen country JP goes to the vocabulary's OOV index.
  CHECK(std::find(a.indices.begin(), a.indices.end(), vocab_at) != a.indices.end());
}

TEST_CASE("record_encoder: blocks never overlap and dimension() bounds every index",
          "[data][encoder]") {
  const std::vector<record> train = read_csv(training_csv);
  record_encoder enc(encoder_config(true));
  enc.fit(train);
  REQUIRE(enc.block_count() == 7);
  const std::uint32_t offsets[] = {age_at, income_at, bucket_at, hashed_at,
                                   id_at,  text_at,   vocab_at};
  std::uint64_t end = 0;
  for (std::size_t b = 0; b < enc.block_count(); ++b) {
    CHECK(enc.block_offset(b) == offsets[b]);
    CHECK(enc.block_offset(b) == end);
    end += enc.block_width(b);
  }
  CHECK(end == enc.dimension());
  // Field ids by hand: age, income, income (buckets), country, device, country x device, user_id,
  // message, country (vocabulary).
  const std::uint32_t fields[] = {0, 1, 2, 3, 6, 7, 8};
  for (std::size_t b = 0; b < enc.block_count(); ++b) {
    CHECK(enc.block_field(b) == fields[b]);
  }
  CHECK(enc.field_count() == 9);
  // Each entry's field says which block wrote it; its index lies inside that block's range.
  for (const record& r : train) {
    const sparse_row row = enc(r);
    REQUIRE(row.fields.size() == row.nnz());
    for (std::size_t i = 0; i < row.nnz(); ++i) {
      CHECK(row.indices[i] < enc.dimension());
      std::size_t b = 0;
      while (b + 1 < enc.block_count() && enc.block_field(b + 1) <= row.fields[i]) {
        ++b;
      }
      CHECK(row.indices[i] >= enc.block_offset(b));
      CHECK(row.indices[i] < enc.block_offset(b) + enc.block_width(b));
    }
  }
}

TEST_CASE("record_encoder: a streaming fit over a source equals the fit over a span",
          "[data][encoder]") {
  const std::vector<record> train = read_csv(training_csv);
  record_encoder from_span(encoder_config());
  from_span.fit(train);
  auto src = csv_source::from_string(training_csv, table_config(), {}, "train.csv");
  record_encoder streamed(encoder_config());
  const auto report = streamed.fit(src, 3); // chunks of 3 records: 3 + 1
  CHECK(report.rows == 4);
  CHECK(streamed.to_json() == from_span.to_json());

  // A sample of 2 for 3 observed incomes: the buckets come from a sample, and the report says so.
  record_encoder_config small = encoder_config();
  small.sample_size = 2;
  record_encoder sampled(small);
  const auto sampled_report = sampled.fit(train);
  // Both income specs: the median imputation (4 values: 3 observed, 1 to impute) and the buckets.
  CHECK(sampled_report.sampled ==
        std::vector<std::string>{"columns[1].income", "columns[2].income"});
}

TEST_CASE("record_encoder: configuration errors name the field", "[data][encoder]") {
  const auto field_of = [](record_encoder_config c) {
    try {
      record_encoder e(std::move(c));
    } catch (const config_error& e) {
      return e.field();
    }
    return std::string("no error");
  };
  {
    record_encoder_config c = encoder_config();
    std::get<categorical_spec>(c.columns[3]).columns[1] = "browser"; // not in the schema
    CHECK(field_of(c) == "record_encoder.columns[3].columns[1]");
    try {
      record_encoder e(c);
    } catch (const config_error& e) {
      CHECK_THAT(e.what(), Catch::Contains("'browser'"));
    }
  }
  {
    record_encoder_config c = encoder_config();
    c.columns.push_back(numeric_spec{.columns = {"age", "message"}}); // a text column as numeric
    CHECK(field_of(c) == "record_encoder.columns[7].columns[1]");
  }
  {
    record_encoder_config c = encoder_config();
    c.columns.push_back(text_spec{.column = "age"});
    CHECK(field_of(c) == "record_encoder.columns[7].column");
  }
  {
    record_encoder_config c = encoder_config();
    c.columns.push_back(categorical_spec{.columns = {"label"}}); // the label as a feature
    CHECK(field_of(c) == "record_encoder.columns[7].columns[0]");
  }
  {
    record_encoder_config c = encoder_config();
    c.label.positive.clear();
    CHECK(field_of(c) == "record_encoder.label.positive");
  }
  {
    record_encoder_config c = encoder_config();
    std::get<categorical_spec>(c.columns[3]).crosses = {{"country", "user_id"}};
    CHECK(field_of(c) == "record_encoder.columns[3].crosses[0][1]");
  }
  {
    record_encoder_config c = encoder_config();
    std::get<id_spec>(c.columns[4]).missing = missing_policy::impute;
    CHECK(field_of(c) == "record_encoder.columns[4].missing");
  }
  // From JSON: an unknown key, and an unknown kind.
  nlohmann::json j = record_encoder(encoder_config()).to_json();
  j["config"]["columns"][0]["scale"] = "standard";
  CHECK_THROWS_AS(record_encoder::from_json(j), config_error);
  j = record_encoder(encoder_config()).to_json();
  j["config"]["columns"][0]["kind"] = "numerical";
  CHECK_THROWS_WITH(record_encoder::from_json(j),
                    Catch::Contains("record_encoder.columns[0].kind"));
  // A saved block whose settings disagree with the config.
  record_encoder fitted(encoder_config());
  fitted.fit(read_csv(training_csv));
  j = fitted.to_json();
  j["blocks"][4]["config"]["bits"] = 7;
  CHECK_THROWS_WITH(record_encoder::from_json(j), Catch::Contains("record_encoder.blocks[4]"));
}

TEST_CASE("record_encoder: input errors name the column and the line", "[data][encoder]") {
  record_encoder_config c = encoder_config();
  std::get<numeric_spec>(c.columns[0]).missing = missing_policy::error; // age: no policy
  std::get<numeric_spec>(c.columns[0]).indicator = false;
  record_encoder enc(c);
  const std::vector<record> train = read_csv(training_csv);
  try {
    enc.fit(train);
    FAIL("expected an input_error");
  } catch (const input_error& e) {
    CHECK(e.where().field == "age");
    CHECK(e.where().line == 4); // record 3, after the header
    CHECK(e.found() == "missing");
  }
  CHECK_FALSE(enc.fitted()); // a failed fit leaves the encoder as it was

  record_encoder ok(encoder_config());
  sparse_row unused;
  CHECK_THROWS_AS(ok.encode(train[0], unused), mlsd::not_fitted_error);
  ok.fit(train);
  const auto bad = read_csv("user_id,age,income,country,device,message,label\n"
                            "1,2,3,US,mobile,hi,maybe\n",
                            "serve.csv");
  try {
    (void)ok(bad[0]);
    FAIL("expected an input_error");
  } catch (const input_error& e) {
    CHECK(e.where().field == "label");
    CHECK(e.where().line == 2);
    CHECK(e.found() == "maybe");
  }
  // A record of another schema.
  auto other = std::make_shared<const record_schema>(
      std::vector<column>{{"user_id", column_type::string, true}});
  const record wrong(other, {std::string("x")});
  CHECK_THROWS_AS(ok(wrong), input_error);
  // No records at all.
  record_encoder empty(encoder_config());
  CHECK_THROWS_AS(empty.fit(std::span<const record>()), input_error);
}

TEST_CASE("record_encoder: numeric labels, thresholds and min-max / log1p scaling",
          "[data][encoder]") {
  auto schema = std::make_shared<const record_schema>(
      std::vector<column>{{"clicks", column_type::int64}, {"score", column_type::float64}});
  record_encoder_config c;
  c.schema = *schema;
  c.label = {.column = "score", .positive = {}, .negative = {}, .threshold = 0.5};
  c.columns = {numeric_spec{.columns = {"clicks"}, .scaling = numeric_scaling::min_max},
               numeric_spec{.columns = {"clicks"}, .scaling = numeric_scaling::log1p}};
  const std::vector<record> rows = {record(schema, {std::int64_t{0}, 0.2}),
                                    record(schema, {std::int64_t{4}, 0.5}),
                                    record(schema, {std::int64_t{2}, 0.9})};
  record_encoder enc(c);
  const auto report = enc.fit(rows);
  CHECK(report.positive_labels == 2);
  // min 0, max 4: 2 -> 0.5; log1p(2) = ln 3.
  const sparse_row r = enc(rows[2]);
  CHECK(r.label == 1.0f);
  CHECK(r.indices == std::vector<std::uint32_t>{0, 1});
  CHECK(r.values == std::vector<float>{0.5f, static_cast<float>(std::log(3.0))});
  CHECK(enc(rows[0]).label == 0.0f);
  const record negative(schema, {std::int64_t{-1}, 0.0});
  CHECK_THROWS_AS(enc(negative), input_error); // log1p of a negative count
  c.label.threshold.reset();                   // the raw value, for regression
  record_encoder raw(c);
  raw.fit(rows);
  CHECK(raw(rows[2]).label == 0.9f);
}

TEST_CASE("real data: the SMS Spam Collection through one record_encoder",
          "[data][encoder][real_data]") {
  const auto dir = mlsd_test::dataset("sms-spam-collection");
  if (!dir) {
    return;
  }
  csv_config cfg;
  cfg.delimiter = '\t';
  cfg.quoting = false;
  cfg.has_header = false;
  cfg.schema = record_schema({{"label", column_type::string}, {"text", column_type::string}});
  record_encoder_config c;
  c.schema = cfg.schema;
  c.label = {.column = "label", .positive = {"spam"}, .negative = {"ham"}, .threshold = {}};
  c.columns = {text_spec{.column = "text"}}; // TF-IDF, unigrams and bigrams, L2
  record_encoder enc(c);
  csv_source fit_source(*dir / "SMSSpamCollection", cfg);
  const auto report = enc.fit(fit_source);
  CHECK(report.rows == 5574);
  CHECK(report.positive_labels == 747);

  csv_source sms(*dir / "SMSSpamCollection", cfg);
  std::vector<record> batch(512);
  record_encoder::scratch scratch;
  sparse_row row;
  std::size_t rows = 0, not_unit = 0;
  std::vector<std::uint64_t> empty_lines;
  double labels = 0.0;
  while (const std::size_t n = sms.read(batch)) {
    for (std::size_t i = 0; i < n; ++i) {
      row.clear();
      enc.encode(batch[i], row, scratch);
      ++rows;
      labels += row.label;
      if (row.nnz() == 0) {
        empty_lines.push_back(batch[i].line());
        continue;
      }
      double norm = 0.0;
      for (const float v : row.values) {
        norm += static_cast<double>(v) * v;
      }
      not_unit += std::abs(std::sqrt(norm) - 1.0) > 1e-6 ? 1 : 0;
      for (const std::uint32_t index : row.indices) {
        REQUIRE(index < enc.dimension());
      }
    }
  }
  CHECK(rows == 5574);
  CHECK(labels == 747.0);
  // Every message with a word has features; the two without one (":)" and ":-) :-)", lines 3377
  // and 4825) have none, as the tokeniser drops punctuation.
  CHECK(empty_lines == std::vector<std::uint64_t>{3377, 4825});
  CHECK(not_unit == 0);
}

TEST_CASE("real data: the credit-card sample standardised by one record_encoder",
          "[data][encoder][real_data]") {
  const auto dir = mlsd_test::dataset("creditcard-fraud-sample");
  if (!dir) {
    return;
  }
  std::vector<column> columns{{"Time", column_type::float64}};
  for (int v = 1; v <= 28; ++v) {
    std::string name = "V";
    name += std::to_string(v);
    columns.push_back({name, column_type::float64});
  }
  columns.push_back({"Amount", column_type::float64});
  columns.push_back({"Class", column_type::int64});
  csv_config cfg;
  cfg.schema = record_schema(columns);
  numeric_spec features{.columns = {}, .scaling = numeric_scaling::standard};
  for (std::size_t k = 0; k + 1 < columns.size(); ++k) {
    features.columns.push_back(columns[k].name);
  }
  record_encoder_config c;
  c.schema = cfg.schema;
  c.label.column = "Class"; // the value itself, 0 or 1
  c.columns = {features};
  record_encoder enc(c);
  csv_source cards(*dir / "creditcard_small.csv", cfg);
  const std::vector<record> all = read_all(cards);
  REQUIRE(all.size() == 2952);
  enc.fit(all);
  CHECK(enc.dimension() == 30);

  // Over the training data, each standardised column has mean 0 and population std 1: checked in
  // double with the encoder's fitted scalers (naive two-pass sums), and the rows hold exactly those
  // values rounded to float.
  std::vector<double> sum(30, 0.0), sum_squares(30, 0.0);
  double labels = 0.0;
  sparse_row row;
  for (const record& r : all) {
    row.clear();
    enc.encode(r, row);
    labels += row.label;
    REQUIRE(row.nnz() == 30);
    for (std::uint32_t k = 0; k < 30; ++k) {
      REQUIRE(row.indices[k] == k);
      const double z = enc.transform<standard_scaler>(0, k)(r.get<double>(k));
      REQUIRE(row.values[k] == static_cast<float>(z));
      sum[k] += z;
    }
  }
  for (const record& r : all) {
    for (std::uint32_t k = 0; k < 30; ++k) {
      const double z = enc.transform<standard_scaler>(0, k)(r.get<double>(k));
      sum_squares[k] += (z - sum[k] / 2952.0) * (z - sum[k] / 2952.0);
    }
  }
  CHECK(labels == 492.0);
  for (std::size_t k = 0; k < 30; ++k) {
    INFO("column " << columns[k].name);
    CHECK(std::abs(sum[k] / 2952.0) < 1e-9);
    CHECK(std::abs(std::sqrt(sum_squares[k] / 2952.0) - 1.0) < 1e-9);
  }
}
