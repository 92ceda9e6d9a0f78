// Original file: proto/slipway.proto


export interface UnlockRequest {
  'app'?: (string);
  'lease_id'?: (string);
  'force'?: (boolean);
  'requested_by'?: (string);
  'record'?: (boolean);
}

export interface UnlockRequest__Output {
  'app': (string);
  'lease_id': (string);
  'force': (boolean);
  'requested_by': (string);
  'record': (boolean);
}
