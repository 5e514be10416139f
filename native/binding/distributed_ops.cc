// The process group of a distributed run (native/distributed): joining it and every call that can
// wait on another rank run on worker threads; the liveness calls are synchronous and never block.
#include <memory>

#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/guard.h"
#include "binding/promise_worker.h"
#include "binding/tensor_handle.h"
#include "core/device.h"
#include "distributed/process_group.h"

namespace trajmatch::binding {

namespace {

using distributed::ProcessGroup;

// A JS handle that shares a ProcessGroup with the calls in flight on worker threads.
class ProcessGroupHandle : public Napi::ObjectWrap<ProcessGroupHandle> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(
        env, "ProcessGroup",
        {InstanceAccessor<&ProcessGroupHandle::GetRank>("rank"),
         InstanceAccessor<&ProcessGroupHandle::GetWorldSize>("worldSize"),
         InstanceAccessor<&ProcessGroupHandle::GetBackend>("backend"),
         InstanceAccessor<&ProcessGroupHandle::GetDevice>("device"),
         InstanceAccessor<&ProcessGroupHandle::GetTimeout>("timeoutMs"),
         InstanceMethod<&ProcessGroupHandle::AllReduceMean>("allReduceMean"),
         InstanceMethod<&ProcessGroupHandle::Broadcast>("broadcast"),
         InstanceMethod<&ProcessGroupHandle::Barrier>("barrier"), InstanceMethod<&ProcessGroupHandle::Join>("join"),
         InstanceMethod<&ProcessGroupHandle::Add>("add"), InstanceMethod<&ProcessGroupHandle::AllGather>("allGather"),
         InstanceMethod<&ProcessGroupHandle::Failure>("failure"), InstanceMethod<&ProcessGroupHandle::Tick>("tick"),
         InstanceMethod<&ProcessGroupHandle::Fail>("fail"), InstanceMethod<&ProcessGroupHandle::Close>("close")});
  }

  explicit ProcessGroupHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessGroupHandle>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      throw Napi::TypeError::New(info.Env(),
                                 "ProcessGroup cannot be constructed directly; use processGroupJoin(options)");
    }
    group_ = *info[0].As<Napi::External<std::shared_ptr<ProcessGroup>>>().Data();
  }

 private:
  // Runs fn on a worker with the group kept alive; resolves with undefined.
  // `lease` marks the tensors it reduces in place as in use.
  Napi::Value Async(Napi::Env env, const char* name, std::function<void(ProcessGroup&)> fn,
                    std::shared_ptr<TensorLease> lease = nullptr) {
    auto group = group_;
    return PromiseWorker::Run(
        env, name, [group, fn] { fn(*group); }, [](Napi::Env e) -> Napi::Value { return e.Undefined(); },
        std::move(lease));
  }

  static std::vector<torch::Tensor> tensorsOf(const Napi::Value& value, const char* what) {
    if (!value.IsArray())
      throw Napi::TypeError::New(value.Env(), std::string(what) + ": expected an array of Tensor handles");
    const auto arr = value.As<Napi::Array>();
    std::vector<torch::Tensor> out;
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      out.push_back(TensorHandle::TensorOf(arr.Get(i), std::string(what) + "[" + std::to_string(i) + "]"));
    }
    return out;
  }

  static std::vector<TensorUse> writesAll(const std::vector<torch::Tensor>& tensors) {
    std::vector<TensorUse> uses;
    for (size_t i = 0; i < tensors.size(); ++i)
      uses.push_back(writes(tensors[i], "tensors[" + std::to_string(i) + "]"));
    return uses;
  }

  Napi::Value GetRank(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), group_->rank()); }
  Napi::Value GetWorldSize(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), group_->worldSize());
  }
  Napi::Value GetBackend(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), distributed::backendName(group_->backend()));
  }
  Napi::Value GetDevice(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), deviceName(group_->device()));
  }
  Napi::Value GetTimeout(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(group_->timeout().count()));
  }

  // async: allReduceMean(tensors) -> Promise<void>; each tensor becomes its mean over the ranks
  Napi::Value AllReduceMean(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&] {
      auto tensors = tensorsOf(info[0], "tensors");
      return Async(
          info.Env(), "trajmatch.allReduceMean", [tensors](ProcessGroup& g) { g.allReduceMean(tensors); },
          leaseTensors(info.Env(), "ProcessGroup.allReduceMean", writesAll(tensors)));
    });
  }

  // async: broadcast(tensors, root) -> Promise<void>; root's values everywhere
  Napi::Value Broadcast(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&] {
      auto tensors = tensorsOf(info[0], "tensors");
      if (info.Length() < 2 || !info[1].IsNumber()) throw Napi::TypeError::New(info.Env(), "root: expected a rank");
      const int root = info[1].As<Napi::Number>().Int32Value();
      return Async(
          info.Env(), "trajmatch.broadcast", [tensors, root](ProcessGroup& g) { g.broadcast(tensors, root); },
          leaseTensors(info.Env(), "ProcessGroup.broadcast", writesAll(tensors)));
    });
  }

  // async: barrier() -> Promise<void>; c10d's barrier, bounded by the timeout
  Napi::Value Barrier(const Napi::CallbackInfo& info) {
    return guard(info.Env(),
                 [&] { return Async(info.Env(), "trajmatch.barrier", [](ProcessGroup& g) { g.barrier(); }); });
  }

  // async: join(name) -> Promise<void>; every rank reached `name` (no deadline while all are alive)
  Napi::Value Join(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&] {
      const auto name = argString(info, 0, "name");
      return Async(info.Env(), "trajmatch.join", [name](ProcessGroup& g) { g.join(name); });
    });
  }

  // async: add(key, delta) -> Promise<number>; the counter's new value
  Napi::Value Add(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&] {
      const auto key = argString(info, 0, "key");
      if (info.Length() < 2 || !info[1].IsNumber())
        throw Napi::TypeError::New(info.Env(), "delta: expected an integer");
      const auto delta = info[1].As<Napi::Number>().Int64Value();
      auto group = group_;
      auto out = std::make_shared<int64_t>(0);
      return PromiseWorker::Run(
          info.Env(), "trajmatch.add", [group, key, delta, out] { *out = group->add(key, delta); },
          [out](Napi::Env e) -> Napi::Value { return Napi::Number::New(e, static_cast<double>(*out)); }, nullptr);
    });
  }

  // async: allGather(key, value) -> Promise<string[]>; every rank's value, in rank order
  Napi::Value AllGather(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&] {
      const auto key = argString(info, 0, "key");
      const auto value = argString(info, 1, "value");
      auto group = group_;
      auto out = std::make_shared<std::vector<std::string>>();
      return PromiseWorker::Run(
          info.Env(), "trajmatch.allGather", [group, key, value, out] { *out = group->allGather(key, value); },
          [out](Napi::Env e) -> Napi::Value {
            auto arr = Napi::Array::New(e, out->size());
            for (size_t i = 0; i < out->size(); ++i) arr.Set(static_cast<uint32_t>(i), (*out)[i]);
            return arr;
          },
          nullptr);
    });
  }

  // sync: failure() -> string | null; a rank that died, hung or failed, naming it
  Napi::Value Failure(const Napi::CallbackInfo& info) {
    const auto f = group_->failure();
    return f ? Napi::String::New(info.Env(), *f) : info.Env().Null();
  }

  // sync: tick(); this rank's event loop is alive
  Napi::Value Tick(const Napi::CallbackInfo& info) {
    group_->tick();
    return info.Env().Undefined();
  }

  // async: fail(message) -> Promise<void>; the others stop with "rank R failed: message"
  Napi::Value Fail(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&] {
      const auto message = argString(info, 0, "message");
      return Async(info.Env(), "trajmatch.fail", [message](ProcessGroup& g) { g.fail(message); });
    });
  }

  // async: close() -> Promise<void>; leaves the group (rank 0 waits for the others to leave)
  Napi::Value Close(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&] { return Async(info.Env(), "trajmatch.close", [](ProcessGroup& g) { g.close(); }); });
  }

  std::shared_ptr<ProcessGroup> group_;
};

// async: processGroupJoin({rank, worldSize, masterAddr, masterPort, timeoutMs, backend, device,
//   agreed: [[name, value], ...]}) -> Promise<ProcessGroup>
Napi::Value ProcessGroupJoin(const Napi::CallbackInfo& info) {
  auto* cls = static_cast<Napi::FunctionReference*>(info.Data());
  const auto o = argObject(info, 0, "options");
  distributed::GroupOptions options;
  options.rank = static_cast<int>(getInt(o, "options", "rank"));
  options.worldSize = static_cast<int>(getInt(o, "options", "worldSize"));
  options.masterAddr = getString(o, "options", "masterAddr");
  options.masterPort = static_cast<int>(getInt(o, "options", "masterPort"));
  options.timeout = std::chrono::milliseconds(getInt(o, "options", "timeoutMs"));
  options.backend = distributed::parseBackend(getString(o, "options", "backend"));
  options.device = parseDevice(getString(o, "options", "device"));
  const auto agreed = o.Get("agreed");
  if (!agreed.IsUndefined()) {
    if (!agreed.IsArray())
      throw Napi::TypeError::New(info.Env(), "options.agreed: expected an array of [name, value] pairs");
    const auto arr = agreed.As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      const auto pair = arr.Get(i);
      const auto name = "options.agreed[" + std::to_string(i) + "]";
      if (!pair.IsArray() || pair.As<Napi::Array>().Length() != 2 || !pair.As<Napi::Array>().Get(0u).IsString() ||
          !pair.As<Napi::Array>().Get(1u).IsString()) {
        throw Napi::TypeError::New(info.Env(), name + ": expected a [name, value] pair of strings");
      }
      options.agreed.emplace_back(pair.As<Napi::Array>().Get(0u).As<Napi::String>().Utf8Value(),
                                  pair.As<Napi::Array>().Get(1u).As<Napi::String>().Utf8Value());
    }
  }
  auto group = std::make_shared<std::shared_ptr<ProcessGroup>>();
  return PromiseWorker::Run(
      info.Env(), "trajmatch.processGroupJoin", [options, group] { *group = ProcessGroup::join(options); },
      [group, cls](Napi::Env env) -> Napi::Value {
        return cls->New({Napi::External<std::shared_ptr<ProcessGroup>>::New(env, group.get())});
      },
      nullptr);
}

// sync: distributedInfo() -> {c10d, gloo, nccl}: what this build can run
Napi::Value DistributedInfo(const Napi::CallbackInfo& info) {
  const auto c = distributed::capabilities();
  auto out = Napi::Object::New(info.Env());
  out.Set("c10d", c.c10d);
  out.Set("gloo", c.gloo);
  out.Set("nccl", c.nccl);
  return out;
}

}  // namespace

void RegisterDistributed(Napi::Env env, Napi::Object exports) {
  // The class is reached through the join function's data; it lives as long as the addon.
  auto* cls = new Napi::FunctionReference(Napi::Persistent(ProcessGroupHandle::Init(env)));
  env.AddCleanupHook([cls] { delete cls; });
  exports.Set("processGroupJoin", Napi::Function::New(env, guarded<ProcessGroupJoin>, "processGroupJoin", cls));
  exports.Set("distributedInfo", Napi::Function::New(env, guarded<DistributedInfo>, "distributedInfo"));
}

}  // namespace trajmatch::binding
