// The page's files (hand-written HTML, CSS and JS under ui/ in the sources,
// copied to dist/ui by scripts/postbuild.mjs): found beside the code that
// runs (the sources under tsx, tsc's dist/coordinator/ui, or the CLI bundle
// in dist/bin) and read once into memory; they are small (a few tens of KiB).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  type: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** The directory holding index.html: dist/ui from the bundle (dist/bin) or from dist/coordinator/ui; ui/ from the sources. */
export function assetDir(): string {
  for (const rel of ['../ui/', '../../ui/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  throw new Error('the page of slipway ui is missing (ui/index.html beside the installed program); reinstall slipway');
}

/** URL path (/index.html, /app.js, ...) → the file's bytes and content type. */
export function loadAssets(dir = assetDir()): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const f of readdirSync(dir)) {
    const type = TYPES[extname(f)];
    if (type) out.set(`/${f}`, { type, body: readFileSync(join(dir, f)) });
  }
  return out;
}
