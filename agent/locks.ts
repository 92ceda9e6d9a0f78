// Deploy locks: one lease per app on this agent. A lease has a holder (the
// client certificate's CN under mTLS, else the name the request gives), a
// reason, a start and an expiry; the command that holds it renews it while
// it runs, so a holder that died releases it by simply expiring. Leases are
// kept in memory and in <state_dir>/locks.json (write-temp, rename), so a
// restart of the agent keeps them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { writeFileAtomic } from '../common/atomic.js';
import { SlipwayError } from '../common/errors.js';
import { formatTime } from '../common/time.js';
import { explainDiskFull } from './storage/disk-space.js';
import type { Logger } from './logger.js';

export interface Lease {
  app: string;
  lease_id: string;
  holder: string;
  reason: string;
  since: string;
  expires_at: string;
}

export function describeLease(l: Lease): string {
  return `${l.app} is locked by ${l.holder} since ${formatTime(l.since)} (${l.reason || 'no reason given'}); the lease ends at ${formatTime(l.expires_at)} unless its holder renews it`;
}

export class LockTable {
  private leases = new Map<string, Lease>();
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly stateDir: string, private readonly log: Logger, private readonly now: () => number = Date.now) {}

  get file(): string {
    return join(this.stateDir, 'locks.json');
  }

  async load(): Promise<void> {
    let data: { leases?: Lease[] } = {};
    try {
      data = JSON.parse(await readFile(this.file, 'utf8')) as { leases?: Lease[] };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ err, file: this.file }, 'locks file unreadable; starting with no leases');
    }
    for (const l of data.leases ?? []) if (this.live(l)) this.leases.set(l.app, l);
  }

  private live(l: Lease): boolean {
    return Date.parse(l.expires_at) > this.now();
  }

  /** The live lease of an app, if any. */
  current(app: string): Lease | undefined {
    const l = this.leases.get(app);
    if (l && !this.live(l)) {
      this.leases.delete(app);
      return undefined;
    }
    return l;
  }

  /**
   * Takes the app's lease, or renews it when leaseId names the one held.
   * Refused (FAILED_PRECONDITION, naming holder, time and reason) while
   * someone else's lease is live.
   */
  async acquire(app: string, holder: string, reason: string, ttlS: number, leaseId = ''): Promise<{ lease: Lease; took_over?: Lease }> {
    const expired = this.leases.get(app);
    const held = this.current(app);
    const now = this.now();
    const expires = new Date(now + ttlS * 1000).toISOString();
    let lease: Lease;
    if (held && held.lease_id === leaseId && held.holder === holder) {
      lease = { ...held, expires_at: expires };
    } else if (held) {
      throw new SlipwayError('SLIPWAY_ERR_LOCKED', describeLease(held));
    } else {
      lease = { app, lease_id: leaseId || randomUUID(), holder, reason, since: new Date(now).toISOString(), expires_at: expires };
    }
    await this.change(app, lease, 'the lease was not taken');
    return { lease, took_over: expired && expired.lease_id !== lease.lease_id ? expired : undefined };
  }

  /**
   * Releases the app's lease: the one named by leaseId, or, without one, a
   * lease of the same holder (slipway unlock). Someone else's only with force.
   */
  async release(app: string, holder: string, leaseId: string, force: boolean): Promise<{ released?: Lease }> {
    const held = this.current(app);
    if (!held) return {};
    const mine = leaseId ? held.lease_id === leaseId : held.holder === holder;
    if (!mine && !force) {
      throw new SlipwayError('SLIPWAY_ERR_LOCKED', `${describeLease(held)}; only ${held.holder} can release it (or use --force)`);
    }
    await this.change(app, undefined, 'the lease was not released');
    return { released: held };
  }

  /**
   * Sets (or, with undefined, removes) the app's lease and writes the file.
   * When the write fails the change is undone, so memory and disk agree: a
   * lock that could not be written (a full disk) holds nothing.
   */
  private async change(app: string, lease: Lease | undefined, notDone: string): Promise<void> {
    const before = this.leases.get(app);
    if (lease) this.leases.set(app, lease);
    else this.leases.delete(app);
    try {
      await this.persist();
    } catch (err) {
      if (this.leases.get(app) === lease) {
        if (before) this.leases.set(app, before);
        else this.leases.delete(app);
      }
      throw await explainDiskFull(err, this.stateDir, notDone);
    }
  }

  private persist(): Promise<void> {
    const snapshot = [...this.leases.values()];
    const p = this.writing.then(() => writeFileAtomic(this.file, `${JSON.stringify({ schema: 1, leases: snapshot }, null, 1)}\n`, 0o600));
    this.writing = p.catch(() => {});
    return p;
  }
}
