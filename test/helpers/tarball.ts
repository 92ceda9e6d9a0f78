// Tar archives built byte by byte (raw ustar headers, PAX and GNU records,
// gzip members), good and hostile, for the unpacker's unit tests and the
// hostile-tarball integration suite. Nothing here checks anything.
import { gzipSync } from 'node:zlib';

export interface E { path: string; type?: string; data?: string | Buffer; linkpath?: string; mode?: number; uid?: number; size?: number; sizeField?: Buffer; badChecksum?: boolean }

function octal(buf: Buffer, off: number, len: number, n: number): void {
  buf.write(n.toString(8).padStart(len - 1, '0') + '\0', off, len, 'ascii');
}

export function header(e: { path: string; type: string; size: number; linkpath?: string; mode: number; uid: number; sizeField?: Buffer; badChecksum?: boolean }): Buffer {
  const h = Buffer.alloc(512);
  h.write(e.path, 0, 100, 'utf8');
  octal(h, 100, 8, e.mode);
  octal(h, 108, 8, e.uid);
  octal(h, 116, 8, e.uid);
  if (e.sizeField) e.sizeField.copy(h, 124, 0, 12);
  else octal(h, 124, 12, e.size);
  octal(h, 136, 12, 1_700_000_000);
  h.write(e.type, 156, 1, 'ascii');
  if (e.linkpath) h.write(e.linkpath, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 8, 'ascii');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write((e.badChecksum ? sum + 1 : sum).toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

export const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body);
  len += String(len).length;
  if (String(len).length !== String(len - String(len - 1).length).length) len++;
  return `${len}${body}`;
}

/** A tar stream (uncompressed); names over 100 bytes get a PAX header. */
export function tarBytes(entries: E[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? '0';
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    const size = e.size ?? data.length;
    let path = e.path;
    if (Buffer.byteLength(path) > 100 || Buffer.byteLength(e.linkpath ?? '') > 100) {
      const pax = Buffer.from(paxRecord('path', path) + (e.linkpath ? paxRecord('linkpath', e.linkpath) : ''));
      blocks.push(header({ path: 'PaxHeader/x', type: 'x', size: pax.length, mode: 0o644, uid: 0 }), pad(pax));
      path = path.slice(0, 99);
    }
    blocks.push(header({ path, type, size, linkpath: e.linkpath?.slice(0, 100), mode: e.mode ?? (type === '5' ? 0o755 : 0o644), uid: e.uid ?? 0, sizeField: e.sizeField, badChecksum: e.badChecksum }));
    if (data.length > 0) blocks.push(pad(data));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export const tgz = (entries: E[]) => gzipSync(tarBytes(entries));

/** A PAX extended header (type x, or g for global) applying `records` to the next entry. */
export const pax = (records: Record<string, string>, type = 'x'): E =>
  ({ path: 'PaxHeader/x', type, data: Object.entries(records).map(([k, v]) => paxRecord(k, v)).join('') });
/** A GNU long-name (L) or long-link (K) record. */
export const gnuLong = (name: string, type = 'L'): E => ({ path: '././@LongLink', type, data: `${name}\0` });
/** A base-256 size field (GNU/star): 0x80 then the big-endian value, or 0xff and two's complement for negatives. */
export function base256(n: bigint): Buffer {
  const b = Buffer.alloc(12);
  let v = n < 0n ? (1n << 88n) + n : n;
  for (let i = 11; i >= 1; i--) { b[i] = Number(v & 0xffn); v >>= 8n; }
  b[0] = n < 0n ? 0xff : 0x80;
  return b;
}
/** Gzip members of 64 MiB of zeros, concatenated (a valid gzip stream): ~64 KiB each. */
export const zeroMembers = (n: number) => { const m = gzipSync(Buffer.alloc(64 * 1024 ** 2), { level: 9 }); return Buffer.concat(Array.from({ length: n }, () => m)); };
