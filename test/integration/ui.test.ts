// `slipway ui` in a real browser: headless Chromium (Debian's chromium,
// driven by playwright-core) against the installed CLI's ui, which talks to
// three real agents over mTLS. The page sees the grid, a deploy from another
// terminal change the cells live, a rollback started from the page
// (--allow-actions), a crash loop, a stopped agent turn unreachable, the
// history, a log, a host list edited while the page is open and an "agent"
// that answers garbage. Screenshots go to test-output/ui/ (or
// $SLIPWAY_TEST_OUTPUT/ui). The tests share one fleet and one page, in order;
// every wait polls with a generous deadline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { tempDir, makeAppRepo, startAgents, stopAgents, cleanup, cli, waitFor, connect, ROOT, type AppRepo } from '../helpers/env.js';
import { CLI_BIN, type LocalAgent } from '../../scripts/local-fleet.js';
import { formatTime } from '../../common/time.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium; .ci/run does)`;
const OUT = join(process.env.SLIPWAY_TEST_OUTPUT ?? join(ROOT, 'test-output'), 'ui');

let dir: string;
let agents: LocalAgent[];
let repo: AppRepo;
let ui: ChildProcess;
let url: string;
let context: BrowserContext;
let page: Page;
let garbage: net.Server;
let silent: net.Server;
const silentSockets = new Set<net.Socket>();

/** Starts `slipway ui ARGS` in the app's repo; resolves with the process and the address it printed. */
export async function startUi(cwd: string, ...args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI_BIN, 'ui', ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const lines = createInterface({ input: child.stdout! });
  const found = await new Promise<string>((resolve, reject) => {
    lines.on('line', (l) => { const m = /(http:\/\/\S+\/)/.exec(l); if (m) resolve(m[1]); });
    child.on('exit', (code) => reject(new Error(`slipway ui exited with ${code}: ${err}`)));
  });
  return { child, url: found };
}

async function shot(name: string): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  // Rows far from the viewport are not drawn (content-visibility); a full-page picture wants them all.
  await page.evaluate(() => { document.documentElement.classList.add('all-rows'); (window as unknown as { slipwayUi: { drawAll(): void } }).slipwayUi.drawAll(); });
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
  await page.evaluate(() => document.documentElement.classList.remove('all-rows'));
}

const cellSel = (a: LocalAgent, attrs: string) => `.cell[data-host="${a.address}"][data-app="hello"]${attrs}`;

/**
 * Scrolls to what `selector` finds, as a person would look at it. A row redrawn just as it is
 * scrolled to ("not attached to the DOM") is found again.
 */
async function scrollTo(selector: string): Promise<void> {
  await waitFor(() => page.locator(selector).scrollIntoViewIfNeeded({ timeout: 10_000 }).then(() => true, () => false), `${selector} scrolled into view`);
}

async function waitCell(a: LocalAgent, attrs: string, timeout = 60_000): Promise<void> {
  // Rows far from the viewport are redrawn when scrolled near: look at the row, as a person would.
  await scrollTo(cellSel(a, ''));
  await page.waitForSelector(cellSel(a, attrs), { timeout, state: 'attached' });
}

before(async () => {
  if (skip) return;
  dir = tempDir('ui');
  agents = await startAgents(dir, 3);
  repo = await makeAppRepo(dir, agents.map((a) => a.address));
  repo.release('1.0.0', { 'message.txt': 'one\n' });
  repo.release('1.1.0', { 'message.txt': 'two\n' });
  for (const v of ['1.0.0', '1.1.0']) assert.equal((await cli(repo.dir, 'build', v)).code, 0);
  const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  // An "agent" that answers every connection with bytes that are neither TLS nor HTTP/2.
  garbage = net.createServer((s) => { s.on('error', () => undefined); s.end(Buffer.from('\x00\xffnot a gRPC agent\r\n\r\n'.repeat(50), 'binary')); });
  await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
  // A host gone dark: it takes the connection and never says a word.
  silent = net.createServer((s) => { silentSockets.add(s); s.on('error', () => undefined); s.on('close', () => silentSockets.delete(s)); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  ({ child: ui, url } = await startUi(repo.dir, '--listen', '127.0.0.1:0', '--allow-actions'));
  context = await chromium.launchPersistentContext(tempDir('ui-chromium'), {
    // A zone and a language far from UTC and English: the page's times must not follow them (common/time.ts).
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 800 }, timezoneId: 'Pacific/Kiritimati', locale: 'de-DE',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? await context.newPage();
});

after(async () => {
  if (skip) return;
  await context?.close();
  ui?.kill('SIGINT');
  garbage?.close();
  for (const s of silentSockets) s.destroy();
  silent?.close();
  await stopAgents(agents);
  cleanup(dir);
});

test('the grid: every host of every environment, each cell the version and state as text', { skip }, async () => {
  await page.goto(url);
  for (const a of agents) await waitCell(a, '[data-state="running"][data-version="1.0.0"]');
  for (const a of agents) {
    const text = await page.textContent(cellSel(a, ''));
    assert.match(text ?? '', /1\.0\.0/);
    assert.match(text ?? '', /running/);
    assert.match(text ?? '', /pid \d+/);
  }
  // The "nowhere" environment's host (127.0.0.1:1) refuses connections: shown as unreachable, with the reason.
  await scrollTo('section.env[data-env="nowhere"] .body > .row');
  await page.waitForSelector('section.env[data-env="nowhere"] .row[data-reach="unreachable"]', { timeout: 30_000, state: 'attached' });
  assert.match(await page.textContent('section.env[data-env="nowhere"] .body > .row') ?? '', /connection refused/);
  const first = await page.evaluate(() => (window as unknown as { slipwayUi: { firstRender: { since_navigation_ms: number } } }).slipwayUi.firstRender);
  console.log(`first render ${Math.round(first.since_navigation_ms)} ms after navigation (3 + 1 hosts)`);
  // Keyboard: a cell takes the focus and shows its reason.
  await page.focus(cellSel(agents[0], ''));
  await page.waitForSelector('#tip:not([hidden])', { timeout: 10_000 });
  assert.match(await page.textContent('#tip') ?? '', /last activation: deploy 1\.0\.0 done/);
  await page.keyboard.press('Escape');
  await shot('1-grid');
});

test('a deploy from another terminal changes the cells live (no reload), with activity lines', { skip }, async () => {
  const nav = await page.evaluate(() => performance.getEntriesByType('navigation').length);
  // Each agent's Watch stream is open (the row says "steps live"): the deploy's steps will come as they happen.
  for (const a of agents) {
    await scrollTo(cellSel(a, ''));
    await page.waitForSelector(`.row[data-host="${a.address}"][data-watching="yes"]`, { timeout: 60_000, state: 'attached' });
  }
  const d = await cli(repo.dir, 'deploy', 'staging', '1.1.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  for (const a of agents) await waitCell(a, '[data-state="running"][data-version="1.1.0"]');
  assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation').length), nav, 'the page was not reloaded');
  await page.waitForSelector(`#happenings li[data-kind="done"][data-host="${agents[0].address}"]`, { timeout: 30_000, state: 'attached' });
  assert.match(await page.textContent('#happenings') ?? '', /now runs 1\.1\.0 \(was 1\.0\.0\)/);
  // Each host's activation steps, from the agents' Watch streams, with the agents' times.
  for (const a of agents) {
    for (const word of ['ready', 'done']) {
      await page.waitForFunction(({ host, w }) => [...document.querySelectorAll(`#happenings li[data-kind="step"][data-host="${host}"]`)].some((li) => li.textContent?.includes(`: ${w}`)), { host: a.address, w: word }, { timeout: 30_000 });
    }
  }
  assert.match(await page.textContent(`#happenings li[data-kind="step"][data-host="${agents[0].address}"]`) ?? '', /hello.*step: done after \d+\.\d s: hello 1\.1\.0 is running/);
  await shot('2-deployed');
});

test('history: the deploys are in the timeline, filterable by host', { skip }, async () => {
  await page.waitForFunction(() => document.querySelectorAll('#history-table tr[data-action="deploy"]').length >= 6, undefined, { timeout: 60_000 });
  // Each time is UTC, "2026-12-02 14:05:09Z", as everywhere in slipway, though the browser runs at UTC+14 in German.
  const [shown, iso] = await page.$eval('#history-table tbody tr[data-host] time', (t) => [t.textContent ?? '', t.getAttribute('datetime') ?? '']);
  assert.equal(shown, formatTime(iso));
  await page.selectOption('#hf-host', agents[1].address);
  const hosts = await page.$$eval('#history-table tbody tr[data-host]', (rows) => [...new Set(rows.map((r) => r.getAttribute('data-host')))]);
  assert.deepEqual(hosts, [agents[1].address]);
  await page.selectOption('#hf-host', '');
});

test('with --allow-actions: a rollback from the page, after a confirmation, through the CLI', { skip }, async () => {
  await page.click('button[data-act="rollback"][data-env="staging"]');
  await page.waitForSelector('#confirm[open]');
  assert.match(await page.textContent('#confirm-cmd') ?? '', /slipway rollback staging/);
  await page.click('#confirm-ok');
  await page.waitForSelector('#action-result[data-result]', { timeout: 120_000, state: 'attached' });
  assert.equal(await page.getAttribute('#action-result', 'data-result'), 'done', await page.textContent('#action-result') ?? '');
  for (const a of agents) await waitCell(a, '[data-state="running"][data-version="1.0.0"]');
  // Each host's batch and activation steps, with the agents' times, from the CLI's answer.
  await page.waitForSelector(`#happenings li[data-kind="steps"][data-host="${agents[0].address}"]`, { timeout: 30_000, state: 'attached' });
  assert.match(await page.textContent(`#happenings li[data-kind="steps"][data-host="${agents[0].address}"]`) ?? '', /batch \d+: .*→ done \d\d:\d\d:\d\d/);
  // The agents' history has the rollback, with the deployer certificate's name (the CLI's own code and credentials).
  const h = await connect(agents[0]).history('hello', 5);
  assert.ok(h.some((e) => e.action === 'rollback' && e.to_version === '1.0.0'), JSON.stringify(h));
  await shot('3-rolled-back');
});

test('a host\'s log follows in the page', { skip }, async () => {
  await page.click(`${cellSel(agents[0], '')} button[data-log]`);
  await page.waitForFunction(() => (document.querySelector('#log-lines')?.textContent ?? '').length > 0, undefined, { timeout: 30_000 });
  await page.click('#lf-stop');
});

test('an app killed into a crash loop shows as crashloop, with the reason', { skip }, async () => {
  const c = connect(agents[0]);
  try {
    await waitFor(async () => {
      const s = (await c.status('hello')).apps[0];
      if (s.state === 'crashloop') return true;
      if (s.state === 'running' && s.pid) { try { process.kill(s.pid, 'SIGKILL'); } catch { /* already gone */ } }
      return false;
    }, 'the app in a crash loop', 120_000);
  } finally {
    c.close();
  }
  await waitCell(agents[0], '[data-state="crashloop"]');
  assert.match(await page.textContent(`${cellSel(agents[0], '')} .tip`) ?? '', /max_restarts|restart/i);
  await page.waitForSelector(`#happenings li[data-kind="crashloop"][data-host="${agents[0].address}"]`, { timeout: 30_000, state: 'attached' });
  await shot('4-crashloop');
});

test('a stopped agent shows as unreachable within the status deadline, never as a stale green', { skip }, async () => {
  const t0 = Date.now();
  await agents[2].stop('SIGKILL');
  await waitCell(agents[2], '[data-state="unreachable"]', 30_000);
  const ms = Date.now() - t0;
  console.log(`agent killed → cell unreachable in ${ms} ms (deadline_s: 5, interval 1 s)`);
  assert.ok(ms < 5000 + 1000 + 4000, `unreachable shown after ${ms} ms`);
  // The last version seen stays, marked as not current.
  assert.match(await page.textContent(cellSel(agents[2], ' .ver.stale')) ?? '', /was 1\.0\.0/);
  await shot('5-unreachable');
  await page.locator('#fleet').screenshot({ path: join(OUT, 'readme-fleet.png') });
});

test('the host list edited while the page is open, with a host that answers garbage and one that never answers: shown as such; the ui keeps running', { skip }, async () => {
  const file = join(repo.dir, 'slipway.yaml');
  const port = (garbage.address() as net.AddressInfo).port;
  const dark = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  const t0 = Date.now();
  writeFileSync(file, readFileSync(file, 'utf8').replace('  nowhere:\n', `  odd:\n    hosts: [127.0.0.1:${port}, ${dark}]\n  nowhere:\n`));
  const row = `section.env[data-env="odd"] .row[data-host="127.0.0.1:${port}"]`;
  await page.waitForSelector(row, { timeout: 60_000, state: 'attached' });
  await scrollTo(row);
  await page.waitForSelector(`${row}:not([data-reach="waiting"])`, { timeout: 60_000, state: 'attached' });
  const reach = await page.getAttribute(`section.env[data-env="odd"] .row[data-host="127.0.0.1:${port}"]`, 'data-reach');
  assert.ok(reach === 'unreachable' || reach === 'error', String(reach));
  // The dark host: unreachable once the Status call's deadline (deadline_s: 5) has passed, with the reason.
  const darkRow = `section.env[data-env="odd"] .row[data-host="${dark}"]`;
  await page.waitForSelector(`${darkRow}[data-reach="unreachable"]`, { timeout: 60_000, state: 'attached' });
  console.log(`a host that never answers: unreachable ${Date.now() - t0} ms after it was added to slipway.yaml (deadline_s: 5; the file is checked every second)`);
  assert.match(await page.textContent(darkRow) ?? '', /deadline|timed out|unreachable/);
  // A broken file keeps what is shown and says so.
  const good = readFileSync(file, 'utf8');
  writeFileSync(file, `${good}\nnot: [valid\n`);
  await page.waitForSelector('#notices p', { timeout: 30_000 });
  assert.match(await page.textContent('#notices') ?? '', /could not be read again/);
  assert.equal(await page.locator(`section.env[data-env="odd"]`).count(), 1, 'the last good host lists are still shown');
  writeFileSync(file, good);
  await page.waitForSelector('#notices p', { state: 'detached', timeout: 30_000 });
  assert.equal(ui.exitCode, null, 'the ui process is still running');
  const res = await fetch(`${url}api/state`);
  assert.equal(res.status, 200);
  // Phone width: each host is a card and still readable.
  await page.setViewportSize({ width: 390, height: 844 });
  await shot('6-phone');
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('bad requests: no token → 401 where one is required; beyond loopback without a token is refused; a foreign Host is refused; actions need the page\'s header', { skip }, async () => {
  const tokenFile = join(dir, 'ui-token');
  const token = 'a'.repeat(8) + 'b'.repeat(24);
  writeFileSync(tokenFile, `${token}\n`);
  const t = await startUi(repo.dir, 'staging', '--listen', '127.0.0.1:0', '--token-file', tokenFile);
  try {
    assert.equal((await fetch(`${t.url}api/state`)).status, 401);
    assert.equal((await fetch(`${t.url}`)).status, 401);
    assert.equal((await fetch(`${t.url}api/events`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401);
    assert.equal((await fetch(`${t.url}api/state`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    const visit = await fetch(`${t.url}?token=${token}`, { redirect: 'manual' });
    assert.equal(visit.status, 303);
    assert.match(visit.headers.get('set-cookie') ?? '', /HttpOnly/);
  } finally {
    t.child.kill('SIGINT');
  }
  const far = await cli(repo.dir, 'ui', '--listen', '0.0.0.0:0');
  assert.equal(far.code, 2);
  assert.match(far.stderr, /needs --token-file/);
  const badListen = await cli(repo.dir, 'ui', '--listen', 'nonsense');
  assert.equal(badListen.code, 2);
  // A page of another site reaching the port through DNS rebinding comes with its own Host name.
  const u = new URL(url);
  const rebinding = await new Promise<number>((resolve, reject) => {
    http.get({ host: u.hostname, port: u.port, path: '/api/state', headers: { host: 'evil.example' }, agent: false }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
  });
  assert.equal(rebinding, 403);
  const noHeader = await fetch(`${url}api/actions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'restart', env: 'staging' }) });
  assert.equal(noHeader.status, 403);
  const badAction = await fetch(`${url}api/actions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-slipway-ui': '1' }, body: JSON.stringify({ action: 'rm -rf', env: 'staging' }) });
  assert.equal(badAction.status, 400);
  const badJson = await fetch(`${url}api/actions`, { method: 'POST', headers: { 'x-slipway-ui': '1' }, body: '{' });
  assert.equal(badJson.status, 400);
  assert.equal(ui.exitCode, null, 'the ui process is still running');
});
