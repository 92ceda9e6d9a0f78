// Validation of the names that cross the network or come from files: app
// names, versions, digests. Each returns an error message or undefined, so
// callers can wrap it in the error type their side uses.
import { parseVersion } from './version.js';

export const APP_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const SHA256_RE = /^[0-9a-f]{64}$/;

export function appNameProblem(app: unknown): string | undefined {
  if (typeof app !== 'string' || app === '') return 'app name is missing';
  if (!APP_NAME_RE.test(app)) {
    return `app name "${printable(app)}" is not valid: use 1 to 63 of a-z, 0-9, _ and -, starting with a letter or digit`;
  }
  return undefined;
}

export function versionProblem(version: unknown): string | undefined {
  if (typeof version !== 'string' || version === '') return 'version is missing';
  if (!parseVersion(version)) {
    return `version "${printable(version)}" is not exact semver (like 1.4.2 or 2.0.0-rc.1)`;
  }
  return undefined;
}

export function sha256Problem(sha: unknown): string | undefined {
  if (typeof sha !== 'string' || sha === '') return 'sha256 is missing';
  if (!SHA256_RE.test(sha)) return `sha256 "${printable(sha)}" is not 64 lowercase hex digits`;
  return undefined;
}

/** Release directory name: version and the first 12 hex digits of the tarball's sha256. */
export function releaseDirName(version: string, sha256: string): string {
  return `${version}-${sha256.slice(0, 12)}`;
}

/** Cuts and escapes untrusted text before it goes into a message. */
export function printable(s: string, max = 80): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
