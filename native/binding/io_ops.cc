// torch.save files: reading (a restricted unpickler, io/torch_file.h) and writing.
#include <cmath>

#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/guard.h"
#include "binding/in_flight.h"
#include "binding/promise_worker.h"
#include "binding/tensor_handle.h"
#include "io/torch_file.h"

namespace trajmatch::binding {

namespace {

// IValue -> JS: lists are arrays, tuples {tuple: [...]}, dicts {dict: [[key, value], ...]},
// tensors Tensor handles, numbers, strings, booleans and null. The reader bounds the nesting.
Napi::Value toJs(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) return TensorHandle::Wrap(env, v.toTensor());
  if (v.isList()) {
    const auto list = v.toList();
    auto out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) out.Set(static_cast<uint32_t>(i), toJs(env, list.get(i)));
    return out;
  }
  if (v.isTuple()) {
    const auto& elements = v.toTupleRef().elements();
    auto items = Napi::Array::New(env, elements.size());
    for (size_t i = 0; i < elements.size(); ++i) items.Set(static_cast<uint32_t>(i), toJs(env, elements[i]));
    auto out = Napi::Object::New(env);
    out.Set("tuple", items);
    return out;
  }
  if (v.isGenericDict()) {
    auto entries = Napi::Array::New(env);
    uint32_t i = 0;
    for (const auto& entry : v.toGenericDict()) {
      auto pair = Napi::Array::New(env, 2);
      pair.Set(0u, toJs(env, entry.key()));
      pair.Set(1u, toJs(env, entry.value()));
      entries.Set(i++, pair);
    }
    auto out = Napi::Object::New(env);
    out.Set("dict", entries);
    return out;
  }
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  return env.Null();
}

// JS -> IValue for writing: arrays become lists, Tensor handles CPU tensors, numbers floats (or
// ints when whole), strings, booleans and null; nothing else.
c10::IValue fromJs(const Napi::Value& v, int depth, std::vector<TensorUse>& uses) {
  if (depth > 32) throw Napi::TypeError::New(v.Env(), "torchSave: the value nests deeper than 32 levels");
  if (v.IsArray()) {
    const auto array = v.As<Napi::Array>();
    c10::impl::GenericList list(c10::AnyType::get());
    list.reserve(array.Length());
    for (uint32_t i = 0; i < array.Length(); ++i) list.push_back(fromJs(array.Get(i), depth + 1, uses));
    return list;
  }
  if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    if (std::floor(d) == d && std::fabs(d) < 9007199254740992.0) return static_cast<int64_t>(d);
    return d;
  }
  if (v.IsString()) return v.As<Napi::String>().Utf8Value();
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value();
  if (v.IsNull()) return c10::IValue();
  const auto t = TensorHandle::TensorOf(v, "torchSave value");
  uses.push_back(reads(t, "a tensor of the value"));
  return t.to(torch::kCPU).contiguous();
}

// async: torchLoad(file) -> Promise<value>
Napi::Value TorchLoad(const Napi::CallbackInfo& info) {
  const auto file = argString(info, 0, "file");
  auto value = std::make_shared<c10::IValue>();
  return PromiseWorker::Run(
      info.Env(), "trajmatch.torchLoad", [=] { *value = io::loadTorchFile(file); },
      [=](Napi::Env env) { return toJs(env, *value); }, nullptr);
}

// async: torchSave(file, value) -> Promise<void>
Napi::Value TorchSave(const Napi::CallbackInfo& info) {
  const auto file = argString(info, 0, "file");
  if (info.Length() < 2) throw Napi::TypeError::New(info.Env(), "torchSave: a value to save is missing");
  std::vector<TensorUse> uses;
  const auto value = std::make_shared<c10::IValue>(fromJs(info[1], 0, uses));
  auto lease = leaseTensors(info.Env(), "torchSave", uses);
  return PromiseWorker::Run(
      info.Env(), "trajmatch.torchSave", [=] { io::saveTorchFile(file, *value); },
      [](Napi::Env env) { return env.Undefined(); }, std::move(lease));
}

}  // namespace

void RegisterIo(Napi::Env env, Napi::Object exports) {
  exports.Set("torchLoad", Napi::Function::New(env, guarded<TorchLoad>, "torchLoad"));
  exports.Set("torchSave", Napi::Function::New(env, guarded<TorchSave>, "torchSave"));
}

}  // namespace trajmatch::binding
