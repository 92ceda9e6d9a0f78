// Fan-out with a bound: at most `limit` calls in flight, results in the
// order of the input. eachHost is the form every command uses: it never
// throws, each host's outcome is a value, and an error is explained by the
// host's connection (coordinator/client.ts: the real reason behind a TLS
// "unreachable").

import type { ErrorCode } from '../../common/errors.js';

/**
 * What a failed host call becomes: a message an operator can act on, whether
 * the host was out of reach, and the error's catalogue code when a call
 * failed (none for an activation that ran and ended failed: its events say why).
 */
export interface HostFailure {
  message: string;
  unreachable: boolean;
  code?: ErrorCode;
  /** The request certainly never reached the host (call.ts's HostError.neverSent); not in --json. */
  neverSent?: boolean;
}

/** A HostError (or any HostFailure with a code) as --json shows it. */
export function failureJson(e: HostFailure): HostFailure {
  return e.code ? { code: e.code, message: e.message, unreachable: e.unreachable } : { message: e.message, unreachable: e.unreachable };
}

export type Outcome<T, E extends HostFailure = HostFailure> = { host: string; ok: true; value: T } | { host: string; ok: false; error: E };

/** Runs fn for each item, at most `limit` at a time; resolves with the results in item order (rejects with fn's first error). */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** A host's connection as far as a fan-out needs it. */
export interface Explains<E extends HostFailure> {
  readonly host: string;
  /** The error of a call as the operator should read it. */
  explain(err: unknown): Promise<E>;
}

/**
 * Runs fn for each connection, at most `concurrency` at a time; outcomes in
 * connection order, never a throw. Each outcome also goes to `onOutcome` as
 * soon as it is known (results streamed while the others are still asked).
 */
export function eachHost<C extends Explains<E>, T, E extends HostFailure>(connections: readonly C[], concurrency: number, fn: (conn: C) => Promise<T>,
  onOutcome?: (o: Outcome<T, E>, index: number) => void): Promise<Outcome<T, E>[]> {
  return mapBounded(connections, concurrency, async (conn, i): Promise<Outcome<T, E>> => {
    let o: Outcome<T, E>;
    try {
      o = { host: conn.host, ok: true, value: await fn(conn) };
    } catch (err) {
      o = { host: conn.host, ok: false, error: await conn.explain(err) };
    }
    onOutcome?.(o, i);
    return o;
  });
}
