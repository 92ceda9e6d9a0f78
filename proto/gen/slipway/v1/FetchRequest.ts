// Original file: proto/slipway.proto

import type { UploadMeta as _slipway_v1_UploadMeta, UploadMeta__Output as _slipway_v1_UploadMeta__Output } from '../../slipway/v1/UploadMeta.js';

export interface FetchRequest {
  'meta'?: (_slipway_v1_UploadMeta | null);
  'url'?: (string);
}

export interface FetchRequest__Output {
  'meta': (_slipway_v1_UploadMeta__Output | null);
  'url': (string);
}
