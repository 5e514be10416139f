#include "binding/convert.h"

#include <cmath>

#include "binding/tensor_handle.h"

namespace trajmatch::binding {

namespace {

std::string field(const char* where, const char* key) { return std::string(where) + "." + key; }

int64_t toInt(const Napi::Value& v, const std::string& name) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), name + ": expected an integer");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 9007199254740991.0) {
    throw Napi::TypeError::New(v.Env(), name + ": expected an integer, received " + std::to_string(d));
  }
  return static_cast<int64_t>(d);
}

}  // namespace

Napi::Object argObject(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (info.Length() <= index || !info[index].IsObject()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected an object");
  }
  return info[index].As<Napi::Object>();
}

std::string argString(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (info.Length() <= index || !info[index].IsString()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected a string");
  }
  return info[index].As<Napi::String>().Utf8Value();
}

int64_t getInt(const Napi::Object& obj, const char* where, const char* key) {
  if (!obj.Has(key)) throw Napi::TypeError::New(obj.Env(), field(where, key) + " is missing");
  return toInt(obj.Get(key), field(where, key));
}

double getNumber(const Napi::Object& obj, const char* where, const char* key) {
  const auto v = obj.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(obj.Env(), field(where, key) + ": expected a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) throw Napi::TypeError::New(obj.Env(), field(where, key) + ": expected a finite number");
  return d;
}

std::string getString(const Napi::Object& obj, const char* where, const char* key) {
  const auto v = getOptionalString(obj, where, key);
  if (!v) throw Napi::TypeError::New(obj.Env(), field(where, key) + " is missing");
  return *v;
}

std::optional<std::string> getOptionalString(const Napi::Object& obj, const char* where, const char* key) {
  const auto v = obj.Get(key);
  if (v.IsUndefined()) return std::nullopt;
  if (!v.IsString()) throw Napi::TypeError::New(obj.Env(), field(where, key) + ": expected a string");
  return v.As<Napi::String>().Utf8Value();
}

torch::Tensor getTensor(const Napi::Object& obj, const char* where, const char* key) {
  return TensorHandle::TensorOf(obj.Get(key), field(where, key));
}

torch::Tensor getOptionalTensor(const Napi::Object& obj, const char* where, const char* key) {
  return obj.Get(key).IsUndefined() ? torch::Tensor() : getTensor(obj, where, key);
}

uint64_t getSeed(const Napi::Object& obj, const char* where) {
  const auto seed = getInt(obj, where, "seed");
  if (seed < 0) throw Napi::TypeError::New(obj.Env(), field(where, "seed") + ": expected a non-negative integer");
  return static_cast<uint64_t>(seed);
}

std::optional<augment::DsaConfig> getDsa(const Napi::Object& obj, const char* where) {
  const auto strategy = getOptionalString(obj, where, "dsa");
  if (!strategy) return std::nullopt;
  return augment::parseDsaStrategy(*strategy);
}

std::vector<double> toNumbers(const Napi::Value& value, const char* what) {
  if (!value.IsArray()) throw Napi::TypeError::New(value.Env(), std::string(what) + ": expected an array of numbers");
  const auto arr = value.As<Napi::Array>();
  std::vector<double> out;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    const auto v = arr.Get(i);
    if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) {
      throw Napi::TypeError::New(value.Env(),
                                 std::string(what) + "[" + std::to_string(i) + "]: expected a finite number");
    }
    out.push_back(v.As<Napi::Number>().DoubleValue());
  }
  return out;
}

std::vector<int64_t> toShape(const Napi::Value& value, const char* what) {
  if (!value.IsArray()) throw Napi::TypeError::New(value.Env(), std::string(what) + ": expected an array of sizes");
  const auto arr = value.As<Napi::Array>();
  std::vector<int64_t> shape;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    const auto name = std::string(what) + "[" + std::to_string(i) + "]";
    const auto size = toInt(arr.Get(i), name);
    if (size < 0)
      throw Napi::TypeError::New(value.Env(), name + ": sizes cannot be negative, received " + std::to_string(size));
    shape.push_back(size);
  }
  return shape;
}

Napi::Array fromShape(Napi::Env env, c10::IntArrayRef shape) {
  auto arr = Napi::Array::New(env, shape.size());
  for (size_t i = 0; i < shape.size(); ++i)
    arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(shape[i])));
  return arr;
}

model::ConvNetSpec toConvNetSpec(const Napi::Object& obj) {
  model::ConvNetSpec spec;
  spec.channels = getInt(obj, "convnet", "channels");
  spec.height = getInt(obj, "convnet", "height");
  spec.width = getInt(obj, "convnet", "width");
  spec.numClasses = getInt(obj, "convnet", "numClasses");
  spec.netWidth = getInt(obj, "convnet", "netWidth");
  spec.depth = getInt(obj, "convnet", "depth");
  spec.norm = model::parseNorm(getString(obj, "convnet", "norm"));
  spec.activation = model::parseActivation(getString(obj, "convnet", "activation"));
  spec.pooling = model::parsePooling(getString(obj, "convnet", "pooling"));
  return spec;
}

model::ZooSpec toZooSpec(const Napi::Object& obj) {
  model::ZooSpec spec;
  spec.arch = getString(obj, "network", "arch");
  spec.channels = getInt(obj, "network", "channels");
  spec.height = getInt(obj, "network", "height");
  spec.width = getInt(obj, "network", "width");
  spec.numClasses = getInt(obj, "network", "numClasses");
  return spec;
}

train::SgdConfig toSgdConfig(const Napi::Object& obj, const char* where) {
  train::SgdConfig config;
  config.lr = getNumber(obj, where, "lr");
  config.momentum = getNumber(obj, where, "momentum");
  config.weightDecay = getNumber(obj, where, "weightDecay");
  config.batchSize = getInt(obj, where, "batchSize");
  config.dsa = getDsa(obj, where);
  config.seed = getSeed(obj, where);
  return config;
}

}  // namespace trajmatch::binding
