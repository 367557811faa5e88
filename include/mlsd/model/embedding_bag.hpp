/// @file
/// An embedding bag: the mean of the embedding rows of a request's (hashed) feature ids, the
/// simplest user tower of a two-tower retrieval model.
#pragma once

#include <mlsd/core/matrix_view.hpp>
#include <mlsd/core/stage.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/requirements/budget.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace model {

/// Encodes a bag of feature ids as the mean of their embedding rows: `ids` are taken modulo the
/// table's row count (the hashing trick: ids may be 64-bit hashes). An empty bag encodes as the
/// zero vector. The result is a view into the stage's buffer, valid until its next call (not
/// thread-safe; copy per thread).
/// Complexity: O(|ids| · d), one row read per id.
class embedding_bag : public stage_tag {
public:
  using input_type = std::span<const std::uint64_t>;
  using output_type = std::span<const float>;

  /// @throws std::invalid_argument if the table has no rows or no columns.
  explicit embedding_bag(matrix_view<const float> table)
      : table_(table)
      , sum_(table.cols()) {
    if (table.empty()) {
      throw std::invalid_argument("mlsd::model::embedding_bag: the embedding table is empty");
    }
  }

  output_type operator()(input_type ids) noexcept {
    const std::size_t d = table_.cols();
    float* out = sum_.data();
    for (std::size_t j = 0; j < d; ++j) {
      out[j] = 0.0f;
    }
    for (const std::uint64_t id : ids) {
      const float* row = table_.row(static_cast<std::size_t>(id % table_.rows())).data();
      for (std::size_t j = 0; j < d; ++j) {
        out[j] += row[j];
      }
    }
    if (!ids.empty()) {
      const float inverse = 1.0f / static_cast<float>(ids.size());
      for (std::size_t j = 0; j < d; ++j) {
        out[j] *= inverse;
      }
    }
    return sum_;
  }

  /// Per id: one row read and d additions.
  [[nodiscard]] cost_model cost() const noexcept {
    const double d = static_cast<double>(table_.cols());
    return {.bytes_per_item = 4 * d, .flops_per_item = d};
  }

  [[nodiscard]] std::size_t dim() const noexcept { return table_.cols(); }

private:
  matrix_view<const float> table_;
  std::vector<float> sum_;
};

static_assert(stage<embedding_bag> && costed_stage<embedding_bag>);

} // namespace model
MLSD_END_NAMESPACE
