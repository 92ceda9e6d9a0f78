// slipway's own version, read from its package.json (found by walking up from
// this file, so it works from the sources and from dist/).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The version in the slipway package.json found walking up from dir (at most 5 levels), if any. */
export function slipwayVersionAbove(dir: string): string | undefined {
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'slipway' && pkg.version) return pkg.version;
    } catch { /* keep walking */ }
    dir = dirname(dir);
  }
  return undefined;
}

export const SLIPWAY_VERSION = slipwayVersionAbove(dirname(fileURLToPath(import.meta.url))) ?? '0.0.0';
