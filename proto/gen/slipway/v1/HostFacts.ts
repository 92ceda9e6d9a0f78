// Original file: proto/slipway.proto

import type { FileSystemFact as _slipway_v1_FileSystemFact, FileSystemFact__Output as _slipway_v1_FileSystemFact__Output } from '../../slipway/v1/FileSystemFact.js';
import type { Long } from '@grpc/proto-loader';

export interface HostFacts {
  'os_distro'?: (string);
  'os_release'?: (string);
  'kernel'?: (string);
  'arch'?: (string);
  'cpu_manufacturer'?: (string);
  'cpu_brand'?: (string);
  'cpu_cores'?: (number);
  'cpu_physical_cores'?: (number);
  'memory_total'?: (number | string | Long);
  'filesystems'?: (_slipway_v1_FileSystemFact)[];
  'read_at'?: (string);
}

export interface HostFacts__Output {
  'os_distro': (string);
  'os_release': (string);
  'kernel': (string);
  'arch': (string);
  'cpu_manufacturer': (string);
  'cpu_brand': (string);
  'cpu_cores': (number);
  'cpu_physical_cores': (number);
  'memory_total': (string);
  'filesystems': (_slipway_v1_FileSystemFact__Output)[];
  'read_at': (string);
}
