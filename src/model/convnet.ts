/**
 * The ConvNet of the distillation literature (depth blocks of conv 3x3 -> norm -> activation ->
 * pool, then a linear classifier), run by the engine in functional form on one flat parameter vector.
 */
import { z } from 'zod';
import { handleDevice } from '../backend/device';
import * as engine from '../engine';
import { expected, TrajmatchInputError, TrajmatchNativeError } from '../errors';
import { MAX_TYPED_ELEMENTS } from '../util/limits';
import { DType, ParamTensor, Tensor } from '../native';
import { parseOptions } from '../config/validate';
import { Equals, Expect, Resolved } from '../config/schema-types';

/** The network options a user chooses; the input shape and class count come from the dataset. */
export interface NetworkOptions {
  /** Channels of every conv layer (published: 128, the default). */
  netWidth?: number;
  /** Number of conv blocks (published: 3 for 32 px, the default; 4 for 64 px, 5 for 128 px). */
  depth?: number;
  /** instance (default, published) = group norm with one group per channel; group = 4 groups. */
  norm?: 'instance' | 'batch' | 'layer' | 'group' | 'none';
  /** Default relu. */
  activation?: 'relu' | 'sigmoid' | 'leakyrelu';
  /** Default avg. */
  pooling?: 'avg' | 'max' | 'none';
}

/** A ConvNet: the images' shape, the classes, and the network options. */
export interface ConvNetOptions extends NetworkOptions {
  channels: number;
  height: number;
  width: number;
  /** At least 2. */
  numClasses: number;
}

/** ConvNetOptions with the defaults filled in, as convNetSpec returns them. */
export type ConvNetSpec = Resolved<ConvNetOptions>;

/** @internal The schema of ConvNetOptions. */
export const convNetSpecSchema = z.strictObject({
  channels: z.number().int().positive(),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  numClasses: z.number().int().min(2),
  // bounded so that the parameter count cannot overflow (see convNetForDataset for the real limit)
  netWidth: z
    .number()
    .int()
    .positive()
    .max(2 ** 20)
    .default(128),
  depth: z.number().int().positive().default(3),
  norm: z.enum(['instance', 'batch', 'layer', 'group', 'none']).default('instance'),
  activation: z.enum(['relu', 'sigmoid', 'leakyrelu']).default('relu'),
  pooling: z.enum(['avg', 'max', 'none']).default('avg'),
});

/** @internal The schema of NetworkOptions. */
export const networkOptionsSchema = convNetSpecSchema.pick({ netWidth: true, depth: true, norm: true, activation: true, pooling: true });

// Fails to compile when the types above and the schemas differ (see config/schema-types.ts).
type _SameAsSchema = [
  Expect<Equals<ConvNetOptions, z.input<typeof convNetSpecSchema>>>,
  Expect<Equals<ConvNetSpec, z.output<typeof convNetSpecSchema>>>,
  Expect<Equals<NetworkOptions, z.input<typeof networkOptionsSchema>>>,
];

export interface ParamLayout {
  numParams: number;
  tensors: ParamTensor[];
}

/** Validates ConvNet options and fills in the published defaults. */
export function convNetSpec(options: ConvNetOptions, where = 'convnet'): ConvNetSpec {
  return parseOptions(convNetSpecSchema, options, where);
}

/** Name, shape and offset of every tensor in the flat parameter vector. */
export function convNetLayout(spec: ConvNetSpec): ParamLayout {
  return engine.convnetLayout(spec);
}

/** Logits [N, numClasses] of images [N, channels, height, width] under the flat parameters. */
export function convNetForward(spec: ConvNetSpec, images: Tensor, params: Tensor): Promise<Tensor> {
  return engine.convnetForward(spec, images, params);
}

/**
 * A fresh flat parameter vector with PyTorch's default layer initialisation, drawn from `seed`
 * (the same seed gives the same network on every device); float32 on the CPU unless asked.
 */
export function convNetInit(spec: ConvNetSpec, options: { seed: number; dtype?: DType; device?: string }): Tensor {
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw expected('seed', 'a non-negative integer', options.seed);
  return engine.convnetInit(spec, { seed: options.seed, dtype: options.dtype ?? 'float32', device: handleDevice(options.device) });
}

/**
 * The layout, with the engine's refusals of a shape (a depth that pools the images below one pixel,
 * group norm on a netWidth that is not a multiple of 4) named by the option, so that the CLI can
 * name its flag.
 */
function layoutNaming(spec: ConvNetSpec, where: string): ParamLayout {
  try {
    return convNetLayout(spec);
  } catch (e) {
    if (!(e instanceof TrajmatchNativeError)) throw e;
    const option = ['netWidth', 'depth'].find((key) => e.detail.startsWith(`ConvNet: ${key} `) || e.detail.includes(`so ${key} `));
    throw new TrajmatchInputError(option ? `${where}.${option}: ${e.detail}` : `${where}: ${e.detail}`, { cause: e });
  }
}

/** The ConvNet for a dataset's images and classes. */
export function convNetForDataset(
  data: { channels: number; height: number; width: number; numClasses: number },
  network: NetworkOptions = {},
  where = 'network',
): ConvNetSpec {
  const n = parseOptions(networkOptionsSchema, network, where);
  const spec = convNetSpec({ channels: data.channels, height: data.height, width: data.width, numClasses: data.numClasses, ...n }, where);
  const { numParams } = layoutNaming(spec, where); // shapes that do not fit the images fail here, before any work
  if (numParams > MAX_TYPED_ELEMENTS) {
    throw new TrajmatchInputError(
      `${where}.netWidth ${spec.netWidth} (depth ${spec.depth}) makes a ConvNet of ${numParams} parameters: more than one tensor can hold here (${MAX_TYPED_ELEMENTS} values); lower ${where}.netWidth`,
    );
  }
  return spec;
}

/** A short name of a network for folder names: convnet-d3-w128-instance-relu-avg. */
export function convNetTag(spec: ConvNetSpec): string {
  return `convnet-d${spec.depth}-w${spec.netWidth}-${spec.norm}-${spec.activation}-${spec.pooling}`;
}
