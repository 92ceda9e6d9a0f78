// The artifact store's pure parts: slipway.yaml's store section and its
// placeholders (coordinator/artifact-store/), the agent's fetch config
// (agent/storage/download/settings.ts), and the HTTP helpers both use
// (common/store-http.ts: URL checks, redaction, proxy choice, Content-Range).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText, ConfigError } from '../../common/config-file.js';
import { slipwayConfigSchema, type LoadedConfig } from '../../coordinator/config.js';
import { agentConfigSchema } from '../../agent/config.js';
import { expandUrl, expandCommand, shellQuote, unknownPlaceholders } from '../../coordinator/artifact-store/template.js';
import { storeFor } from '../../coordinator/artifact-store/index.js';
import { parseAuthHeader } from '../../agent/storage/download/settings.js';
import { contentRangeStart } from '../../agent/storage/download/index.js';
import { urlProblem, redactUrl, proxyFor } from '../../common/store-http.js';

const BASE = `app: hello
build: { include: [server.js] }
run: { command: [node, server.js] }
environments:
  production: { hosts: [app1.internal:7070] }
  staging: { hosts: [127.0.0.1:7070], store: false }
`;

function config(extra: string) {
  return parseConfigText(BASE + extra, slipwayConfigSchema, 'slipway.yaml');
}

function problems(extra: string): string {
  try { config(extra); return ''; } catch (err) { if (err instanceof ConfigError) return err.message; throw err; }
}

const vars = { app: 'hello', version: '1.4.2+build.7', sha256: 'ab'.repeat(32), size: 1234, env: 'production', file: '/tmp/my release.tar.gz' };

test('store: a URL with {sha256} and a publish command or PUT; environments override it or push', () => {
  const c = config('store: { url: "https://a.example.com/{app}/{sha256}.tar.gz", publish: { command: "aws s3 cp {file} s3://b/{app}/{sha256}.tar.gz" } }\n');
  const loaded: LoadedConfig = { config: c, file: '/repo/slipway.yaml', root: '/repo' };
  assert.equal(storeFor(loaded, c.environments.production)?.url, 'https://a.example.com/{app}/{sha256}.tar.gz');
  assert.equal(storeFor(loaded, c.environments.staging), undefined, 'store: false pushes');
  assert.match(problems('store: { url: "https://a.example.com/{app}/{version}.tar.gz", publish: { put: "https://a.example.com/x/{sha256}" } }\n'), /must hold \{sha256\}/);
  assert.match(problems('store: { url: "ftp://a/{sha256}", publish: { put: "https://a.example.com/x/{sha256}" } }\n'), /https:\/\/HOST/);
  assert.match(problems('store: { url: "https://a.example.com/{sha256}" }\n'), /publish/);
  const bad = config('store: { url: "https://a.example.com/{sha}/{sha256}", publish: { command: "cp {file} {dest}" } }\n');
  assert.throws(() => storeFor({ config: bad, file: '/repo/slipway.yaml', root: '/repo' }, bad.environments.production),
    (e: ConfigError) => /unknown placeholder \{sha\}/.test(e.message) && /publish\.command: unknown placeholder \{dest\}/.test(e.message));
});

test('placeholders: URLs get encoded values, sh -c commands quoted ones, argv lists plain ones', () => {
  assert.equal(expandUrl('https://s/{app}/{version}/{sha256}.tar.gz', vars), `https://s/hello/1.4.2%2Bbuild.7/${'ab'.repeat(32)}.tar.gz`);
  assert.deepEqual(expandCommand('cp {file} /srv/{app}/', vars), ['sh', '-c', "cp '/tmp/my release.tar.gz' /srv/hello/"]);
  assert.deepEqual(expandCommand(['cp', '{file}', '/srv/{app}/'], vars), ['cp', '/tmp/my release.tar.gz', '/srv/hello/']);
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.deepEqual(unknownPlaceholders('{app}{file}{x}', false), ['file', 'x']);
  assert.deepEqual(unknownPlaceholders('{app}{file}', true), []);
});

test('the agent\'s fetch config: defaults, and an auth header file of one line', () => {
  const c = agentConfigSchema.parse({ tls: { insecure: true }, listen: '127.0.0.1:7070' });
  assert.deepEqual(c.fetch, { allow_http: false, stall_s: 30, attempts: 5, connect_timeout_s: 15 });
  assert.deepEqual(parseAuthHeader('\nAuthorization: Bearer abc\n', 'f'), ['authorization', 'Bearer abc']);
  assert.deepEqual(parseAuthHeader('X-JFrog-Art-Api: key', 'f'), ['x-jfrog-art-api', 'key']);
  assert.deepEqual(parseAuthHeader('Bearer abc', 'f'), ['authorization', 'Bearer abc']);
  assert.throws(() => parseAuthHeader('\n\n', '/etc/slipway/h'), /\/etc\/slipway\/h is empty/);
});

test('store URLs: https, plain http only to loopback or when allowed, no credentials; redacted for logs', () => {
  assert.equal(urlProblem('https://s.example.com/a', false), undefined);
  assert.equal(urlProblem('http://127.0.0.1:8080/a', false), undefined);
  assert.match(urlProblem('http://s.example.com/a', false) ?? '', /plain http.*allow_http/);
  assert.equal(urlProblem('http://s.example.com/a', true), undefined);
  assert.match(urlProblem('https://u:p@s.example.com/a', false) ?? '', /carries credentials/);
  assert.match(urlProblem('not a url', false) ?? '', /is not a URL/);
  assert.equal(redactUrl('https://b.s3.amazonaws.com/hello/x.tar.gz?X-Amz-Signature=secret'), 'https://b.s3.amazonaws.com/hello/x.tar.gz?…');
});

test('the proxy: HTTPS_PROXY unless NO_PROXY names the host (suffixes, ports, *)', () => {
  const u = new URL('https://artifacts.example.com/x');
  assert.equal(proxyFor(u, {}), undefined);
  assert.equal(proxyFor(u, { HTTPS_PROXY: 'http://proxy:3128' })?.host, 'proxy:3128');
  assert.equal(proxyFor(u, { https_proxy: 'proxy:3128' })?.host, 'proxy:3128');
  assert.equal(proxyFor(u, { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '.example.com' }), undefined);
  assert.equal(proxyFor(u, { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'example.com' }), undefined);
  assert.equal(proxyFor(u, { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'ample.com' })?.host, 'proxy:3128');
  assert.equal(proxyFor(u, { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'artifacts.example.com:8443' })?.host, 'proxy:3128');
  assert.equal(proxyFor(u, { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '*' }), undefined);
  assert.equal(proxyFor(new URL('http://a.example.com/x'), { HTTPS_PROXY: 'http://proxy:3128' }), undefined, 'http URLs use HTTP_PROXY');
});

test('Content-Range: the start of a 206', () => {
  assert.equal(contentRangeStart('bytes 100-199/200'), 100);
  assert.equal(contentRangeStart('bytes 0-0/*'), 0);
  assert.equal(contentRangeStart(undefined), undefined);
  assert.equal(contentRangeStart('items 1-2/3'), undefined);
});
