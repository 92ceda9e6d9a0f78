// The locally built release a deploy sends: .slipway/releases/<app>-<version>.tar.gz.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { normaliseTag } from '../common/version.js';
import { sha256File } from './build/pack.js';
import { tarballName } from './build/build.js';
import { UsageError } from './errors.js';
import type { LoadedConfig } from './config.js';

export interface LocalRelease {
  app: string;
  version: string;
  file: string;
  sha256: string;
  size: number;
  notes: string[];
}

export function parseVersionArg(input: string): { version: string; notes: string[] } {
  const n = normaliseTag(input);
  if (!n) throw new UsageError(`"${input}" is not a version: use exact semver like 1.4.2 (or a tag like v1.4.2)`);
  return { version: n.version, notes: n.note ? [n.note] : [] };
}

export async function localRelease(loaded: LoadedConfig, versionArg: string): Promise<LocalRelease> {
  const { version, notes } = parseVersionArg(versionArg);
  const app = loaded.config.app;
  const file = join(loaded.root, '.slipway', 'releases', tarballName(app, version));
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new UsageError(`release ${app} ${version} is not built here (no .slipway/releases/${tarballName(app, version)}); run: slipway build ${version}`);
  }
  return { app, version, file, sha256: await sha256File(file), size, notes };
}
