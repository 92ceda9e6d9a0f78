// The one catalogue of slipway's errors. Every error an operator or a script
// can meet has a stable code here (SLIPWAY_ERR_…, never renamed: scripts match
// on it), what it means, the CLI's exit code, and the gRPC status the agent
// answers with. The agent sends the code beside the status
// (ERROR_CODE_METADATA), the CLI prints it and puts it in `--json` errors.
// docs/errors.md lists them all (a unit test keeps the two in step).

/** gRPC status names the catalogue maps to (numbers in @grpc/grpc-js's `status`). */
export type GrpcStatusName =
  | 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'FAILED_PRECONDITION' | 'ALREADY_EXISTS' | 'ABORTED' | 'CANCELLED'
  | 'PERMISSION_DENIED' | 'RESOURCE_EXHAUSTED' | 'UNAVAILABLE' | 'DEADLINE_EXCEEDED' | 'INTERNAL';

/** 1: failed somewhere; 2: bad usage or config (nothing was tried). */
export type ExitCode = 1 | 2;

export interface ErrorSpec {
  /** What the error means, in a line. */
  readonly summary: string;
  /** What to do about it. */
  readonly action: string;
  readonly exit: ExitCode;
  readonly grpc: GrpcStatusName;
}

export const ERROR_CATALOGUE = {
  // Requests and command lines
  SLIPWAY_ERR_USAGE: { summary: 'a command-line argument or option is wrong', action: 'see the command\'s --help', exit: 2, grpc: 'INVALID_ARGUMENT' },
  SLIPWAY_ERR_CONFIG: { summary: 'slipway.yaml or the agent\'s config file is missing or invalid', action: 'fix the named key; `slipway-agent --check` checks an agent config', exit: 2, grpc: 'INVALID_ARGUMENT' },
  SLIPWAY_ERR_BAD_REQUEST: { summary: 'a request field is malformed or out of range', action: 'fix the named field (a CLI older or newer than the agent may send one it does not take)', exit: 2, grpc: 'INVALID_ARGUMENT' },
  SLIPWAY_ERR_CREDENTIALS: { summary: 'a certificate, key or CA file is missing, unreadable, expired or not a pair', action: 'check the named file; `slipway certs` issues new ones', exit: 2, grpc: 'FAILED_PRECONDITION' },
  // What the host has
  SLIPWAY_ERR_APP_NOT_FOUND: { summary: 'the app is not on this host', action: 'deploy it there first, or check the app name', exit: 1, grpc: 'NOT_FOUND' },
  SLIPWAY_ERR_RELEASE_NOT_FOUND: { summary: 'the release (app, version, sha256) is not on this host', action: 'upload it (slipway deploy does) or name a release `slipway versions` lists', exit: 1, grpc: 'FAILED_PRECONDITION' },
  SLIPWAY_ERR_TASK_NOT_FOUND: { summary: 'the release\'s manifest has no task of that name', action: 'use one of the tasks the message lists', exit: 2, grpc: 'NOT_FOUND' },
  SLIPWAY_ERR_NEVER_ACTIVATED: { summary: 'the app was never activated on this host', action: 'deploy a version first', exit: 1, grpc: 'FAILED_PRECONDITION' },
  SLIPWAY_ERR_NO_ROLLBACK_TARGET: { summary: 'the host has no rollback target, or another one than asked', action: 'name the version to go to: slipway rollback ENV VERSION', exit: 1, grpc: 'FAILED_PRECONDITION' },
  SLIPWAY_ERR_ALREADY_EXISTS: { summary: 'something the agent was to create is already there', action: 'retry; the agent removes its leftovers on restart and on the prune schedule', exit: 1, grpc: 'ALREADY_EXISTS' },
  // Coordination
  SLIPWAY_ERR_LOCKED: { summary: 'someone else holds the app\'s deploy lock on this host', action: 'wait for its holder, or `slipway unlock ENV --force` when you know it is gone', exit: 1, grpc: 'FAILED_PRECONDITION' },
  SLIPWAY_ERR_BUSY: { summary: 'another change of the app is in progress on this host, or the agent is at a limit of concurrent work', action: 'wait for it to end and retry', exit: 1, grpc: 'ABORTED' },
  SLIPWAY_ERR_CANCELLED: { summary: 'the work was cancelled (Ctrl-C, a deadline, or the client went away) and what it changed was put back', action: 'run it again when ready', exit: 1, grpc: 'CANCELLED' },
  SLIPWAY_ERR_PLAN: { summary: 'the fleet is not in a state the command can plan for (hosts disagree, a host did not answer)', action: 'read the message; name a version or fix the named hosts first', exit: 1, grpc: 'FAILED_PRECONDITION' },
  // Releases
  SLIPWAY_ERR_BAD_RELEASE: { summary: 'the release is not a valid slipway release (manifest missing or invalid, names that disagree, unsupported strategy)', action: 'rebuild it with `slipway build`; check slipway.yaml\'s run section', exit: 1, grpc: 'INVALID_ARGUMENT' },
  SLIPWAY_ERR_UNSAFE_ARCHIVE: { summary: 'the release tarball holds entries the agent refuses (paths outside the release, links, devices, limits)', action: 'rebuild it with `slipway build`; the message names the entries', exit: 1, grpc: 'INVALID_ARGUMENT' },
  SLIPWAY_ERR_CORRUPT_ARCHIVE: { summary: 'the release tarball is not a readable .tar.gz', action: 'rebuild and upload it again', exit: 1, grpc: 'INVALID_ARGUMENT' },
  SLIPWAY_ERR_UPLOAD_MISMATCH: { summary: 'the uploaded bytes are not what was announced (size or sha256)', action: 'upload again; if it repeats, the file changed or the link corrupts data', exit: 1, grpc: 'INVALID_ARGUMENT' },
  SLIPWAY_ERR_SIGNATURE: { summary: 'the release is unsigned, signed by a key the host does not trust, or its manifest differs from the signed one', action: 'sign with a key listed in the agent\'s trusted_keys (slipway keys)', exit: 1, grpc: 'PERMISSION_DENIED' },
  SLIPWAY_ERR_TOO_LARGE: { summary: 'the release is over the agent\'s limits.release_bytes', action: 'make the release smaller or raise the limit in the agent\'s config', exit: 1, grpc: 'RESOURCE_EXHAUSTED' },
  SLIPWAY_ERR_DISK_FULL: { summary: 'the host lacks the free disk space the release needs (plus disk_reserve_bytes)', action: 'free space (slipway prune ENV) or add disk', exit: 1, grpc: 'RESOURCE_EXHAUSTED' },
  // The artifact store (slipway.yaml's store: the agents pull from it)
  SLIPWAY_ERR_STORE_FETCH: { summary: 'the agent could not download the release from the artifact store (HTTP status, TLS, connection, stalled past its resumes)', action: 'read the message: check the URL, the store\'s certificate (the agent\'s fetch.ca), its auth header file, and that the release is published (slipway publish ENV VERSION)', exit: 1, grpc: 'FAILED_PRECONDITION' },
  SLIPWAY_ERR_PUBLISH: { summary: 'publishing the release to the artifact store failed (the publish command or the HTTP PUT)', action: 'read the command\'s output or the HTTP status; slipway publish ENV VERSION retries it alone', exit: 1, grpc: 'FAILED_PRECONDITION' },
  // The host itself
  SLIPWAY_ERR_HOST_SETUP: { summary: 'the host lacks something the agent needs (GNU tar, a bindable socket, its supervising process)', action: 'read the message; fix the host and retry', exit: 1, grpc: 'FAILED_PRECONDITION' },
  SLIPWAY_ERR_HOST_UNREACHABLE: { summary: 'the host did not answer (refused, no route, timed out)', action: 'check that slipway-agent runs there and the network lets the CLI through', exit: 1, grpc: 'UNAVAILABLE' },
  SLIPWAY_ERR_HOST_REFUSED: { summary: 'the host answered with an error this CLI does not know the code of (an older agent)', action: 'read the message', exit: 1, grpc: 'FAILED_PRECONDITION' },
  // The coordinator's own work
  SLIPWAY_ERR_BUILD: { summary: 'building the release failed (git, the tag, the build command, packing)', action: 'read the message and the build command\'s output', exit: 1, grpc: 'FAILED_PRECONDITION' },
  SLIPWAY_ERR_HOOK_FAILED: { summary: 'a deploy hook (pre_deploy, before_activate) failed, so no host was switched', action: 'read the hook\'s output', exit: 1, grpc: 'FAILED_PRECONDITION' },
  SLIPWAY_ERR_UNSAFE_FILE: { summary: 'a private key would be written where it could leak, or a file the CLI writes is in the way', action: 'follow the message: keep private keys out of git work trees, or pass --force', exit: 2, grpc: 'FAILED_PRECONDITION' },
  SLIPWAY_ERR_AGENT_UPGRADE: { summary: 'the agent cannot take an agent upgrade or rollback now (not started through the launcher, an upgrade not confirmed yet, no build to go back to)', action: 'read the message: install the unit of this slipway version (slipway setup), or wait for the upgrade under way to confirm or switch back', exit: 1, grpc: 'FAILED_PRECONDITION' },
  SLIPWAY_ERR_AGENT_BUILD_NOT_FOUND: { summary: 'no agent build of the version given to --to is available: it is not this CLI\'s, not packed here before (.slipway/agent-builds/), and not kept on every host', action: 'give the build\'s file (--to path/to/slipway-agent.mjs, or the single executable); slipway agent rollback goes back to each host\'s previous build', exit: 2, grpc: 'NOT_FOUND' },
  SLIPWAY_ERR_AGENT_ROLLED_BACK: { summary: 'the new agent build did not come up healthy, and the host switched back to its previous build by itself', action: 'the message says why (crashed at start, failed --check, no confirmation within the deadline); fix the build; journalctl -u slipway-agent has its output', exit: 1, grpc: 'FAILED_PRECONDITION' },
  SLIPWAY_ERR_INTERNAL: { summary: 'a bug or an unexpected failure', action: 'the agent\'s log (journalctl -u slipway-agent) has the details; please report it', exit: 1, grpc: 'INTERNAL' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The gRPC metadata key that carries an error's catalogue code. */
export const ERROR_CODE_METADATA = 'slipway-error-code';

export function isErrorCode(s: unknown): s is ErrorCode {
  return typeof s === 'string' && Object.hasOwn(ERROR_CATALOGUE, s);
}

export class SlipwayError extends Error {
  constructor(public readonly code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SlipwayError';
  }

  get spec(): ErrorSpec {
    return ERROR_CATALOGUE[this.code];
  }

  get exitCode(): ExitCode {
    return this.spec.exit;
  }
}

export const invalid = (msg: string) => new SlipwayError('SLIPWAY_ERR_BAD_REQUEST', msg);
export const appNotFound = (app: string) => new SlipwayError('SLIPWAY_ERR_APP_NOT_FOUND', `app ${app} is not on this host`);
export const neverActivated = (msg: string) => new SlipwayError('SLIPWAY_ERR_NEVER_ACTIVATED', msg);
