// The CSV source on real public data (MLSD_DATA_DIR, see ../shared/data/README.md): MovieLens
// ml-latest-small, the SMS Spam Collection and the credit-card fraud sample. Expected counts come
// from each folder's SOURCE.txt (and were checked independently with Python's csv module).
#include "dataset.hpp"

#include <mlsd/data/csv.hpp>
#include <mlsd/data/memory_source.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace {
using namespace mlsd::data;

std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}
} // namespace

TEST_CASE("real data: MovieLens ratings.csv", "[data][csv][real_data]") {
  const auto dir = mlsd_test::dataset("movielens-latest-small");
  if (!dir) {
    return;
  }
  csv_config cfg;
  cfg.schema = record_schema({{"userId", column_type::int64},
                              {"movieId", column_type::int64},
                              {"rating", column_type::float64},
                              {"timestamp", column_type::unix_seconds}});
  csv_source ratings(*dir / "ratings.csv", cfg); // CRLF line ends
  std::set<std::int64_t> users;
  std::set<std::int64_t> movies;
  std::uint64_t rows = 0;
  double rating_sum = 0;
  std::vector<record> batch(4096);
  record first;
  record last;
  while (const std::size_t n = ratings.read(batch)) {
    if (rows == 0) {
      first = batch[0];
    }
    for (std::size_t i = 0; i < n; ++i) {
      users.insert(batch[i].get<std::int64_t>(0));
      movies.insert(batch[i].get<std::int64_t>(1));
      rating_sum += batch[i].get<double>(2);
    }
    rows += n;
    last = batch[n - 1];
  }
  CHECK(rows == 100836);
  CHECK(users.size() == 610);
  CHECK(movies.size() == 9724);
  CHECK(rating_sum == 353083.0); // halves and wholes: exact in double
  CHECK(ratings.report().accepted == 100836);
  CHECK(ratings.report().skipped == 0);
  CHECK(first.get<std::int64_t>("movieId") == 1);
  CHECK(first.get<double>("rating") == 4.0);
  CHECK(first.get<mlsd::event_time>("timestamp") == mlsd::event_time::from_seconds(964982703));
  CHECK(last.get<std::int64_t>("userId") == 610);
  CHECK(last.get<std::int64_t>("movieId") == 170875);
  CHECK(last.get<mlsd::event_time>("timestamp") == mlsd::event_time::from_seconds(1493846415));
  CHECK(last.line() == 100837);
}

TEST_CASE("real data: MovieLens movies.csv has quoted commas and quotes",
          "[data][csv][real_data]") {
  const auto dir = mlsd_test::dataset("movielens-latest-small");
  if (!dir) {
    return;
  }
  csv_config cfg;
  cfg.schema = record_schema({{"movieId", column_type::int64},
                              {"title", column_type::string},
                              {"genres", column_type::string}});
  csv_source movies(*dir / "movies.csv", cfg);
  const auto all = read_all(movies);
  REQUIRE(all.size() == 9742);
  CHECK(all[10].get<std::int64_t>("movieId") == 11);
  CHECK(all[10].get<std::string>("title") == "American President, The (1995)");
  CHECK(all[10].get<std::string>("genres") == "Comedy|Drama|Romance");
  std::size_t with_comma = 0;
  std::size_t non_ascii = 0;
  const std::string* quoted = nullptr;
  const std::string* lost_children = nullptr;
  for (const record& r : all) {
    const std::string& title = r.get<std::string>(1);
    with_comma += title.find(',') != std::string::npos ? 1 : 0;
    non_ascii += std::any_of(title.begin(), title.end(), [](char c) { return c < 0; }) ? 1 : 0;
    if (r.get<std::int64_t>(0) == 7789) {
      quoted = &title;
    }
    if (r.get<std::int64_t>(0) == 29) {
      lost_children = &title;
    }
  }
  CHECK(with_comma == 2079);
  CHECK(non_ascii == 293);
  REQUIRE(quoted != nullptr);
  CHECK(*quoted == "11'09\"01 - September 11 (2002)"); // written "11'09""01 - ..." in the file
  REQUIRE(lost_children != nullptr);
  CHECK(*lost_children == "City of Lost Children, The (Cit\xC3\xA9 des enfants perdus, La) (1995)");
  CHECK(all.back().get<std::int64_t>(0) == 193609);
  CHECK(all.back().get<std::string>(1) == "Andrew Dice Clay: Dice Rules (1991)");
}

TEST_CASE("real data: SMS Spam Collection, tab-separated without quoting",
          "[data][csv][real_data]") {
  const auto dir = mlsd_test::dataset("sms-spam-collection");
  if (!dir) {
    return;
  }
  csv_config cfg;
  cfg.delimiter = '\t';
  cfg.quoting = false;
  cfg.has_header = false;
  cfg.schema = record_schema({{"label", column_type::string}, {"text", column_type::string}});
  const auto path = *dir / "SMSSpamCollection";
  csv_source sms(path, cfg);
  const auto all = read_all(sms);
  REQUIRE(all.size() == 5574);
  std::size_t spam = 0;
  std::size_t with_quote = 0;
  std::size_t non_ascii = 0;
  for (const record& r : all) {
    spam += r.get<std::string>("label") == "spam" ? 1 : 0;
    const std::string& text = r.get<std::string>("text");
    with_quote += text.find('"') != std::string::npos ? 1 : 0;
    non_ascii += std::any_of(text.begin(), text.end(), [](char c) { return c < 0; }) ? 1 : 0;
  }
  CHECK(spam == 747);
  CHECK(all.size() - spam == 4827);
  CHECK(with_quote > 0);
  CHECK(non_ascii == 483);
  // Byte-exact: every message equals its line after the first tab, as read by the standard
  // library.
  const auto lines = lines_of(path);
  REQUIRE(lines.size() == all.size());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    differ += lines[i].substr(lines[i].find('\t') + 1) == all[i].get<std::string>(1) ? 0 : 1;
  }
  CHECK(differ == 0);
  CHECK(all[5].get<std::string>(1).find("\xC2\xA3"
                                        "1.50 to rcv") != std::string::npos); // "£1.50"
}

TEST_CASE("real data: credit-card fraud sample, 30 numeric features and Class",
          "[data][csv][real_data]") {
  const auto dir = mlsd_test::dataset("creditcard-fraud-sample");
  if (!dir) {
    return;
  }
  std::vector<column> columns{{"Time", column_type::float64}};
  for (int v = 1; v <= 28; ++v) {
    std::string name = "V"; // not "V" + to_string(v): g++ 12's false -Wrestrict at -O3
    name += std::to_string(v);
    columns.push_back({std::move(name), column_type::float64});
  }
  columns.push_back({"Amount", column_type::float64});
  columns.push_back({"Class", column_type::int64});
  csv_config cfg;
  cfg.schema = record_schema(std::move(columns));
  csv_source cards(*dir / "creditcard_small.csv", cfg); // CRLF line ends
  CHECK(cards.header().size() == 31);
  const auto all = read_all(cards);
  REQUIRE(all.size() == 2952);
  std::size_t frauds = 0;
  for (const record& r : all) {
    frauds += r.get<std::int64_t>("Class") == 1 ? 1 : 0;
  }
  CHECK(frauds == 492);
  CHECK(all[0].get<double>("Time") == 41923.0);
  CHECK(all[0].get<double>("V1") == -0.57641929381694);
  CHECK(all[0].get<double>("Amount") == 27.0);
  CHECK(all.back().get<double>("Time") == 41694.0);
  CHECK(all.back().get<double>("Amount") == 53.9);
  CHECK(all.back().get<std::int64_t>("Class") == 0);
}
