// Original file: proto/slipway.proto


export interface EnvResponse {
  'env'?: ({[key: string]: string});
}

export interface EnvResponse__Output {
  'env': ({[key: string]: string});
}
