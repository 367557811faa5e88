/// @file
/// Umbrella header of `mlsd/serving/`: retrieval stages (exact and int8 retrievers,
/// score-then-select, truncation) that compose with `|` into serving pipelines.
#pragma once

#include <mlsd/serving/retrieval.hpp>
