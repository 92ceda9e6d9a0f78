// Original file: proto/slipway.proto


export interface DeployEvent {
  'event'?: (string);
  'app'?: (string);
  'version'?: (string);
  'message'?: (string);
  'at'?: (string);
  'pid'?: (number);
  'output'?: (string)[];
  'from_version'?: (string);
  'elapsed_s'?: (number | string);
  'unchanged'?: (boolean);
}

export interface DeployEvent__Output {
  'event': (string);
  'app': (string);
  'version': (string);
  'message': (string);
  'at': (string);
  'pid': (number);
  'output': (string)[];
  'from_version': (string);
  'elapsed_s': (number);
  'unchanged': (boolean);
}
