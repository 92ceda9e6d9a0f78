// What several handler groups share: the request checks that answer
// INVALID_ARGUMENT or NOT_FOUND, and the view of the apps on this host.
import { invalid, appNotFound } from '../../../common/errors.js';
import { appNameProblem } from '../../../common/names.js';
import { peerIdentity } from '../../../common/credentials.js';
import type { AppRuntime } from '../../runtime/app-runtime.js';

/** The apps on this host and their runtimes (the agent's registry of AppRuntimes). */
export interface AppDirectory {
  /** Every app with releases on this host. */
  apps(): Promise<string[]>;
  /** Whether the app's directory exists. */
  hasApp(app: string): Promise<boolean>;
  /** The app's runtime, loaded on first use. */
  runtime(app: string): Promise<AppRuntime>;
}

/** Throws INVALID_ARGUMENT with the problem, if there is one. */
export function check(problem: string | undefined): void {
  if (problem) throw invalid(problem);
}

/** A valid app name of an app on this host, else INVALID_ARGUMENT or NOT_FOUND. */
export async function existingApp(apps: Pick<AppDirectory, 'hasApp'>, app: string): Promise<void> {
  check(appNameProblem(app));
  if (!(await apps.hasApp(app))) throw appNotFound(app);
}

/**
 * Who asks, for the history and the deploy locks. Under mTLS: the client
 * certificate's CN, which the TLS handshake proved, followed by the name the
 * client gives (its operator, $USER or SLIPWAY_OPERATOR) marked as claimed
 * when it differs: `ci-1 (claimed: alice)`. Two people sharing one deployer
 * certificate are thus two holders of a lock. On an insecure (loopback)
 * connection there is only the claimed name.
 */
export function requester(call: Parameters<typeof peerIdentity>[0], claimed: string): string {
  const name = claimed.trim();
  if (name.length > 100 || /[\n\r]/.test(name)) throw invalid('the operator name (holder, requested_by) must be one line of at most 100 characters');
  const who = peerIdentity(call);
  if (!who.tls) return name || 'unknown';
  const cn = who.cn ?? 'unnamed certificate';
  return name && name !== cn ? `${cn} (claimed: ${name})` : cn;
}
