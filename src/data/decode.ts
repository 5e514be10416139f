/** Decoding image files (JPEG, PNG, WebP, GIF, TIFF) into planar 8-bit pixels with sharp. */
import type SharpModule from 'sharp';
import { DatasetError } from './files';

// Loaded on first use: only image-file datasets need libvips, and a deployment without it (the
// staged GPU machine, say) still runs everything else.
let sharpModule: typeof SharpModule | undefined;
function sharp(...args: Parameters<typeof SharpModule>) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sharpModule ??= require('sharp') as typeof SharpModule;
  return sharpModule(...args);
}

export interface ImageShape {
  channels: 1 | 3;
  height: number;
  width: number;
}

/** File name endings that decodeImage accepts. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff'];

/**
 * Decodes a file, resizes it to the shape (stretching, as torchvision's Resize((h, w)) does) and
 * writes it as C x H x W bytes into `out` at `offset`. A file that cannot be decoded is a DatasetError naming it.
 */
export async function decodeImageInto(file: string, shape: ImageShape, out: Uint8Array, offset: number): Promise<void> {
  let data: Buffer;
  let bands: number;
  try {
    let pipeline = sharp(file, { failOn: 'error' }).resize(shape.width, shape.height, { fit: 'fill' }).removeAlpha();
    pipeline = shape.channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
    const result = await pipeline.raw().toBuffer({ resolveWithObject: true });
    data = result.data;
    bands = result.info.channels;
  } catch (e) {
    throw new DatasetError(`${file}: cannot decode image (${(e as Error).message})`, { cause: e });
  }
  const plane = shape.height * shape.width;
  for (let c = 0; c < shape.channels; c++) {
    const from = Math.min(c, bands - 1); // a single-band result fills every channel
    for (let p = 0; p < plane; p++) out[offset + c * plane + p] = data[p * bands + from];
  }
}

/** Runs `fn` over items with at most `limit` in flight; rejects with the first error. */
export async function forEachLimit<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Decodes a list of files of known labels into one split. */
export async function decodeSplit(files: { file: string; label: number }[], shape: ImageShape): Promise<{ pixels: Uint8Array; labels: Int32Array }> {
  const size = shape.channels * shape.height * shape.width;
  const pixels = new Uint8Array(files.length * size);
  const labels = Int32Array.from(files, (f) => f.label);
  await forEachLimit(files, 16, ({ file }, i) => decodeImageInto(file, shape, pixels, i * size));
  return { pixels, labels };
}
