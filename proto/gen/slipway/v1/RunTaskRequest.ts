// Original file: proto/slipway.proto


export interface RunTaskRequest {
  'app'?: (string);
  'task'?: (string);
  'requested_by'?: (string);
  'version'?: (string);
  'sha256'?: (string);
}

export interface RunTaskRequest__Output {
  'app': (string);
  'task': (string);
  'requested_by': (string);
  'version': (string);
  'sha256': (string);
}
