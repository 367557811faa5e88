// The LIBSVM source on real public files (MLSD_DATA_DIR; see tests/data/dataset.hpp): a9a (UCI
// Adult, Platt 1998) and agaricus (UCI Mushroom, the XGBoost / xLearn demo files). The expected
// counts come from each folder's SOURCE.txt and from awk over the files.
#include <mlsd/data/libsvm.hpp>

#include "dataset.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace {

struct file_facts {
  std::uint64_t rows = 0;
  std::uint64_t nnz = 0;
  std::uint64_t positives = 0; // label > 0
  std::uint64_t negatives = 0; // label == -1
  std::uint64_t zeros = 0;     // label == 0
  std::uint32_t max_index = 0; // counted from 0
  std::uint64_t unsorted = 0;
  std::uint64_t blank = 0;
  mlsd::sparse_row first;
};

file_facts scan(const std::filesystem::path& path) {
  mlsd::data::libsvm_source source(path);
  std::vector<mlsd::sparse_row> rows(512);
  file_facts f;
  while (const std::size_t n = source.read(rows)) {
    if (f.rows == 0) {
      f.first = rows[0];
    }
    for (std::size_t i = 0; i < n; ++i) {
      const auto& r = rows[i];
      ++f.rows;
      f.nnz += r.nnz();
      f.positives += r.label == 1.0f ? 1 : 0;
      f.negatives += r.label == -1.0f ? 1 : 0;
      f.zeros += r.label == 0.0f ? 1 : 0;
      if (!r.indices.empty()) {
        f.max_index = std::max(f.max_index, r.indices.back());
      }
    }
  }
  CHECK(source.report().accepted == f.rows);
  CHECK(source.report().skipped == 0);
  f.unsorted = source.unsorted_rows();
  f.blank = source.blank_lines();
  return f;
}

using idx = std::vector<std::uint32_t>;

} // namespace

TEST_CASE("libsvm on a9a: 32,561 / 16,281 rows, 123 features, labels +1 / -1",
          "[data][parser][real]") {
  const auto dir = mlsd_test::dataset("libsvm-a9a");
  if (!dir) {
    return;
  }
  const file_facts train = scan(*dir / "a9a");
  CHECK(train.rows == 32'561);
  CHECK(train.positives == 7'841);
  CHECK(train.negatives == 24'720);
  CHECK(train.nnz == 451'592);
  CHECK(train.max_index + 1 == 123); // file index 123, stored from 0
  CHECK(train.unsorted == 0);
  CHECK(train.blank == 0);
  // First line: "-1 3:1 11:1 14:1 19:1 39:1 42:1 55:1 64:1 67:1 73:1 75:1 76:1 80:1 83:1 "
  CHECK(train.first.label == -1.0f);
  CHECK(train.first.indices == idx{2, 10, 13, 18, 38, 41, 54, 63, 66, 72, 74, 75, 79, 82});
  CHECK(std::all_of(train.first.values.begin(), train.first.values.end(),
                    [](float v) { return v == 1.0f; }));

  const file_facts test = scan(*dir / "a9a.t");
  CHECK(test.rows == 16'281);
  CHECK(test.positives == 3'846);
  CHECK(test.negatives == 12'435);
  CHECK(test.max_index + 1 == 123);
  // a9a.t's first line ends with "123:0", LIBSVM's dimension marker: kept as an explicit zero.
  REQUIRE(test.first.nnz() == 15);
  CHECK(test.first.indices.back() == 122);
  CHECK(test.first.values.back() == 0.0f);
}

TEST_CASE("libsvm on agaricus: 6,513 / 1,611 rows, 126 features, labels 0 / 1",
          "[data][parser][real]") {
  const auto dir = mlsd_test::dataset("libsvm-agaricus");
  if (!dir) {
    return;
  }
  const file_facts train = scan(*dir / "agaricus_train.txt");
  CHECK(train.rows == 6'513);
  CHECK(train.positives == 3'140);
  CHECK(train.zeros == 3'373);
  CHECK(train.nnz == 143'286);
  CHECK(train.max_index + 1 == 126);

  const file_facts test = scan(*dir / "agaricus_test.txt");
  CHECK(test.rows == 1'611);
  CHECK(test.positives == 776);
  CHECK(test.max_index + 1 == 126);
  // First line: "0 1:1 9:1 19:1 21:1 24:1 34:1 36:1 39:1 42:1 53:1 56:1 65:1 69:1 77:1 86:1 88:1
  // 92:1 95:1 102:1 106:1 117:1 122:1"
  CHECK(test.first.label == 0.0f);
  CHECK(test.first.indices == idx{0,  8,  18, 20, 23, 33, 35, 38,  41,  52,  55,
                                  64, 68, 76, 85, 87, 91, 94, 101, 105, 116, 121});

  // The same file through read_batch, in CSR batches of 1,000 rows.
  mlsd::data::libsvm_source source(*dir / "agaricus_test.txt");
  mlsd::sparse_batch batch;
  std::uint64_t rows = 0;
  std::uint64_t nnz = 0;
  std::size_t batches = 0;
  while (const std::size_t n = source.read_batch(batch, 1'000)) {
    rows += n;
    nnz += batch.nnz();
    ++batches;
  }
  CHECK(rows == 1'611);
  CHECK(batches == 2);
  CHECK(nnz == test.nnz);
}
