#include "binding/tensor_handle.h"

#include <cstring>

#include "binding/addon_data.h"
#include "binding/convert.h"
#include "binding/guard.h"
#include "binding/in_flight.h"
#include "core/device.h"
#include "core/dtype.h"

namespace trajmatch::binding {

std::atomic<int64_t> TensorHandle::live_{0};

namespace {

torch::ScalarType typedArrayDtype(const Napi::TypedArray& arr) {
  switch (arr.TypedArrayType()) {
    case napi_float32_array: return torch::kFloat32;
    case napi_float64_array: return torch::kFloat64;
    case napi_int32_array: return torch::kInt32;
    case napi_bigint64_array: return torch::kInt64;
    case napi_uint8_array:
    case napi_uint8_clamped_array: return torch::kUInt8;
    case napi_int8_array: return torch::kInt8;
    case napi_int16_array: return torch::kInt16;
    default:
      throw Napi::TypeError::New(arr.Env(),
                                 "values: unsupported typed array (Uint16Array, Uint32Array and BigUint64Array have no "
                                 "libtorch dtype); use Float32Array, Float64Array, Int32Array, BigInt64Array, "
                                 "Uint8Array, Int8Array or Int16Array");
  }
}

const char* typedArrayName(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return "Float32Array";
    case torch::kFloat64: return "Float64Array";
    case torch::kInt32: return "Int32Array";
    case torch::kInt64: return "BigInt64Array";
    case torch::kUInt8: return "Uint8Array";
    case torch::kInt8: return "Int8Array";
    case torch::kInt16: return "Int16Array";
    default: return "typed array";
  }
}

napi_typedarray_type typedArrayType(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return napi_float32_array;
    case torch::kFloat64: return napi_float64_array;
    case torch::kInt32: return napi_int32_array;
    case torch::kInt64: return napi_bigint64_array;
    case torch::kInt8: return napi_int8_array;
    case torch::kInt16: return napi_int16_array;
    default: return napi_uint8_array;
  }
}

std::string shapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

// toArray and to may be wrapped in JS (src/native.ts gives their refusals the library's error class).
constexpr auto kReplaceable = static_cast<napi_property_attributes>(napi_writable | napi_configurable);

Napi::Function TensorHandle::Init(Napi::Env env) {
  auto cls = DefineClass(
      env, "Tensor",
      {InstanceAccessor<&TensorHandle::GetShape>("shape"), InstanceAccessor<&TensorHandle::GetDtype>("dtype"),
       InstanceAccessor<&TensorHandle::GetDevice>("device"), InstanceAccessor<&TensorHandle::GetNumel>("numel"),
       InstanceAccessor<&TensorHandle::GetDisposed>("disposed"),
       InstanceMethod<&TensorHandle::ToArray>("toArray", kReplaceable),
       InstanceMethod<&TensorHandle::To>("to", kReplaceable), InstanceMethod<&TensorHandle::Dispose>("dispose")});
  addonData(env).tensorClass = Napi::Persistent(cls);
  return cls;
}

Napi::Object TensorHandle::Wrap(Napi::Env env, torch::Tensor tensor) {
  auto obj = addonData(env).tensorClass.New({Napi::String::New(env, kInternalTag)});
  auto* handle = Unwrap(obj);
  handle->tensor_ = std::move(tensor);
  return obj;
}

torch::Tensor TensorHandle::TensorOf(const Napi::Value& value, const std::string& what) {
  auto env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addonData(env).tensorClass.Value())) {
    throw Napi::TypeError::New(env, what + ": expected a Tensor handle");
  }
  auto* handle = Unwrap(value.As<Napi::Object>());
  if (handle->disposed_) throw Napi::Error::New(env, what + ": the Tensor handle was disposed");
  return handle->tensor_;
}

TensorHandle::TensorHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorHandle>(info) {
  if (info.Length() != 1 || !info[0].IsString() || info[0].As<Napi::String>().Utf8Value() != kInternalTag) {
    throw Napi::TypeError::New(info.Env(), "Tensor cannot be constructed directly; use tensor(values, shape)");
  }
  ++live_;
}

TensorHandle::~TensorHandle() { Release(); }

void TensorHandle::Release() {
  if (disposed_) return;
  disposed_ = true;
  tensor_ = torch::Tensor();
  --live_;
}

const torch::Tensor& TensorHandle::Live(Napi::Env env) const {
  if (disposed_) throw Napi::Error::New(env, "the Tensor handle was disposed");
  return tensor_;
}

Napi::Value TensorHandle::GetShape(const Napi::CallbackInfo& info) {
  return fromShape(info.Env(), Live(info.Env()).sizes());
}

Napi::Value TensorHandle::GetDtype(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), dtypeName(Live(info.Env()).scalar_type()));
}

Napi::Value TensorHandle::GetDevice(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), deviceName(Live(info.Env()).device()));
}

Napi::Value TensorHandle::GetNumel(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Live(info.Env()).numel()));
}

Napi::Value TensorHandle::GetDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), disposed_);
}

Napi::Value TensorHandle::ToArray(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    checkTensors(env, "Tensor.toArray", {reads(Live(env), "this tensor")});
    torch::Tensor host = Live(env).detach().to(torch::kCPU).contiguous();
    // Half precision reads back as float32, bool as uint8: JS has no typed arrays for them.
    if (host.scalar_type() == torch::kFloat16 || host.scalar_type() == torch::kBFloat16)
      host = host.to(torch::kFloat32);
    if (host.scalar_type() == torch::kBool) host = host.to(torch::kUInt8);
    const size_t bytes = host.numel() * host.element_size();
    auto buffer = Napi::ArrayBuffer::New(env, bytes);
    if (bytes > 0) std::memcpy(buffer.Data(), host.data_ptr(), bytes);
    const auto type = typedArrayType(host.scalar_type());
    const size_t n = static_cast<size_t>(host.numel());
    switch (type) {
      case napi_float32_array: return Napi::Float32Array::New(env, n, buffer, 0);
      case napi_float64_array: return Napi::Float64Array::New(env, n, buffer, 0);
      case napi_int32_array: return Napi::Int32Array::New(env, n, buffer, 0);
      case napi_bigint64_array: return Napi::BigInt64Array::New(env, n, buffer, 0);
      case napi_int8_array: return Napi::Int8Array::New(env, n, buffer, 0);
      case napi_int16_array: return Napi::Int16Array::New(env, n, buffer, 0);
      default: return Napi::Uint8Array::New(env, n, buffer, 0);
    }
  });
}

Napi::Value TensorHandle::To(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const auto& t = Live(env);
    checkTensors(env, "Tensor.to", {reads(t, "this tensor")});
    const auto opts = info.Length() > 0 && info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(env);
    const auto dev = getOptionalString(opts, "to", "device");
    const auto dt = getOptionalString(opts, "to", "dtype");
    auto options = t.options();
    if (dev) options = options.device(parseDevice(*dev));
    if (dt) options = options.dtype(parseDtype(*dt));
    return Wrap(env, t.to(options, /*non_blocking=*/false, /*copy=*/true));
  });
}

Napi::Value TensorHandle::Dispose(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value CreateTensor(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray()) {
    throw Napi::TypeError::New(env, "tensor(values, shape): values must be a typed array");
  }
  const auto values = info[0].As<Napi::TypedArray>();
  const auto shape = toShape(info[1], "shape");
  const auto sourceType = typedArrayDtype(values);

  int64_t expected = 1;
  for (auto s : shape) expected *= s;
  const auto length = static_cast<int64_t>(values.ElementLength());
  if (expected != length) {
    throw Napi::Error::New(env, "tensor(values, shape): shape " + shapeText(shape) + " needs " +
                                    std::to_string(expected) + " values but the " + typedArrayName(sourceType) +
                                    " holds " + std::to_string(length));
  }
  const auto opts = argObject(info, 2, "options");
  const auto dt = getOptionalString(opts, "options", "dtype");  // absent: the typed array's own
  const auto targetType = dt ? parseDtype(*dt) : sourceType;
  const auto device = parseDevice(getString(opts, "options", "device"));

  // Copy out of the JS buffer at once: the tensor must not alias memory that JS may reuse.
  auto* base = static_cast<uint8_t*>(values.ArrayBuffer().Data()) + values.ByteOffset();
  const auto host = torch::from_blob(base, shape, torch::TensorOptions().dtype(sourceType));
  return TensorHandle::Wrap(env, host.to(torch::TensorOptions().dtype(targetType).device(device),
                                         /*non_blocking=*/false, /*copy=*/true));
}

}  // namespace trajmatch::binding
