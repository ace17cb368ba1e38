// The overview: the account's instances counted by state, its other
// resources, and what its instances hold on each host.
import { api } from './api.js';
import { attrs, esc, fmtMiB, showError, usageBar } from './ui.js';
import { watchInstances } from './live.js';

const states = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'];
const instances = new Map();
let scheduled = false;

function render() {
  scheduled = false;
  const count = Object.fromEntries(states.map((s) => [s, 0]));
  for (const i of instances.values()) count[i.state.name] = (count[i.state.name] ?? 0) + 1;
  document.getElementById('state-counts').innerHTML = states.map((s) =>
    `<a class="card" href="/instances?state=${s}" data-state="${s}"><span class="n">${count[s]}</span>` +
    `<span class="badge ${s}">${s}</span></a>`).join('');

  if (admin) return; // the fleet's bars, drawn by fleet()
  const hosts = new Map();
  for (const i of instances.values()) {
    if (!['pending', 'running', 'stopping'].includes(i.state.name)) continue;
    const h = hosts.get(i.host) ?? { n: 0, vcpus: 0, mem: 0 };
    h.n += 1;
    h.vcpus += i.vcpus;
    h.mem += i.memory_mib;
    hosts.set(i.host, h);
  }
  document.getElementById('host-usage').innerHTML = hosts.size === 0
    ? '<p class="muted">None of your instances is running.</p>'
    : '<table class="data compact"><thead><tr><th>Host</th><th class="num">Instances</th><th class="num">vCPUs</th>' +
      '<th class="num">Memory</th></tr></thead><tbody>' +
      [...hosts].map(([name, h]) => `<tr><td>${esc(name)}</td><td class="num">${h.n}</td><td class="num">${h.vcpus}</td>` +
        `<td class="num">${esc(fmtMiB(h.mem))}</td></tr>`).join('') + '</tbody></table>';
}

const admin = document.body.dataset.admin !== undefined;

// fleet draws each host's usage against its capacity, for the
// administrator, who alone reads the hosts.
async function fleet() {
  try {
    const { hosts } = await api('GET', '/hosts');
    document.getElementById('host-usage').innerHTML = hosts.length === 0
      ? '<p class="muted">No host is registered.</p>'
      : '<table class="data compact"><thead><tr><th>Host</th><th class="num">Instances</th><th>vCPUs</th>' +
        '<th>Memory</th></tr></thead><tbody>' +
        hosts.map((h) => `<tr><td><a href="/hosts">${esc(h.name)}</a></td><td class="num">${h.instances}</td>` +
          `<td>${usageBar(h.used.vcpus, h.capacity.vcpus)}</td>` +
          `<td>${usageBar(h.used.memory_mib, h.capacity.memory_mib, fmtMiB)}</td></tr>`).join('') + '</tbody></table>';
  } catch (e) {
    showError(e, 'Reading hosts');
  }
}

function schedule() {
  if (!scheduled) {
    scheduled = true;
    requestAnimationFrame(render);
  }
}

async function resources() {
  try {
    const [im, lbs] = await Promise.all([api('GET', '/images'), api('GET', '/load-balancers')]);
    document.getElementById('resources').innerHTML = attrs([
      ['Instances', `<a href="/instances">${instances.size}</a>`],
      ['Images', `<a href="/images">${im.images.length}</a>`],
      ['Load balancers', `<a href="/load-balancers">${lbs.load_balancers.length}</a>`],
      ['Availability zone', esc(document.body.dataset.zone)],
    ]);
  } catch (e) {
    showError(e, 'Reading resources');
  }
}

watchInstances({
  onSnapshot: (list) => {
    instances.clear();
    list.forEach((i) => instances.set(i.id, i));
    render();
    resources();
    if (admin) fleet();
  },
  onChange: (i) => {
    instances.set(i.id, i);
    schedule();
  },
});
