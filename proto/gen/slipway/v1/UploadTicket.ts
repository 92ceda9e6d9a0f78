// Original file: proto/slipway.proto

import type { Long } from '@grpc/proto-loader';

export interface UploadTicket {
  'already_stored'?: (boolean);
  'token'?: (string);
  'port'?: (number);
  'sha256'?: (string);
  'offset'?: (number | string | Long);
}

export interface UploadTicket__Output {
  'already_stored': (boolean);
  'token': (string);
  'port': (number);
  'sha256': (string);
  'offset': (string);
}
