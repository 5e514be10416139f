/**
 * The networks the engine trains: the functional ConvNet of the distillation, and for
 * cross-architecture evaluation the literature's AlexNet, VGG11 (instance norm) and ResNet18
 * (batch norm), built natively as ordinary modules (never differentiated through).
 */
import { TrajmatchInputError } from '../errors';
import { NativeNetworkSpec } from '../native';
import { ConvNetSpec } from './convnet';

export const NETWORK_ARCHS = ['convnet', 'alexnet', 'vgg11', 'resnet18'] as const;
export type NetworkArch = (typeof NETWORK_ARCHS)[number];

/** A network of any architecture: the ConvNet with its options, or a zoo module for the input shape. */
export type NetworkSpec = NativeNetworkSpec;

/**
 * The network of an architecture for a dataset's input shape and classes; 'convnet' is `convnet`
 * (which already has that shape).
 */
export function networkSpecFor(
  arch: NetworkArch,
  data: { channels: number; height: number; width: number; numClasses: number },
  convnet: ConvNetSpec,
): NetworkSpec {
  if (!(NETWORK_ARCHS as readonly string[]).includes(arch)) {
    throw new TrajmatchInputError(`Expected one of ${NETWORK_ARCHS.join(', ')} for arch but received ${JSON.stringify(arch)}`);
  }
  if (arch === 'convnet') return { arch, ...convnet };
  return { arch, channels: data.channels, height: data.height, width: data.width, numClasses: data.numClasses };
}
