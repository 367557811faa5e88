/// @file
/// What the fitted transforms of data/ (numeric.hpp, missing.hpp, text.hpp) share: the errors of
/// a fit on nothing, and the header of a saved transform (`{"transform": name, "fitted": bool,
/// "config": {...}, ...}`).
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>

#include <string>
#include <string_view>

MLSD_BEGIN_NAMESPACE
namespace data::detail {

/// Throws `input_error` at `transform.fit` (field `feature`): a fit needs at least one value.
[[noreturn]] inline void throw_empty_fit(std::string_view transform, const std::string& feature) {
  throw input_error(input_position(field_path(transform, "fit"), 0, 0, feature),
                    "at least one training value", "an empty span");
}

/// Checks the `"transform"` key of a saved transform and returns its `"fitted"` flag.
template <class Json>
[[nodiscard]] bool read_transform_header(config_reader<Json>& r, std::string_view transform) {
  r.require_transform(transform);
  bool fitted = false;
  r.require("fitted", fitted);
  return fitted;
}

} // namespace data::detail
MLSD_END_NAMESPACE
