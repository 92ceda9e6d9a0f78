// A command's cleanups in one place: each resource registers how it is
// given back as soon as it is taken (locks, connections, progress bars, a
// signal handler), and they run once, last taken first, however the command
// ends (a return, a throw, an early exit).

export type Defer = (cleanup: () => unknown) => void;

/**
 * Runs fn with a `defer` to register cleanups, then runs them in reverse
 * order. A cleanup that throws does not stop the others; its error is
 * thrown afterwards unless fn's own error is on its way.
 */
export async function withCleanup<T>(fn: (defer: Defer) => Promise<T>): Promise<T> {
  const cleanups: (() => unknown)[] = [];
  let failed = false;
  try {
    return await fn((c) => { cleanups.push(c); });
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    let first: unknown;
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        first ??= err;
      }
    }
    // eslint-disable-next-line no-unsafe-finally -- a failed cleanup is the command's error when nothing else is
    if (first !== undefined && !failed) throw first;
  }
}

/** Wraps a cleanup so that it runs at most once (it may be called early, and again by withCleanup). */
export function once(cleanup: () => unknown): () => unknown {
  let result: unknown;
  let ran = false;
  return () => {
    if (!ran) {
      ran = true;
      result = cleanup();
    }
    return result;
  };
}
