// Original file: proto/slipway.proto


export interface UploadTicket {
  'already_stored'?: (boolean);
  'token'?: (string);
  'port'?: (number);
  'sha256'?: (string);
}

export interface UploadTicket__Output {
  'already_stored': (boolean);
  'token': (string);
  'port': (number);
  'sha256': (string);
}
