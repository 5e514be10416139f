// Every C++ exception that reaches the boundary becomes a JS Error with a clean message:
// nothing the user passes in may terminate the process.
#pragma once

#include <napi.h>

#include "core/errors.h"

namespace trajmatch::binding {

// Wraps a binding function so that c10::Error and std::exception become JS Errors (without the
// libtorch backtrace); Napi::Error (TypeErrors from argument checks) passes through unchanged.
template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  try {
    return Fn(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), describeException(e));
  } catch (...) {
    throw Napi::Error::New(info.Env(), "unknown native error");
  }
}

// The same for lambdas inside ObjectWrap methods.
template <typename F>
auto guard(Napi::Env env, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, describeException(e));
  } catch (...) {
    throw Napi::Error::New(env, "unknown native error");
  }
}

}  // namespace trajmatch::binding
