/// @file
/// Sparse rows: the data type between parsers, feature encoders and the sparse models (LR, FM,
/// FFM). A row is a label and parallel arrays of feature indices, values and (for field-aware
/// models, libffm's `field:index:value`) fields; a batch stores many rows in CSR form, the layout
/// the sparse kernels read (`kernels::sparse_dot` takes the index and value arrays directly).
#pragma once

#include <mlsd/core/version.hpp>

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

MLSD_BEGIN_NAMESPACE

/// A non-owning view of one sparse row. `fields` is empty when the row has no fields.
struct sparse_row_view {
  float label = 0.0f;
  std::span<const std::uint32_t> indices;
  std::span<const float> values;
  std::span<const std::uint32_t> fields;

  [[nodiscard]] std::size_t nnz() const noexcept { return indices.size(); }
  [[nodiscard]] bool has_fields() const noexcept { return !fields.empty(); }
};

/// One owned sparse row. Reusing a row (`clear()`) keeps its capacity, so reading a stream of rows
/// into the same objects allocates only while rows keep getting longer.
struct sparse_row {
  float label = 0.0f;
  std::vector<std::uint32_t> indices;
  std::vector<float> values;
  std::vector<std::uint32_t> fields;

  void clear() noexcept {
    label = 0.0f;
    indices.clear();
    values.clear();
    fields.clear();
  }
  void push_back(std::uint32_t index, float value) {
    indices.push_back(index);
    values.push_back(value);
  }
  void push_back(std::uint32_t field, std::uint32_t index, float value) {
    fields.push_back(field);
    indices.push_back(index);
    values.push_back(value);
  }
  [[nodiscard]] std::size_t nnz() const noexcept { return indices.size(); }
  [[nodiscard]] sparse_row_view view() const noexcept { return {label, indices, values, fields}; }
  operator sparse_row_view() const noexcept { return view(); }
};

/// Many sparse rows in CSR form: row `r` owns entries `[offsets[r], offsets[r+1])` of `indices`,
/// `values` and (when the batch has fields) `fields`. Rows are appended with `start_row`,
/// `push_back` and `finish_row`; a row being built can be abandoned with `discard_row` (a parser
/// in skip mode does this when it meets a bad record half-way).
class sparse_batch {
public:
  sparse_batch() { offsets_.push_back(0); }

  [[nodiscard]] std::size_t size() const noexcept { return labels_.size(); }
  [[nodiscard]] bool empty() const noexcept { return labels_.empty(); }
  [[nodiscard]] std::size_t nnz() const noexcept { return indices_.size(); }
  /// True when the rows carry fields (libffm).
  [[nodiscard]] bool has_fields() const noexcept { return !fields_.empty(); }

  [[nodiscard]] sparse_row_view row(std::size_t r) const noexcept {
    assert(r < size());
    const std::size_t b = offsets_[r], e = offsets_[r + 1];
    const std::span<const std::uint32_t> f =
        fields_.empty() ? std::span<const std::uint32_t>{}
                        : std::span<const std::uint32_t>(fields_).subspan(b, e - b);
    return {labels_[r], std::span<const std::uint32_t>(indices_).subspan(b, e - b),
            std::span<const float>(values_).subspan(b, e - b), f};
  }
  [[nodiscard]] sparse_row_view operator[](std::size_t r) const noexcept { return row(r); }

  void clear() noexcept {
    labels_.clear();
    offsets_.assign(1, 0);
    indices_.clear();
    values_.clear();
    fields_.clear();
    open_ = false;
  }
  void reserve(std::size_t rows, std::size_t nnz) {
    labels_.reserve(rows);
    offsets_.reserve(rows + 1);
    indices_.reserve(nnz);
    values_.reserve(nnz);
  }

  void start_row(float label) {
    assert(!open_);
    label_ = label;
    open_ = true;
  }
  void push_back(std::uint32_t index, float value) {
    assert(open_);
    indices_.push_back(index);
    values_.push_back(value);
  }
  void push_back(std::uint32_t field, std::uint32_t index, float value) {
    assert(open_);
    fields_.resize(indices_.size(), 0);
    fields_.push_back(field);
    indices_.push_back(index);
    values_.push_back(value);
  }
  void finish_row() {
    assert(open_);
    if (!fields_.empty()) {
      fields_.resize(indices_.size(), 0);
    }
    labels_.push_back(label_);
    offsets_.push_back(indices_.size());
    open_ = false;
  }
  void discard_row() noexcept {
    const std::size_t b = offsets_.back();
    indices_.resize(b);
    values_.resize(b);
    if (fields_.size() > b) {
      fields_.resize(b);
    }
    open_ = false;
  }
  /// Appends a whole row.
  void push_back(sparse_row_view r) {
    start_row(r.label);
    for (std::size_t i = 0; i < r.nnz(); ++i) {
      if (r.fields.empty()) {
        push_back(r.indices[i], r.values[i]);
      } else {
        push_back(r.fields[i], r.indices[i], r.values[i]);
      }
    }
    finish_row();
  }

  [[nodiscard]] std::span<const float> labels() const noexcept { return labels_; }
  [[nodiscard]] std::span<const std::size_t> offsets() const noexcept { return offsets_; }
  [[nodiscard]] std::span<const std::uint32_t> indices() const noexcept { return indices_; }
  [[nodiscard]] std::span<const float> values() const noexcept { return values_; }
  [[nodiscard]] std::span<const std::uint32_t> fields() const noexcept { return fields_; }

private:
  std::vector<float> labels_;
  std::vector<std::size_t> offsets_;
  std::vector<std::uint32_t> indices_;
  std::vector<float> values_;
  std::vector<std::uint32_t> fields_;
  float label_ = 0.0f;
  bool open_ = false;
};

MLSD_END_NAMESPACE
