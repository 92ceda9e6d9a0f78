// The agent's own builds travel as releases of one reserved app name, through
// the same upload, dedupe, disk check and signature checks as apps' releases
// (slipway agent upgrade; agent/upgrade/). A deploy of an app with this name
// is an agent upgrade, never an app.
export const AGENT_APP = 'slipway-agent';

/** ActivateRequest.reason of `slipway agent rollback`: back to the host's previous build (no version, no sha256). */
export const AGENT_ROLLBACK_REASON = 'agent-rollback';

/** How long a new build has, from its switch, to confirm it is healthy before the launcher switches back (systemd/agent-launcher.sh). */
export const AGENT_CONFIRM_DEADLINE_S = 60;
/** Starts of a new build without a confirmation before the launcher switches back. */
export const AGENT_START_ATTEMPTS = 3;

/** History actions of the reserved app. */
export const AGENT_HISTORY = {
  switched: 'agent-upgrade',
  rollback: 'agent-rollback',
  confirmed: 'agent-confirmed',
  selfRollback: 'agent-self-rollback',
  supervisor: 'supervisor-upgrade',
} as const;
