// Include hygiene of the kernels: <mlsd/kernels.hpp> (and so every header under mlsd/kernels/)
// includes neither Eigen nor nlohmann_json, nor the data step's fast_float and xxHash, directly or
// through another header. The kernels work
// on raw spans and xsimd batches; a service that only scores or ranks must not pay for parsing
// Eigen's and nlohmann_json's templates (see "Compile cost" in docs/benchmarks.md).
//
// This translation unit includes nothing but the kernels' umbrella, so the check is made by the
// preprocessor when mlsd_tests is built: it has no test case. The macros are the ones the
// libraries define as soon as any of their headers is included:
//   - EIGEN_WORLD_VERSION: Eigen/src/Core/util/Macros.h, included by every Eigen module header.
//   - NLOHMANN_JSON_VERSION_MAJOR: nlohmann/detail/abi_macros.hpp (3.11), included by json.hpp
//     and json_fwd.hpp; up to 3.10 json.hpp defines it itself.
//   - INCLUDE_NLOHMANN_JSON_FWD_HPP_: the include guard of nlohmann/json_fwd.hpp, which up to 3.10
//     does not define the version macros.
//   - FASTFLOAT_FLOAT_COMMON_H: included by every fast_float header.
//   - XXH_VERSION_MAJOR: xxhash.h.
#include <mlsd/kernels.hpp>

#if defined(EIGEN_WORLD_VERSION)
#error "<mlsd/kernels.hpp> includes Eigen: the kernel headers must not depend on Eigen"
#endif

#if defined(NLOHMANN_JSON_VERSION_MAJOR) || defined(INCLUDE_NLOHMANN_JSON_FWD_HPP_)
#error "<mlsd/kernels.hpp> includes nlohmann_json: the kernel headers must not depend on it"
#endif

#if defined(FASTFLOAT_FLOAT_COMMON_H) || defined(XXH_VERSION_MAJOR)
#error "<mlsd/kernels.hpp> includes fast_float or xxHash: those belong to the data step"
#endif
