// A small real file system (tmpfs) for disk-full tests: mounted on a temp
// dir, filled to the last block on demand, freed again. Needs root (CI and
// this project's machines run as root); elsewhere the tests that use it skip
// and say why.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallFs {
  dir: string;
  /** Writes a filler file until the file system refuses another byte. */
  fill(): void;
  /** Removes the filler. */
  free(): void;
  unmount(): void;
}

/** Why a tmpfs cannot be mounted here, or undefined when it can. */
export function smallFsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  try {
    const probe = mountSmallFs(64 * 1024);
    probe.unmount();
    return undefined;
  } catch (err) {
    return `cannot mount a tmpfs: ${(err as Error).message}`;
  }
}

export function mountSmallFs(bytes: number): SmallFs {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-smallfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const filler = join(dir, '.filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(4096);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(fd);
      }
    },
    free() {
      writeFileSync(filler, '');
      rmSync(filler, { force: true });
    },
    unmount() {
      execFileSync('umount', ['--lazy', dir], { stdio: 'pipe' }); // lazy: a stream still closing keeps it busy a moment
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
