// Original file: proto/slipway.proto

import type { Long } from '@grpc/proto-loader';

export interface PrunedItem {
  'app'?: (string);
  'kind'?: (string);
  'version'?: (string);
  'sha256'?: (string);
  'path'?: (string);
  'bytes'?: (number | string | Long);
}

export interface PrunedItem__Output {
  'app': (string);
  'kind': (string);
  'version': (string);
  'sha256': (string);
  'path': (string);
  'bytes': (string);
}
