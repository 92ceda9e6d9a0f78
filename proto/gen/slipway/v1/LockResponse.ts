// Original file: proto/slipway.proto


export interface LockResponse {
  'held'?: (boolean);
  'lease_id'?: (string);
  'holder'?: (string);
  'reason'?: (string);
  'since'?: (string);
  'expires_at'?: (string);
}

export interface LockResponse__Output {
  'held': (boolean);
  'lease_id': (string);
  'holder': (string);
  'reason': (string);
  'since': (string);
  'expires_at': (string);
}
