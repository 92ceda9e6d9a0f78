// Original file: proto/slipway.proto


export interface ActivateRequest {
  'app'?: (string);
  'version'?: (string);
  'sha256'?: (string);
  'strategy'?: (string);
  'reason'?: (string);
  'requested_by'?: (string);
  'undo'?: (boolean);
}

export interface ActivateRequest__Output {
  'app': (string);
  'version': (string);
  'sha256': (string);
  'strategy': (string);
  'reason': (string);
  'requested_by': (string);
  'undo': (boolean);
}
