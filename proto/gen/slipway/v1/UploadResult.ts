// Original file: proto/slipway.proto

import type { Long } from '@grpc/proto-loader';

export interface UploadResult {
  'sha256'?: (string);
  'bytes_received'?: (number | string | Long);
  'already_stored'?: (boolean);
}

export interface UploadResult__Output {
  'sha256': (string);
  'bytes_received': (string);
  'already_stored': (boolean);
}
