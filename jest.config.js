/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  // Transpile only (isolatedModules): type-checking each test file's whole import graph took most of
  // the suite's time on 2 cores; `npm run lint` type-checks src and test with tsc instead.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  // Timeouts catch hangs, not slowness: CI machines have 2 cores, often shared, and the Debian 13
  // run's libtorch (oneDNN off) trains the zoo's networks several times slower than 1.13.
  testTimeout: 600000,
  // Native tests share one libtorch; running files in parallel only oversubscribes 2 cores.
  maxWorkers: 1,
};
