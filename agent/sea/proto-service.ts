// In the single executable (scripts/build-sea.mjs), proto/load.ts and
// proto/health.ts import this module instead of proto/service.ts: the same
// functions, but the API descriptors (slipway.json, health.json, written by
// scripts/postbuild.mjs) are read from the executable's assets, not from
// files beside it.
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import protobuf from 'protobufjs';

export { CONVERSION, serviceDefinition, clientConstructor } from '../../proto/service.js';

/** `descriptorJson`'s file name is the asset's key; the .proto fallback of the files layout has no use here. */
export function loadRoot(descriptorJson: string): protobuf.Root {
  const sea = createRequire(process.execPath)('node:sea') as typeof import('node:sea');
  const root = protobuf.Root.fromJSON(JSON.parse(sea.getAsset(basename(descriptorJson), 'utf8')) as protobuf.INamespace);
  root.resolveAll();
  return root;
}
