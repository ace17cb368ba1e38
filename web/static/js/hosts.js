// Hosts: for the administrator, the fleet with each host's capacity and
// usage and the drain and enable actions; for everyone, the hosts the
// account's instances run on.
import { api } from './api.js';
import { Table, ask, badge, esc, fmtMiB, showError, showSuccess, usageBar } from './ui.js';

const live = ['pending', 'running', 'stopping'];

const fleetTable = document.getElementById('fleet') && new Table(document.getElementById('fleet'), [
  { key: 'name', label: 'Host', value: (h) => h.name, html: (h) => `<span title="${esc(h.id)} ${esc(h.uri)}">${esc(h.name)}</span>` },
  { key: 'zone', label: 'Zone', value: (h) => h.zone },
  { key: 'state', label: 'State', value: (h) => h.state, html: (h) => badge(h.state) },
  { key: 'health', label: 'Health', value: (h) => h.health,
    html: (h) => badge(h.health) + (h.health_reason ? `<div class="muted">${esc(h.health_reason)}</div>` : '') },
  { key: 'vcpus', label: 'vCPUs', value: (h) => h.used.vcpus, html: (h) => usageBar(h.used.vcpus, h.capacity.vcpus) },
  { key: 'memory', label: 'Memory', value: (h) => h.used.memory_mib,
    html: (h) => usageBar(h.used.memory_mib, h.capacity.memory_mib, fmtMiB) },
  { key: 'instances', label: 'Instances', value: (h) => h.instances, num: true },
  { key: 'action', label: '', value: () => '',
    html: (h) => `<button type="button" data-host="${esc(h.name)}" data-action="${h.state === 'draining' ? 'enable' : 'drain'}">` +
      `${h.state === 'draining' ? 'Enable' : 'Drain'}</button>` },
], { id: (h) => h.id, empty: document.getElementById('fleet-empty') });

const table = new Table(document.getElementById('hosts'), [
  { key: 'name', label: 'Host', value: (h) => h.name },
  { key: 'zone', label: 'Availability zone', value: () => document.body.dataset.zone },
  { key: 'live', label: 'Live instances', value: (h) => h.live, num: true,
    html: (h) => `<a href="/instances?q=${encodeURIComponent(h.name)}">${h.live}</a>` },
  { key: 'total', label: 'All instances', value: (h) => h.total, num: true },
  { key: 'vcpus', label: 'vCPUs held', value: (h) => h.vcpus, num: true },
  { key: 'mem', label: 'Memory held', value: (h) => h.mem, num: true, html: (h) => esc(fmtMiB(h.mem)) },
], { id: (h) => h.name, empty: document.getElementById('empty') });

async function loadFleet() {
  if (!fleetTable) return;
  try {
    const { hosts } = await api('GET', '/hosts');
    fleetTable.set(hosts);
  } catch (e) {
    showError(e, 'Reading hosts');
  }
}

document.getElementById('fleet')?.addEventListener('click', async (ev) => {
  const button = ev.target.closest('button[data-action]');
  if (!button) return;
  const { host, action } = button.dataset;
  if (action === 'drain' && !(await ask({ title: `Drain ${host}?`, confirm: 'Drain',
    message: 'The host takes no new instances; the ones it runs stay.' }))) return;
  try {
    await api('POST', `/hosts/${encodeURIComponent(host)}/${action}`);
    showSuccess(`${esc(host)}: ${action === 'drain' ? 'draining' : 'enabled'}`);
    await loadFleet();
  } catch (e) {
    showError(e, `${action} ${host}`);
  }
});

async function loadMine() {
  try {
    const { instances } = await api('GET', '/instances');
    const hosts = new Map();
    for (const i of instances) {
      if (!i.host) continue;
      const h = hosts.get(i.host) ?? { name: i.host, live: 0, total: 0, vcpus: 0, mem: 0 };
      h.total += 1;
      if (live.includes(i.state.name)) {
        h.live += 1;
        h.vcpus += i.vcpus;
        h.mem += i.memory_mib;
      }
      hosts.set(i.host, h);
    }
    table.set([...hosts.values()]);
  } catch (e) {
    showError(e, 'Reading instances');
  }
}

loadFleet();
loadMine();
