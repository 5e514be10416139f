// Each binding module adds its functions to the addon's exports (one module per kernel folder).
#pragma once

#include <napi.h>

namespace trajmatch::binding {

void RegisterBackend(
    Napi::Env env,
    Napi::Object exports);  // Tensor, backendInfo, parseDevice, tensor, indexSelect, liveTensorCount, devicePeakBytes
void RegisterModel(Napi::Env env, Napi::Object exports);        // convnetLayout, convnetInit, convnetForward
void RegisterAugment(Napi::Env env, Napi::Object exports);      // dsaApply
void RegisterTrain(Napi::Env env, Napi::Object exports);        // Network, createNetwork, liveNetworkCount
void RegisterDistill(Napi::Env env, Napi::Object exports);      // matchIteration, sgdStep
void RegisterData(Napi::Env env, Napi::Object exports);         // normalizeImages, zcaFit, zcaWhiten, zcaUnwhiten
void RegisterIo(Napi::Env env, Napi::Object exports);           // torchLoad, torchSave
void RegisterDistributed(Napi::Env env, Napi::Object exports);  // processGroupJoin, distributedInfo

}  // namespace trajmatch::binding
