// The instances page: every instance of the account in one table, sorted
// and filtered in the browser, kept live by the event stream.
import { Table, badge, esc, fmtTime, showSuccess } from './ui.js';
import { watchInstances } from './live.js';

const params = new URLSearchParams(location.search);
const stateFilter = document.getElementById('state-filter');
stateFilter.value = params.get('state') ?? '';
const filter = document.getElementById('filter');
filter.value = params.get('q') ?? '';

const launched = params.get('launched');
if (launched) {
  const ids = launched.split(',');
  showSuccess(`Launched ${ids.map((id) => `<a href="/instances/${esc(id)}">${esc(id)}</a>`).join(', ')}.`);
}

const table = new Table(document.getElementById('instances'), [
  { key: 'name', label: 'Name', value: (i) => i.name ?? '' },
  { key: 'id', label: 'Instance ID', value: (i) => i.id,
    html: (i) => `<a href="/instances/${esc(i.id)}" class="mono">${esc(i.id)}</a>` },
  { key: 'state', label: 'State', value: (i) => i.state.name, html: (i) => badge(i.state.name) },
  { key: 'type', label: 'Type', value: (i) => i.type },
  { key: 'ip', label: 'Private IP', value: (i) => i.private_ip ?? '' },
  { key: 'image', label: 'Image', value: (i) => i.image_id },
  { key: 'host', label: 'Host', value: (i) => i.host },
  { key: 'launched', label: 'Launched', value: (i) => i.launched_at, html: (i) => esc(fmtTime(i.launched_at)) },
], {
  filter,
  count: document.getElementById('count'),
  empty: document.getElementById('empty'),
  sort: { key: 'launched', dir: -1 },
  where: (i) => !stateFilter.value || i.state.name === stateFilter.value,
  pageSize: 50,
});
stateFilter.addEventListener('change', () => table.refilter());

// The first render's time since navigation start, laid out, kept for
// tests and shown in the browser's console: the figure the 1 000-instance
// target is on.
let first = true;

watchInstances({
  onSnapshot: (instances) => {
    const start = performance.now();
    table.set(instances);
    if (first) {
      first = false;
      table.table.offsetHeight; // lays the table out now, to count it
      const end = performance.now();
      window.kumoTiming = { rows: instances.length, snapshotMs: start, renderMs: end - start, firstRenderMs: end };
      console.info('instances page: first render', window.kumoTiming);
    }
  },
  onChange: (i) => table.upsert(i),
});
