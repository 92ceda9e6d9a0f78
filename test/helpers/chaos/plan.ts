// The fault-injection plan: which operation runs in each round, at which
// named step it is interrupted, and which process dies there (the agent or
// the supervising process). Pure: a seeded generator, no clock, no I/O.
//
// Steps and what makes them fire (triggers.ts):
//   lock       the lease write (<state>/.tmp-locks.json-* appears)
//   upload     the upload's temp file (apps/<app>/store/.tmp-upload-* appears)
//   unpacking  the unpack's temp dir (apps/<app>/releases/.tmp-unpack-* appears)
//   starting   the CLI prints the `starting` event (the new version was started)
//   ready      the CLI prints `ready`
//   draining   the CLI prints `draining` (the old version got its stop signal)
//   current    the `current` swap (apps/<app>/.tmp-current-* appears)
//   state      the activation's state write: the first apps/<app>/.tmp-state.json-*
//              once the new version is ready (its `current` swap or the CLI's
//              `ready`, whichever is seen first)
//   done       the CLI prints `done` (recorded; the lease is not released yet)
//   env-write  shared/env's temp file (apps/<app>/shared/.tmp-env-* appears)
//   prune      the first removal (a store or releases entry renamed or deleted)
//   idle       no operation runs: a kill `delayMs` after the round begins
//   random     `delayMs` after the operation starts, whatever it is doing then
// A named step fires `delayMs` after its trigger (a jitter of a few ms, so
// that repeated rounds land at different points of the step).

export type Op = 'deploy' | 'rollback' | 'restart' | 'env' | 'prune' | 'idle';
export type Step = 'lock' | 'upload' | 'unpacking' | 'starting' | 'ready' | 'draining' | 'current' | 'state' | 'done'
  | 'env-write' | 'prune' | 'idle' | 'random';
export type Victim = 'agent' | 'supervisor';

export const STEPS: readonly Step[] = ['lock', 'upload', 'unpacking', 'starting', 'ready', 'draining', 'current', 'state', 'done', 'env-write', 'prune', 'idle', 'random'];

/** The steps each operation goes through (that a kill can be aimed at). */
export const STEPS_OF: Readonly<Record<Op, readonly Step[]>> = {
  deploy: ['lock', 'upload', 'unpacking', 'starting', 'ready', 'draining', 'current', 'state', 'done', 'random'],
  rollback: ['lock', 'starting', 'ready', 'draining', 'current', 'state', 'done', 'random'],
  restart: ['lock', 'starting', 'ready', 'draining', 'current', 'state', 'done', 'random'],
  env: ['env-write', 'random'],
  prune: ['prune', 'random'],
  idle: ['idle'],
};

export interface Round {
  /** 1-based, in plan order. */
  n: number;
  victim: Victim;
  op: Op;
  step: Step;
  /** A named step: ms after its trigger; random and idle: ms after the round starts. */
  delayMs: number;
  /** deploy: a newly built version (uploaded and unpacked), else the other of the two stored ones. */
  fresh: boolean;
}

/** A small seeded generator (mulberry32): the same seed gives the same plan and delays. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The jitter range after a named step's trigger: long steps get more, instant ones none. */
export function jitterRangeMs(step: Step): number {
  switch (step) {
    case 'upload': return 40;
    case 'unpacking': return 120;
    case 'starting': return 30;
    case 'idle': return 1000;
    case 'random': return 1200;
    default: return 0;
  }
}

function delayFor(step: Step, next: () => number): number {
  const range = jitterRangeMs(step);
  return step === 'idle' ? 200 + Math.round(next() * range) : Math.round(next() * range);
}

/** Upload and unpacking happen only for a release the host does not have yet. */
function needsFresh(op: Op, step: Step, next: () => number): boolean {
  return op === 'deploy' && (step === 'upload' || step === 'unpacking' || (step === 'random' && next() < 0.3));
}

/**
 * The short plan of the integration test: every step of every operation
 * once with the agent as the victim, and a few with the supervising process.
 */
export function fixedPlan(seed: number): Round[] {
  const next = rng(seed);
  const pairs: [Victim, Op, Step][] = [];
  for (const op of ['deploy', 'rollback', 'restart', 'env', 'prune'] as const) {
    for (const step of STEPS_OF[op]) pairs.push(['agent', op, step]);
  }
  for (const [op, step] of [['idle', 'idle'], ['deploy', 'starting'], ['deploy', 'current'], ['deploy', 'draining'], ['restart', 'ready'], ['deploy', 'random']] as const) {
    pairs.push(['supervisor', op, step]);
  }
  return pairs.map(([victim, op, step], i) => ({ n: i + 1, victim, op, step, delayMs: delayFor(step, next), fresh: needsFresh(op, step, next) }));
}

/**
 * The full run's plan: `rounds` kills, cycling through every (operation,
 * step) pair in a shuffled order, a quarter of them with the supervising
 * process as the victim.
 */
export function randomPlan(seed: number, rounds: number): Round[] {
  const next = rng(seed);
  const pairs: [Op, Step][] = [];
  for (const op of Object.keys(STEPS_OF) as Op[]) for (const step of STEPS_OF[op]) pairs.push([op, step]);
  const out: Round[] = [];
  let deck: [Op, Step][] = [];
  for (let n = 1; n <= rounds; n++) {
    if (deck.length === 0) deck = shuffle([...pairs], next);
    const [op, step] = deck.pop()!;
    const victim: Victim = op === 'idle' || next() < 0.25 ? 'supervisor' : 'agent';
    out.push({ n, victim, op, step, delayMs: delayFor(step, next), fresh: needsFresh(op, step, next) });
  }
  return out;
}

function shuffle<T>(xs: T[], next: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}
