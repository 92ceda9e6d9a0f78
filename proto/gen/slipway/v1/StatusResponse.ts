// Original file: proto/slipway.proto

import type { AgentInfo as _slipway_v1_AgentInfo, AgentInfo__Output as _slipway_v1_AgentInfo__Output } from '../../slipway/v1/AgentInfo.js';
import type { AppStatus as _slipway_v1_AppStatus, AppStatus__Output as _slipway_v1_AppStatus__Output } from '../../slipway/v1/AppStatus.js';
import type { HostInfo as _slipway_v1_HostInfo, HostInfo__Output as _slipway_v1_HostInfo__Output } from '../../slipway/v1/HostInfo.js';
import type { HostFacts as _slipway_v1_HostFacts, HostFacts__Output as _slipway_v1_HostFacts__Output } from '../../slipway/v1/HostFacts.js';

export interface StatusResponse {
  'agent'?: (_slipway_v1_AgentInfo | null);
  'apps'?: (_slipway_v1_AppStatus)[];
  'host'?: (_slipway_v1_HostInfo | null);
  'facts'?: (_slipway_v1_HostFacts | null);
}

export interface StatusResponse__Output {
  'agent': (_slipway_v1_AgentInfo__Output | null);
  'apps': (_slipway_v1_AppStatus__Output)[];
  'host': (_slipway_v1_HostInfo__Output | null);
  'facts': (_slipway_v1_HostFacts__Output | null);
}
