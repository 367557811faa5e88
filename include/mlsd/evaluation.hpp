/// @file
/// Umbrella header of `mlsd/evaluation/`, step 5 of the framework (offline evaluation): the
/// classification metrics (ROC-AUC, log loss, normalized entropy, accuracy, Brier score,
/// calibration ratio) and the regression metrics (RMSE, MAE, R²), each a mergeable
/// `evaluation::metric_accumulator` with a one-call helper over spans (docs/evaluation.md).
#pragma once

#include <mlsd/evaluation/classification.hpp>
#include <mlsd/evaluation/metric.hpp>
#include <mlsd/evaluation/regression.hpp>
