// Original file: proto/slipway.proto


export interface WatchRequest {
  'app'?: (string);
}

export interface WatchRequest__Output {
  'app': (string);
}
