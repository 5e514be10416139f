'use strict';
// The datasets trajmatch can download (as torchvision's download=True does): their official
// addresses, pinned digests, and where they land in the per-user cache. The download machinery is
// scripts/download.js, the same as for the prebuilt libtorch.
const fs = require('fs');
const path = require('path');
const { cacheDir, fetchVerified, unzipAtomic, DownloadError } = require('./download');

/**
 * Digests: tensorflow-datasets' url_checksums files (url, size, sha256) for MNIST, Fashion-MNIST,
 * CIFAR-10 and CIFAR-100. Tiny ImageNet has no published sha256 that we could find; its zip is
 * checked by the md5 and size that loaders (torchvision-style TinyImageNet classes, the datalad
 * copy of the set) publish for the Stanford file. Debian's dataset-fashion-mnist files are not
 * byte-identical to the official ones (recompressed), so they are not used as a reference.
 * Addresses: the official one first, then mirrors that serve the same bytes (checked by the same digest).
 */
const CATALOG = {
  'fashion-mnist': {
    bases: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
    files: [
      { name: 'train-images-idx3-ubyte.gz', size: 26421880, sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84' },
      { name: 'train-labels-idx1-ubyte.gz', size: 29515, sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845' },
      { name: 't10k-images-idx3-ubyte.gz', size: 4422102, sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073' },
      { name: 't10k-labels-idx1-ubyte.gz', size: 5148, sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5' },
    ],
    // the data path handed to the reader: the folder of the four files
    dataPath: (dir) => dir,
  },
  mnist: {
    bases: ['http://yann.lecun.com/exdb/mnist/', 'https://storage.googleapis.com/cvdf-datasets/mnist/', 'https://ossci-datasets.s3.amazonaws.com/mnist/'],
    files: [
      { name: 'train-images-idx3-ubyte.gz', size: 9912422, sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609' },
      { name: 'train-labels-idx1-ubyte.gz', size: 28881, sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c' },
      { name: 't10k-images-idx3-ubyte.gz', size: 1648877, sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6' },
      { name: 't10k-labels-idx1-ubyte.gz', size: 4542, sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6' },
    ],
    dataPath: (dir) => dir,
  },
  cifar10: {
    bases: ['https://www.cs.toronto.edu/~kriz/'],
    files: [{ name: 'cifar-10-binary.tar.gz', size: 170052171, sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd' }],
    dataPath: (dir) => path.join(dir, 'cifar-10-binary.tar.gz'),
  },
  cifar100: {
    bases: ['https://www.cs.toronto.edu/~kriz/'],
    files: [{ name: 'cifar-100-binary.tar.gz', size: 168513733, sha256: '58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec' }],
    dataPath: (dir) => path.join(dir, 'cifar-100-binary.tar.gz'),
  },
  'tiny-imagenet': {
    bases: ['http://cs231n.stanford.edu/'],
    files: [{ name: 'tiny-imagenet-200.zip', size: 248100043, md5: '90528d7ca1a48142e341f4ef8d21d0de', unzip: 'tiny-imagenet-200' }],
    dataPath: (dir) => path.join(dir, 'tiny-imagenet-200'),
  },
};

/** Where a dataset lives in the cache. */
function datasetCacheDir(name, env = process.env) {
  return path.join(cacheDir(env), 'datasets', name);
}

/** The data path of a cached dataset when every file of it is there, else null. */
function cachedDataset(name, { env = process.env, catalog = CATALOG } = {}) {
  const entry = catalog[name];
  if (!entry) return null;
  const dir = datasetCacheDir(name, env);
  const complete = entry.files.every((f) => fs.existsSync(path.join(dir, f.unzip || f.name)));
  return complete ? entry.dataPath(dir) : null;
}

/**
 * Downloads a dataset into the cache when it is not there, checking every file against its
 * digest; archives meant to be read unpacked are unpacked atomically. Returns { dataPath, downloaded }.
 * TRAJMATCH_DATASETS_MIRROR=<base> fetches <base>/<dataset>/<file> instead of the addresses above.
 */
async function fetchDataset(name, { env = process.env, catalog = CATALOG, log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const entry = catalog[name];
  if (!entry) throw new DownloadError(`dataset '${name}' cannot be downloaded: expected one of ${Object.keys(catalog).join(', ')}`, 'EHTTP');
  const dir = datasetCacheDir(name, env);
  const mirror = env.TRAJMATCH_DATASETS_MIRROR ? env.TRAJMATCH_DATASETS_MIRROR.replace(/\/+$/, '') : null;
  let downloaded = false;
  for (const f of entry.files) {
    if (f.unzip && fs.existsSync(path.join(dir, f.unzip))) continue;
    const urls = mirror ? [`${mirror}/${name}/${f.name}`] : entry.bases.map((b) => b + f.name);
    const dest = path.join(dir, f.name);
    const r = await fetchVerified({ urls, dest, sha256: f.sha256, md5: f.md5, size: f.size, label: `${name} ${f.name}`, env });
    downloaded = downloaded || r.downloaded;
    if (f.unzip) {
      log(`trajmatch: unpacking ${f.name}`);
      try {
        await unzipAtomic(dest, path.join(dir, f.unzip), { top: f.unzip });
      } finally {
        fs.rmSync(dest, { force: true });
      }
    }
  }
  return { dataPath: entry.dataPath(dir), downloaded };
}

module.exports = { CATALOG, datasetCacheDir, cachedDataset, fetchDataset };
