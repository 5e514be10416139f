/**
 * Datasets as read from disk, before they go to the device: 8-bit pixels in [N, C, H, W] order
 * and integer labels. Every reader returns this shape; src/data/dataset.ts puts it on the device.
 */
export interface RawSplit {
  /** uint8 pixels, N x C x H x W (planar channels). */
  pixels: Uint8Array;
  /** class index of each image, 0 <= label < numClasses. */
  labels: Int32Array;
}

export interface RawDataset {
  name: string;
  classNames: string[];
  channels: number;
  height: number;
  width: number;
  train: RawSplit;
  test: RawSplit;
  /** Where it was read from (folder or archive), for messages and summaries. */
  source: string;
}

/** Number of images in a split. */
export function splitSize(split: RawSplit): number {
  return split.labels.length;
}

/** Index lists per class: indices[c] holds the positions of the images of class c. */
export function classIndices(labels: Int32Array, numClasses: number): number[][] {
  const indices: number[][] = Array.from({ length: numClasses }, () => []);
  labels.forEach((label, i) => indices[label].push(i));
  return indices;
}
