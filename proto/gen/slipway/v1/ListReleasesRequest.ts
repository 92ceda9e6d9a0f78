// Original file: proto/slipway.proto


export interface ListReleasesRequest {
  'app'?: (string);
}

export interface ListReleasesRequest__Output {
  'app': (string);
}
