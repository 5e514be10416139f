/** The library API of trajmatch: dataset distillation by trajectory matching (MTT, MCT) on libtorch. */
export { TrajmatchInputError, TrajmatchLoadError, TrajmatchNativeError } from './errors';
export type { BackendInfo, DType, HostArray, Tensor } from './native';
export { loadAddon } from './native';
export { backendInfo, resolveDevice } from './backend/device';
export type { DeviceRequest } from './backend/device';
export { disposeAll, liveTensorCount, tensor } from './backend/tensor';
export type { TensorOptions } from './backend/tensor';
export { convNetForward, convNetLayout, convNetSpec } from './model/convnet';
export type { ConvNetOptions, ConvNetSpec, ParamLayout } from './model/convnet';
export { unrollMatch } from './distill/unroll';
export type { MatchInputs, MatchResult } from './distill/unroll';
export { DATASET_NAMES, datasetOptions, datasetToDevice, loadDataset, readRawDataset } from './data/dataset';
export type { Dataset, DatasetName, DatasetOptions, DatasetSplit } from './data/dataset';
export type { RawDataset, RawSplit } from './data/raw';
export { DatasetError } from './data/files';
export { PUBLISHED_STATS } from './data/stats';
export type { ChannelStats } from './data/stats';
export { ZcaWhitening } from './data/zca';
