// Unpacks argv[2] into argv[3] with flush argv[4] and writeback step argv[5]
// (test/unit/unpack-flush.test.ts runs this under strace). Prints the result's JSON.
import { unpackTarball, type FlushMode } from '../../agent/storage/unpack/index.js';

const [tarball, dest, flush, step] = process.argv.slice(2);
const r = await unpackTarball(tarball!, dest!, { flush: flush as FlushMode, writebackStep: Number(step) });
console.log(JSON.stringify(r));
