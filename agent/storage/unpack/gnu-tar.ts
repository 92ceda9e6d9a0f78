// Pass 2: GNU tar extracts an archive that pass 1 has already accepted.
// Child processes only; nothing here blocks the caller's event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { SlipwayError } from '../../../common/errors.js';
import { diskFullError } from '../disk-space.js';

export const GNU_TAR = '/usr/bin/tar';
const SYNC = '/usr/bin/sync';
/** A fixed, minimal environment: no TAR_OPTIONS, no locale surprises. */
const ENV = { PATH: '/usr/bin:/bin', LC_ALL: 'C' };

/**
 * GNU tar flags. Never -P (absolute names, ".."): without it GNU tar skips
 * members with "..", strips a leading "/", and creates symlinks whose target
 * is absolute or has ".." as placeholder files until the end, so nothing can
 * be written through them.
 */
export const GNU_TAR_FLAGS = [
  '--extract', '--force-local', // plain tar on stdin: pass 1 has decompressed it already
  '--no-same-owner', // as root, the default is to keep the archive's uid/gid
  '--no-same-permissions', // apply umask 022: drops setuid/setgid/sticky and group/other write
  // Never replace or rewrite a path that exists (the extraction fails instead): a file pass 3 found
  // finished stays as found (early-verify.ts). Existing directories are left as they are (the
  // release root keeps its 0700 while GNU tar runs), as --no-overwrite-dir would, which GNU tar
  // does not take with this flag.
  '--keep-old-files',
  '--delay-directory-restore',
  '--no-acls', '--no-selinux', '--no-xattrs',
  '--warning=no-timestamp', // archives built with mtime 0 or on a fast clock are fine
];

export interface Running { child: ChildProcess; done: Promise<void> }

/** GNU tar's and sync's words for a full disk ("Wrote only 4608 of 10240 bytes" is a short write: no room left). */
const DISK_FULL = /No space left|Disk quota|Wrote only \d+ of \d+ bytes/;

/** `where`: the directory whose file system a full disk is reported on. */
function run(file: string, args: string[], what: string, stdin: 'pipe' | 'ignore' = 'ignore', where?: string, cwd?: string): Running {
  const child = spawn(file, args, { env: ENV, stdio: [stdin, 'ignore', 'pipe'], cwd });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => { if (stderr.length < 4096) stderr += c.toString(); });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(new SlipwayError('SLIPWAY_ERR_HOST_SETUP', `${what}: cannot run ${file}: ${err.message}`, { cause: err })));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const detail = stderr.trim().split('\n').slice(0, 3).join('; ') || (signal ? `killed by ${signal}` : `exit code ${code}`);
      if (DISK_FULL.test(stderr)) {
        const onto = where ?? args.at(-1) ?? '/';
        void diskFullError(onto, `${what} (${detail}); nothing of it is kept`).then(reject);
        return;
      }
      reject(new SlipwayError('SLIPWAY_ERR_CORRUPT_ARCHIVE', `${what}: ${detail}`));
    });
  });
  return { child, done };
}

/**
 * GNU tar reads the tarball from its stdin, which the caller writes only as
 * far as pass 1 has checked (index.ts): GNU tar never sees a byte pass 1 has
 * not accepted.
 */
export function extractWithGnuTar(dest: string): Running {
  // sh only to set the umask, then exec: the pid we hold is tar's own.
  return run('/bin/sh', ['-c', 'umask 022 && exec "$0" "$@"', GNU_TAR, ...GNU_TAR_FLAGS, '--file', '-', '--directory', dest],
    'release tarball could not be extracted', 'pipe', dirname(dest));
}

/** One syncfs(2) for the file system holding `dir`, instead of an fsync per file. */
export function syncFs(dir: string): Running {
  return run(SYNC, ['--file-system', dir], 'syncing the unpacked release');
}

/**
 * fsync(2) of each of `paths` (relative to `dest`, never symlinks), one after
 * the other, by coreutils' sync: the per-release flush (flush.ts).
 */
export function syncPaths(dest: string, paths: string[]): Running {
  return run(SYNC, ['--', ...paths], 'syncing the unpacked release', 'ignore', dest, dest);
}

let checked: Promise<void> | undefined;
/** Makes sure GNU_TAR is GNU tar (the flags above and its safety rules are GNU's). */
export function checkGnuTar(): Promise<void> {
  checked ??= new Promise<void>((resolve, reject) => {
    const child = spawn(GNU_TAR, ['--version'], { env: ENV, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.on('error', (err) => reject(err));
    child.on('close', () => (/GNU tar/.test(out) ? resolve() : reject(new Error(`${GNU_TAR} is not GNU tar`))));
  }).catch((err: unknown) => {
    checked = undefined;
    throw new SlipwayError('SLIPWAY_ERR_HOST_SETUP', `unpacking needs GNU tar at ${GNU_TAR}: ${err instanceof Error ? err.message : String(err)}`);
  });
  return checked;
}
