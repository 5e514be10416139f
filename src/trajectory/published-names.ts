/**
 * The names the published ConvNet (networks.py of MTT and MCT) gives the tensors of our flat
 * parameter vector. Its blocks are one nn.Sequential, `features`, of conv, norm (unless none),
 * activation and pooling (unless none), so block d's conv is features.{d * n}, its norm
 * features.{d * n + 1} (n = modules per block); then `classifier`. Both list the tensors in the
 * same order (module.parameters()), which is also the order of the published .pt buffers.
 */
import { convNetLayout, ConvNetSpec } from '../model/convnet';

export interface PublishedTensor {
  name: string;
  shape: number[];
  /** First element in the flat vector. */
  offset: number;
  numel: number;
}

export function publishedLayout(spec: ConvNetSpec): PublishedTensor[] {
  const perBlock = 2 + (spec.norm !== 'none' ? 1 : 0) + (spec.pooling !== 'none' ? 1 : 0);
  return convNetLayout(spec).tensors.map((t) => {
    const m = /^features\.(\d+)\.(conv|norm)\.(weight|bias)$/.exec(t.name);
    const name = m ? `features.${Number(m[1]) * perBlock + (m[2] === 'conv' ? 0 : 1)}.${m[3]}` : t.name;
    return { name, shape: [...t.shape], offset: t.offset, numel: t.numel };
  });
}
