// The launch wizard: image, instance type, name and count, user data,
// placement, review, then one RunInstances call.
import { api } from './api.js';
import { Table, attrs, badge, esc, fmtMiB, showError } from './ui.js';

const maxUserData = 16 * 1024;
const steps = [...document.querySelectorAll('#wizard section[data-step]')];
const stepList = [...document.querySelectorAll('#steps li')];
const form = document.getElementById('wizard');
const back = document.getElementById('back');
const next = document.getElementById('next');
const launch = document.getElementById('launch');
const userData = document.getElementById('user-data');
const count = document.getElementById('count');
let at = 0;
let image = null;
let type = null;

// pickable turns a Table's rows into a single choice, as radio buttons.
function pickable(table, name, onPick) {
  table.table.addEventListener('click', (e) => {
    const tr = e.target.closest('tbody tr[data-id]');
    if (!tr) return;
    onPick(table.get(tr.dataset.id));
    table.render();
  });
  return (r, chosen) => `<input type="radio" name="${name}" value="${esc(table.id(r))}" aria-label="Choose"${chosen ? ' checked' : ''}>`;
}

const images = new Table(document.getElementById('image-table'), [
  { key: 'pick', label: '', html: (im) => radioImage(im, image?.id === im.id) },
  { key: 'name', label: 'Name', value: (im) => im.name },
  { key: 'id', label: 'Image ID', value: (im) => im.id, html: (im) => `<span class="mono">${esc(im.id)}</span>` },
  { key: 'state', label: 'State', value: (im) => im.state, html: (im) => badge(im.state) },
  { key: 'boot', label: 'Boots', value: (im) => (im.disk ? 'disk' : 'kernel') },
  { key: 'description', label: 'Description', value: (im) => im.description ?? '' },
], { filter: document.getElementById('image-filter'), sort: { key: 'name', dir: 1 } });
const radioImage = pickable(images, 'image', (im) => { image = im; });

const types = new Table(document.getElementById('type-table'), [
  { key: 'pick', label: '', html: (t) => radioType(t, type?.name === t.name) },
  { key: 'name', label: 'Type', value: (t) => t.name },
  { key: 'vcpus', label: 'vCPUs', value: (t) => t.vcpus, num: true },
  { key: 'memory', label: 'Memory', value: (t) => t.memory_mib, num: true, html: (t) => esc(fmtMiB(t.memory_mib)) },
], { id: (t) => t.name, sort: { key: 'memory', dir: 1 } });
const radioType = pickable(types, 'type', (t) => { type = t; });

// check says why the current step cannot be left, or ''.
function check() {
  switch (steps[at].dataset.step) {
    case 'image': return image ? '' : 'Choose an image.';
    case 'type': return type ? '' : 'Choose an instance type.';
    case 'details': {
      const n = Number(count.value);
      return Number.isInteger(n) && n >= 1 && n <= 32 ? '' : 'The number of instances must be a whole number from 1 to 32.';
    }
    case 'user-data':
      return new TextEncoder().encode(userData.value).length <= maxUserData ? '' : 'User data may be at most 16 KiB.';
  }
  return '';
}

function show(i) {
  at = i;
  steps.forEach((s, j) => { s.hidden = j !== i; });
  stepList.forEach((li, j) => {
    li.classList.toggle('current', j === i);
    li.classList.toggle('done', j < i);
  });
  back.disabled = i === 0;
  next.hidden = i === steps.length - 1;
  launch.hidden = !next.hidden;
  if (steps[i].dataset.step === 'review') review();
}

function review() {
  const n = Number(count.value);
  document.getElementById('review').innerHTML = attrs([
    ['Image', `${esc(image.name)} <span class="mono muted">${esc(image.id)}</span>`],
    ['Instance type', `${esc(type.name)} (${type.vcpus} vCPU, ${esc(fmtMiB(type.memory_mib))})`],
    ['Name', esc(document.getElementById('name').value)],
    ['Number of instances', esc(n)],
    ['User data', userData.value ? `${new TextEncoder().encode(userData.value).length} bytes` : ''],
    ['Availability zone', esc(document.getElementById('zone').value)],
    ['Placement group', esc(groupChoice.value) + (Number(partition.value) ? ` (partition ${esc(partition.value)})` : '')],
  ]);
}

// The partition choice follows the group: only a partition group has any.
const groupChoice = document.getElementById('placement-group');
const partition = document.getElementById('partition');
let groups = [];
groupChoice.addEventListener('change', () => {
  const g = groups.find((x) => x.name === groupChoice.value);
  const k = g?.strategy === 'partition' ? g.partitions : 0;
  partition.replaceChildren(new Option('Any', '0'), ...Array.from({ length: k }, (_, i) => new Option(String(i + 1), String(i + 1))));
  document.getElementById('partition-field').hidden = k === 0;
});

next.addEventListener('click', () => {
  const problem = check();
  if (problem) {
    showError({ code: 'InvalidParameterValue', message: problem });
    return;
  }
  document.getElementById('flash').replaceChildren();
  show(at + 1);
});
back.addEventListener('click', () => show(at - 1));
stepList.forEach((li, j) => li.addEventListener('click', () => { if (j < at) show(j); }));
userData.addEventListener('input', () => {
  document.getElementById('user-data-size').textContent = new TextEncoder().encode(userData.value).length;
});

function base64(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  launch.disabled = true;
  try {
    const req = { image: image.id, type: type.name, count: Number(count.value) };
    const name = document.getElementById('name').value.trim();
    if (name) req.name = name;
    if (userData.value) req.user_data = base64(userData.value);
    if (groupChoice.value) req.placement_group = groupChoice.value;
    if (Number(partition.value)) req.partition = Number(partition.value);
    const { instances } = await api('POST', '/instances', req);
    location.assign('/instances?launched=' + instances.map((i) => i.id).join(','));
  } catch (err) {
    showError(err, 'Launch');
    launch.disabled = false;
  }
});

async function load() {
  try {
    const [im, ty, pg] = await Promise.all([api('GET', '/images'), api('GET', '/instance-types'), api('GET', '/placement-groups')]);
    groups = pg.placement_groups;
    groupChoice.append(...groups.map((g) => new Option(`${g.name} (${g.strategy})`, g.name)));
    const usable = im.images.filter((i) => i.state === 'available');
    const wanted = new URLSearchParams(location.search).get('image');
    image = usable.find((i) => i.id === wanted || i.name === wanted) ?? (usable.length === 1 ? usable[0] : null);
    images.set(usable);
    type = ty.instance_types.find((t) => t.name === 't2.micro') ?? null;
    types.set(ty.instance_types);
  } catch (err) {
    showError(err, 'Reading images and types');
  }
}

show(0);
load();
