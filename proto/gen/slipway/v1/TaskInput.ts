// Original file: proto/slipway.proto

import type { RunTaskRequest as _slipway_v1_RunTaskRequest, RunTaskRequest__Output as _slipway_v1_RunTaskRequest__Output } from '../../slipway/v1/RunTaskRequest.js';

export interface TaskInput {
  'start'?: (_slipway_v1_RunTaskRequest | null);
  'stdin'?: (Buffer | Uint8Array | string);
  'stdin_end'?: (boolean);
}

export interface TaskInput__Output {
  'start': (_slipway_v1_RunTaskRequest__Output | null);
  'stdin': (Buffer);
  'stdin_end': (boolean);
}
