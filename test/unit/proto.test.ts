// The compiled loader reads dist/proto/slipway.json; it must describe the
// same API, with the same field names, as proto/slipway.proto does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import * as protoLoader from '@grpc/proto-loader';

const OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

test('the build-time descriptor matches slipway.proto, field names included', { skip: !existsSync('dist/proto/slipway.json') && 'run npm run build first' }, () => {
  const fromProto = protoLoader.loadSync('proto/slipway.proto', OPTIONS);
  const fromJson = protoLoader.fromJSON(JSON.parse(readFileSync('dist/proto/slipway.json', 'utf8')) as Record<string, unknown>, OPTIONS);
  assert.deepEqual(Object.keys(fromJson).sort(), Object.keys(fromProto).sort());
  const fields = (def: protoLoader.PackageDefinition, name: string) =>
    ((def[name] as { type: { field: { name: string }[] } }).type.field.map((f) => f.name));
  for (const name of Object.keys(fromProto).filter((n) => n.startsWith('slipway.v1.') && 'type' in fromProto[n])) {
    assert.deepEqual(fields(fromJson, name), fields(fromProto, name), name);
  }
  assert.ok(fields(fromJson, 'slipway.v1.UploadResult').includes('bytes_received'));
});
