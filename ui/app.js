// Longer than ~300 lines on purpose: the page's one script (no build step, no modules under its CSP): state from the server's events and the drawing of it.
// slipway ui's page: hand-written, no framework, no build step. It keeps the
// fleet's state from the server's events (/api/events: snapshot, hosts,
// happenings, history, notice) and redraws only the rows that changed.
// window.slipwayUi holds timings the tests and the bench read.
// One file past ~400 lines on purpose: no build step and no module loader,
// so the page is one script request and one closure over its state; its
// parts are marked (the grid, activity, history, logs, actions, the stream).
'use strict';
(() => {
  const $ = (sel) => document.querySelector(sel);
  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const ICON = { running: '✓', starting: '◔', activating: '⇄', backoff: '↻', crashloop: '✕', stopped: '■', unreachable: '⚠', error: '⚠', waiting: '…', none: '–', unknown: '?' };
  const KIND_ICON = { activating: '⇄', done: '✓', failed: '✕', crashed: '↻', crashloop: '✕', stopped: '■', started: '✓', unreachable: '⚠', back: '✓', auto_rolled_back: '↶', action: '▶', action_done: '✓', action_failed: '✕', steps: '⋯', step: '›', state: '•', error: '⚠' };
  // Light backgrounds that stay readable with dark text; a version keeps its colour for the page's life.
  // (app.css: .v0 … .v7; classes, since the page's CSP allows no inline styles).
  const PALETTE_SIZE = 8;
  const perf = { firstRender: null, updates: [], messages: 0 };
  window.slipwayUi = perf;

  const S = { envs: new Map(), app: '', allowActions: false, offset: 0, versions: new Map(), history: new Map(), recent: [] };

  const now = () => Date.now() + S.offset;
  function versionColour(v) {
    if (!S.versions.has(v)) S.versions.set(v, `v${S.versions.size % PALETTE_SIZE}`);
    return S.versions.get(v);
  }
  function duration(s) {
    if (!(s >= 0)) return '–';
    // Under a minute: no seconds. A ticking seconds figure on 600 cells makes the browser lay out the grid every second.
    if (s < 60) return '<1m';
    if (s < 3600) return `${Math.floor(s / 60)}m`;
    if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
    return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
  }
  function bytes(n) {
    if (!(n > 0)) return '–';
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return `${n < 10 && i > 0 ? n.toFixed(1) : Math.round(n)} ${u[i]}`;
  }
  // Times as everywhere in slipway (common/time.ts): UTC, "2026-12-02 14:05:09Z", never the browser's zone.
  const utc = (d) => `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)}Z`;
  const time = (iso) => {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? esc(iso) : `<time datetime="${esc(iso)}">${esc(utc(d).slice(11))}</time>`;
  };
  const dateTime = (iso) => {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? esc(iso) : `<time datetime="${esc(iso)}">${esc(utc(d))}</time>`;
  };
  const id = (s) => String(s).replace(/[^a-zA-Z0-9_-]/g, (c) => `_${c.charCodeAt(0)}`);

  // ---- the grid ----
  function appsOf(env) {
    const apps = new Set([S.app]);
    for (const h of env.hosts.values()) for (const a of Object.keys(h.apps || {})) apps.add(a);
    return [...apps];
  }

  function hostHeader(envName, h) {
    const reach = h.reach;
    const sys = h.system;
    const ag = h.agent;
    const bits = [];
    if (reach === 'reachable') {
      bits.push(`agent ${esc(ag?.version || '?')}`, `rtt ${h.rtt_ms == null ? '–' : `${Math.round(h.rtt_ms)} ms`}`);
      if (h.watching) bits.push('<span title="activation steps stream as they happen (Watch)">steps live</span>');
      if (sys) bits.push(`cpu ${Math.round(sys.cpu_percent)}%`, `mem ${sys.memory_used_percent == null ? '–' : `${Math.round(sys.memory_used_percent)}%`}`, `disk ${bytes(sys.disk_free)} free`);
    }
    const warnings = (reach === 'reachable' ? ag?.warnings || [] : []).map((w) => `<span class="warn-text">⚠ ${esc(w)}</span>`).join('<br>');
    const status = reach === 'reachable' ? '' : `<span class="st st-${esc(reach)}">${ICON[reach] || '?'} ${esc(reach === 'waiting' ? 'waiting for the first answer' : reach)}</span><span class="meta">${esc(h.error)}</span>`;
    const restart = S.allowActions && reach === 'reachable' ? ` <button class="small" data-act="restart" data-env="${esc(envName)}" data-host="${esc(h.host)}" aria-label="Restart ${esc(S.app)} on ${esc(h.host)}">restart</button>` : '';
    return `<div class="hostcell" role="rowheader"><span class="host-name">${esc(h.host)}</span>${restart}<span class="meta">${bits.join(' · ')}</span>${status}${warnings}</div>`;
  }

  function cell(envName, h, app) {
    const c = (h.apps || {})[app];
    const reach = h.reach;
    let state = c ? c.state : 'none';
    let label = c ? c.state : 'not deployed';
    if (reach === 'unreachable' || reach === 'error') { state = reach; label = reach; }
    if (reach === 'waiting') { state = 'waiting'; label = 'waiting'; }
    const current = reach === 'reachable';
    // Not running (crashed, stopped): the version the host means to run, said so.
    const v = c?.version || c?.desired_version;
    const ver = v
      ? `<span class="ver ${current ? versionColour(v) : 'stale'}">${current ? '' : 'was '}${esc(v)}</span>${current && !c.version ? ' <span class="muted">(not running)</span>' : ''}`
      : '<span class="muted">no version</span>';
    const meta = c && current && c.pid
      ? `<span class="meta">pid ${c.pid} · up <span class="up" data-since="${esc(c.started_at)}">${duration((now() - Date.parse(c.started_at)) / 1000)}</span> · ${c.restarts} restart${c.restarts === 1 ? '' : 's'}${c.rss ? ` · ${bytes(c.rss)}` : ''}${c.nofile && c.nofile < 65536 ? ` · <span class="warn-text">nofile ${c.nofile} ⚠</span>` : ''}</span>`
      : c && current ? `<span class="meta">${c.restarts} restart${c.restarts === 1 ? '' : 's'}</span>` : '';
    const why = [];
    if (!current && h.error) why.push(h.error);
    if (c?.reason) why.push(c.reason);
    if (c?.since) why.push(`since ${Number.isNaN(Date.parse(c.since)) ? c.since : utc(new Date(c.since))}`);
    if (c?.desired_version && c.desired_version !== c.version) why.push(`desired: ${c.desired_version}`);
    if (c?.last_activation) why.push(`last activation: ${c.last_activation.reason} ${c.last_activation.version} ${c.last_activation.result}${c.last_activation.message ? ` (${c.last_activation.message})` : ''}`);
    const tipId = `tip-${id(envName)}-${id(h.host)}-${id(app)}`;
    const out = c?.output?.length ? `<pre>${esc(c.output.join('\n'))}</pre>` : '';
    const logBtn = c && current ? ` <button class="small" data-log="1" data-env="${esc(envName)}" data-host="${esc(h.host)}" data-app="${esc(app)}" aria-label="Follow the log of ${esc(app)} on ${esc(h.host)}">log</button>` : '';
    return `<div class="cell" role="cell" tabindex="0" data-label="${esc(app)}" data-host="${esc(h.host)}" data-app="${esc(app)}" data-state="${esc(state)}" data-version="${esc(v || '')}" aria-describedby="${tipId}">`
      + `${ver} <span class="st st-${esc(state)}"><span aria-hidden="true">${ICON[state] || '?'}</span> ${esc(label)}</span>${logBtn}${meta}`
      + `<div class="tip" role="tooltip" id="${tipId}">${esc(why.join('\n') || label)}${out}</div></div>`;
  }

  function rowHtml(envName, h, apps) {
    return `<div class="row" role="row" data-host="${esc(h.host)}" data-reach="${esc(h.reach)}" data-watching="${h.watching ? 'yes' : 'no'}">${hostHeader(envName, h)}${apps.map((a) => cell(envName, h, a)).join('')}</div>`;
  }

  function summary(env) {
    const counts = new Map();
    let unreachable = 0, notRunning = 0, waiting = 0;
    for (const h of env.hosts.values()) {
      if (h.reach === 'waiting') { waiting++; continue; }
      if (h.reach !== 'reachable') { unreachable++; continue; }
      const c = (h.apps || {})[S.app];
      const v = c?.version || c?.desired_version;
      if (v) counts.set(v, (counts.get(v) || 0) + 1);
      if (!c || c.state !== 'running') notRunning++;
    }
    const parts = [...counts].sort().map(([v, n]) => `<span class="ver ${versionColour(v)}">${esc(v)}</span> on ${n}`);
    if (counts.size > 1) parts.push('<strong class="warn-text">⚠ mixed versions</strong>');
    if (notRunning) parts.push(`<span class="st st-backoff">${notRunning} not running</span>`);
    if (unreachable) parts.push(`<span class="st st-unreachable">⚠ ${unreachable} unreachable</span>`);
    if (waiting) parts.push(`<span class="muted">${waiting} waiting</span>`);
    return `${env.hosts.size} host${env.hosts.size === 1 ? '' : 's'}: ${parts.join(' · ') || 'no answers yet'}`;
  }

  function envSection(env) {
    const apps = appsOf(env);
    env.apps = apps.join('\0');
    const actions = S.allowActions
      ? `<span class="env-actions"><button class="danger" data-act="rollback" data-env="${esc(env.name)}">Roll back ${esc(env.name)}…</button><button data-act="lock" data-env="${esc(env.name)}">Lock…</button><button data-act="unlock" data-env="${esc(env.name)}">Unlock…</button></span>`
      : '';
    const rows = [...env.hosts.values()].map((h) => rowHtml(env.name, h, apps)).join('');
    return `<section class="env" data-env="${esc(env.name)}" aria-labelledby="env-${id(env.name)}"><h3 id="env-${id(env.name)}">${esc(env.name)} <span class="summary" data-summary>${summary(env)}</span>${actions}</h3>`
      + `<div class="scroll"><div class="grid" role="table" aria-label="${esc(env.name)}: hosts and apps"><div role="rowgroup"><div class="row head" role="row"><div class="hostcell" role="columnheader">Host</div>${apps.map((a) => `<div class="cell" role="columnheader">${esc(a)}</div>`).join('')}</div></div><div role="rowgroup" class="body">${rows}</div></div></div></section>`;
  }

  function renderAll() {
    $('#envs').innerHTML = [...S.envs.values()].map(envSection).join('') || '<p>No environments.</p>';
    fillSelectors();
  }

  // Rows near the viewport are redrawn when their host changes; the others are marked and redrawn when
  // they come near it (a rollout over 200 hosts then costs the browser the rows one can see).
  const near = new WeakSet();
  const observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) { near.delete(e.target); continue; }
      near.add(e.target);
      const env = S.envs.get(e.target.closest('section.env')?.dataset.env);
      if (env?.dirty?.delete(e.target.dataset.host)) redraw(env, [env.hosts.get(e.target.dataset.host)]);
    }
  }, { rootMargin: '400px 0px' });

  /** The rows of an environment's table by host (found, and watched, once per drawing of the section). */
  function rowsOf(env) {
    if (!env.rows || !env.rows.size || !env.rows.values().next().value.isConnected) {
      const section = document.querySelector(`section.env[data-env="${CSS.escape(env.name)}"]`);
      env.rows = new Map(section ? [...section.querySelectorAll('.body > .row[data-host]')].map((r) => [r.dataset.host, r]) : []);
      env.dirty = new Set();
      for (const r of env.rows.values()) observer.observe(r);
    }
    return env.rows;
  }

  /** Redraws these hosts' rows of an environment, all parsed at once; the keyboard focus stays on the cell being read. */
  function redraw(env, views) {
    const apps = appsOf(env);
    const rows = rowsOf(env);
    const t = document.createElement('template');
    t.innerHTML = views.map((v) => rowHtml(env.name, v, apps)).join('');
    for (const fresh of [...t.content.children]) {
      const row = rows.get(fresh.dataset.host);
      if (!row) continue;
      const focused = row.contains(document.activeElement) ? document.activeElement.getAttribute('data-app') : null;
      const wasNear = near.has(row);
      observer.unobserve(row);
      row.replaceWith(fresh);
      rows.set(fresh.dataset.host, fresh);
      if (wasNear) near.add(fresh);
      observer.observe(fresh);
      if (focused) fresh.querySelector(`.cell[data-app="${CSS.escape(focused)}"]`)?.focus();
      else if (tipFor && row.contains(tipFor)) hideTip();
    }
  }

  /** Every row drawn as it is now (printing, full-page screenshots). */
  perf.drawAll = () => {
    for (const env of S.envs.values()) {
      const dirty = [...(env.dirty || [])];
      env.dirty?.clear();
      if (dirty.length) redraw(env, dirty.map((h) => env.hosts.get(h)));
    }
  };
  /** How many cells of the page's state run version v (drawn or not). */
  perf.cellsWith = (v) => [...S.envs.values()].reduce((n, env) => n + [...env.hosts.values()].reduce((m, h) => m + Object.values(h.apps || {}).filter((c) => (c.version || c.desired_version) === v).length, 0), 0);
  window.addEventListener('beforeprint', () => perf.drawAll());

  function applyHosts(list) {
    const t0 = performance.now();
    const byEnv = new Map();
    for (const { env: name, view } of list) {
      const env = S.envs.get(name);
      if (!env || !env.hosts.has(view.host)) continue;
      env.hosts.set(view.host, view);
      if (!byEnv.has(env)) byEnv.set(env, []);
      byEnv.get(env).push(view);
    }
    for (const [env, views] of byEnv) {
      const apps = appsOf(env);
      const section = document.querySelector(`section.env[data-env="${CSS.escape(env.name)}"]`);
      if (!section || apps.join('\0') !== env.apps) { section?.replaceWith(fromHtml(envSection(env))); env.rows = null; rowsOf(env); continue; }
      const rows = rowsOf(env);
      const now = [];
      for (const v of views) {
        if (near.has(rows.get(v.host))) now.push(v);
        else env.dirty.add(v.host);
      }
      if (now.length) redraw(env, now);
      const s = section.querySelector('[data-summary]');
      if (s) s.innerHTML = summary(env);
    }
    const applied = performance.now() - t0;
    // Style and layout now (the browser would do them before the next paint anyway): their cost, measured.
    void document.body.offsetHeight;
    const laidOut = performance.now() - t0;
    // rAF runs before the frame's style, layout and paint; a message posted from it arrives after them.
    requestAnimationFrame(() => {
      const frame = performance.now() - t0;
      const ch = new MessageChannel();
      ch.port1.onmessage = () => perf.updates.push({ hosts: list.length, applied_ms: applied, laid_out_ms: laidOut, to_frame_ms: frame, painted_ms: performance.now() - t0 });
      ch.port2.postMessage(0);
    });
    if (perf.updates.length > 2000) perf.updates.splice(0, 1000);
  }

  function fromHtml(html) {
    const t = document.createElement('template');
    t.innerHTML = html;
    return t.content.firstElementChild;
  }

  // ---- activity ----
  function happeningHtml(h) {
    const out = h.output?.length ? `<details><summary>last output (${h.output.length} lines)</summary><pre>${esc(h.output.join('\n'))}</pre></details>` : '';
    return `<li class="k-${esc(h.kind)}" data-kind="${esc(h.kind)}" data-host="${esc(h.host)}">${time(h.at)}<strong>${esc(h.env)}</strong> ${esc(h.host)} ${esc(h.app)} <span aria-hidden="true">${KIND_ICON[h.kind] || '•'}</span> <span class="kind">${esc(h.kind.replace(/_/g, ' '))}</span>: ${esc(h.text)}${out}</li>`;
  }
  function addHappenings(list) {
    const ol = $('#happenings');
    ol.insertAdjacentHTML('afterbegin', list.slice(-300).reverse().map(happeningHtml).join(''));
    while (ol.children.length > 300) ol.lastElementChild.remove();
  }

  // ---- history ----
  let historyNear = false;
  let historyDirty = false;
  new IntersectionObserver((entries) => {
    historyNear = entries.at(-1).isIntersecting;
    if (historyNear && historyDirty) { historyDirty = false; renderHistory(); }
  }, { rootMargin: '400px 0px' }).observe($('#history'));

  function renderHistory() {
    const env = $('#hf-env').value;
    const host = $('#hf-host').value;
    const app = $('#hf-app').value;
    const act = $('#hf-action').value;
    const rows = (S.history.get(env) || []).filter((r) => (!host || r.host === host) && (!app || r.app === app) && (!act || r.action === act)).slice(0, 200);
    $('#history-table tbody').innerHTML = rows.map((r) => `<tr data-action="${esc(r.action)}" data-host="${esc(r.host)}"><td>${dateTime(r.at)}</td><td>${esc(r.host)}</td><td>${esc(r.app)}</td><td>${esc(r.action.replace(/_/g, ' '))}</td><td>${esc(r.from_version)}${r.to_version ? ` → ${esc(r.to_version)}` : ''}</td><td class="res-${esc(r.result)}">${esc(r.result)}</td><td>${esc(r.who)}</td><td>${esc(r.message)}</td></tr>`).join('')
      || '<tr><td colspan="8">No entries.</td></tr>';
    const actions = new Set((S.history.get(env) || []).map((r) => r.action));
    const apps = new Set((S.history.get(env) || []).map((r) => r.app));
    setOptions($('#hf-action'), [['', 'all actions'], ...[...actions].sort().map((a) => [a, a])], act);
    setOptions($('#hf-app'), [['', 'all apps'], ...[...apps].sort().map((a) => [a, a])], app);
  }

  function setOptions(select, pairs, keep) {
    const html = pairs.map(([v, t]) => `<option value="${esc(v)}">${esc(t)}</option>`).join('');
    if (select.dataset.html !== html) { select.innerHTML = html; select.dataset.html = html; }
    if (pairs.some(([v]) => v === keep)) select.value = keep;
  }

  function fillSelectors() {
    const envs = [...S.envs.keys()].map((e) => [e, e]);
    setOptions($('#hf-env'), envs, $('#hf-env').value || envs[0]?.[0]);
    setOptions($('#lf-env'), envs, $('#lf-env').value || envs[0]?.[0]);
    const hEnv = S.envs.get($('#hf-env').value);
    setOptions($('#hf-host'), [['', 'all hosts'], ...(hEnv ? [...hEnv.hosts.keys()].map((h) => [h, h]) : [])], $('#hf-host').value);
    const lEnv = S.envs.get($('#lf-env').value);
    setOptions($('#lf-host'), lEnv ? [...lEnv.hosts.keys()].map((h) => [h, h]) : [], $('#lf-host').value);
    setOptions($('#lf-app'), lEnv ? appsOf(lEnv).map((a) => [a, a]) : [], $('#lf-app').value || S.app);
    renderHistory();
  }

  // ---- logs ----
  let logSource = null;
  function follow(env, host, app) {
    stopLog();
    const pre = $('#log-lines');
    pre.textContent = '';
    $('#log-state').textContent = `following ${app} on ${host} (${env})`;
    logSource = new EventSource(`/api/logs?${new URLSearchParams({ env, host, app, lines: '100' })}`);
    logSource.addEventListener('line', (e) => {
      pre.append(`${JSON.parse(e.data)}\n`);
      while (pre.childNodes.length > 2000) pre.firstChild.remove();
      pre.scrollTop = pre.scrollHeight;
    });
    const end = (e) => { $('#log-state').textContent = e.data ? JSON.parse(e.data) : 'the log stream ended'; stopLog(); };
    logSource.addEventListener('failed', end);
    logSource.addEventListener('end', end);
    $('#lf-stop').disabled = false;
  }
  function stopLog() {
    logSource?.close();
    logSource = null;
    $('#lf-stop').disabled = true;
  }

  // ---- actions ----
  async function act(action, env, host) {
    const words = { rollback: `Roll back every host of ${env} (batch by batch, like a deploy)?`, restart: `Restart ${S.app} on ${host}?`, lock: `Lock ${env}? Deploys, rollbacks, start/stop and tasks are refused until it is unlocked.`, unlock: `Unlock ${env}?` };
    const dlg = $('#confirm');
    $('#confirm-text').textContent = words[action];
    $('#confirm-cmd').textContent = `slipway ${action} ${env}${host ? ` --host ${host}` : ''}${action === 'lock' ? ' --reason …' : ''}`;
    $('#confirm-reason-p').hidden = action !== 'lock';
    $('#confirm-reason').value = '';
    dlg.returnValue = '';
    dlg.showModal();
    $('#confirm-cancel').focus();
    await new Promise((r) => dlg.addEventListener('close', r, { once: true }));
    if (dlg.returnValue !== 'ok') return;
    const out = $('#action-result');
    out.textContent = `running: ${$('#confirm-cmd').textContent}`;
    delete out.dataset.result;
    try {
      const res = await fetch('/api/actions', { method: 'POST', headers: { 'content-type': 'application/json', 'x-slipway-ui': '1' }, body: JSON.stringify({ action, env, host, reason: $('#confirm-reason').value }) });
      if (!res.ok) { out.textContent = `refused: ${await res.text()}`; out.dataset.result = 'refused'; return; }
      const r = await res.json();
      out.textContent = `${r.argv.join(' ')}: ${r.ok ? 'done' : `failed (exit ${r.exit_code}) ${r.result?.error?.message || r.stderr.slice(-1)[0] || ''}`}`;
      out.dataset.result = r.ok ? 'done' : 'failed';
    } catch (err) {
      out.textContent = `the request failed: ${err}`;
      out.dataset.result = 'error';
    }
  }

  document.addEventListener('click', (e) => {
    const b = e.target.closest('button');
    if (!b) return;
    if (b.dataset.act) act(b.dataset.act, b.dataset.env, b.dataset.host);
    else if (b.dataset.log) {
      $('#lf-env').value = b.dataset.env;
      fillSelectors();
      $('#lf-host').value = b.dataset.host;
      $('#lf-app').value = b.dataset.app;
      follow(b.dataset.env, b.dataset.host, b.dataset.app);
      $('#logs').scrollIntoView();
    }
  });
  $('#log-form').addEventListener('submit', (e) => { e.preventDefault(); follow($('#lf-env').value, $('#lf-host').value, $('#lf-app').value); });
  $('#lf-stop').addEventListener('click', () => { stopLog(); $('#log-state').textContent = 'stopped'; });
  $('#lf-env').addEventListener('change', fillSelectors);
  $('#hf-env').addEventListener('change', fillSelectors);
  for (const s of ['#hf-host', '#hf-app', '#hf-action']) $(s).addEventListener('change', renderHistory);

  // ---- the event stream ----
  function onSnapshot(d) {
    const t0 = performance.now();
    S.app = d.app;
    S.allowActions = d.allow_actions;
    S.offset = Date.parse(d.server_time) - Date.now();
    $('#app-name').textContent = d.app;
    document.title = `slipway ui: ${d.app}`;
    S.envs = new Map(d.envs.map((e) => [e.name, { name: e.name, hosts: new Map(e.hosts.map((h) => [h.host, h])) }]));
    for (const v of [...new Set(d.envs.flatMap((e) => e.hosts.flatMap((h) => Object.values(h.apps || {}).map((c) => c.version))))].filter(Boolean).sort()) versionColour(v);
    for (const env of S.envs.values()) env.rows = null;
    renderAll();
    for (const env of S.envs.values()) rowsOf(env);
    $('#happenings').innerHTML = d.recent.slice().reverse().map(happeningHtml).join('');
    $('#notices').innerHTML = d.notices.map((n) => `<p>${esc(n)}</p>`).join('');
    if (perf.firstRender === null) perf.firstRender = { snapshot_ms: performance.now() - t0, since_navigation_ms: performance.now() };
  }

  function connect() {
    const es = new EventSource('/api/events');
    const conn = $('#conn');
    es.addEventListener('open', () => { conn.dataset.conn = 'live'; conn.innerHTML = '<span aria-hidden="true">●</span> live'; });
    es.addEventListener('error', () => { conn.dataset.conn = 'lost'; conn.innerHTML = '<span aria-hidden="true">✕</span> connection to slipway ui lost; retrying'; });
    es.addEventListener('snapshot', (e) => { perf.messages++; onSnapshot(JSON.parse(e.data)); });
    es.addEventListener('hosts', (e) => {
      perf.messages++;
      const d = JSON.parse(e.data);
      S.offset = Date.parse(d.server_time) - Date.now();
      applyHosts(d.hosts);
    });
    es.addEventListener('happenings', (e) => { perf.messages++; addHappenings(JSON.parse(e.data)); });
    es.addEventListener('history', (e) => {
      const d = JSON.parse(e.data);
      S.history.set(d.env, d.rows);
      // Drawn now if the history is on screen, else when it is scrolled to.
      if ($('#hf-env').value === d.env || !$('#hf-env').value) { if (historyNear) renderHistory(); else historyDirty = true; }
    });
    es.addEventListener('notices', () => { $('#notices').innerHTML = ''; });
    es.addEventListener('notice', (e) => { $('#notices').insertAdjacentHTML('beforeend', `<p>${esc(JSON.parse(e.data).text)}</p>`); });
  }

  // The reason of the cell under the pointer or with the focus, in one floating box (rows clip their own
  // content: content-visibility); screen readers get the same text from the cell's aria-describedby.
  const floating = document.createElement('div');
  floating.id = 'tip';
  floating.setAttribute('aria-hidden', 'true');
  floating.hidden = true;
  document.body.append(floating);
  let tipFor = null;
  function showTip(cell) {
    const src = cell?.querySelector('.tip');
    if (!src) return;
    tipFor = cell;
    floating.innerHTML = src.innerHTML;
    floating.hidden = false;
    const r = cell.getBoundingClientRect();
    const w = Math.min(window.innerWidth - 16, Math.max(320, r.width));
    floating.style.width = `${w}px`;
    floating.style.left = `${Math.max(8, Math.min(r.left, window.innerWidth - w - 8))}px`;
    const below = r.bottom + 4;
    floating.style.top = `${below + floating.offsetHeight > window.innerHeight ? Math.max(8, r.top - floating.offsetHeight - 4) : below}px`;
  }
  function hideTip(cell) {
    if (cell && cell !== tipFor) return;
    tipFor = null;
    floating.hidden = true;
  }
  document.addEventListener('focusin', (e) => { const c = e.target.closest?.('.cell[data-app]'); if (c) showTip(c); else hideTip(); });
  document.addEventListener('focusout', (e) => { const c = e.target.closest?.('.cell[data-app]'); if (c) hideTip(c); });
  document.addEventListener('mouseover', (e) => { const c = e.target.closest?.('.cell[data-app]'); if (c && c !== tipFor) showTip(c); });
  document.addEventListener('mouseout', (e) => { const c = e.target.closest?.('.cell[data-app]'); if (c && !c.contains(e.relatedTarget) && c !== document.activeElement) hideTip(c); });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') hideTip(); });
  window.addEventListener('scroll', () => hideTip(), { passive: true });

  // Uptimes tick without a message from the server.
  setInterval(() => {
    for (const el of document.querySelectorAll('.up[data-since]')) {
      const text = duration((now() - Date.parse(el.dataset.since)) / 1000);
      if (el.textContent !== text) el.textContent = text;
    }
  }, 1000);
  connect();
})();
