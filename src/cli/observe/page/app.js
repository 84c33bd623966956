// The operator page: one live channel (server-sent events on /live) carries node statuses,
// node events, upgrade journals and releases; everything shown is derived from them here.

const WINDOW_S = 300;
const ENDED = new Set(['done', 'aborted', 'rolled_back', 'failed']);

const state = {
  config: { actions: false },
  nodes: [],
  releases: null,
  histories: new Map(),
  /** `${node}/${upgrade}` → the upgrade as its events tell it, newest last. */
  upgrades: new Map(),
  expanded: new Set(),
  target: '',
  targetChosen: false,
  prevAt: undefined,
  /** `${node}/${service}` → the stats of its last status. */
  last: new Map(),
  series: { t: [], services: new Map() },
  charts: { key: '', rate: null, latency: null },
};

const $ = (id) => document.getElementById(id);
const esc = (v) =>
  String(v ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
const ms = (v) => (typeof v === 'number' ? (v < 10 ? v.toFixed(2) : v.toFixed(1)) + ' ms' : '');

// ---- live channel

async function start() {
  try {
    state.config = await (await fetch('/config')).json();
  } catch {
    // Read-only when the config cannot be read.
  }
  $('mode').textContent = state.config.actions ? 'actions enabled' : 'read-only';
  $('mode').className = state.config.actions ? 'pill act' : 'pill';
  const live = new EventSource('/live');
  live.onopen = () => setLink(true);
  live.onerror = () => setLink(false);
  live.addEventListener('statuses', (m) => onStatuses(JSON.parse(m.data)));
  live.addEventListener('event', (m) => onEvent(JSON.parse(m.data)));
  live.addEventListener('history', (m) => {
    const h = JSON.parse(m.data);
    state.histories.set(h.node, h.upgrades ?? []);
    renderHistory();
    renderUpgrades();
  });
  live.addEventListener('releases', (m) => {
    state.releases = JSON.parse(m.data);
    renderNodes();
    renderClusterActions();
  });
}

function setLink(up) {
  $('link').textContent = up ? 'live' : 'disconnected';
  $('link').className = up ? 'pill on' : 'pill off';
}

function onStatuses(s) {
  state.nodes = s.nodes ?? [];
  sample(s.at, state.nodes);
  renderNodes();
  renderClusterActions();
  renderCharts();
  const releases = [...new Set(state.nodes.map((n) => n.release))].join(', ');
  $('summary').textContent = `${state.nodes.length} node${state.nodes.length === 1 ? '' : 's'} · ${releases}`;
}

function onEvent(e) {
  if (typeof e.upgrade !== 'string') return;
  const key = `${e.node}/${e.upgrade}`;
  let u = state.upgrades.get(key);
  if (!u) {
    u = { node: e.node, id: e.upgrade, plan: [], steps: new Map(), state: 'checking', startedAt: e.time };
    state.upgrades.set(key, u);
  }
  if (e.type === 'state') {
    u.state = e.state;
    if (Array.isArray(e.plan)) u.plan = e.plan;
    if (e.from) u.from = e.from;
    if (e.to) u.to = e.to;
    if (ENDED.has(e.state)) {
      u.outcome = e.state;
      u.endedAt = e.time;
    }
    if (e.error) u.error = e.error;
  } else if (e.type.startsWith('step_')) {
    const s = u.steps.get(e.step) ?? {};
    s.state = {
      step_started: 'running',
      step_completed: 'completed',
      step_failed: 'failed',
      step_undone: 'undone',
    }[e.type];
    if (typeof e.durationMs === 'number') s.durationMs = e.durationMs;
    if (e.bulk) s.bulk = e.bulk;
    u.steps.set(e.step, s);
    if (!u.plan.some((p) => p.id === e.step)) u.plan.push({ id: e.step, op: e.step, phase: 'before' });
  } else if (e.type === 'barrier_waiting') u.barrier = 'waiting at the barrier';
  else if (e.type === 'barrier_passed') u.barrier = 'barrier passed';
  renderUpgrades();
}

// ---- traffic: rates and percentiles from the difference of two statuses

function sample(at, nodes) {
  const first = state.prevAt === undefined;
  const dt = first ? 0 : (at - state.prevAt) / 1000;
  if (!first && dt <= 0) return;
  state.prevAt = at;
  const per = new Map();
  for (const n of nodes)
    for (const c of n.stale ? [] : (n.services ?? [])) {
      if (!c.stats) continue;
      const key = `${n.node}/${c.name}`;
      // Each node's totals against its own last answer: a node that missed a poll adds up at the next.
      const p = state.last.get(key);
      state.last.set(key, c.stats);
      const agg = per.get(c.name) ?? {
        requests: 0,
        buckets: c.stats.buckets.map(() => 0),
        bounds: c.stats.boundsMs,
      };
      per.set(c.name, agg);
      // Seen for the first time, or restarted (its totals went down): no difference to take yet.
      if (!p || p.requests > c.stats.requests) continue;
      agg.requests += c.stats.requests - p.requests;
      c.stats.buckets.forEach((b, i) => {
        agg.buckets[i] += b - (p.buckets[i] ?? 0);
      });
    }
  if (first) return;
  const t = state.series.t;
  t.push(at / 1000);
  for (const [name, agg] of per) {
    let s = state.series.services.get(name);
    if (!s) {
      s = {
        rate: t.slice(0, -1).map(() => null),
        p50: t.slice(0, -1).map(() => null),
        p99: t.slice(0, -1).map(() => null),
      };
      state.series.services.set(name, s);
    }
    s.rate.push(agg.requests / dt);
    s.p50.push(percentile(agg, 0.5));
    s.p99.push(percentile(agg, 0.99));
  }
  for (const [name, s] of state.series.services)
    if (!per.has(name)) {
      s.rate.push(null);
      s.p50.push(null);
      s.p99.push(null);
    }
  while (t.length > 1 && t[t.length - 1] - t[0] > WINDOW_S) {
    t.shift();
    for (const s of state.series.services.values()) {
      s.rate.shift();
      s.p50.shift();
      s.p99.shift();
    }
  }
}

function percentile(agg, q) {
  const total = agg.buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < agg.buckets.length; i++) {
    seen += agg.buckets[i];
    if (seen >= q * total) return agg.bounds[i] ?? agg.bounds[agg.bounds.length - 1] * 2;
  }
  return null;
}

const COLORS = ['#2f6fde', '#1f9d55', '#d68a00', '#9b4dca', '#d23f3f'];

function renderCharts() {
  const names = [...state.series.services.keys()];
  const key = names.join(',');
  const width = Math.max(300, $('traffic').clientWidth - 30);
  if (state.charts.key !== key || !state.charts.rate) {
    state.charts.rate?.destroy();
    state.charts.latency?.destroy();
    $('chart-rate').textContent = '';
    $('chart-latency').textContent = '';
    state.charts.key = key;
    const axes = (label) => [{}, { label, size: 60 }];
    // At least a minute of time axis, filled from the left: with one or two polls uPlot would otherwise span years.
    const scales = { x: { time: true, range: (_u, min, max) => [min, Math.max(max, min + 60)] } };
    state.charts.rate = new uPlot(
      {
        title: 'requests / s',
        width,
        height: 170,
        axes: axes('req/s'),
        scales,
        series: [{}, ...names.map((n, i) => ({ label: n, stroke: COLORS[i % COLORS.length], width: 2 }))],
      },
      rateData(names),
      $('chart-rate'),
    );
    state.charts.latency = new uPlot(
      {
        title: 'latency (ms, histogram bucket bounds)',
        width,
        height: 170,
        axes: axes('ms'),
        scales,
        series: [
          {},
          ...names.flatMap((n, i) => [
            { label: `${n} p50`, stroke: COLORS[i % COLORS.length], width: 2 },
            { label: `${n} p99`, stroke: COLORS[i % COLORS.length], width: 1, dash: [5, 4] },
          ]),
        ],
      },
      latencyData(names),
      $('chart-latency'),
    );
    return;
  }
  state.charts.rate.setData(rateData(names));
  state.charts.latency.setData(latencyData(names));
}

const rateData = (names) => [state.series.t, ...names.map((n) => state.series.services.get(n).rate)];
const latencyData = (names) => [
  state.series.t,
  ...names.flatMap((n) => [state.series.services.get(n).p50, state.series.services.get(n).p99]),
];

// ---- nodes

/** Sets an element's HTML only when it changed, so buttons under the pointer are not replaced every poll. */
function setHTML(el, html) {
  if (el.dataset.html === html) return;
  el.dataset.html = html;
  el.innerHTML = html;
}

function renderNodes() {
  const permanent = state.releases?.permanent?.version;
  const list = $('node-list');
  if (!state.nodes.length) {
    setHTML(list, '<p class="muted">no node answers discovery</p>');
    return;
  }
  const cards = new Map([...list.querySelectorAll('section.node')].map((el) => [el.dataset.node, el]));
  if (cards.size === 0) setHTML(list, '');
  for (const n of state.nodes) {
    let card = cards.get(n.node);
    if (!card) {
      card = document.createElement('section');
      card.className = 'node';
      card.dataset.node = n.node;
      card.dataset.testid = `node-${n.node}`;
      card.innerHTML = '<div class="info"></div><div class="actions"></div>';
      list.append(card);
    }
    cards.delete(n.node);
    setHTML(card.querySelector('.info'), nodeCard(n, permanent));
    setHTML(card.querySelector('.actions'), state.config.actions ? nodeActions(n) : '');
  }
  for (const gone of cards.values()) gone.remove();
}

function nodeCard(n, permanent) {
  const maint = (n.maintenance ?? [])
    .map(
      (m) =>
        `<div class="maint">${esc(m.reason)}${m.message ? `: ${esc(m.message)}` : ''}${m.until ? ` (until ${esc(m.until)})` : ''}</div>`,
    )
    .join('');
  const children = new Map((n.supervision?.children ?? []).map((c) => [c.id, c]));
  const services = (n.services ?? [])
    .map((s) => {
      const key = `${n.node}/${s.name}`;
      const child = children.get(`service:${s.name}`);
      const named = (n.namedActors ?? []).filter((a) => a.startsWith(`${s.name}.`));
      const acceptor = s.acceptor.suspended ? 'suspended' : s.acceptor.ok ? 'accepting' : 'down';
      const pair = (n.redundancy ?? []).find((p) => p.service === s.name);
      return `<tr><td colspan="5"><details data-key="${esc(key)}" ${state.expanded.has(key) ? 'open' : ''}>
        <summary><b>${esc(s.name)}</b> ${esc(s.version)} · ${s.sessions} session${s.sessions === 1 ? '' : 's'} · acceptor ${acceptor} · ${esc(s.state?.durability ?? '')}${pair ? pairLine(pair) : ''}</summary>
        <ul class="children">
          <li>supervisor child <code>service:${esc(s.name)}</code>: ${child ? `${child.running ? 'running' : 'stopped'}, ${child.restart}, restarts ${child.restarts}` : 'not supervised'}</li>
          <li>channels: ${s.sessions} (one actor per session)</li>
          <li>named actors: ${named.length ? named.map((a) => `<code>${esc(a)}</code>`).join(', ') : 'none'}</li>
          <li>requests answered: ${s.stats?.requests ?? 0} (errors ${s.stats?.errors ?? 0})</li>
        </ul></details></td></tr>`;
    })
    .join('');
  const held = [...(n.held ?? []), ...(n.disabled ?? []).map((d) => `${d} (disabled)`)];
  return `<h3>${esc(n.node)} <span class="badge ${esc(n.state)}" data-testid="state">${esc(n.state)}</span>${n.stale ? ' <span class="muted">missed the last discovery</span>' : ''}</h3>
    <dl>
      <dt>release</dt><dd><span class="release" data-testid="release">${esc(n.release)}</span>${permanent ? ` · permanent <span data-testid="permanent">${esc(permanent)}</span>` : ' · no permanent release'}</dd>
      <dt>upgrade</dt><dd>${n.upgrading ? `running ${esc(n.upgrading)}` : n.lastUpgrade ? `last ${esc(n.lastUpgrade.from)} → ${esc(n.lastUpgrade.to)} ${esc(n.lastUpgrade.outcome)}${n.lastUpgrade.pauseMs !== undefined ? `, pause ${ms(n.lastUpgrade.pauseMs)}` : ''}` : 'none yet'}</dd>
      <dt>code</dt><dd>${(n.loadedVersions ?? []).map(esc).join(', ')} (${n.loadedModules ?? 0} modules)</dd>
      <dt>actors</dt><dd>${
        Object.entries(n.actors ?? {})
          .map(([k, v]) => `${esc(k)} ${v}`)
          .join(', ') || 'none'
      }</dd>
      ${held.length ? `<dt>held</dt><dd>${held.map(esc).join(', ')}</dd>` : ''}
      ${maint ? `<dt>maintenance</dt><dd>${maint}</dd>` : ''}
    </dl>
    <table>${services}</table>`;
}

// One side of a redundant pair: the role it was deployed with, what it does now, and the term
// (the fencing token the active's replies carry), so an operator sees a failover as it happens.
function pairLine(p) {
  const acting = p.state.startsWith('active');
  const t = p.lastTransition;
  const last = t ? ` · last ${esc(t.event)}: ${esc(t.from)} → ${esc(t.to)}` : '';
  // An active whose lease may have run out answers nothing: say so, it is why its clients wait.
  const fenced = acting && !p.canAct ? ' · <span class="bad">fenced</span>' : '';
  return `<div class="pair ${acting ? 'acting' : ''}" data-testid="pair-${esc(p.service)}" data-state="${esc(p.state)}" data-term="${p.term}">
    pair ${esc(p.mode)} · ${esc(p.role)} · <b>${esc(p.state)}</b> · term ${p.term}${p.holder ? ` · lease ${esc(p.holder)}` : ''}${fenced}${last}</div>`;
}

function versions() {
  return state.releases?.available ?? [...new Set(state.nodes.map((n) => n.release))];
}

function targetSelect(id) {
  const all = versions();
  // The newest release, until the operator picks one.
  if (!state.targetChosen || !all.includes(state.target)) state.target = all[all.length - 1] ?? '';
  return `<select id="${id}" data-target>${all.map((v) => `<option ${v === state.target ? 'selected' : ''}>${esc(v)}</option>`).join('')}</select>`;
}

function nodeActions(n) {
  const node = esc(n.node);
  const maintenance = n.state === 'maintenance';
  return `<button data-action="check" data-node="${node}">check</button>
    <button data-action="upgrade" data-node="${node}">upgrade</button>
    <button data-action="make_permanent" data-node="${node}" data-version="${esc(n.release)}">make ${esc(n.release)} permanent</button>
    <button data-action="maintenance" data-node="${node}" data-on="${maintenance ? 'false' : 'true'}">maintenance ${maintenance ? 'off' : 'on'}</button>`;
}

function renderClusterActions() {
  const bar = $('cluster-actions');
  bar.hidden = !state.config.actions;
  if (!state.config.actions) return;
  setHTML(
    bar,
    `<b>cluster</b> target ${targetSelect('target')}
    <button data-action="check">check all</button>
    <button data-action="upgrade" data-mode="rolling">upgrade all (rolling)</button>
    <button data-action="upgrade" data-mode="barrier">upgrade all (barrier)</button>`,
  );
}

// ---- upgrades

function renderUpgrades() {
  const list = [...state.upgrades.values()].reverse().slice(0, 6);
  if (!list.length) return;
  setHTML($('upgrade-list'), list.map(upgradeCard).join(''));
}

function report(u) {
  return (state.histories.get(u.node) ?? []).find((r) => r.id === u.id);
}

function upgradeCard(u) {
  const r = report(u);
  const outcome = u.outcome ?? r?.outcome;
  const pause =
    r?.pauseMs ??
    state.nodes.find((n) => n.node === u.node && n.lastUpgrade?.id === u.id)?.lastUpgrade?.pauseMs;
  const steps = u.plan
    .map((p) => {
      const s = u.steps.get(p.id);
      const cls = [s?.state ?? 'pending', p.op === 'point_of_no_return' ? 'ponr' : ''].join(' ');
      const bulk = s?.bulk ? ` · ${s.bulk.count ?? ''}` : '';
      return `<li class="${cls}" data-step="${esc(p.id)}" data-state="${esc(s?.state ?? 'pending')}">${esc(p.id)}<span class="d">${ms(s?.durationMs)}${esc(bulk)}</span></li>`;
    })
    .join('');
  return `<div class="upgrade" data-testid="upgrade" data-node="${esc(u.node)}" data-upgrade="${esc(u.id)}">
    <h3><span>${esc(u.node)}</span><span>${esc(u.from ?? r?.from ?? '?')} → ${esc(u.to ?? r?.to ?? '?')}</span>
      <span class="outcome ${esc(outcome ?? 'running')}" data-testid="outcome">${esc(outcome ?? u.state)}</span>
      ${pause !== undefined ? `<span data-testid="pause">pause ${ms(pause)}</span>` : ''}
      ${u.barrier ? `<span class="muted">${esc(u.barrier)}</span>` : ''}
      ${u.error ? `<span class="muted">${esc(u.error.code)}: ${esc(u.error.message)}</span>` : ''}
      <span class="muted">${esc(u.id)}</span></h3>
    <ol class="steps" data-testid="steps">${steps}</ol>
  </div>`;
}

function renderHistory() {
  const rows = [...state.histories.entries()]
    .flatMap(([node, list]) => list.map((r) => ({ node, ...r })))
    .sort((a, b) => String(b.startedAt).localeCompare(String(a.startedAt)));
  setHTML(
    $('history-list'),
    rows.length
      ? `<table><tr><th>started</th><th>node</th><th>from → to</th><th>outcome</th><th>took</th><th>pause</th><th>steps</th></tr>
      ${rows
        .map(
          (
            r,
          ) => `<tr data-upgrade="${esc(r.id)}"><td>${esc(new Date(r.startedAt).toLocaleString())}</td><td>${esc(r.node)}</td><td>${esc(r.from)} → ${esc(r.to)}</td>
          <td class="outcome ${esc(r.outcome ?? 'running')}">${esc(r.outcome ?? r.state)}</td><td>${ms(r.durationMs)}</td><td>${ms(r.pauseMs)}</td><td>${(r.steps ?? []).length}</td></tr>`,
        )
        .join('')}</table>`
      : '<p class="muted">no upgrade in the journal</p>',
  );
}

// ---- actions: confirmed by the operator, then sent to relupctl, which signs them

document.addEventListener(
  'toggle',
  (e) => {
    const key = e.target?.dataset?.key;
    if (!key) return;
    if (e.target.open) state.expanded.add(key);
    else state.expanded.delete(key);
  },
  true,
);

document.addEventListener('change', (e) => {
  if (e.target?.dataset && 'target' in e.target.dataset) {
    state.target = e.target.value;
    state.targetChosen = true;
  }
});

document.addEventListener('click', async (e) => {
  const b = e.target.closest?.('button[data-action]');
  if (!b) return;
  const { action, node, mode, version, on } = b.dataset;
  const to = state.target;
  const where = node ?? 'every node';
  let body;
  let question;
  if (action === 'check') {
    body = { action, to, ...(node && { node }) };
    question = `Run the checks of the upgrade to ${to} on ${where}? Nothing changes.`;
  } else if (action === 'upgrade') {
    body = { action, to, ...(node ? { node } : { mode }) };
    question = `Upgrade ${where} to ${to}${node ? '' : ` (${mode})`}? Clients see a short pause; a failure after the point of no return rolls back.`;
  } else if (action === 'make_permanent') {
    body = { action, node, version };
    question = `Make ${version} the permanent release? Nodes boot it from now on.`;
  } else {
    body = { action, node, on: on === 'true' };
    question =
      on === 'true'
        ? `Put ${node} in maintenance? Its clients are disconnected.`
        : `Take ${node} out of maintenance?`;
  }
  if (!window.confirm(question)) return;
  toast(`${action} ${where}: sent`);
  try {
    const res = await fetch('/action', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, confirm: true }),
    });
    const out = await res.json();
    if (out.ok)
      toast(
        `${action} ${where}: ${out.result?.outcome ?? (out.result?.ok === false ? 'not everywhere' : 'done')}`,
      );
    else toast(`${action} ${where}: ${out.error?.code}: ${out.error?.message}`, true);
  } catch (err) {
    toast(`${action} ${where}: ${err}`, true);
  }
});

function toast(text, bad = false) {
  const d = document.createElement('div');
  d.textContent = text;
  if (bad) d.className = 'bad';
  $('toast').append(d);
  setTimeout(() => d.remove(), 8000);
}

start();
