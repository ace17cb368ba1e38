// Live instances, over the API's server-sent event stream.
import { api } from './api.js';
import { showError } from './ui.js';

// watchInstances keeps a page in step with the account's instances, or
// with those of ids. onSnapshot(instances) gets them all: first, and again
// after every reconnection, since changes made while the stream was down
// were never sent. onChange(instance) gets one as it is just after a
// change. The stream sends the snapshot itself, read once it listens, so
// no change falls between the two; if the stream cannot open, the page
// reads the instances anyway and tries the stream again later.
export function watchInstances({ ids, onSnapshot, onChange }) {
  const status = document.getElementById('live');
  const show = (text, on) => {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle('on', on);
  };
  const query = new URLSearchParams({ snapshot: 'true' });
  if (ids) query.set('ids', ids.join(','));
  // read answers whether the stream is worth trying again: not when the
  // API refuses the request itself.
  const read = async () => {
    try {
      onSnapshot((await api('GET', '/instances' + (ids ? '?ids=' + ids.map(encodeURIComponent).join(',') : ''))).instances);
    } catch (e) {
      showError(e, 'Reading instances');
      return !(e.status >= 400 && e.status < 500);
    }
    return true;
  };
  let snapshotSeen = false;
  const fallback = setTimeout(() => { if (!snapshotSeen) read(); }, 3000);
  const connect = () => {
    const es = new EventSource('/api/v1/events?' + query);
    es.addEventListener('open', () => show('Live', true));
    es.addEventListener('snapshot', (e) => {
      snapshotSeen = true;
      clearTimeout(fallback);
      onSnapshot(JSON.parse(e.data).instances);
    });
    es.addEventListener('instance', (e) => onChange(JSON.parse(e.data)));
    es.addEventListener('error', () => {
      show('Reconnecting…', false);
      if (es.readyState === EventSource.CLOSED) {
        // Refused rather than cut: reading shows why (and a session that
        // ended sends the browser to sign in).
        read().then((again) => { if (again) setTimeout(connect, 5000); });
      }
    });
  };
  connect();
}
