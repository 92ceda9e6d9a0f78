// Hosts whose last deploy or rollback from this repo ended with an unknown
// outcome (rollout/executor.ts: the step was not seen to end, and the host
// did not answer within the grace period): kept in
// .slipway/unknown-outcomes.json beside slipway.yaml, so that `slipway status`
// can mark them until a later deploy or rollback sees their outcome.
// A record of this machine's commands only: another operator's deploy is not
// in it. Reading never fails a command: a missing or unreadable file is no
// marks.
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';

export interface UnknownOutcome {
  /** deploy | rollback */
  command: string;
  /** The version the host was to go to. */
  version: string;
  /** What it ran before ('' for nothing). */
  from: string;
  /** When the command ended (ISO). */
  at: string;
  message: string;
}

type Marks = Record<string, Record<string, UnknownOutcome>>;

const fileOf = (root: string) => join(root, '.slipway', 'unknown-outcomes.json');

function readMarks(root: string): Marks {
  try {
    const doc = JSON.parse(readFileSync(fileOf(root), 'utf8')) as { schema?: number; envs?: Marks };
    return doc.schema === 1 && doc.envs && typeof doc.envs === 'object' ? doc.envs : {};
  } catch {
    return {};
  }
}

/** The marked hosts of an environment: host → what was not seen. */
export function unknownOutcomes(root: string, env: string): Record<string, UnknownOutcome> {
  return readMarks(root)[env] ?? {};
}

/**
 * After a deploy or rollback: hosts whose outcome is unknown are marked, every
 * other host the command reached is cleared (its outcome was seen).
 */
export async function recordOutcomes(root: string, env: string, command: string, hosts: readonly { host: string; outcome: string; before: { version: string } | null; error?: { message: string } }[],
  version: string, now: Date): Promise<void> {
  const marks = readMarks(root);
  const mine = { ...(marks[env] ?? {}) };
  let changed = false;
  for (const h of hosts) {
    if (h.outcome === 'unknown') {
      mine[h.host] = { command, version, from: h.before?.version ?? '', at: now.toISOString(), message: h.error?.message ?? 'outcome unknown' };
      changed = true;
    } else if (['switched', 'unchanged', 'failed', 'reverted', 'revert_failed'].includes(h.outcome) && mine[h.host]) {
      delete mine[h.host];
      changed = true;
    }
  }
  if (!changed) return;
  if (Object.keys(mine).length > 0) marks[env] = mine;
  else delete marks[env];
  mkdirSync(join(root, '.slipway'), { recursive: true });
  await writeFileAtomic(fileOf(root), `${JSON.stringify({ schema: 1, envs: marks }, null, 1)}\n`);
}
