// Original file: proto/slipway.proto

import type { PrunedItem as _slipway_v1_PrunedItem, PrunedItem__Output as _slipway_v1_PrunedItem__Output } from '../../slipway/v1/PrunedItem.js';
import type { ReleaseInfo as _slipway_v1_ReleaseInfo, ReleaseInfo__Output as _slipway_v1_ReleaseInfo__Output } from '../../slipway/v1/ReleaseInfo.js';
import type { Long } from '@grpc/proto-loader';

export interface PruneResponse {
  'removed'?: (_slipway_v1_PrunedItem)[];
  'kept'?: (_slipway_v1_ReleaseInfo)[];
  'bytes_freed'?: (number | string | Long);
  'dry_run'?: (boolean);
}

export interface PruneResponse__Output {
  'removed': (_slipway_v1_PrunedItem__Output)[];
  'kept': (_slipway_v1_ReleaseInfo__Output)[];
  'bytes_freed': (string);
  'dry_run': (boolean);
}
