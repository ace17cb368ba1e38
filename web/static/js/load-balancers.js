// Load balancers: listeners, targets with their health, and the changes
// to them. Deleting and deregistering ask first.
import { api } from './api.js';
import { Table, ask, attrs, badge, clearMessages, esc, fmtTime, showError, showSuccess } from './ui.js';

const detail = document.getElementById('lb-detail');
let selected = new URLSearchParams(location.search).get('lb');

const listeners = (lb) => lb.listeners.map((l) => `${l.port} → ${l.target_port}`).join(', ');

const table = new Table(document.getElementById('lbs'), [
  { key: 'name', label: 'Name', value: (lb) => lb.name, html: (lb) => `<a href="?lb=${encodeURIComponent(lb.id)}" data-open="${esc(lb.id)}">${esc(lb.name)}</a>` },
  { key: 'state', label: 'State', value: (lb) => lb.state, html: (lb) => badge(lb.state) },
  { key: 'bind', label: 'Address', value: (lb) => lb.bind_addr, html: (lb) => `<span class="mono">${esc(lb.bind_addr)}</span>` },
  { key: 'listeners', label: 'Listeners (port → target port)', value: listeners },
  { key: 'algorithm', label: 'Algorithm', value: (lb) => lb.algorithm },
  { key: 'healthy', label: 'Healthy', value: (lb) => lb.stats.healthy_targets, num: true },
  { key: 'unhealthy', label: 'Unhealthy', value: (lb) => lb.stats.unhealthy_targets, num: true },
  { key: 'conns', label: 'Connections', value: (lb) => lb.stats.active_connections, num: true },
], {
  filter: document.getElementById('filter'),
  count: document.getElementById('count'),
  empty: document.getElementById('empty'),
  sort: { key: 'name', dir: 1 },
  onRender: () => {
    for (const tr of document.querySelectorAll('#lbs tbody tr')) tr.classList.toggle('selected', tr.dataset.id === selected);
  },
});

async function load() {
  try {
    const { load_balancers: lbs } = await api('GET', '/load-balancers');
    table.set(lbs);
    const lb = lbs.find((l) => l.id === selected || l.name === selected);
    if (lb) showDetail(lb);
    else detail.hidden = true;
  } catch (e) {
    showError(e, 'Reading load balancers');
  }
}

function showDetail(lb) {
  selected = lb.id;
  table.onRender();
  const hc = lb.health_check;
  const check = `${esc(hc.protocol)} on ${hc.port || 'the traffic port'}${hc.protocol === 'HTTP' ? ' ' + esc(hc.path ?? '/') : ''}`;
  const targets = lb.stats.targets;
  detail.innerHTML = `<div class="detail-head"><h2>${esc(lb.name)}</h2>${badge(lb.state)}<span class="grow"></span>` +
    `<button type="button" class="danger" data-delete>Delete</button></div>` +
    (lb.state_reason ? `<p class="muted">${esc(lb.state_reason)}</p>` : '') +
    `<dl class="attrs">${attrs([
      ['ID', `<span class="mono">${esc(lb.id)}</span>`],
      ['Address', `<span class="mono">${esc(lb.bind_addr)}</span>`],
      ['Listeners', esc(listeners(lb))],
      ['Algorithm', esc(lb.algorithm)],
      ['Health check', `${check}, every ${hc.interval_seconds} s, timeout ${hc.timeout_seconds} s, ` +
        `healthy after ${hc.healthy_threshold}, unhealthy after ${hc.unhealthy_threshold}`],
      ['Deregistration delay', `${lb.deregistration_delay_seconds} s`],
      ['Created', esc(fmtTime(lb.created_at))],
    ])}</dl>` +
    `<h2 class="spaced">Targets</h2>` +
    `<form class="inline" id="register-targets"><input name="targets" aria-label="Targets to register" ` +
    `placeholder="i-… instance ids, separated by spaces" spellcheck="false" required>` +
    `<button type="submit">Register targets</button></form>` +
    (targets.length === 0 ? '<p class="muted">No targets.</p>'
      : '<div class="table-wrap"><table class="data compact" id="targets"><thead><tr><th>Target</th><th>Address</th><th>Health</th>' +
        '<th>Reason</th><th class="num">Connections</th><th class="num">Connect errors</th><th></th></tr></thead><tbody>' +
        targets.map((t) => `<tr data-id="${esc(t.id)}"><td class="mono">${t.id.startsWith('i-')
          ? `<a href="/instances/${esc(t.id)}">${esc(t.id)}</a>` : esc(t.id)}</td>` +
          `<td class="mono">${esc(t.addr)}</td><td>${badge(t.state)}</td>` +
          `<td>${esc(t.description || t.reason || '')}</td><td class="num">${t.active_connections}</td>` +
          `<td class="num">${t.connect_errors}</td>` +
          `<td><button type="button" data-deregister="${esc(t.id)}">Deregister</button></td></tr>`).join('') +
        '</tbody></table></div>');
  detail.hidden = false;
}

async function change(what, fn) {
  clearMessages();
  try {
    await fn();
    showSuccess(esc(what) + '.');
    await load();
  } catch (e) {
    showError(e, what);
  }
}

detail.addEventListener('click', async (e) => {
  const lb = table.get(selected);
  if (!lb) return;
  const ref = '/load-balancers/' + encodeURIComponent(lb.id);
  if (e.target.closest('[data-delete]')) {
    const ok = await ask({ title: `Delete ${lb.name}?`, message: 'Its listeners close and open connections are cut.',
      confirm: 'Delete', danger: true });
    if (ok) {
      selected = null;
      change(`Deleted ${lb.name}`, () => api('DELETE', ref));
    }
    return;
  }
  const target = e.target.closest('[data-deregister]')?.dataset.deregister;
  if (target) {
    const ok = await ask({ title: `Deregister ${target}?`,
      message: `It leaves rotation; its open connections get ${lb.deregistration_delay_seconds} s to finish.`,
      confirm: 'Deregister', danger: true });
    if (ok) change(`Deregistered ${target}`, () => api('POST', ref + '/targets/deregister', { targets: [target] }));
  }
});

detail.addEventListener('submit', (e) => {
  e.preventDefault();
  const lb = table.get(selected);
  const targets = new FormData(e.target).get('targets').split(/[\s,]+/).filter(Boolean);
  change(`Registered ${targets.join(', ')}`,
    () => api('POST', '/load-balancers/' + encodeURIComponent(lb.id) + '/targets', { targets }));
});

document.getElementById('lbs').addEventListener('click', (e) => {
  const a = e.target.closest('a[data-open]');
  if (!a) return;
  e.preventDefault();
  history.replaceState(null, '', '?lb=' + encodeURIComponent(a.dataset.open));
  showDetail(table.get(a.dataset.open));
});

document.getElementById('create').addEventListener('click', async () => {
  const form = await ask({
    title: 'Create a load balancer',
    fields: '<label for="lb-name">Name</label><input id="lb-name" name="name" required maxlength="32">' +
      '<label for="lb-port">Listener port (on the host)</label><input id="lb-port" name="port" type="number" min="1" max="65535" required>' +
      '<label for="lb-target-port">Target port</label><input id="lb-target-port" name="target_port" type="number" min="1" max="65535" value="80" required>' +
      '<label for="lb-algorithm">Algorithm</label><select id="lb-algorithm" name="algorithm">' +
      '<option value="round_robin">round robin</option><option value="least_connections">least connections</option>' +
      '<option value="source_hash">source hash</option></select>' +
      '<label for="lb-check">Health check</label><select id="lb-check" name="check"><option value="tcp">TCP connect</option>' +
      '<option value="http">HTTP GET /</option></select>',
    confirm: 'Create',
  });
  if (!form) return;
  const req = {
    name: form.get('name'),
    listeners: [{ port: Number(form.get('port')), target_port: Number(form.get('target_port')) }],
    algorithm: form.get('algorithm'),
    health_check: form.get('check') === 'http' ? { protocol: 'http', path: '/' } : { protocol: 'tcp' },
  };
  change(`Created ${req.name}`, async () => {
    const lb = await api('POST', '/load-balancers', req);
    selected = lb.id;
  });
});

document.getElementById('refresh').addEventListener('click', load);
load();
