// Original file: proto/slipway.proto


export interface GetEnvRequest {
  'app'?: (string);
}

export interface GetEnvRequest__Output {
  'app': (string);
}
