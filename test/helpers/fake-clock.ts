// A clock and timers a test moves by hand: now() is what the test says, and
// a timer fires only when advance() passes its time (the runtime's restart
// delays, agent/runtime/app-host.ts Timers). Starts at a fixed instant, so
// nothing depends on today's date.
import type { Timers } from '../../agent/runtime/app-host.js';

interface Pending {
  at: number;
  fn: () => void;
}

export class FakeClock implements Timers {
  private t: number;
  private readonly pending = new Set<Pending>();

  constructor(start = Date.parse('2030-01-01T00:00:00Z')) {
    this.t = start;
  }

  now = (): number => this.t;

  after(ms: number, fn: () => void): () => void {
    const p: Pending = { at: this.t + ms, fn };
    this.pending.add(p);
    return () => this.pending.delete(p);
  }

  /** How many timers wait, and the delay of the next one from now. */
  get waiting(): { count: number; nextInMs?: number } {
    const next = Math.min(...[...this.pending].map((p) => p.at));
    return { count: this.pending.size, nextInMs: this.pending.size ? next - this.t : undefined };
  }

  /** Moves the clock on by ms, firing each timer that falls due, in time order. */
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      const due = [...this.pending].filter((p) => p.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.pending.delete(due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = until;
  }
}
