/// @file
/// Umbrella header of `mlsd/evaluation/`, step 5 of the framework (offline evaluation): the
/// classification metrics (ROC-AUC, average precision, log loss, normalized entropy, accuracy,
/// Brier score, calibration ratio), metrics at a threshold (confusion matrix, precision, recall,
/// F1, the best-F1 threshold), calibration (reliability curve, expected calibration error), the
/// regression metrics (RMSE, MAE, R²), the ranking metrics (precision / recall / hit rate / MAP /
/// nDCG at k, MRR, GAUC) and the beyond-accuracy ones (coverage, diversity, novelty, popularity
/// bias), each a mergeable `evaluation::metric_accumulator` (docs/evaluation.md); and the online
/// experiments: A/B tests on proportions and means, sample size, the sample-ratio-mismatch check
/// and team-draft interleaving (docs/online-experiments.md); any metric per slice, and
/// prequential (test-then-train) evaluation of online learners (docs/slices-and-streams.md); ROC,
/// PR, gain and lift curves, SVG charts and the self-contained HTML report
/// (docs/evaluation-reports.md).
#pragma once

#include <mlsd/evaluation/beyond_accuracy.hpp>
#include <mlsd/evaluation/calibration.hpp>
#include <mlsd/evaluation/classification.hpp>
#include <mlsd/evaluation/curves.hpp>
#include <mlsd/evaluation/experiment.hpp>
#include <mlsd/evaluation/interleaving.hpp>
#include <mlsd/evaluation/metric.hpp>
#include <mlsd/evaluation/plot.hpp>
#include <mlsd/evaluation/prequential.hpp>
#include <mlsd/evaluation/ranking.hpp>
#include <mlsd/evaluation/regression.hpp>
#include <mlsd/evaluation/report.hpp>
#include <mlsd/evaluation/slices.hpp>
#include <mlsd/evaluation/threshold.hpp>
#include <mlsd/evaluation/validation.hpp>
