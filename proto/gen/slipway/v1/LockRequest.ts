// Original file: proto/slipway.proto


export interface LockRequest {
  'app'?: (string);
  'reason'?: (string);
  'ttl_s'?: (number);
  'lease_id'?: (string);
  'holder'?: (string);
  'inspect'?: (boolean);
  'record'?: (boolean);
}

export interface LockRequest__Output {
  'app': (string);
  'reason': (string);
  'ttl_s': (number);
  'lease_id': (string);
  'holder': (string);
  'inspect': (boolean);
  'record': (boolean);
}
