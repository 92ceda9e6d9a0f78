// Original file: proto/slipway.proto


export interface SetEnvRequest {
  'app'?: (string);
  'set'?: ({[key: string]: string});
  'unset'?: (string)[];
  'requested_by'?: (string);
}

export interface SetEnvRequest__Output {
  'app': (string);
  'set': ({[key: string]: string});
  'unset': (string)[];
  'requested_by': (string);
}
