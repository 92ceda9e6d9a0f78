// Original file: proto/slipway.proto


export interface LogsRequest {
  'app'?: (string);
  'lines'?: (number);
  'follow'?: (boolean);
}

export interface LogsRequest__Output {
  'app': (string);
  'lines': (number);
  'follow': (boolean);
}
