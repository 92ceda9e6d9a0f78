// The name of an app's own system user under the agent config
// `app_users: per_app` (agent/runtime/app-users.ts), which `slipway setup`
// also makes (coordinator/setup/): slipway-<app>, at most 32 characters.
import { createHash } from 'node:crypto';

/** Linux user names: at most 32 characters (useradd's limit). */
const MAX_NAME = 32;
const PREFIX = 'slipway-';

/** The comment (GECOS) of the users made for apps: `slipway setup --uninstall --purge` removes the users that carry it. */
export const APP_USER_COMMENT = 'slipway app';

/** Pure: slipway-<app>; a long app name is cut and given 8 hex digits of its sha256 (still unique, still ≤ 32). */
export function perAppUserName(app: string): string {
  const name = `${PREFIX}${app}`;
  if (name.length <= MAX_NAME) return name;
  const hash = createHash('sha256').update(app).digest('hex').slice(0, 8);
  return `${PREFIX}${app.slice(0, MAX_NAME - PREFIX.length - 9)}-${hash}`;
}
