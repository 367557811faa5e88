/// @file
/// Umbrella header of `mlsd/model/`, step 4 of the framework: the models (logistic regression,
/// factorization machines, field-aware FMs, two-tower embeddings, an MLP ranker, an isolation
/// forest), their losses and optimizers, the trainer, and model files.
#pragma once

#include <mlsd/model/embedding_bag.hpp>
#include <mlsd/model/ffm.hpp>
#include <mlsd/model/fm.hpp>
#include <mlsd/model/isolation_forest.hpp>
#include <mlsd/model/logistic_regression.hpp>
#include <mlsd/model/loss.hpp>
#include <mlsd/model/mlp.hpp>
#include <mlsd/model/model_file.hpp>
#include <mlsd/model/optimizer.hpp>
#include <mlsd/model/progress.hpp>
#include <mlsd/model/trainer.hpp>
#include <mlsd/model/training.hpp>
#include <mlsd/model/two_tower.hpp>
