/// @file
/// Umbrella header: the core, the kernels, the requirements and serving. Include a folder's own
/// umbrella (e.g. `<mlsd/kernels.hpp>`) instead to pull in only that stage and its dependencies.
///
/// The data, model and evaluation steps have their own umbrellas (`<mlsd/data.hpp>`,
/// `<mlsd/model.hpp>`, `<mlsd/evaluation.hpp>`), included where they are used: the parsers,
/// encoders, models and model files bring about twice the front-end time of all of mlsd's
/// dependencies together (JSON configs in non-template code, Eigen for the MLP; see "Compile cost"
/// in docs/benchmarks.md), and a serving translation unit that scores or retrieves should not pay
/// for them.
#pragma once

#include <mlsd/core.hpp>
#include <mlsd/kernels.hpp>
#include <mlsd/requirements.hpp>
#include <mlsd/serving.hpp>
