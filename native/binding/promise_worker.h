// The async pattern of the binding: arguments are converted into plain C++ values on the JS
// thread, the work runs on a libuv worker thread (never touching N-API), and the result or the
// error settles a Promise back on the JS thread.
#pragma once

#include <napi.h>
#include <torch/torch.h>

#include <functional>
#include <memory>

#include "binding/in_flight.h"
#include "core/device.h"
#include "core/errors.h"

namespace trajmatch::binding {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<void()>;                     // runs on the worker thread
  using Resolve = std::function<Napi::Value(Napi::Env)>;  // runs on the JS thread afterwards
  using Done = std::function<void()>;                     // runs on the JS thread once settled, either way

  // Queues the work and returns the Promise it will settle. `lease` (leaseTensors) marks the
  // tensors the work reads and writes as in use until then.
  static Napi::Promise Run(Napi::Env env, const char* name, Work work, Resolve resolve,
                           std::shared_ptr<TensorLease> lease) {
    return Start(new PromiseWorker(env, name, std::move(work), std::move(resolve), nullptr, std::move(lease)));
  }

  // The same for a method of a handle: `owner` (the handle's JS object) is kept alive until the
  // Promise settles, and `done` runs then (e.g. to mark the handle free again).
  static Napi::Promise Run(const Napi::Object& owner, const char* name, Work work, Resolve resolve, Done done,
                           std::shared_ptr<TensorLease> lease) {
    return Start(
        new PromiseWorker(owner, name, std::move(work), std::move(resolve), std::move(done), std::move(lease)));
  }

 protected:
  void Execute() override {
    try {
      initThreads();                       // intra-op threads and grad mode are thread-local:
      torch::AutoGradMode gradMode(true);  // set them on this worker thread
      work_();
    } catch (const std::exception& e) {
      SetError(describeException(e));
    } catch (...) {
      SetError("unknown native error");
    }
  }

  void OnOK() override {
    Napi::HandleScope scope(Env());
    lease_.reset();  // the tensors are free again before the Promise's callbacks run
    if (done_) done_();
    try {
      deferred_.Resolve(resolve_(Env()));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (const std::exception& e) {
      deferred_.Reject(Napi::Error::New(Env(), describeException(e)).Value());
    }
  }

  void OnError(const Napi::Error& e) override {
    lease_.reset();
    if (done_) done_();
    deferred_.Reject(e.Value());
  }

 private:
  PromiseWorker(Napi::Env env, const char* name, Work work, Resolve resolve, Done done,
                std::shared_ptr<TensorLease> lease)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        resolve_(std::move(resolve)),
        done_(std::move(done)),
        lease_(std::move(lease)) {}
  PromiseWorker(const Napi::Object& owner, const char* name, Work work, Resolve resolve, Done done,
                std::shared_ptr<TensorLease> lease)
      : PromiseWorker(owner.Env(), name, std::move(work), std::move(resolve), std::move(done), std::move(lease)) {
    owner_ = Napi::Persistent(owner);  // released with the worker, on the JS thread, once settled
  }

  static Napi::Promise Start(PromiseWorker* worker) {
    auto promise = worker->deferred_.Promise();
    worker->AsyncWorker::Queue();  // the worker deletes itself once settled
    return promise;
  }

  Napi::Promise::Deferred deferred_;
  Work work_;
  Resolve resolve_;
  Done done_;
  std::shared_ptr<TensorLease> lease_;
  Napi::ObjectReference owner_;
};

}  // namespace trajmatch::binding
