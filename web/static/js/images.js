// Images: the account's and the cloud's own. Register from files uploaded
// here or digests of files uploaded before; deregister after confirming.
import { api } from './api.js';
import { Table, ask, badge, clearMessages, esc, fmtBytes, fmtTime, showError, showSuccess } from './ui.js';

const filter = document.getElementById('filter');
filter.value = new URLSearchParams(location.search).get('q') ?? '';

const table = new Table(document.getElementById('images'), [
  { key: 'name', label: 'Name', value: (im) => im.name },
  { key: 'id', label: 'Image ID', value: (im) => im.id, html: (im) => `<span class="mono">${esc(im.id)}</span>` },
  { key: 'state', label: 'State', value: (im) => im.state, html: (im) => badge(im.state) },
  { key: 'boot', label: 'Boots', value: (im) => (im.disk ? `disk (${im.disk_format})` : 'kernel') },
  { key: 'size', label: 'Size', value: (im) => im.size_bytes, num: true, html: (im) => esc(fmtBytes(im.size_bytes)) },
  { key: 'source', label: 'Source instance', value: (im) => im.source_instance ?? '',
    html: (im) => (im.source_instance ? `<a href="/instances/${esc(im.source_instance)}" class="mono">${esc(im.source_instance)}</a>` : '') },
  { key: 'created', label: 'Created', value: (im) => im.created_at, html: (im) => esc(fmtTime(im.created_at)) },
  { key: 'actions', label: '', html: (im) =>
    `<a class="button" href="/launch?image=${encodeURIComponent(im.id)}">Launch</a> ` +
    `<button type="button" class="danger" data-deregister="${esc(im.id)}">Deregister</button>` },
], {
  filter,
  count: document.getElementById('count'),
  empty: document.getElementById('empty'),
  sort: { key: 'created', dir: -1 },
});

async function load() {
  try {
    const { images } = await api('GET', '/images');
    table.set(images);
  } catch (e) {
    showError(e, 'Reading images');
  }
}

document.getElementById('images').addEventListener('click', async (e) => {
  const b = e.target.closest('button[data-deregister]');
  if (!b) return;
  const im = table.get(b.dataset.deregister);
  const ok = await ask({
    title: `Deregister ${im.name}?`,
    message: `${im.id} can no longer be launched. Instances launched from it keep running.`,
    confirm: 'Deregister',
    danger: true,
  });
  if (!ok) return;
  clearMessages();
  try {
    await api('DELETE', '/images/' + encodeURIComponent(im.id));
    showSuccess(`Deregistered ${esc(im.name)} (${esc(im.id)}).`);
    load();
  } catch (err) {
    showError(err, `Deregister ${im.id}`);
  }
});

const fileField = (name, label) =>
  `<label for="${name}-file">${label}</label>` +
  `<input id="${name}-file" name="${name}_file" type="file">` +
  `<input name="${name}" aria-label="${label} digest" placeholder="or the sha256: digest of a file uploaded before" spellcheck="false">`;

document.getElementById('register').addEventListener('click', async () => {
  const form = await ask({
    title: 'Register an image',
    message: 'Give a bootable disk, or a kernel to boot directly (with an optional initrd and a disk).',
    fields: '<label for="reg-name">Name</label><input id="reg-name" name="name" required maxlength="128">' +
      '<label for="reg-description">Description</label><input id="reg-description" name="description" maxlength="255">' +
      fileField('kernel', 'Kernel') + fileField('initrd', 'Initrd') + fileField('disk', 'Disk') +
      '<label for="reg-format">Disk format</label><select id="reg-format" name="disk_format">' +
      '<option value="">—</option><option>raw</option><option>qcow2</option></select>' +
      '<label for="reg-cmdline">Kernel command line</label><input id="reg-cmdline" name="cmdline" spellcheck="false">',
    confirm: 'Register',
  });
  if (!form) return;
  clearMessages();
  try {
    const req = { name: form.get('name') };
    for (const k of ['description', 'disk_format', 'cmdline']) if (form.get(k)) req[k] = form.get(k);
    for (const k of ['kernel', 'initrd', 'disk']) {
      const file = form.get(`${k}_file`);
      if (file && file.size > 0) {
        showSuccess(`Uploading ${esc(k)} (${esc(fmtBytes(file.size))})…`);
        req[k] = (await api('POST', '/blobs', file)).digest;
      } else if (form.get(k)) {
        req[k] = form.get(k).trim();
      }
    }
    const im = await api('POST', '/images', req);
    showSuccess(`Registered ${esc(im.name)} (${esc(im.id)}).`);
    load();
  } catch (err) {
    showError(err, 'Register image');
  }
});

document.getElementById('refresh').addEventListener('click', load);
load();
