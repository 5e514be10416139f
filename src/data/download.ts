/**
 * Datasets fetched into the per-user cache (~/.cache/trajmatch/datasets) from their official
 * addresses, checked by pinned digests: the same machinery as the prebuilt libtorch download
 * (scripts/download.js and scripts/datasets.js, plain JavaScript because npm install runs them
 * before the TypeScript is built).
 */
import { DatasetError } from './files';

interface DatasetCatalogModule {
  CATALOG: Record<string, unknown>;
  datasetCacheDir(name: string, env?: NodeJS.ProcessEnv): string;
  cachedDataset(name: string, options?: { env?: NodeJS.ProcessEnv }): string | null;
  fetchDataset(name: string, options?: { env?: NodeJS.ProcessEnv }): Promise<{ dataPath: string; downloaded: boolean }>;
}

// The path is the same from src/data (ts-jest) and dist/data (the built package).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catalog = require('../../scripts/datasets') as DatasetCatalogModule;

/** Whether a dataset can be downloaded (it has official addresses and pinned digests). */
export function isDownloadable(name: string): boolean {
  return name in catalog.CATALOG;
}

/** Where a downloaded dataset is kept. */
export function datasetCacheDir(name: string): string {
  return catalog.datasetCacheDir(name);
}

/** The data path of a dataset already downloaded into the cache, or undefined. */
export function cachedDatasetPath(name: string): string | undefined {
  return catalog.cachedDataset(name) ?? undefined;
}

/** Downloads a dataset into the cache (what is there already is kept) and returns its data path. */
export async function downloadDataset(name: string): Promise<string> {
  try {
    return (await catalog.fetchDataset(name)).dataPath;
  } catch (e) {
    throw new DatasetError(`dataset '${name}': ${(e as Error).message}`, { cause: e });
  }
}
