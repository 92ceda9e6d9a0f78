#!/usr/bin/env node
// The installed `slipway` command (dist/bin/slipway.cjs): runs the CLI's
// bundle beside it (slipway-cli.cjs, built from coordinator/cli.ts by
// scripts/bundle.mjs) with a V8 code cache per command (code-cache.ts).
// Kept tiny: everything it loads is paid on every start.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeCacheFor, runBundle } from './code-cache.js';
import { commandWord } from './command-word.js';

const bundle = join(dirname(fileURLToPath(import.meta.url)), 'slipway-cli.cjs');
runBundle(bundle, codeCacheFor(bundle, commandWord(process.argv.slice(2)) ?? 'none'));
