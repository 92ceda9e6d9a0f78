// Original file: proto/slipway.proto

import type { Long } from '@grpc/proto-loader';

export interface FetchProgress {
  'sha256'?: (string);
  'bytes_received'?: (number | string | Long);
  'size'?: (number | string | Long);
  'already_stored'?: (boolean);
  'done'?: (boolean);
  'resumes'?: (number);
  'bytes_downloaded'?: (number | string | Long);
}

export interface FetchProgress__Output {
  'sha256': (string);
  'bytes_received': (string);
  'size': (string);
  'already_stored': (boolean);
  'done': (boolean);
  'resumes': (number);
  'bytes_downloaded': (string);
}
