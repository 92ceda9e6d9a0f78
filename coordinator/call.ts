// Calls to one agent: the error every failed call becomes (HostError, whose
// message an operator can act on: UNAVAILABLE and DEADLINE_EXCEEDED mean
// the host could not be reached, other codes mean the host said no), and a
// unary gRPC call as a promise.
import * as grpc from '@grpc/grpc-js';
import { SlipwayError, ERROR_CODE_METADATA, isErrorCode, type ErrorCode } from '../common/errors.js';

/**
 * One host's failure. `status` is the gRPC status it came with; `code` the
 * catalogue's: the agent's own (sent in the trailers), else
 * SLIPWAY_ERR_HOST_UNREACHABLE or SLIPWAY_ERR_HOST_REFUSED (an older agent).
 */
export class HostError extends SlipwayError {
  /**
   * True when the request certainly never reached the host: the connection
   * was refused or the name did not resolve. An unreachable error without it
   * (a deadline, a connection that broke or went silent) may have come after
   * the host got the request: what the host did is then unknown.
   */
  neverSent = false;

  constructor(readonly host: string, message: string, readonly unreachable: boolean, readonly status?: grpc.status, code?: ErrorCode) {
    super(code ?? (unreachable ? 'SLIPWAY_ERR_HOST_UNREACHABLE' : 'SLIPWAY_ERR_HOST_REFUSED'), message);
    this.name = 'HostError';
  }
}

/** The catalogue code an agent sent with an error, if any. */
function agentCode(e: Partial<grpc.ServiceError>): ErrorCode | undefined {
  const v = e.metadata?.get(ERROR_CODE_METADATA)[0];
  return isErrorCode(v) ? v : undefined;
}

/** Turns a gRPC error into a HostError whose message says what happened. */
export function hostError(host: string, err: unknown): HostError {
  if (err instanceof HostError) return err;
  const e = err as Partial<grpc.ServiceError>;
  const details = e.details || e.message || String(err);
  switch (e.code) {
    case grpc.status.UNAVAILABLE: {
      const he = new HostError(host, `unreachable: ${shortReason(details)}`, true, e.code);
      // A refused connection or an unknown name: no connection, so no request went out.
      he.neverSent = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(details);
      return he;
    }
    case grpc.status.DEADLINE_EXCEEDED:
      return new HostError(host, 'unreachable: no answer before the deadline', true, e.code);
    case undefined:
      return new HostError(host, details, false);
    default:
      return new HostError(host, details, false, e.code, agentCode(e));
  }
}

/** The reason in a grpc-js or socket error, in words. */
export function shortReason(details: string): string {
  const m = /(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|ECONNRESET)/.exec(details);
  if (m) {
    const words: Record<string, string> = {
      ECONNREFUSED: 'connection refused (is slipway-agent running there?)',
      EHOSTUNREACH: 'no route to host', ENETUNREACH: 'network unreachable', ETIMEDOUT: 'connection timed out',
      ENOTFOUND: 'host name not found', EAI_AGAIN: 'host name lookup failed', ECONNRESET: 'connection reset',
    };
    return words[m[1]];
  }
  return details.replace(/^No connection established\. Last error: /, '').replace(/\. Resolution note: ?$/, '');
}

/** A unary call's callback, as grpc-js calls it. */
export type UnaryCallback<T> = (err: grpc.ServiceError | null, res?: T) => void;

/**
 * A unary call as a promise: `start` makes the call with the callback it is
 * given; a failure (or an empty answer) rejects with the host's HostError.
 */
export function unary<T>(host: string, start: (cb: UnaryCallback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    start((err, res) => (err || !res ? reject(hostError(host, err)) : resolve(res)));
  });
}
