// Each binding module adds its functions to the addon's exports.
#pragma once

#include <napi.h>

namespace trajmatch::binding {

void RegisterBackend(Napi::Env env, Napi::Object exports);  // backendInfo, parseDevice, tensor, indexSelect, liveTensorCount, devicePeakBytes
void RegisterModel(Napi::Env env, Napi::Object exports);    // convnetLayout, convnetForward
void RegisterDistill(Napi::Env env, Napi::Object exports);  // matchIteration, sgdStep
void RegisterTrain(Napi::Env env, Napi::Object exports);    // convnetInit, dsaApply, trainEpoch, evaluate, zooTrainTest
void RegisterData(Napi::Env env, Napi::Object exports);     // normalizeImages, zcaFit, zcaWhiten, zcaUnwhiten
void RegisterIo(Napi::Env env, Napi::Object exports);       // torchLoad, torchSave
void RegisterDistributed(Napi::Env env, Napi::Object exports);  // processGroupJoin, distributedInfo

}  // namespace trajmatch::binding
