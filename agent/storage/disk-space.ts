// The disk check before an upload: the state dir's file system must have room
// for twice the release (the tarball and its unpacked copy) plus a reserve
// (disk_reserve_bytes), or the upload is refused before a byte is written,
// with the figures: "needs 1.2 GiB, 300 MiB free on /var/lib/slipway".
import { statfs } from 'node:fs/promises';
import { SlipwayError } from '../../common/errors.js';

/** Bytes available to unprivileged users on the file system holding path (statfs bavail × bsize, as df shows). */
export async function freeBytes(path: string): Promise<number> {
  const fs = await statfs(path);
  return Number(fs.bavail) * Number(fs.bsize);
}

/** Pure: the bytes an upload of `size` needs free. */
export function bytesNeeded(size: number, reserve: number): number {
  return 2 * size + reserve;
}

/** Pure: 1.2 GiB, 300 MiB, 512 KiB, 100 B (binary units, as df -h). */
export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v >= 100 || Number.isInteger(v) ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** Pure: why an upload does not fit, or undefined when it does. */
export function diskProblem(what: string, size: number, reserve: number, free: number, path: string): string | undefined {
  const need = bytesNeeded(size, reserve);
  if (free >= need) return undefined;
  return `not enough disk space for ${what} (${formatSize(size)}): needs ${formatSize(need)}, ${formatSize(free)} free on ${path}`
    + ` (twice the release, for its tarball and its unpacked copy, plus disk_reserve_bytes ${formatSize(reserve)});`
    + ' free some space, for example with slipway prune, and upload again';
}

export interface DiskCheck {
  /** The state dir: the file system that is checked, and the path the error names. */
  path: string;
  reserve: number;
  /** How free space is read; tests stub it where no small file system can be mounted. */
  free?: (path: string) => Promise<number>;
}

/** Throws RESOURCE_EXHAUSTED when an upload of `size` bytes does not fit. */
export async function checkDiskSpace(check: DiskCheck, what: string, size: number): Promise<void> {
  const free = await (check.free ?? freeBytes)(check.path);
  const problem = diskProblem(what, size, check.reserve, free, check.path);
  if (problem) throw new SlipwayError('SLIPWAY_ERR_DISK_FULL', problem);
}

/** True for the errors a full file system (or a full quota) gives a write. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * A write that failed because the disk is full, as an error that says so and
 * where, with the figures: "no space left on the file system of
 * /var/lib/slipway (12 KiB free of 20 MiB): the lease was not taken; free some
 * space, …". Any other error is returned as it is.
 */
export async function explainDiskFull(err: unknown, path: string, consequence: string): Promise<unknown> {
  if (!isDiskFull(err)) return err;
  return diskFullError(path, consequence, err);
}

/** SLIPWAY_ERR_DISK_FULL for the file system of path, with its figures as statfs reads them now. */
export async function diskFullError(path: string, consequence: string, cause?: unknown): Promise<SlipwayError> {
  let figures = '';
  try {
    const fs = await statfs(path);
    figures = ` (${formatSize(Number(fs.bavail) * Number(fs.bsize))} free of ${formatSize(Number(fs.blocks) * Number(fs.bsize))})`;
  } catch { /* the path itself may be gone; the message still names it */ }
  return new SlipwayError('SLIPWAY_ERR_DISK_FULL',
    `no space left on the file system of ${path}${figures}: ${consequence}; free some space (slipway prune, old logs) and retry`, { cause });
}
