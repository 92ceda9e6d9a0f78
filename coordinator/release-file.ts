// The locally built release a deploy sends: .slipway/releases/<app>-<version>.tar.gz.
import { stat, readFile } from 'node:fs/promises';
import { SIGNATURE_SUFFIX, type ReleaseSignature } from '../common/signing.js';
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
  /** From `<tarball>.sig` (slipway build with signing_key); undefined: unsigned. */
  signature?: ReleaseSignature;
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
  const sha256 = await sha256File(file);
  return { app, version, file, sha256, size, notes, signature: await readSignatureFile(file, { app, version, sha256 }) };
}

/** `<tarball>.sig`, checked against the tarball it sits beside (a stale one is named, not sent). */
async function readSignatureFile(tarball: string, expect: { app: string; version: string; sha256: string }): Promise<ReleaseSignature | undefined> {
  const file = `${tarball}${SIGNATURE_SUFFIX}`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let sig: ReleaseSignature;
  try {
    sig = JSON.parse(text) as ReleaseSignature;
  } catch {
    throw new UsageError(`${file} is not valid JSON; run slipway build ${expect.version} again`);
  }
  if (sig.schema !== 1 || typeof sig.signature !== 'string' || typeof sig.key_id !== 'string' || typeof sig.manifest_sha256 !== 'string') {
    throw new UsageError(`${file} is not a slipway release signature; run slipway build ${expect.version} again`);
  }
  if (sig.sha256 !== expect.sha256 || sig.app !== expect.app || sig.version !== expect.version) {
    throw new UsageError(`${file} signs ${sig.app} ${sig.version} with sha256 ${String(sig.sha256).slice(0, 12)}…, but the tarball beside it has sha256 ${expect.sha256.slice(0, 12)}…: the tarball changed after it was signed; run slipway build ${expect.version} again`);
  }
  return sig;
}
