// Original file: proto/slipway.proto


export interface LogLine {
  'line'?: (string);
}

export interface LogLine__Output {
  'line': (string);
}
