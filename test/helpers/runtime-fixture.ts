// A real AppRuntime (agent/runtime/app-runtime.ts) on a temp state dir, its
// other parts in memory: the fake runner (fake-runner.ts), releases made
// from hand-written manifests, and the hand-moved clock (fake-clock.ts).
// What the runtime writes (state.json, the `current` link) is real.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { AppRuntime } from '../../agent/runtime/app-runtime.js';
import { AppPaths } from '../../agent/paths.js';
import { AgentEvents, type AgentEventMap } from '../../agent/events.js';
import { SlipwayError } from '../../common/errors.js';
import { manifestSchema } from '../../common/manifest.js';
import { FakeClock } from './fake-clock.js';
import { FakeRunner } from './fake-runner.js';
import type { ReleaseSource } from '../../agent/runtime/app-host.js';
import type { Release } from '../../agent/storage/releases.js';
import type { ActivationEvent, Emit, EventDetail } from '../../agent/runtime/strategies/strategy.js';

export const APP = 'hello';

/** Releases by version, "unpacked" at once unless held. */
export class FakeReleases implements ReleaseSource {
  private readonly byVersion = new Map<string, Release>();
  private hold?: { asked: () => void; released: Promise<void> };

  constructor(private readonly stateDir: string) {}

  /** A release whose manifest has this run section (command defaults to node server.js); its directory exists. */
  add(version: string, run: Record<string, unknown> = {}): Release {
    const sha256 = createHash('sha256').update(version).digest('hex');
    const dir = new AppPaths(this.stateDir, APP).release(version, sha256);
    mkdirSync(dir, { recursive: true });
    const manifest = manifestSchema.parse({
      app: APP, version, git: { commit: 'a'.repeat(40), tag: version }, source_date: '2030-01-01T00:00:00Z',
      run: { command: ['node', 'server.js'], ...run },
    });
    const r: Release = { app: APP, version, sha256, dir, manifest };
    this.byVersion.set(version, r);
    return r;
  }

  /** The next unpack waits until the returned release() (or its caller's abort); `asked` settles when it began. */
  holdNextUnpack(): { asked: Promise<void>; release: () => void } {
    let asked!: () => void;
    let release!: () => void;
    const askedP = new Promise<void>((r) => { asked = r; });
    this.hold = { asked, released: new Promise<void>((r) => { release = r; }) };
    return { asked: askedP, release };
  }

  async ensureUnpacked(app: string, version: string, sha256: string, onUnpack?: () => void, signal?: AbortSignal): Promise<Release> {
    const r = this.byVersion.get(version);
    if (!r || r.sha256 !== sha256) throw new SlipwayError('FAILED_PRECONDITION', `release ${app} ${version} is not on this host`);
    const hold = this.hold;
    if (hold) {
      this.hold = undefined;
      onUnpack?.();
      hold.asked();
      await new Promise<void>((resolve, reject) => {
        const abort = () => reject(new SlipwayError('ABORTED', 'unpacking was aborted'));
        if (signal?.aborted) return abort();
        signal?.addEventListener('abort', abort, { once: true });
        void hold.released.then(resolve);
      });
    }
    return r;
  }

  async removeTempLeftovers(): Promise<number> {
    return 0;
  }

  async apps(): Promise<string[]> {
    return [APP];
  }
}

export interface Recorded {
  event: ActivationEvent;
  message: string;
  output?: string[];
}

/** An Emit that keeps what it was told. */
export function recorder(): { emit: Emit; events: Recorded[]; names: () => string[] } {
  const events: Recorded[] = [];
  const emit: Emit = (event: ActivationEvent, d: EventDetail = {}) => { events.push({ event, message: d.message ?? '', output: d.output }); };
  return { emit, events, names: () => events.map((e) => e.event) };
}

export class RuntimeFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'slipway-runtime-'));
  readonly clock = new FakeClock();
  readonly releases = new FakeReleases(this.dir);
  readonly events = new AgentEvents();
  /** The agent's `activation` events (what agent/history.ts records). */
  readonly activations: AgentEventMap['activation'][0][] = [];
  /** The `state` events: "from>to". */
  readonly transitions: string[] = [];
  runner = new FakeRunner(this.clock.now);

  constructor() {
    mkdirSync(new AppPaths(this.dir, APP).root, { recursive: true });
    this.events.on('activation', (e) => this.activations.push(e));
    this.events.on('state', (e) => this.transitions.push(`${e.from}>${e.state}`));
  }

  /** A runtime of the app, loaded from state.json as an agent start does. */
  load(): Promise<AppRuntime> {
    return AppRuntime.load({
      stateDir: this.dir, releases: this.releases, runner: this.runner, log: pino({ level: 'silent' }),
      logLimits: { bytes: 1 << 20, files: 2 }, now: this.clock.now, events: this.events, timers: this.clock,
      readiness: this.runner.readiness,
    }, APP);
  }

  /** An agent restart: a new runner that still supervises what runs (stopped runtimes' timers are the caller's). */
  restartAgent(): void {
    this.runner = new FakeRunner(this.clock.now, this.runner.live());
  }

  /** Removes the state dir; a drain that ends as the test ends may still be writing state.json, so a failed removal is tried again. */
  async cleanup(): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        rmSync(this.dir, { recursive: true, force: true });
        return;
      } catch (err) {
        if (i >= 100) throw err;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }
}

/** Polls until fn is true (for what settles a few promise turns later); never a timing assumption: a generous deadline. */
export async function until(fn: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
