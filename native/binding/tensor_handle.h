// A JS handle that owns a torch::Tensor, so that data lives on the device across calls and only
// crosses into JS when read back explicitly.
#pragma once

#include <napi.h>
#include <torch/torch.h>

#include <atomic>
#include <string>

namespace trajmatch::binding {

class TensorHandle : public Napi::ObjectWrap<TensorHandle> {
 public:
  // Registers the class (exported as `Tensor`; JS cannot construct it directly).
  static Napi::Function Init(Napi::Env env);
  // A new handle that owns `tensor`.
  static Napi::Object Wrap(Napi::Env env, torch::Tensor tensor);
  // The tensor behind a JS value; TypeError naming `what` if it is not a live handle.
  static torch::Tensor TensorOf(const Napi::Value& value, const std::string& what);
  // Handles created and not yet disposed or garbage-collected, for leak tests.
  static int64_t LiveCount() { return live_.load(); }

  // sync: new Tensor(...) from JS throws; handles come from tensor() and native operations.
  explicit TensorHandle(const Napi::CallbackInfo& info);
  ~TensorHandle() override;

 private:
  const torch::Tensor& Live(Napi::Env env) const;  // throws once disposed
  void Release();

  Napi::Value GetShape(const Napi::CallbackInfo& info);
  Napi::Value GetDtype(const Napi::CallbackInfo& info);
  Napi::Value GetDevice(const Napi::CallbackInfo& info);
  Napi::Value GetNumel(const Napi::CallbackInfo& info);
  Napi::Value GetDisposed(const Napi::CallbackInfo& info);
  // sync: copies the values into a new typed array on the host.
  Napi::Value ToArray(const Napi::CallbackInfo& info);
  // sync: a new handle with the values on another device and/or dtype ({device?, dtype?}).
  Napi::Value To(const Napi::CallbackInfo& info);
  // sync: frees the tensor now; later use of the handle throws.
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  torch::Tensor tensor_;
  bool disposed_ = false;
  static std::atomic<int64_t> live_;
};

// sync: tensor(typedArray, shape, {dtype?, device}) copies host values into a new handle (dtype:
//   the typed array's when absent).
Napi::Value CreateTensor(const Napi::CallbackInfo& info);

}  // namespace trajmatch::binding
