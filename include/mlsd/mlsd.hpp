/// @file
/// Umbrella header: everything mlsd offers but the data step. Include a folder's own umbrella
/// (e.g. `<mlsd/kernels.hpp>`) instead to pull in only that stage and its dependencies.
///
/// The data step has its own umbrella, `<mlsd/data.hpp>`, included where it is used: its parsers,
/// encoders and stores bring about 2.4 times the front-end time of all of mlsd's dependencies
/// together (JSON configs in non-template code; see "Compile cost" in docs/benchmarks.md), and a
/// serving translation unit that scores or retrieves should not pay for them.
#pragma once

#include <mlsd/core.hpp>
#include <mlsd/kernels.hpp>
#include <mlsd/model.hpp>
#include <mlsd/requirements.hpp>
#include <mlsd/serving.hpp>
