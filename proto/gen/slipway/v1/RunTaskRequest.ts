// Original file: proto/slipway.proto


export interface RunTaskRequest {
  'app'?: (string);
  'task'?: (string);
  'requested_by'?: (string);
  'version'?: (string);
  'sha256'?: (string);
  'args'?: (string)[];
  'stdin'?: (Buffer | Uint8Array | string);
}

export interface RunTaskRequest__Output {
  'app': (string);
  'task': (string);
  'requested_by': (string);
  'version': (string);
  'sha256': (string);
  'args': (string)[];
  'stdin': (Buffer);
}
