// The durability step made proportionate: fsync what the unpack wrote (every
// file and directory, and the release root) instead of one syncfs, which
// writes back every dirty page of the whole file system, whatever else on the
// host wrote them. Pure: which paths, in which batches. The fsyncs are done by
// coreutils' `sync -- PATH…` (one fsync(2) per path, in order), FLUSH_PARALLEL
// processes at once so that the file system's journal commits many fsyncs
// together (gnu-tar.ts: syncPaths; index.ts runs them). Symlinks need no
// fsync of their own (and `sync` would follow them): their directory's fsync
// makes them durable. docs/benchmarks.md has the figures against syncfs.
import type { Node } from './rules.js';

/** `sync` processes at once: each does its fsyncs one after the other, so this is the fsyncs in flight. */
export const FLUSH_PARALLEL = 32;
/** Bytes of path arguments per `sync` process at most (Linux allows 2 MiB of arguments and environment). */
export const FLUSH_ARG_BYTES = 256 * 1024;

/** Every file and directory the archive describes, relative to the release root, and the root itself ('.'). */
export function flushPaths(tree: Map<string, Node>): string[] {
  const out: string[] = [];
  for (const [path, node] of tree) if (node.type !== 'symlink') out.push(path);
  out.push('.');
  return out;
}

/**
 * Splits `paths` into at least `parallel` batches (fewer when there are fewer
 * paths), each at most `maxBytes` of arguments, dealt round-robin so that
 * every batch gets a share of the small and the big files alike.
 */
export function flushBatches(paths: string[], parallel = FLUSH_PARALLEL, maxBytes = FLUSH_ARG_BYTES): string[][] {
  let total = 0;
  for (const p of paths) total += Buffer.byteLength(p) + 1;
  const n = Math.min(paths.length, Math.max(parallel, Math.ceil(total / maxBytes) * 2));
  const batches: string[][] = Array.from({ length: n }, () => []);
  paths.forEach((p, i) => batches[i % n]!.push(p));
  return batches;
}
