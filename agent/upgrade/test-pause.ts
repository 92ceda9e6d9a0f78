// A test-only hook that holds the agent at a named step of its own upgrade,
// so that a test can SIGKILL it exactly there (test/integration/
// agent-upgrade-kill.test.ts): with SLIPWAY_TEST_PAUSE_FILE set, a step whose
// name that file holds renames it to `<file>.reached` (once: the rename is
// the claim, so a restarted agent passes the same step), writes its pid there
// and waits for ever. Without the variable (as on every real host) it does
// nothing. The steps: PAUSE_STEPS.
import { readFile, rename, writeFile } from 'node:fs/promises';

/** The named steps of an agent upgrade, in order. */
export const PAUSE_STEPS = ['upload', 'unpack', 'install', 'switch', 'restart', 'start', 'reattach', 'confirm', 'supervisor'] as const;
export type PauseStep = (typeof PAUSE_STEPS)[number];

export async function testPause(step: PauseStep, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (await claimPause(step, env)) await new Promise<never>(() => { setInterval(() => undefined, 1 << 30); });
}

/** Whether this process is to stop at `step` (the file named it, and this process claimed it, writing `<step> <pid>`). */
export async function claimPause(step: PauseStep, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const file = env.SLIPWAY_TEST_PAUSE_FILE;
  if (!file) return false;
  let wanted: string;
  try {
    wanted = (await readFile(file, 'utf8')).trim();
  } catch {
    return false;
  }
  if (wanted !== step) return false;
  try {
    await rename(file, `${file}.reached`);
  } catch {
    return false; // claimed by another process, or gone
  }
  await writeFile(`${file}.reached`, `${step} ${process.pid}\n`);
  return true;
}
