/// @file
/// Umbrella header of `mlsd/model/`: models as stages (today the embedding bag encoder).
#pragma once

#include <mlsd/model/embedding_bag.hpp>
