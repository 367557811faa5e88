/// @file
/// mlsd's version and its versioned inline namespace.
#pragma once

#define MLSD_VERSION_MAJOR 0
#define MLSD_VERSION_MINOR 1
#define MLSD_VERSION_PATCH 0

/// The version as one number, `major * 10000 + minor * 100 + patch`, for `#if` checks.
#define MLSD_VERSION (MLSD_VERSION_MAJOR * 10000 + MLSD_VERSION_MINOR * 100 + MLSD_VERSION_PATCH)

// Every public name lives in `mlsd::v0`, an inline namespace, so that two incompatible versions of
// the headers linked into one program fail at link time instead of silently mixing layouts.
#define MLSD_BEGIN_NAMESPACE                                                                       \
  namespace mlsd {                                                                                 \
  inline namespace v0 {
#define MLSD_END_NAMESPACE                                                                         \
  }                                                                                                \
  }

MLSD_BEGIN_NAMESPACE
/// The library's version, as the string "major.minor.patch".
inline constexpr const char* version_string = "0.1.0";
MLSD_END_NAMESPACE
