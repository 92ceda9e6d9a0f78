// Original file: proto/slipway.proto

import type { ReleaseInfo as _slipway_v1_ReleaseInfo, ReleaseInfo__Output as _slipway_v1_ReleaseInfo__Output } from '../../slipway/v1/ReleaseInfo.js';

export interface ListReleasesResponse {
  'releases'?: (_slipway_v1_ReleaseInfo)[];
}

export interface ListReleasesResponse__Output {
  'releases': (_slipway_v1_ReleaseInfo__Output)[];
}
