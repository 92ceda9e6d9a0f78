// Original file: proto/slipway.proto

import type { Long } from '@grpc/proto-loader';

export interface AgentInfo {
  'version'?: (string);
  'hostname'?: (string);
  'started_at'?: (string);
  'upload_bytes_total'?: (number | string | Long);
  'uploads_total'?: (number | string | Long);
  'uploads_deduplicated_total'?: (number | string | Long);
  'node_version'?: (string);
  'state_dir'?: (string);
  'open_files_limit'?: (number | string | Long);
  'warnings'?: (string)[];
}

export interface AgentInfo__Output {
  'version': (string);
  'hostname': (string);
  'started_at': (string);
  'upload_bytes_total': (string);
  'uploads_total': (string);
  'uploads_deduplicated_total': (string);
  'node_version': (string);
  'state_dir': (string);
  'open_files_limit': (string);
  'warnings': (string)[];
}
