// compile_fail test: composing with `|` a type that carries an mlsd role tag (so it derives from
// mlsd::stage_tag) but does not declare its output_type must not compile, and the message must
// say what is missing. The `|` is where the build stops, with mlsd::detail::stage_requirements's
// message.
//
// Built twice (tests/compile_fail/CMakeLists.txt): with MLSD_COMPILE_FAIL_CONTROL defined, the
// model declares `using output_type = float;` and the file compiles; without it, the declaration
// is missing and the build must fail.
#include <mlsd/core/roles.hpp>
#include <mlsd/core/stage.hpp>

#include <cstddef>
#include <span>
#include <vector>

namespace fraud {

/// Log-scales the transaction amount and passes the other features through.
struct transaction_features : mlsd::feature_transform_tag {
  using input_type = std::span<const float>;
  using output_type = std::vector<float>;
  output_type operator()(input_type raw) const {
    output_type out(raw.begin(), raw.end());
    if (!out.empty()) {
      out[0] = out[0] > 1.0f ? out[0] / 100.0f : out[0];
    }
    return out;
  }
};

/// A fraud scorer (mlsd::scorer_tag derives from mlsd::stage_tag).
struct fraud_model : mlsd::scorer_tag {
  using input_type = const std::vector<float>&;
#ifdef MLSD_COMPILE_FAIL_CONTROL
  using output_type = float;
#endif
  float operator()(input_type x) const {
    float logit = -4.0f;
    for (std::size_t i = 0; i < x.size(); ++i) {
      logit += 0.1f * x[i];
    }
    return logit;
  }
};

float fraud_score(std::span<const float> raw_transaction) {
  auto serve = transaction_features{} | fraud_model{}; // compile_fail: error here
  return serve(raw_transaction);
}

} // namespace fraud
