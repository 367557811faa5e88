/// @file
/// Umbrella header of the SIMD kernels: dot products, batched scoring, fused top-k (fp32 and
/// int8), sparse gather/scatter, the FM interaction and sigmoid / log loss. The kernels include
/// neither Eigen nor nlohmann_json.
#pragma once

#include <mlsd/kernels/arch.hpp>
#include <mlsd/kernels/dot.hpp>
#include <mlsd/kernels/fm.hpp>
#include <mlsd/kernels/int8.hpp>
#include <mlsd/kernels/parallel.hpp>
#include <mlsd/kernels/scores.hpp>
#include <mlsd/kernels/sigmoid.hpp>
#include <mlsd/kernels/sparse.hpp>
#include <mlsd/kernels/top_k.hpp>
