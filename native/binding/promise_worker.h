// The async pattern of the binding: arguments are converted into plain C++ values on the JS
// thread, the work runs on a libuv worker thread (never touching N-API), and the result or the
// error settles a Promise back on the JS thread.
#pragma once

#include <napi.h>
#include <torch/torch.h>

#include <functional>
#include <memory>

#include "core/device.h"
#include "core/errors.h"

namespace trajmatch::binding {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<void()>;                     // runs on the worker thread
  using Resolve = std::function<Napi::Value(Napi::Env)>;  // runs on the JS thread afterwards

  // Queues the work and returns the Promise it will settle.
  static Napi::Promise Run(Napi::Env env, const char* name, Work work, Resolve resolve) {
    auto* worker = new PromiseWorker(env, name, std::move(work), std::move(resolve));
    auto promise = worker->deferred_.Promise();
    worker->Queue();  // the worker deletes itself once settled
    return promise;
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
    try {
      deferred_.Resolve(resolve_(Env()));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (const std::exception& e) {
      deferred_.Reject(Napi::Error::New(Env(), describeException(e)).Value());
    }
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  PromiseWorker(Napi::Env env, const char* name, Work work, Resolve resolve)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)), resolve_(std::move(resolve)) {}

  Napi::Promise::Deferred deferred_;
  Work work_;
  Resolve resolve_;
};

}  // namespace trajmatch::binding
