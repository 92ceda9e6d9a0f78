// Original file: proto/slipway.proto

import type { Long } from '@grpc/proto-loader';

export interface ReleaseInfo {
  'app'?: (string);
  'version'?: (string);
  'sha256'?: (string);
  'size'?: (number | string | Long);
  'stored'?: (boolean);
  'unpacked'?: (boolean);
  'current'?: (boolean);
  'rollback_target'?: (boolean);
  'stored_at'?: (string);
}

export interface ReleaseInfo__Output {
  'app': (string);
  'version': (string);
  'sha256': (string);
  'size': (string);
  'stored': (boolean);
  'unpacked': (boolean);
  'current': (boolean);
  'rollback_target': (boolean);
  'stored_at': (string);
}
