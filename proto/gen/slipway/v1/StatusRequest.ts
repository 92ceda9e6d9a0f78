// Original file: proto/slipway.proto


export interface StatusRequest {
  'app'?: (string);
}

export interface StatusRequest__Output {
  'app': (string);
}
