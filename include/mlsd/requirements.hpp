/// @file
/// Umbrella header of `mlsd/requirements/`: steps 1 and 2 of the framework (business objective, ML
/// task, metrics, service-level objectives), stage budgets with the compile-time design review,
/// capacity estimates, and pipelines that describe themselves.
#pragma once

#include <mlsd/requirements/budget.hpp>
#include <mlsd/requirements/capacity.hpp>
#include <mlsd/requirements/describe.hpp>
#include <mlsd/requirements/requirements.hpp>
