#include "core/dtype.h"

#include <stdexcept>
#include <utility>

namespace trajmatch {

namespace {
const std::pair<const char*, torch::ScalarType> kDtypes[] = {
    {"float32", torch::kFloat32}, {"float64", torch::kFloat64},   {"int32", torch::kInt32}, {"int64", torch::kInt64},
    {"uint8", torch::kUInt8},     {"int8", torch::kInt8},         {"int16", torch::kInt16}, {"bool", torch::kBool},
    {"float16", torch::kFloat16}, {"bfloat16", torch::kBFloat16},
};
}  // namespace

torch::ScalarType parseDtype(const std::string& name) {
  std::string accepted;
  for (const auto& [n, t] : kDtypes) {
    if (name == n) return t;
    accepted += accepted.empty() ? n : std::string(", ") + n;
  }
  throw std::invalid_argument("unknown dtype '" + name + "': expected one of " + accepted);
}

std::string dtypeName(torch::ScalarType type) {
  for (const auto& [n, t] : kDtypes) {
    if (type == t) return n;
  }
  return c10::toString(type);
}

}  // namespace trajmatch
