// Original file: proto/slipway.proto

import type { Long } from '@grpc/proto-loader';

export interface UploadMeta {
  'app'?: (string);
  'version'?: (string);
  'sha256'?: (string);
  'size'?: (number | string | Long);
  'signature'?: (Buffer | Uint8Array | string);
  'key_id'?: (string);
  'manifest_sha256'?: (string);
}

export interface UploadMeta__Output {
  'app': (string);
  'version': (string);
  'sha256': (string);
  'size': (string);
  'signature': (Buffer);
  'key_id': (string);
  'manifest_sha256': (string);
}
