// compile_fail test: `a | b` where the output_type of `a` (std::vector<float>) is not the
// input_type of `b` (std::span<const float>) must not compile, even though a vector converts to a
// span: stages never convert types at a boundary. The `|` is where the build stops, with
// mlsd::detail::stage_boundary's message.
//
// Built twice (tests/compile_fail/CMakeLists.txt): with MLSD_COMPILE_FAIL_CONTROL defined, the
// model takes `const std::vector<float>&` and the file compiles; without it, the model takes
// `std::span<const float>` and the build must fail.
#include <mlsd/core/roles.hpp>
#include <mlsd/core/stage.hpp>

#include <cstddef>
#include <span>
#include <vector>

namespace ad_click {

/// Standardises the raw request features (fitted offline; here a fixed scale).
struct standardize : mlsd::feature_transform_tag {
  using input_type = std::span<const float>;
  using output_type = std::vector<float>;
  output_type operator()(input_type raw) const {
    output_type out(raw.begin(), raw.end());
    for (float& x : out) {
      x = (x - 0.5f) * 2.0f;
    }
    return out;
  }
};

/// A logistic-regression click model over the standardised features.
struct ctr_model : mlsd::scorer_tag {
#ifdef MLSD_COMPILE_FAIL_CONTROL
  using input_type = const std::vector<float>&;
#else
  using input_type = std::span<const float>;
#endif
  using output_type = float;
  output_type operator()(input_type x) const {
    float logit = 0.0f;
    for (std::size_t i = 0; i < x.size(); ++i) {
      logit += 0.01f * x[i];
    }
    return logit;
  }
};

float predict_ctr(std::span<const float> raw_features) {
  auto serve = standardize{} | ctr_model{}; // compile_fail: error here
  return serve(raw_features);
}

} // namespace ad_click
