// Original file: proto/slipway.proto


export interface HistoryEntry {
  'at'?: (string);
  'app'?: (string);
  'action'?: (string);
  'who'?: (string);
  'from_version'?: (string);
  'to_version'?: (string);
  'result'?: (string);
  'duration_s'?: (number | string);
  'message'?: (string);
}

export interface HistoryEntry__Output {
  'at': (string);
  'app': (string);
  'action': (string);
  'who': (string);
  'from_version': (string);
  'to_version': (string);
  'result': (string);
  'duration_s': (number);
  'message': (string);
}
