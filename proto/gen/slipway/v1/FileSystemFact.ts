// Original file: proto/slipway.proto

import type { Long } from '@grpc/proto-loader';

export interface FileSystemFact {
  'mount'?: (string);
  'type'?: (string);
  'size'?: (number | string | Long);
}

export interface FileSystemFact__Output {
  'mount': (string);
  'type': (string);
  'size': (string);
}
