#include "binding/network_handle.h"

#include "binding/addon_data.h"
#include "binding/convert.h"
#include "binding/guard.h"
#include "binding/promise_worker.h"
#include "binding/tensor_handle.h"
#include "core/device.h"
#include "core/dtype.h"

namespace trajmatch::binding {

std::atomic<int64_t> NetworkHandle::live_{0};

namespace {

Napi::Object statsObject(Napi::Env env, const train::PassStats& s) {
  auto out = Napi::Object::New(env);
  out.Set("loss", s.loss);
  out.Set("accuracy", s.accuracy);
  out.Set("count", static_cast<double>(s.count));
  return out;
}

}  // namespace

Napi::Function NetworkHandle::Init(Napi::Env env) {
  auto cls = DefineClass(
      env, "Network",
      {InstanceAccessor<&NetworkHandle::GetNumParams>("numParams"),
       InstanceAccessor<&NetworkHandle::GetDisposed>("disposed"),
       InstanceMethod<&NetworkHandle::TrainEpoch>("trainEpoch"), InstanceMethod<&NetworkHandle::Evaluate>("evaluate"),
       InstanceMethod<&NetworkHandle::ResetMomentum>("resetMomentum"),
       InstanceMethod<&NetworkHandle::Parameters>("parameters"), InstanceMethod<&NetworkHandle::Dispose>("dispose")});
  addonData(env).networkClass = Napi::Persistent(cls);
  return cls;
}

Napi::Object NetworkHandle::Wrap(Napi::Env env, std::shared_ptr<train::Network> network,
                                 std::vector<TensorUse> adopted) {
  auto obj = addonData(env).networkClass.New({Napi::String::New(env, kInternalTag)});
  Unwrap(obj)->network_ = std::move(network);
  Unwrap(obj)->adopted_ = std::move(adopted);
  return obj;
}

std::vector<TensorUse> NetworkHandle::AdoptedUses(bool training) const {
  auto uses = adopted_;
  for (auto& use : uses) use.access = training ? Access::kWrite : Access::kRead;
  return uses;
}

NetworkHandle::NetworkHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NetworkHandle>(info) {
  if (info.Length() != 1 || !info[0].IsString() || info[0].As<Napi::String>().Utf8Value() != kInternalTag) {
    throw Napi::TypeError::New(info.Env(), "Network cannot be constructed directly; use createNetwork(spec, options)");
  }
  ++live_;
}

NetworkHandle::~NetworkHandle() { Release(); }

void NetworkHandle::Release() {
  if (!network_) return;
  network_.reset();
  adopted_.clear();
  --live_;
}

const train::Network& NetworkHandle::Live(Napi::Env env, const char* what) const {
  if (!network_) throw Napi::Error::New(env, std::string(what) + ": the Network handle was disposed");
  return *network_;
}

std::shared_ptr<train::Network> NetworkHandle::Acquire(Napi::Env env, const char* method) {
  Live(env, method);
  if (busy_) {
    throw Napi::Error::New(env,
                           std::string(method) + ": another call on this network is still running; await it first");
  }
  return network_;
}

Napi::Value NetworkHandle::GetNumParams(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Live(info.Env(), "numParams").numParams()));
}

Napi::Value NetworkHandle::GetDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !network_);
}

Napi::Value NetworkHandle::TrainEpoch(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    auto network = Acquire(env, "trainEpoch");
    const auto args = argObject(info, 0, "options");
    const auto images = getTensor(args, "options", "images");
    const auto labels = getTensor(args, "options", "labels");
    const auto config = toSgdConfig(args, "options");
    auto uses = AdoptedUses(true);
    uses.push_back(reads(images, "options.images"));
    uses.push_back(reads(labels, "options.labels"));
    auto lease = leaseTensors(env, "Network.trainEpoch", uses);
    auto stats = std::make_shared<train::PassStats>();
    busy_ = true;
    return PromiseWorker::Run(
        Value(), "trajmatch.Network.trainEpoch", [=] { *stats = network->trainEpoch(images, labels, config); },
        [=](Napi::Env e) -> Napi::Value { return statsObject(e, *stats); }, [this] { busy_ = false; },
        std::move(lease));
  });
}

Napi::Value NetworkHandle::Evaluate(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    auto network = Acquire(env, "evaluate");
    const auto args = argObject(info, 0, "options");
    const auto images = getTensor(args, "options", "images");
    const auto labels = getTensor(args, "options", "labels");
    const auto batchSize = getInt(args, "options", "batchSize");
    auto uses = AdoptedUses(false);
    uses.push_back(reads(images, "options.images"));
    uses.push_back(reads(labels, "options.labels"));
    auto lease = leaseTensors(env, "Network.evaluate", uses);
    auto stats = std::make_shared<train::PassStats>();
    busy_ = true;
    return PromiseWorker::Run(
        Value(), "trajmatch.Network.evaluate", [=] { *stats = network->evaluate(images, labels, batchSize); },
        [=](Napi::Env e) -> Napi::Value { return statsObject(e, *stats); }, [this] { busy_ = false; },
        std::move(lease));
  });
}

Napi::Value NetworkHandle::ResetMomentum(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    auto network = Acquire(env, "resetMomentum");
    checkTensors(env, "Network.resetMomentum", AdoptedUses(true));
    network->resetMomentum();
    return env.Undefined();
  });
}

Napi::Value NetworkHandle::Parameters(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    auto network = Acquire(env, "parameters");
    checkTensors(env, "Network.parameters", AdoptedUses(false));
    return TensorHandle::Wrap(env, network->parameters());
  });
}

Napi::Value NetworkHandle::Dispose(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value CreateNetwork(const Napi::CallbackInfo& info) {
  const auto specObj = argObject(info, 0, "network");
  const auto opts = argObject(info, 1, "options");
  const auto arch = getString(specObj, "network", "arch");
  std::function<std::shared_ptr<train::Network>()> make;
  std::vector<TensorUse> adopted;
  if (arch == "convnet") {
    const auto spec = toConvNetSpec(specObj);
    if (!opts.Get("params").IsUndefined()) {
      const auto params = getTensor(opts, "options", "params");
      const auto buffer = getOptionalTensor(opts, "options", "momentumBuffer");
      make = [=] { return train::adoptConvNetwork(spec, params, buffer); };
      adopted = {reads(params, "the params of a Network"), reads(buffer, "the momentumBuffer of a Network")};
    } else {
      const auto seed = getSeed(opts, "options");
      const auto dtype = parseDtype(getString(opts, "options", "dtype"));
      const auto device = parseDevice(getString(opts, "options", "device"));
      make = [=] { return train::makeConvNetwork(spec, seed, dtype, device); };
    }
  } else {
    const auto spec = toZooSpec(specObj);
    const auto seed = getSeed(opts, "options");
    const auto dtype = parseDtype(getString(opts, "options", "dtype"));
    const auto device = parseDevice(getString(opts, "options", "device"));
    make = [=] { return train::makeZooNetwork(spec, seed, dtype, device); };
  }
  auto network = std::make_shared<std::shared_ptr<train::Network>>();
  auto lease = leaseTensors(info.Env(), "createNetwork", adopted);
  return PromiseWorker::Run(
      info.Env(), "trajmatch.createNetwork", [=] { *network = make(); },
      [=](Napi::Env env) -> Napi::Value { return NetworkHandle::Wrap(env, *network, adopted); }, std::move(lease));
}

}  // namespace trajmatch::binding
