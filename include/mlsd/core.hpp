/// @file
/// Umbrella header of `mlsd/core/`: version and namespace macros, matrix views.
#pragma once

#include <mlsd/core/matrix_view.hpp>
#include <mlsd/core/version.hpp>
