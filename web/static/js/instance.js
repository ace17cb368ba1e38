// One instance: its attributes, tags and user data, kept live, and the
// actions on it. Destructive actions ask first.
import { api } from './api.js';
import { ask, attrs, badge, clearMessages, esc, fmtMiB, fmtTime, showError, showSuccess } from './ui.js';
import { watchInstances } from './live.js';
import { serialConsole } from './terminal.js';
import { initMonitoring } from './charts.js';

const id = document.getElementById('instance').dataset.id;
const path = '/instances/' + encodeURIComponent(id);
let current = null;
const terminal = serialConsole(id);

// The states each action is offered in, as the state table allows.
const allowed = {
  start: ['stopped'],
  stop: ['running'],
  reboot: ['running'],
  'create-image': ['running', 'stopped'],
  terminate: ['pending', 'running', 'stopping', 'stopped'],
};

function render(i) {
  current = i;
  document.getElementById('title').textContent = i.name ? `${i.name} (${i.id})` : i.id;
  document.title = `${i.name || i.id} · kumo`;
  document.getElementById('state').innerHTML = badge(i.state.name);
  document.getElementById('details').innerHTML = attrs([
    ['Instance ID', `<span class="mono">${esc(i.id)}</span>`],
    ['Name', esc(i.name)],
    ['State', badge(i.state.name) + (i.state_reason ? `<div class="muted small">${esc(i.state_reason)}</div>` : '')],
    ['Instance type', esc(i.type)],
    ['vCPUs', esc(i.vcpus)],
    ['Memory', esc(fmtMiB(i.memory_mib))],
    ['Image', `<a href="/images?q=${encodeURIComponent(i.image_id)}" class="mono">${esc(i.image_id)}</a>`],
    ['Private IP address', `<span class="mono">${esc(i.private_ip)}</span>`],
    ['MAC address', `<span class="mono">${esc(i.mac)}</span>`],
    ['Host', esc(i.host) + (i.host_unreachable ? ' <span class="badge unavailable">unreachable</span>' : '')],
    ['Placement group', esc(i.placement_group) + (i.partition ? ` (partition ${esc(i.partition)})` : '')],
    ['Availability zone', esc(document.body.dataset.zone)],
    ['Launched', esc(fmtTime(i.launched_at))],
    ['Terminated', esc(fmtTime(i.terminated_at))],
  ]);
  for (const b of document.querySelectorAll('#actions button')) {
    b.disabled = !allowed[b.dataset.action].includes(i.state.name);
  }
  terminal.setState(i.state.name);
}

function renderUserData(b64) {
  const pre = document.getElementById('user-data');
  if (!b64) {
    pre.textContent = '(none)';
    return;
  }
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  try {
    pre.textContent = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    pre.textContent = `(${bytes.length} bytes of binary data)`;
  }
}

// load reads what the event stream does not carry: user data and tags.
async function load() {
  try {
    const [i, t] = await Promise.all([api('GET', path), api('GET', path + '/tags')]);
    renderUserData(i.user_data);
    document.getElementById('tags').innerHTML = t.tags.length === 0
      ? '<tbody><tr><td class="muted">No tags.</td></tr></tbody>'
      : '<thead><tr><th>Key</th><th>Value</th></tr></thead><tbody>' +
        t.tags.map((g) => `<tr><td>${esc(g.key)}</td><td>${esc(g.value)}</td></tr>`).join('') + '</tbody>';
  } catch (e) {
    showError(e, `Reading ${id}`);
  }
}

const actions = {
  start: () => act('start'),
  stop: async () => {
    const form = await ask({
      title: `Stop ${id}?`,
      message: 'The guest is asked to shut down; its disk is kept and it can be started again.',
      fields: '<label class="check"><input type="checkbox" name="force"> Force: power off at once, without asking the guest</label>',
      confirm: 'Stop',
      danger: true,
    });
    if (form) act('stop', { force: form.get('force') === 'on' });
  },
  reboot: async () => {
    if (await ask({ title: `Reboot ${id}?`, message: 'The guest is asked to restart.', confirm: 'Reboot', danger: true })) {
      act('reboot');
    }
  },
  terminate: async () => {
    const ok = await ask({
      title: `Terminate ${id}?`,
      message: 'The instance is shut down and its disks are deleted. This cannot be undone.',
      confirm: 'Terminate',
      danger: true,
    });
    if (ok) act('terminate');
  },
  'create-image': async () => {
    const form = await ask({
      title: `Create an image from ${id}`,
      message: current?.state.name === 'running'
        ? 'The instance is stopped while its disk is copied, then started again.' : '',
      fields: '<label for="image-name">Image name</label><input id="image-name" name="name" required maxlength="128">' +
        '<label for="image-description">Description</label><input id="image-description" name="description" maxlength="255">',
      confirm: 'Create image',
    });
    if (!form) return;
    try {
      const im = await api('POST', path + '/image', { name: form.get('name'), description: form.get('description') });
      showSuccess(`Created image <a href="/images?q=${encodeURIComponent(im.id)}">${esc(im.name)} (${esc(im.id)})</a>.`);
    } catch (e) {
      showError(e, 'Create image');
    }
  },
};

async function act(action, body) {
  clearMessages();
  try {
    const ch = await api('POST', `${path}/${action}`, body);
    showSuccess(`${esc(id)}: ${esc(ch.previous_state.name)} → ${esc(ch.current_state.name)}.`);
  } catch (e) {
    showError(e, `${action[0].toUpperCase()}${action.slice(1)} ${id}`);
  }
}

document.getElementById('actions').addEventListener('click', (e) => {
  const b = e.target.closest('button[data-action]');
  if (b && !b.disabled) actions[b.dataset.action]();
});

load();
initMonitoring(id);
watchInstances({
  ids: [id],
  onSnapshot: (list) => list.forEach(render),
  onChange: render,
});
