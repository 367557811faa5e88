/// @file
/// Umbrella header: everything mlsd offers. Include a folder's own umbrella (e.g.
/// `<mlsd/kernels.hpp>`) instead to pull in only that stage and its dependencies.
#pragma once

#include <mlsd/core.hpp>
#include <mlsd/data.hpp>
#include <mlsd/kernels.hpp>
#include <mlsd/model.hpp>
#include <mlsd/requirements.hpp>
#include <mlsd/serving.hpp>
