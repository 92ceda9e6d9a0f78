// Pure decisions about versions and git tags: which tag a requested version
// means, which tag on HEAD is the version, which tags to suggest.
import { compareVersions, normaliseTag } from '../../common/version.js';
import { BuildError } from './errors.js';

export interface RequestedVersion {
  version: string;
  notes: string[];
}

/** Reads the VERSION argument: exact semver, or `v` + semver (said so in a note). */
export function parseRequestedVersion(input: string): RequestedVersion {
  const n = normaliseTag(input.trim());
  if (!n) {
    throw new BuildError(`"${input}" is not a version: give exact semver like 1.4.2 or v1.4.2 (no ranges)`, { usage: true });
  }
  return { version: n.version, notes: n.note ? [n.note] : [] };
}

/** The tag names a version may have in git, the exact one first. */
export function tagCandidates(version: string): string[] {
  return [version, `v${version}`];
}

/** Version tags (as tags) ordered newest version first; non-version tags are left out. */
export function versionTagsNewestFirst(tags: readonly string[]): string[] {
  const versioned = tags.flatMap((t) => {
    const n = normaliseTag(t);
    return n ? [{ tag: t, version: n.version }] : [];
  });
  versioned.sort((a, b) => compareVersions(b.version, a.version) || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return versioned.map((v) => v.tag);
}

/** "; the latest tags are: 1.2.3, 1.2.2" or "; this repository has no version tags". */
export function latestTagsHint(tags: readonly string[], count = 5): string {
  const latest = versionTagsNewestFirst(tags).slice(0, count);
  return latest.length > 0 ? `; the latest version tags are: ${latest.join(', ')}` : '; this repository has no version tags yet';
}

export interface TagOnHead {
  tag: string;
  version: string;
  notes: string[];
}

/** Picks the version tag on HEAD; errors when there is none, or two that disagree. */
export function pickHeadTag(tagsOnHead: readonly string[], allTags: readonly string[]): TagOnHead {
  const found = tagsOnHead.flatMap((t) => {
    const n = normaliseTag(t);
    return n ? [{ tag: t, version: n.version, note: n.note }] : [];
  });
  const versions = [...new Set(found.map((f) => f.version))];
  if (versions.length === 0) {
    throw new BuildError(`HEAD has no version tag: tag it (git tag 1.2.3) or name the version (slipway build 1.2.3)${latestTagsHint(allTags)}`, { usage: true });
  }
  if (versions.length > 1) {
    throw new BuildError(`HEAD has several version tags (${found.map((f) => f.tag).join(', ')}): name the one to build`, { usage: true });
  }
  // Prefer the exact tag ("1.2.3") over "v1.2.3" when both are on HEAD.
  const pick = found.find((f) => f.note === undefined) ?? found[0];
  return { tag: pick.tag, version: pick.version, notes: pick.note ? [pick.note] : [] };
}

/** The problem with package.json's version at the tag, if any. */
export function packageVersionProblem(packageJsonText: string | undefined, version: string, tag: string, where = 'package.json'): string | undefined {
  if (packageJsonText === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(packageJsonText);
  } catch (err) {
    return `${where} at tag ${tag} is not valid JSON (${(err as Error).message})`;
  }
  if (typeof data !== 'object' || data === null || !('version' in data)) return undefined;
  const v = (data as { version: unknown }).version;
  if (typeof v !== 'string') return `${where} at tag ${tag} has a "version" that is not a string`;
  if (v !== version) return `${where} at tag ${tag} says version ${v}, but the release is ${version}: fix package.json and tag again`;
  return undefined;
}
