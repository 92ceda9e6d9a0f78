// agent/runtime/port-hint.ts: the hint for an app that binds its own port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressInUseHint, withAddressInUseHint } from '../../agent/runtime/port-hint.js';

const listen = [{ name: 'http', port: 8000 }, { name: 'admin', port: 8001 }];

// The last lines each runtime prints when bind(2) fails with EADDRINUSE.
const SAID: Record<string, string[]> = {
  node: ['node:events:497', '      throw er; // Unhandled \'error\' event', 'Error: listen EADDRINUSE: address already in use 0.0.0.0:8000'],
  python: ['  File "/usr/lib/python3.11/socketserver.py", line 472, in server_bind', '    self.socket.bind(self.server_address)', 'OSError: [Errno 98] Address already in use'],
  go: ['2026/11/01 10:00:00 listen tcp 0.0.0.0:8000: bind: address already in use'],
  ruby: ['app.rb:3:in `initialize\': Address already in use - bind(2) for "0.0.0.0" port 8000 (Errno::EADDRINUSE)'],
  erlang: ['{error,eaddrinuse}'],
};

for (const [who, output] of Object.entries(SAID)) {
  test(`${who}'s words get the hint naming LISTEN_FDS and the fds`, () => {
    const hint = addressInUseHint(output, listen);
    assert.ok(hint);
    assert.match(hint, /binds its port itself/);
    assert.match(hint, /take the socket the agent passes instead \(LISTEN_FDS: fd 3 for http, port 8000; fd 4 for admin, port 8001\)/);
    assert.match(hint, /docs\/apps\.md/);
  });
}

test('without run.listen the hint says who may hold the port, and how to share it', () => {
  const hint = addressInUseHint(SAID.python, []);
  assert.match(hint ?? '', /another process, or by the old version.*set run\.listen.*LISTEN_FDS/);
});

test('other failures get no hint; the message is kept and the hint follows it', () => {
  assert.equal(addressInUseHint(['boom: missing DATABASE_URL'], listen), undefined);
  assert.equal(addressInUseHint([], listen), undefined);
  assert.equal(withAddressInUseHint('the new version exited with code 1 before it was ready', ['KeyError: DATABASE_URL'], listen), 'the new version exited with code 1 before it was ready');
  assert.match(withAddressInUseHint('the new version exited with code 1 before it was ready', SAID.go, listen), /^the new version exited with code 1 before it was ready; the app binds its port itself/);
});
