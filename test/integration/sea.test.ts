// The single executable for this machine's CPU: test/helpers/sea-suite.ts.
import { seaSuite } from '../helpers/sea-suite.js';

seaSuite({ arch: process.arch === 'arm64' ? 'arm64' : 'x64', startTimeoutMs: 20_000 });
