// Original file: proto/slipway.proto

import type { HistoryEntry as _slipway_v1_HistoryEntry, HistoryEntry__Output as _slipway_v1_HistoryEntry__Output } from '../../slipway/v1/HistoryEntry.js';

export interface HistoryResponse {
  'entries'?: (_slipway_v1_HistoryEntry)[];
}

export interface HistoryResponse__Output {
  'entries': (_slipway_v1_HistoryEntry__Output)[];
}
