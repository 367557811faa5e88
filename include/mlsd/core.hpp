/// @file
/// Umbrella header of `mlsd/core/`: version and namespace macros, matrix views, stages and their
/// composition with `|`, and the role concepts of the framework's steps.
#pragma once

#include <mlsd/core/matrix_view.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/stage.hpp>
#include <mlsd/core/version.hpp>
