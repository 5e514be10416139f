// Reading JS arguments into C++ values, with TypeErrors that name the argument.
#pragma once

#include <napi.h>
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "augment/dsa.h"
#include "model/convnet.h"

namespace trajmatch::binding {

Napi::Object argObject(const Napi::CallbackInfo& info, size_t index, const char* what);
std::string argString(const Napi::CallbackInfo& info, size_t index, const char* what);

// Fields of an options object. `where` names the object in messages (e.g. "convnet").
int64_t getInt(const Napi::Object& obj, const char* where, const char* key);
int64_t getInt(const Napi::Object& obj, const char* where, const char* key, int64_t fallback);
double getNumber(const Napi::Object& obj, const char* where, const char* key);
std::string getString(const Napi::Object& obj, const char* where, const char* key, const std::string& fallback);
torch::Tensor getTensor(const Napi::Object& obj, const char* where, const char* key);

// An array of finite numbers; TypeError naming `what` otherwise.
std::vector<double> toNumbers(const Napi::Value& value, const char* what);

// obj.seed: a non-negative integer (default 0).
uint64_t getSeed(const Napi::Object& obj, const char* where);
// obj.dsa: a DSA strategy string, or none when absent or empty.
std::optional<augment::DsaConfig> getDsa(const Napi::Object& obj, const char* where);

std::vector<int64_t> toShape(const Napi::Value& value, const char* what);
Napi::Array fromShape(Napi::Env env, c10::IntArrayRef shape);

model::ConvNetSpec toConvNetSpec(const Napi::Object& obj);

}  // namespace trajmatch::binding
