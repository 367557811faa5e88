// compile_fail test: a stage boundary between two distinct types must not compile even when the
// left stage's output_type converts implicitly to the right stage's input_type (here through a
// converting constructor): an implicit conversion at a boundary is a hidden copy, or worse a
// different representation at training and at serving time. The `|` is where the build stops,
// with mlsd::detail::stage_boundary's message.
//
// Built twice (tests/compile_fail/CMakeLists.txt): with MLSD_COMPILE_FAIL_CONTROL defined, the
// model takes `const user_features&` and the file compiles; without it, the model takes
// `const user_embedding&`, which user_features converts to, and the build must fail.
#include <mlsd/core/roles.hpp>
#include <mlsd/core/stage.hpp>

#include <cstdint>
#include <type_traits>
#include <vector>

namespace ad_click {

/// What the feature store returns for one user.
struct user_features {
  std::vector<float> values;
};

/// The model's own representation, built implicitly from the features: the trap.
struct user_embedding {
  user_embedding(const user_features& f)
      : values(f.values) {} // NOLINT: implicit on purpose
  std::vector<float> values;
};
static_assert(std::is_convertible_v<user_features, user_embedding>);

/// Looks the user's features up by id.
struct feature_lookup : mlsd::feature_transform_tag {
  using input_type = std::uint64_t;
  using output_type = user_features;
  output_type operator()(input_type user_id) const {
    return {std::vector<float>(8, static_cast<float>(user_id % 7))};
  }
};

/// Scores the user for one ad.
struct ctr_model : mlsd::scorer_tag {
#ifdef MLSD_COMPILE_FAIL_CONTROL
  using input_type = const user_features&;
#else
  using input_type = const user_embedding&;
#endif
  using output_type = float;
  output_type operator()(input_type x) const {
    return x.values.empty() ? 0.0f : x.values[0];
  }
};

float predict_ctr(std::uint64_t user_id) {
  auto serve = feature_lookup{} | ctr_model{}; // compile_fail: error here
  return serve(user_id);
}

} // namespace ad_click
