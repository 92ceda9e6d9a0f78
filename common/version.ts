// Versions are exact semver (https://semver.org): MAJOR.MINOR.PATCH with an
// optional pre-release and build part. No ranges, no leading "v" (a git tag
// "v1.2.3" is normalised by normaliseTag, which says so).

export interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
  build: string;
  raw: string;
}

const NUM = '(0|[1-9]\\d*)';
const PRE = '(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)';
const SEMVER_RE = new RegExp(
  `^${NUM}\\.${NUM}\\.${NUM}(?:-(${PRE}(?:\\.${PRE})*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$`,
);

export function parseVersion(s: string): Version | undefined {
  if (s.length > 128) return undefined;
  const m = SEMVER_RE.exec(s);
  if (!m) return undefined;
  const [major, minor, patch] = [m[1], m[2], m[3]].map(Number);
  if (![major, minor, patch].every(Number.isSafeInteger)) return undefined;
  return { major, minor, patch, prerelease: m[4] ? m[4].split('.') : [], build: m[5] ?? '', raw: s };
}

export function isVersion(s: string): boolean {
  return parseVersion(s) !== undefined;
}

/** Semver precedence: negative if a < b, 0 if equal (build metadata ignored), positive if a > b. */
export function compareVersions(a: string, b: string): number {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  if (!va || !vb) throw new Error(`cannot compare "${a}" and "${b}": not semver`);
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (va[k] !== vb[k]) return va[k] - vb[k];
  }
  const pa = va.prerelease;
  const pb = vb.prerelease;
  if (pa.length === 0 || pb.length === 0) return pb.length - pa.length;
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (pa[i] === undefined) return -1;
    if (pb[i] === undefined) return 1;
    const na = /^\d+$/.test(pa[i]);
    const nb = /^\d+$/.test(pb[i]);
    if (na && nb) {
      // No leading zeros, so the longer number is the bigger one; compared as
      // strings, numbers past 2^53 keep their order (Number() would round them).
      if (pa[i].length !== pb[i].length) return pa[i].length - pb[i].length;
      if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
    } else if (na !== nb) {
      return na ? -1 : 1;
    } else if (pa[i] !== pb[i]) {
      return pa[i] < pb[i] ? -1 : 1;
    }
  }
  return 0;
}

export interface NormalisedTag {
  version: string;
  /** Set when the input was changed, e.g. "v1.2.3" became "1.2.3". */
  note?: string;
}

/**
 * Accepts "1.2.3" or "v1.2.3" (a git tag) and returns the exact version.
 * Returns undefined for anything else.
 */
export function normaliseTag(input: string): NormalisedTag | undefined {
  if (parseVersion(input)) return { version: input };
  if (/^v/.test(input) && parseVersion(input.slice(1))) {
    return { version: input.slice(1), note: `tag "${input}" read as version ${input.slice(1)}` };
  }
  return undefined;
}
