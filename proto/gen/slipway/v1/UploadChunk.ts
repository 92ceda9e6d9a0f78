// Original file: proto/slipway.proto

import type { UploadMeta as _slipway_v1_UploadMeta, UploadMeta__Output as _slipway_v1_UploadMeta__Output } from '../../slipway/v1/UploadMeta.js';

export interface UploadChunk {
  'meta'?: (_slipway_v1_UploadMeta | null);
  'data'?: (Buffer | Uint8Array | string);
  'payload'?: "meta"|"data";
}

export interface UploadChunk__Output {
  'meta'?: (_slipway_v1_UploadMeta__Output | null);
  'data'?: (Buffer);
  'payload'?: "meta"|"data";
}
