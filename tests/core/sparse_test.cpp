// Sparse rows and CSR batches.
#include <mlsd/core/sparse.hpp>

#include <catch2/catch.hpp>

#include <vector>

TEST_CASE("sparse_batch stores rows in CSR form", "[core][sparse]") {
  mlsd::sparse_batch b;
  CHECK(b.empty());
  b.start_row(1.0f);
  b.push_back(3, 0.5f);
  b.push_back(7, 1.0f);
  b.finish_row();
  b.start_row(-1.0f);
  b.finish_row(); // an empty row is a row
  b.start_row(0.0f);
  b.push_back(2, 2.0f);
  b.finish_row();
  REQUIRE(b.size() == 3);
  CHECK(b.nnz() == 3);
  CHECK(std::vector<std::size_t>(b.offsets().begin(), b.offsets().end()) ==
        std::vector<std::size_t>{0, 2, 2, 3});
  const auto r0 = b.row(0);
  CHECK(r0.label == 1.0f);
  CHECK(std::vector<std::uint32_t>(r0.indices.begin(), r0.indices.end()) ==
        std::vector<std::uint32_t>{3, 7});
  CHECK(r0.values[1] == 1.0f);
  CHECK(b[1].nnz() == 0);
  CHECK(b[1].label == -1.0f);
  CHECK(b[2].indices[0] == 2);
  CHECK_FALSE(b.has_fields());
  CHECK_FALSE(r0.has_fields());
}

TEST_CASE("sparse_batch discards a half-built row", "[core][sparse]") {
  mlsd::sparse_batch b;
  b.start_row(1.0f);
  b.push_back(1, 1.0f);
  b.finish_row();
  b.start_row(0.0f);
  b.push_back(5, 1.0f);
  b.push_back(6, 1.0f);
  b.discard_row();
  b.start_row(0.5f);
  b.push_back(9, 3.0f);
  b.finish_row();
  REQUIRE(b.size() == 2);
  CHECK(b.nnz() == 2);
  CHECK(b[1].label == 0.5f);
  CHECK(b[1].indices[0] == 9);
  b.clear();
  CHECK(b.empty());
  CHECK(b.offsets().size() == 1);
}

TEST_CASE("sparse rows with fields (libffm) keep fields aligned", "[core][sparse]") {
  mlsd::sparse_row r;
  r.label = 1.0f;
  r.push_back(0, 10, 1.0f);
  r.push_back(2, 11, 0.5f);
  CHECK(r.view().has_fields());
  mlsd::sparse_batch b;
  b.push_back(r.view());
  mlsd::sparse_row plain;
  plain.push_back(4, 1.0f);
  b.push_back(plain); // a row without fields in a batch with fields gets field 0
  REQUIRE(b.has_fields());
  CHECK(b[0].fields[1] == 2);
  CHECK(b[0].indices[1] == 11);
  CHECK(b[1].fields.size() == 1);
  CHECK(b[1].fields[0] == 0);
  const auto capacity = r.indices.capacity();
  r.clear();
  CHECK(r.nnz() == 0);
  CHECK(r.indices.capacity() == capacity);
}
