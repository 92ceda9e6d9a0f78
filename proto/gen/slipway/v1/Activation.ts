// Original file: proto/slipway.proto


export interface Activation {
  'version'?: (string);
  'sha256'?: (string);
  'at'?: (string);
  'strategy'?: (string);
  'reason'?: (string);
  'result'?: (string);
  'message'?: (string);
  'requested_by'?: (string);
}

export interface Activation__Output {
  'version': (string);
  'sha256': (string);
  'at': (string);
  'strategy': (string);
  'reason': (string);
  'result': (string);
  'message': (string);
  'requested_by': (string);
}
