/// @file
/// Umbrella header of `mlsd/core/`: version and namespace macros, matrix views, stages and their
/// composition with `|`, the role concepts of the framework's steps, input errors, sparse rows and
/// the two kinds of time (event time, known-at time).
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/matrix_view.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/core/stage.hpp>
#include <mlsd/core/time.hpp>
#include <mlsd/core/version.hpp>
