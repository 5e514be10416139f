// Reading JS arguments into C++ values, with TypeErrors that name the argument. Every value the
// kernels need is read as given: defaults live once, in TypeScript, which passes each one.
#pragma once

#include <napi.h>
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "augment/dsa.h"
#include "model/convnet.h"
#include "model/zoo.h"
#include "train/sgd.h"

namespace trajmatch::binding {

Napi::Object argObject(const Napi::CallbackInfo& info, size_t index, const char* what);
std::string argString(const Napi::CallbackInfo& info, size_t index, const char* what);

// Required fields of an options object; `where` names the object in messages (e.g. "convnet").
int64_t getInt(const Napi::Object& obj, const char* where, const char* key);
double getNumber(const Napi::Object& obj, const char* where, const char* key);
std::string getString(const Napi::Object& obj, const char* where, const char* key);
torch::Tensor getTensor(const Napi::Object& obj, const char* where, const char* key);
// Optional fields: nullopt (or an undefined tensor) when absent.
std::optional<std::string> getOptionalString(const Napi::Object& obj, const char* where, const char* key);
torch::Tensor getOptionalTensor(const Napi::Object& obj, const char* where, const char* key);

// An array of finite numbers; TypeError naming `what` otherwise.
std::vector<double> toNumbers(const Napi::Value& value, const char* what);

// obj.seed: a non-negative integer.
uint64_t getSeed(const Napi::Object& obj, const char* where);
// obj.dsa: a DSA strategy string; none when absent.
std::optional<augment::DsaConfig> getDsa(const Napi::Object& obj, const char* where);

std::vector<int64_t> toShape(const Napi::Value& value, const char* what);
Napi::Array fromShape(Napi::Env env, c10::IntArrayRef shape);

// {channels, height, width, numClasses, netWidth, depth, norm, activation, pooling}
model::ConvNetSpec toConvNetSpec(const Napi::Object& obj);
// {arch, channels, height, width, numClasses} of a network of the zoo
model::ZooSpec toZooSpec(const Napi::Object& obj);
// {lr, momentum, weightDecay, batchSize, dsa?, seed}: the settings of a training epoch
train::SgdConfig toSgdConfig(const Napi::Object& obj, const char* where);

}  // namespace trajmatch::binding
