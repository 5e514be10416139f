#!/usr/bin/env node
'use strict';
// npm install hook: set-up plus the native build, skipped quietly when the addon is up to date.
const { build } = require('./build-native');

try {
  build({ quietIfUpToDate: true });
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
