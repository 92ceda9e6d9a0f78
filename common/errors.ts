// Named errors with a stable code. Each side maps them in one place: the
// agent to gRPC status codes (agent/transport/rpc.ts), the CLI to exit codes.

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'FAILED_PRECONDITION'
  | 'ALREADY_EXISTS'
  | 'ABORTED'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export class SlipwayError extends Error {
  constructor(public readonly code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SlipwayError';
  }
}

export const invalid = (msg: string) => new SlipwayError('INVALID_ARGUMENT', msg);
export const notFound = (msg: string) => new SlipwayError('NOT_FOUND', msg);
export const precondition = (msg: string) => new SlipwayError('FAILED_PRECONDITION', msg);

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
