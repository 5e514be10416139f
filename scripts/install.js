#!/usr/bin/env node
'use strict';
// npm install hook: set-up plus the native build, skipped quietly when the addon is up to date.
const { build } = require('./build-native');
const { ensureDefaultDataset } = require('./setup');

build({ quietIfUpToDate: true })
  .then(() => ensureDefaultDataset())
  .catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
