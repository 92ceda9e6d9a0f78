// Original file: proto/slipway.proto


export interface ControlRequest {
  'app'?: (string);
  'action'?: (string);
  'requested_by'?: (string);
}

export interface ControlRequest__Output {
  'app': (string);
  'action': (string);
  'requested_by': (string);
}
