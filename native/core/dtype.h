// The element types that cross the boundary, by the names TypeScript uses.
#pragma once

#include <torch/torch.h>

#include <string>

namespace trajmatch {

// "float32", "float64", "int32", "int64", "uint8", "int8", "int16", "bool", "float16", "bfloat16".
// Throws std::invalid_argument listing the accepted names.
torch::ScalarType parseDtype(const std::string& name);
std::string dtypeName(torch::ScalarType type);

}  // namespace trajmatch
