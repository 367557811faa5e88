/// @file
/// Non-owning views of dense row-major matrices, the layout of embedding tables.
#pragma once

#include <mlsd/core/version.hpp>

#include <cassert>
#include <cstddef>
#include <span>
#include <type_traits>

MLSD_BEGIN_NAMESPACE

/// A non-owning view of a dense row-major `rows × cols` matrix whose rows start `stride` elements
/// apart (`stride >= cols`; padding between rows is never read).
///
/// This is the layout of an embedding table (one item per row) and of a batch of queries. It is a
/// trivially copyable value: pass it by value. It does not own or check the memory it points to.
template <class T>
class matrix_view {
public:
  using value_type = std::remove_cv_t<T>;
  using element_type = T;

  constexpr matrix_view() noexcept = default;

  /// Views `rows × cols` elements at `data`, rows `stride` elements apart (default: `cols`).
  constexpr matrix_view(T* data, std::size_t rows, std::size_t cols, std::size_t stride) noexcept
      : data_(data)
      , rows_(rows)
      , cols_(cols)
      , stride_(stride) {
    assert(stride >= cols);
  }
  constexpr matrix_view(T* data, std::size_t rows, std::size_t cols) noexcept
      : matrix_view(data, rows, cols, cols) {}

  /// A view of a mutable matrix converts to a view of a const one.
  template <class U>
  requires(std::is_same_v<const U, T> &&
           !std::is_same_v<U, T>) constexpr matrix_view(matrix_view<U> other) noexcept
      : matrix_view(other.data(), other.rows(), other.cols(), other.stride()) {}

  [[nodiscard]] constexpr T* data() const noexcept { return data_; }
  [[nodiscard]] constexpr std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] constexpr std::size_t cols() const noexcept { return cols_; }
  [[nodiscard]] constexpr std::size_t stride() const noexcept { return stride_; }
  [[nodiscard]] constexpr bool empty() const noexcept { return rows_ == 0 || cols_ == 0; }

  /// Row `i` as a span of `cols()` elements. Precondition: `i < rows()`.
  [[nodiscard]] constexpr std::span<T> row(std::size_t i) const noexcept {
    assert(i < rows_);
    return {data_ + i * stride_, cols_};
  }
  [[nodiscard]] constexpr T& operator()(std::size_t i, std::size_t j) const noexcept {
    assert(i < rows_ && j < cols_);
    return data_[i * stride_ + j];
  }

  /// Rows `[first, first + count)` as a view. Precondition: `first + count <= rows()`.
  [[nodiscard]] constexpr matrix_view subrows(std::size_t first, std::size_t count) const noexcept {
    assert(first + count <= rows_);
    return {data_ + first * stride_, count, cols_, stride_};
  }

private:
  T* data_ = nullptr;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  std::size_t stride_ = 0;
};

template <class T>
matrix_view(T*, std::size_t, std::size_t) -> matrix_view<T>;
template <class T>
matrix_view(T*, std::size_t, std::size_t, std::size_t) -> matrix_view<T>;

MLSD_END_NAMESPACE
