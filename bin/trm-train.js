#!/usr/bin/env node
'use strict';
require('../dist/lib/cli/train')
  .main(process.argv.slice(2))
  .then((code) => { process.exitCode = code; })
  .catch((err) => { console.error(err && err.message ? `trm-train: ${err.message}` : err); process.exitCode = 1; });
