/// @file
/// Stages and their composition with `|`: the typed pipeline that every framework step plugs
/// into.
///
/// A *stage* is a value type that turns one `input_type` into one `output_type`:
///
/// ```cpp
/// struct normalize : mlsd::stage_tag {
///   using input_type = std::span<const float>;
///   using output_type = std::vector<float>;
///   output_type operator()(input_type x) const;
/// };
/// ```
///
/// `a | b` composes two stages into a stage (a `pipeline`), like range adaptors; `a | b | c` is one
/// flat `pipeline<A, B, C>`. The output type of `a` must be exactly the input type of `b` (up to
/// `const` and references): types never convert silently at a stage boundary, because conversions
/// between unrelated types (Eigen expressions, spans, vectors) are exactly where training/serving
/// skew and hidden copies come from. A mismatch stops compilation at the `|` that wrote it, with a
/// message that names both types. A composed pipeline costs what the hand-written sequence of calls
/// costs (bench/pipeline_bench.cpp measures it).
#pragma once

#include <mlsd/core/version.hpp>

#include <concepts>
#include <cstddef>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

MLSD_BEGIN_NAMESPACE

/// Empty base of every mlsd stage and role tag. Deriving from it (directly, or through a role tag
/// such as `mlsd::retriever_tag`) also puts namespace `mlsd` among the type's associated
/// namespaces, so that `a | b` finds mlsd's `operator|` by argument-dependent lookup.
struct stage_tag {};

/// The input type of stage `S`.
template <class S>
using stage_input_t = typename S::input_type;

/// The output type of stage `S`.
template <class S>
using stage_output_t = typename S::output_type;

/// A stage: declares `input_type` and `output_type`, and calling it (as an lvalue) with an
/// `input_type` returns exactly `output_type`.
///
/// Semantics, not checked by the compiler:
/// - **Purity.** A call may update the stage's own scratch memory (a stage that returns a view into
///   its own buffer is the zero-copy idiom), but nothing a later call's result depends on, unless
///   the stage's documentation says it learns online.
/// - **Thread safety.** A stage object may not be called from two threads at once unless its
///   documentation says so; give each serving thread its own copy (copies of stages that view a
///   shared table are cheap). Stages whose call operator is `const` and touches no scratch
///   memory say "thread-safe" in their documentation.
/// - **Complexity** is documented per stage, per item of its input.
template <class S>
concept stage = std::is_object_v<S> && std::move_constructible<S> && requires {
  typename S::input_type;
  typename S::output_type;
} && std::invocable<S&, typename S::input_type> &&
    std::same_as < std::invoke_result_t<S&, typename S::input_type>,
typename S::output_type > ;

/// `A | B` type-checks: `A`'s output type is `B`'s input type (up to cv and references), and `B`
/// accepts what `A` returns.
template <class A, class B>
concept composable = stage<A> && stage<B> &&
    std::same_as<std::remove_cvref_t<stage_output_t<A>>, std::remove_cvref_t<stage_input_t<B>>> &&
    std::invocable<B&, stage_output_t<A>>;

namespace detail {

// Each check below is a class template whose arguments are the types involved, so that the
// compiler's "in instantiation of" note prints them beside the message.

template <class LeftOutput, class RightInput>
struct stage_boundary {
  static_assert(std::same_as<std::remove_cvref_t<LeftOutput>, std::remove_cvref_t<RightInput>>,
                "mlsd: cannot compose `a | b`: the output_type of the stage on the left is not the "
                "input_type of the stage on the right (both are named in "
                "'stage_boundary<left output, right input>' in the note above). Stages never "
                "convert types at a boundary; insert a stage that does the conversion.");
  static_assert(!std::same_as<std::remove_cvref_t<LeftOutput>, std::remove_cvref_t<RightInput>> ||
                    !std::is_lvalue_reference_v<RightInput> ||
                    std::is_const_v<std::remove_reference_t<RightInput>> ||
                    std::is_lvalue_reference_v<LeftOutput>,
                "mlsd: cannot compose `a | b`: the stage on the right takes its input by non-const "
                "lvalue reference, but the stage on the left returns a temporary.");
  static constexpr bool value = true;
};

template <class S>
struct stage_requirements {
  static constexpr bool has_input = requires { typename S::input_type; };
  static constexpr bool has_output = requires { typename S::output_type; };
  static_assert(std::is_object_v<S> && std::move_constructible<S>,
                "mlsd: a stage must be a move-constructible object type (see 'S' in "
                "'stage_requirements<S>' above)");
  static_assert(has_input, "mlsd: this type is not a stage: it does not declare `using input_type "
                           "= ...;` (see 'S' in 'stage_requirements<S>' above)");
  static_assert(has_output, "mlsd: this type is not a stage: it does not declare `using "
                            "output_type = ...;` (see 'S' in 'stage_requirements<S>' above)");
  static constexpr bool invocable = [] {
    if constexpr (has_input) {
      return std::invocable<S&, typename S::input_type>;
    } else {
      return false;
    }
  }();
  static_assert(!has_input || invocable,
                "mlsd: this type is not a stage: it cannot be called with its input_type (declare "
                "`output_type operator()(input_type)`; see 'S' in 'stage_requirements<S>' above)");
  static constexpr bool returns_output = [] {
    if constexpr (has_input && has_output && invocable) {
      return std::same_as<std::invoke_result_t<S&, typename S::input_type>,
                          typename S::output_type>;
    } else {
      return true;
    }
  }();
  static_assert(returns_output, "mlsd: this type is not a stage: calling it with its input_type "
                                "does not return exactly its output_type (see 'S' in "
                                "'stage_requirements<S>' above)");
  static constexpr bool value = true;
};

template <class T>
struct is_pipeline : std::false_type {};

template <class... S>
using first_of = std::tuple_element_t<0, std::tuple<S...>>;
template <class... S>
using last_of = std::tuple_element_t<sizeof...(S) - 1, std::tuple<S...>>;

template <class... S>
inline constexpr bool chain_composes = [] {
  if constexpr (sizeof...(S) < 2) {
    return true;
  } else {
    using types = std::tuple<S...>;
    return []<std::size_t... I>(std::index_sequence<I...>) {
      return (composable<std::tuple_element_t<I, types>, std::tuple_element_t<I + 1, types>> &&
              ...);
    }
    (std::make_index_sequence<sizeof...(S) - 1>{});
  }
}();

} // namespace detail

/// A pipeline: the stages `S...` applied in order, itself a stage from the first stage's input to
/// the last stage's output. Built with `|` or `mlsd::compose`; `a | b | c` is one flat
/// `pipeline<A, B, C>` whose stages stay reachable with `get<I>()`.
///
/// Calling it calls each stage on the previous stage's result, with nothing in between: no
/// allocation, no type erasure, no copies beyond what the stages' own types imply. Thread-safety is
/// that of its least thread-safe stage. The `const` call operator exists when every stage can be
/// called as `const`.
template <stage... S>
requires(sizeof...(S) >= 1 && detail::chain_composes<S...>) class pipeline : public stage_tag {
public:
  using input_type = stage_input_t<detail::first_of<S...>>;
  using output_type = stage_output_t<detail::last_of<S...>>;
  using stages_type = std::tuple<S...>;

  /// The number of stages.
  static constexpr std::size_t size = sizeof...(S);

  constexpr explicit pipeline(S... stages)
      : stages_(std::move(stages)...) {}
  constexpr explicit pipeline(std::tuple<S...> stages)
      : stages_(std::move(stages)) {}

  constexpr output_type operator()(input_type in) {
    return run<0>(stages_, std::forward<input_type>(in));
  }
  constexpr output_type operator()(input_type in) const
      requires(std::invocable<const S&, stage_input_t<S>>&&...) {
    return run<0>(stages_, std::forward<input_type>(in));
  }

  /// Stage `I` (0-based).
  template <std::size_t I>
  [[nodiscard]] constexpr auto& get() noexcept {
    return std::get<I>(stages_);
  }
  template <std::size_t I>
  [[nodiscard]] constexpr const auto& get() const noexcept {
    return std::get<I>(stages_);
  }

  /// All stages, as a tuple.
  [[nodiscard]] constexpr const std::tuple<S...>& stages() const& noexcept { return stages_; }
  [[nodiscard]] constexpr std::tuple<S...>&& stages() && noexcept { return std::move(stages_); }

private:
  template <std::size_t I, class Tuple, class X>
  static constexpr decltype(auto) run(Tuple& stages, X&& x) {
    if constexpr (I + 1 == size) {
      return std::get<I>(stages)(std::forward<X>(x));
    } else {
      return run<I + 1>(stages, std::get<I>(stages)(std::forward<X>(x)));
    }
  }

  std::tuple<S...> stages_;
};

namespace detail {

template <class... S>
struct is_pipeline<pipeline<S...>> : std::true_type {};

/// The stages of `x` as a tuple: a pipeline's own stages (flattening), or `x` alone.
template <class X>
constexpr auto as_stage_tuple(X&& x) {
  if constexpr (is_pipeline<std::remove_cvref_t<X>>::value) {
    return std::forward<X>(x).stages();
  } else {
    return std::tuple<std::remove_cvref_t<X>>(std::forward<X>(x));
  }
}

template <class... S>
constexpr pipeline<S...> make_pipeline(std::tuple<S...>&& stages) {
  return pipeline<S...>(std::move(stages));
}

template <class T>
concept stage_tagged = std::is_base_of_v<stage_tag, std::remove_cvref_t<T>>;

} // namespace detail

/// `a | b`: the stage that applies `a`, then `b`. Both must be stages, and `a`'s output type must
/// be `b`'s input type; otherwise compilation stops here with a message naming the types.
/// Pipelines flatten: `(a | b) | c` and `a | (b | c)` are both `pipeline<A, B, C>`.
template <class A, class B>
requires stage<std::remove_cvref_t<A>> && stage<std::remove_cvref_t<B>>
[[nodiscard]] constexpr auto operator|(A&& a, B&& b) {
  using left = std::remove_cvref_t<A>;
  using right = std::remove_cvref_t<B>;
  if constexpr (composable<left, right>) {
    return detail::make_pipeline(std::tuple_cat(detail::as_stage_tuple(std::forward<A>(a)),
                                                detail::as_stage_tuple(std::forward<B>(b))));
  } else {
    // Only the message: no pipeline is built, so no cascade of follow-on errors.
    static_assert(detail::stage_boundary<stage_output_t<left>, stage_input_t<right>>::value);
  }
}

/// `a | b` where one side carries an mlsd tag but is not a stage: a compile error that says which
/// part of the stage contract it misses.
template <class A, class B>
requires(!(stage<std::remove_cvref_t<A>> &&
           stage<std::remove_cvref_t<B>>)&&(detail::stage_tagged<A> ||
                                            detail::stage_tagged<B>)) constexpr void
operator|(A&&, B&&) {
  static_assert(detail::stage_requirements<std::remove_cvref_t<A>>::value &&
                detail::stage_requirements<std::remove_cvref_t<B>>::value);
}

/// The pipeline of `stages...` in order, exactly `(s0 | s1 | ...)`; for code that prefers a call
/// to an operator, or whose stages live outside namespace `mlsd` without deriving from a tag.
template <class... S>
requires(sizeof...(S) >= 1 && (stage<std::remove_cvref_t<S>> && ...))
    [[nodiscard]] constexpr auto compose(S&&... stages) {
  if constexpr (sizeof...(S) == 1) {
    return detail::make_pipeline(detail::as_stage_tuple(std::forward<S>(stages)...));
  } else {
    return (detail::make_pipeline(detail::as_stage_tuple(std::forward<S>(stages))) | ...);
  }
}

/// A stage made from a function object: input type `In`, output type whatever `f(In)` returns.
/// Thread-safety and cost are those of `F`.
template <class In, class F>
requires std::invocable<F&, In>
class function_stage : public stage_tag {
public:
  using input_type = In;
  using output_type = std::invoke_result_t<F&, In>;

  constexpr explicit function_stage(F f)
      : f_(std::move(f)) {}

  constexpr output_type operator()(input_type in) { return std::invoke(f_, std::forward<In>(in)); }
  constexpr output_type operator()(input_type in) const requires std::invocable<const F&, In> {
    return std::invoke(f_, std::forward<In>(in));
  }

private:
  F f_;
};

/// `make_stage<In>(f)`: wraps a function object (a lambda) taking `In` into a stage.
template <class In, class F>
[[nodiscard]] constexpr function_stage<In, std::decay_t<F>> make_stage(F&& f) {
  return function_stage<In, std::decay_t<F>>(std::forward<F>(f));
}

MLSD_END_NAMESPACE
