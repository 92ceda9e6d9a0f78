// Original file: proto/slipway.proto


export interface PruneRequest {
  'app'?: (string);
  'keep'?: (number);
  'dry_run'?: (boolean);
}

export interface PruneRequest__Output {
  'app': (string);
  'keep': (number);
  'dry_run': (boolean);
}
