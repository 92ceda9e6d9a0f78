// Exit codes: 0 done everywhere, 1 failed somewhere, 2 bad usage or config.
// Which errors mean which is in the catalogue (common/errors.ts).
import { SlipwayError } from '../common/errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Bad input on the command line: exit 2. */
export class UsageError extends SlipwayError {
  constructor(message: string) {
    super('SLIPWAY_ERR_USAGE', message);
    this.name = 'UsageError';
  }
}
