// The real public datasets (see ../shared/data/README.md) are found through the environment
// variable MLSD_DATA_DIR. When it is not set, a test that needs them prints the skip marker and
// returns; CTest reports it as skipped (SKIP_REGULAR_EXPRESSION in tests/CMakeLists.txt), never as
// passed.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

namespace mlsd_test {

inline constexpr const char* skip_marker = "MLSD_TEST_SKIPPED";

/// The folder `name` under MLSD_DATA_DIR, or nullopt (after printing the skip marker) when the
/// variable is unset or empty. A folder that is missing while the variable is set fails the test:
/// CI sets the variable only when the data is there.
inline std::optional<std::filesystem::path> dataset(const std::string& name) {
  const char* root = std::getenv("MLSD_DATA_DIR");
  if (root == nullptr || *root == '\0') {
    std::cout << skip_marker << ": MLSD_DATA_DIR is not set, dataset '" << name
              << "' unavailable\n";
    return std::nullopt;
  }
  std::filesystem::path dir = std::filesystem::path(root) / name;
  INFO("MLSD_DATA_DIR=" << root);
  REQUIRE(std::filesystem::is_directory(dir));
  return dir;
}

} // namespace mlsd_test
