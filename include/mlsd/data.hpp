/// @file
/// Umbrella header of `mlsd/data/`, step 3 of the framework: sources and parsers (CSV, JSON Lines,
/// LIBSVM / libFM, libffm, Criteo TSV, in memory) with the fail / skip error policy; feature
/// encoders fit on training data and applied identically at serving (hashing and crosses,
/// vocabularies, numeric transforms, missing values, text); the feature store and the
/// point-in-time join; windowed real-time features; labels, sampling and splits.
///
/// The SQLite backend of the feature store is not included here: it needs SQLite at link time.
/// Include <mlsd/data/sqlite_store.hpp> and link `mlsd::sqlite` for it.
#pragma once

#include <mlsd/data/criteo.hpp>
#include <mlsd/data/csv.hpp>
#include <mlsd/data/feature_encoder.hpp>
#include <mlsd/data/feature_store.hpp>
#include <mlsd/data/hashing.hpp>
#include <mlsd/data/ingest.hpp>
#include <mlsd/data/json_lines.hpp>
#include <mlsd/data/labeling.hpp>
#include <mlsd/data/libffm.hpp>
#include <mlsd/data/libsvm.hpp>
#include <mlsd/data/memory_source.hpp>
#include <mlsd/data/missing.hpp>
#include <mlsd/data/numbers.hpp>
#include <mlsd/data/numeric.hpp>
#include <mlsd/data/point_in_time.hpp>
#include <mlsd/data/record.hpp>
#include <mlsd/data/sampling.hpp>
#include <mlsd/data/sketch.hpp>
#include <mlsd/data/split.hpp>
#include <mlsd/data/text.hpp>
#include <mlsd/data/utf8.hpp>
#include <mlsd/data/vocabulary.hpp>
#include <mlsd/data/windowed.hpp>
