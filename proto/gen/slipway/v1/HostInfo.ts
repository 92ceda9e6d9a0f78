// Original file: proto/slipway.proto

import type { Long } from '@grpc/proto-loader';

export interface HostInfo {
  'cpu_percent'?: (number | string);
  'load1'?: (number | string);
  'memory_total'?: (number | string | Long);
  'memory_available'?: (number | string | Long);
  'disk_path'?: (string);
  'disk_total'?: (number | string | Long);
  'disk_free'?: (number | string | Long);
  'uptime_s'?: (number | string);
  'sampled_at'?: (string);
}

export interface HostInfo__Output {
  'cpu_percent': (number);
  'load1': (number);
  'memory_total': (string);
  'memory_available': (string);
  'disk_path': (string);
  'disk_total': (string);
  'disk_free': (string);
  'uptime_s': (number);
  'sampled_at': (string);
}
