// Original file: proto/slipway.proto

import type { Activation as _slipway_v1_Activation, Activation__Output as _slipway_v1_Activation__Output } from '../../slipway/v1/Activation.js';
import type { Long } from '@grpc/proto-loader';

export interface AppStatus {
  'app'?: (string);
  'state'?: (string);
  'version'?: (string);
  'sha256'?: (string);
  'desired_version'?: (string);
  'desired_sha256'?: (string);
  'pid'?: (number);
  'started_at'?: (string);
  'restarts'?: (number);
  'last_activation'?: (_slipway_v1_Activation | null);
  'stack'?: (_slipway_v1_Activation)[];
  'state_reason'?: (string);
  'open_files_limit'?: (number | string | Long);
  'cpu_percent'?: (number | string);
  'memory_rss'?: (number | string | Long);
  'releases_present'?: (number);
  'state_since'?: (string);
}

export interface AppStatus__Output {
  'app': (string);
  'state': (string);
  'version': (string);
  'sha256': (string);
  'desired_version': (string);
  'desired_sha256': (string);
  'pid': (number);
  'started_at': (string);
  'restarts': (number);
  'last_activation': (_slipway_v1_Activation__Output | null);
  'stack': (_slipway_v1_Activation__Output)[];
  'state_reason': (string);
  'open_files_limit': (string);
  'cpu_percent': (number);
  'memory_rss': (string);
  'releases_present': (number);
  'state_since': (string);
}
