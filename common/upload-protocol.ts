// The upload data port's wire format, for the agent (agent/transport/data-port.ts)
// and the coordinator (coordinator/client.ts) alike. BeginUpload gives the
// client a token; on the data connection the client sends one request line
//     SLIPWAY-UPLOAD 1 <token>\n
// (the token: 64 lowercase hex digits), then exactly `size` bytes. The agent
// answers with one JSON line and ends the connection:
//     {"ok":true,"sha256":"…","bytes_received":N}
//     {"ok":false,"code":"INVALID_ARGUMENT","message":"…","error_code":"SLIPWAY_ERR_…"}
// `code` is the gRPC status name the same refusal over gRPC would carry, and
// `error_code` its code in common/errors.ts's catalogue (as gRPC carries it
// in the trailers; absent where an agent gave none).

/** The request line's first word and protocol version. */
export const UPLOAD_PROTOCOL = 'SLIPWAY-UPLOAD 1';
/** The request line's bound: the protocol word, a space and 64 hex digits fit with room. */
export const MAX_REQUEST_LINE = 200;
/** The answer line's bound: past this without a newline, what the agent sent is not an answer. */
export const MAX_ANSWER_LINE = 64 * 1024;

export type UploadAnswer =
  | { ok: true; sha256: string; bytes_received: number }
  | { ok: false; code: string; message: string; error_code?: string };

const REQUEST_RE = /^SLIPWAY-UPLOAD 1 ([0-9a-f]{64})$/;

/** The request line for a token (as BeginUpload gave it), newline included. */
export function formatRequest(token: string): string {
  return `${UPLOAD_PROTOCOL} ${token}\n`;
}

/** The token of a request line (without its newline), or undefined when the line is not one. */
export function parseRequest(line: string): string | undefined {
  if (line.length > MAX_REQUEST_LINE) return undefined;
  return REQUEST_RE.exec(line)?.[1];
}

/** The answer line, newline included. */
export function formatAnswer(a: UploadAnswer): string {
  return `${JSON.stringify(a)}\n`;
}

/** The answer of an answer line (without its newline), or undefined when the line is not one. */
export function parseAnswer(line: string): UploadAnswer | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const a = v as Record<string, unknown>;
  if (a.ok === true && typeof a.sha256 === 'string' && Number.isSafeInteger(a.bytes_received) && (a.bytes_received as number) >= 0) {
    return { ok: true, sha256: a.sha256, bytes_received: a.bytes_received as number };
  }
  if (a.ok === false && typeof a.code === 'string' && typeof a.message === 'string') {
    return typeof a.error_code === 'string' ? { ok: false, code: a.code, message: a.message, error_code: a.error_code } : { ok: false, code: a.code, message: a.message };
  }
  return undefined;
}
