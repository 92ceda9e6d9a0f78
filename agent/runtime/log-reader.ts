// Reading an app's log for `slipway logs`: the last lines (across a rotation),
// then new lines as they are written, surviving rotations.
import { open, stat } from 'node:fs/promises';

const CHUNK = 64 * 1024;

/** The last n lines of a file (without reading all of a large one). */
export async function lastLines(file: string, n: number): Promise<string[]> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = (await fh.stat()).size;
    let pos = size;
    let text = '';
    while (pos > 0 && text.split('\n').length <= n + 1) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos);
      text = buf.toString('utf8') + text;
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-n);
  } finally {
    await fh.close();
  }
}

/** The last n lines of app.log, reaching into app.log.1 when app.log has fewer. */
export async function tailLog(file: string, n: number): Promise<string[]> {
  const cur = await lastLines(file, n);
  if (cur.length >= n) return cur;
  const prev = await lastLines(`${file}.1`, n - cur.length);
  return [...prev, ...cur];
}

/**
 * Calls onLines with every complete line appended to the file from now on,
 * until the signal aborts. A rotation (the file replaced or shrunk) starts
 * reading the new file from its beginning.
 */
export async function follow(file: string, onLines: (lines: string[]) => void, signal: AbortSignal, intervalMs = 250): Promise<void> {
  let ino = -1;
  let pos = 0;
  try {
    const st = await stat(file);
    ino = st.ino;
    pos = st.size;
  } catch { /* not there yet */ }
  let partial = '';
  while (!signal.aborted) {
    await new Promise((r) => setTimeout(r, intervalMs));
    let st;
    try {
      st = await stat(file);
    } catch {
      continue;
    }
    if (st.ino !== ino || st.size < pos) {
      ino = st.ino;
      pos = 0;
      partial = '';
    }
    if (st.size === pos) continue;
    const fh = await open(file, 'r');
    try {
      const len = Math.min(st.size - pos, 4 * CHUNK);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos);
      pos += len;
      const parts = (partial + buf.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      if (parts.length > 0) onLines(parts);
    } finally {
      await fh.close();
    }
  }
}

