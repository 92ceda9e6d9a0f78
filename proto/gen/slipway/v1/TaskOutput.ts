// Original file: proto/slipway.proto


export interface TaskOutput {
  'line'?: (string);
  'stream'?: (string);
  'done'?: (boolean);
  'exit_code'?: (number);
  'message'?: (string);
}

export interface TaskOutput__Output {
  'line': (string);
  'stream': (string);
  'done': (boolean);
  'exit_code': (number);
  'message': (string);
}
