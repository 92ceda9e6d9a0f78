// Original file: proto/slipway.proto


export interface HistoryRequest {
  'app'?: (string);
  'limit'?: (number);
}

export interface HistoryRequest__Output {
  'app': (string);
  'limit': (number);
}
