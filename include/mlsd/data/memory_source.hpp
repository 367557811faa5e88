/// @file
/// A source over records already in memory: tests, small lookup tables, and serving-time features
/// that the same pipeline code reads through the `data::source` interface as it reads files.
/// Also `read_all`, which drains any source into a vector.
#pragma once

#include <mlsd/core/roles.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/ingest.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace data {

/// Serves a vector of records through the `source` interface, in order, copying each into the
/// span handed to `read` (copy assignment, so a reused `record` keeps its strings' memory).
/// `rewind()` starts over (a second epoch). Every record is valid, so the report counts them all
/// as accepted. Not thread-safe (one reader per source); O(records copied) per `read`.
template <class Record>
requires std::is_copy_assignable_v<Record>
class memory_source : public data_source_tag {
public:
  using record_type = Record;

  memory_source() = default;
  /// Serves `records` in order.
  explicit memory_source(std::vector<Record> records)
      : records_(std::move(records)) {}

  /// Copies the next records into a prefix of `out` and returns how many (0 at the end).
  std::size_t read(std::span<Record> out) {
    const std::size_t n = std::min(out.size(), records_.size() - next_);
    std::copy_n(records_.begin() + static_cast<std::ptrdiff_t>(next_), n, out.begin());
    next_ += n;
    report_.accepted += n;
    return n;
  }

  /// Starts again from the first record (the report keeps counting).
  void rewind() noexcept { next_ = 0; }

  /// Records not yet served.
  [[nodiscard]] std::size_t remaining() const noexcept { return records_.size() - next_; }
  [[nodiscard]] std::size_t size() const noexcept { return records_.size(); }
  [[nodiscard]] const std::vector<Record>& records() const noexcept { return records_; }
  /// Records served so far (`accepted`); nothing is ever skipped.
  [[nodiscard]] const ingest_report& report() const noexcept { return report_; }

private:
  std::vector<Record> records_;
  std::size_t next_ = 0;
  ingest_report report_;
};

template <class Record>
memory_source(std::vector<Record>) -> memory_source<Record>;

static_assert(source<memory_source<int>>);

/// Reads every remaining record of `s` into a vector, `batch` records per `read` call. Memory is
/// the whole input: for tests, small tables, and turning a file into a `memory_source`.
template <source S>
requires std::default_initializable<typename S::record_type>
[[nodiscard]] std::vector<typename S::record_type> read_all(S& s, std::size_t batch = 1024) {
  std::vector<typename S::record_type> out;
  const std::size_t step = batch == 0 ? 1 : batch;
  for (;;) {
    const std::size_t have = out.size();
    out.resize(have + step);
    const std::size_t n = s.read(std::span(out).subspan(have, step));
    out.resize(have + n);
    if (n == 0) {
      return out;
    }
  }
}

} // namespace data
MLSD_END_NAMESPACE
