// What every page shares: escaping, badges, messages, dialogs, formats
// and the sortable, filterable table.

const escapes = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// esc makes any value safe inside HTML text and quoted attributes.
export function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => escapes[c]);
}

// badge is a state shown as a colored badge: EC2 instance states, target
// health, image and load balancer states.
export function badge(state) {
  const s = String(state ?? 'unknown');
  return `<span class="badge ${esc(s)}" data-state="${esc(s)}">${esc(s)}</span>`;
}

const flashBox = () => document.getElementById('flash');

// showError shows a failure where it is seen, with the API's error code,
// message and request id.
export function showError(err, what) {
  const code = err.code ?? 'Error';
  const rid = err.requestID ? `<span class="rid">Request ID ${esc(err.requestID)}</span>` : '';
  flash('error', `<div>${what ? esc(what) + ': ' : ''}<span class="code">${esc(code)}</span>: ` +
    `<span class="message">${esc(err.message)}</span>${rid}</div>`);
}

// showSuccess tells that an action was taken; html is trusted markup.
export function showSuccess(html) {
  flash('success', `<div>${html}</div>`);
}

function flash(kind, html) {
  const box = flashBox();
  const div = document.createElement('div');
  div.className = `alert ${kind}`;
  div.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  div.innerHTML = html + '<button type="button" class="close" aria-label="Dismiss">×</button>';
  div.querySelector('.close').addEventListener('click', () => div.remove());
  box.replaceChildren(div);
  box.scrollIntoView({ block: 'nearest' });
}

export function clearMessages() {
  flashBox()?.replaceChildren();
}

// ask opens a modal dialog and answers the FormData of its fields when the
// person confirms, null when they cancel. fields is trusted markup.
export function ask({ title, message = '', fields = '', confirm = 'Confirm', danger = false }) {
  return new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.className = 'modal';
    dialog.innerHTML = `<form method="dialog"><h2>${esc(title)}</h2>` +
      (message ? `<p>${esc(message)}</p>` : '') + fields +
      `<footer><button type="submit" value="cancel" formnovalidate>Cancel</button>` +
      `<button type="submit" value="ok" class="primary${danger ? ' danger' : ''}">${esc(confirm)}</button></footer></form>`;
    document.body.append(dialog);
    const form = dialog.querySelector('form');
    dialog.addEventListener('close', () => {
      const ok = dialog.returnValue === 'ok';
      const data = new FormData(form);
      dialog.remove();
      resolve(ok ? data : null);
    });
    dialog.showModal();
  });
}

// One formatter for every date: making one per call costs more than the
// rest of a table's row.
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? '' : dateFormat.format(d);
}

export function fmtBytes(n) {
  if (!n) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  const i = Math.min(units.length - 1, Math.floor(Math.log2(n) / 10));
  return `${(n / 2 ** (10 * i)).toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function fmtMiB(n) {
  return n >= 1024 ? `${(n / 1024).toFixed(n % 1024 ? 1 : 0)} GiB` : `${n} MiB`;
}

// attrs renders label/value pairs as a <dl>; values are trusted markup.
export function attrs(pairs) {
  return pairs.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${v === '' || v == null ? '–' : v}</dd></div>`).join('');
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

// Table renders rows into a <table> in one DOM write, sorted by a clicked
// column, filtered by a search box and, with pageSize, a page at a time:
// laying out a thousand rows takes the browser far longer than building
// them, so a long list shows one page, as EC2's console does. Each column
// is {key, label, value, html, num}: value(row) is what it sorts and
// filters on, html(row) its cell as trusted markup (default: the value,
// escaped), num a numeric column.
export class Table {
  constructor(table, columns, { id = (r) => r.id, filter, count, empty, sort, where, onRender, pageSize = 0 } = {}) {
    this.table = table;
    this.columns = columns;
    this.id = id;
    this.rows = new Map();
    this.filterInput = filter;
    this.countEl = count;
    this.emptyEl = empty;
    this.where = where ?? (() => true);
    this.onRender = onRender;
    this.sortKey = sort?.key ?? columns[0].key;
    this.sortDir = sort?.dir ?? 1;
    this.pageSize = pageSize;
    this.page = 0;
    this.scheduled = false;
    table.innerHTML = '<thead><tr>' + columns.map((c) =>
      `<th scope="col"${c.value ? ` data-sort="${esc(c.key)}"` : ''}${c.num ? ' class="num"' : ''}>${esc(c.label)}</th>`).join('') +
      '</tr></thead><tbody></tbody>';
    this.tbody = table.tBodies[0];
    table.tHead.addEventListener('click', (e) => {
      const th = e.target.closest('th[data-sort]');
      if (!th) return;
      const key = th.dataset.sort;
      this.sortDir = key === this.sortKey ? -this.sortDir : 1;
      this.sortKey = key;
      this.page = 0;
      this.render();
    });
    filter?.addEventListener('input', () => this.refilter());
    if (pageSize) {
      this.pager = document.createElement('div');
      this.pager.className = 'pager';
      this.pager.innerHTML = '<span class="range"></span><button type="button" data-step="-1">‹ Previous</button>' +
        '<span class="pages"></span><button type="button" data-step="1">Next ›</button>';
      this.pager.addEventListener('click', (e) => {
        const b = e.target.closest('button[data-step]');
        if (!b) return;
        this.page += Number(b.dataset.step);
        this.render();
      });
      (table.closest('.table-wrap') ?? table).after(this.pager);
    }
  }

  // refilter shows the first page of what the filters now keep.
  refilter() {
    this.page = 0;
    this.render();
  }

  // set replaces every row.
  set(rows) {
    this.rows = new Map(rows.map((r) => [this.id(r), r]));
    this.render();
  }

  // upsert adds or replaces one row; renders are batched per frame.
  upsert(row) {
    this.rows.set(this.id(row), row);
    this.schedule();
  }

  get(id) {
    return this.rows.get(id);
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  visible() {
    const q = (this.filterInput?.value ?? '').trim().toLowerCase();
    const terms = q ? q.split(/\s+/) : [];
    const cols = this.columns.filter((c) => c.value);
    const out = [];
    for (const r of this.rows.values()) {
      if (!this.where(r)) continue;
      if (terms.length) {
        const text = cols.map((c) => String(c.value(r) ?? '')).join(' ').toLowerCase();
        if (!terms.every((t) => text.includes(t))) continue;
      }
      out.push(r);
    }
    const col = this.columns.find((c) => c.key === this.sortKey);
    if (col?.value) {
      const dir = this.sortDir;
      const cmp = col.num
        ? (a, b) => (col.value(a) - col.value(b)) * dir
        : (a, b) => collator.compare(String(col.value(a) ?? ''), String(col.value(b) ?? '')) * dir;
      out.sort(cmp);
    }
    return out;
  }

  render() {
    const all = this.visible();
    const size = this.pageSize || Math.max(all.length, 1);
    const pages = Math.max(1, Math.ceil(all.length / size));
    this.page = Math.min(Math.max(this.page, 0), pages - 1);
    const first = this.page * size;
    const rows = all.slice(first, first + size);
    for (const th of this.table.tHead.rows[0].cells) {
      if (th.dataset.sort === this.sortKey) th.setAttribute('aria-sort', this.sortDir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    const cols = this.columns;
    let html = '';
    for (const r of rows) {
      html += `<tr data-id="${esc(this.id(r))}">`;
      for (const c of cols) {
        html += `<td${c.num ? ' class="num"' : ''}>${c.html ? c.html(r) : esc(c.value(r))}</td>`;
      }
      html += '</tr>';
    }
    this.tbody.innerHTML = html;
    if (this.countEl) {
      this.countEl.textContent = all.length === this.rows.size ? `(${all.length})` : `(${all.length} of ${this.rows.size})`;
    }
    if (this.emptyEl) this.emptyEl.hidden = all.length > 0;
    if (this.pager) {
      this.pager.hidden = pages === 1;
      this.pager.querySelector('.range').textContent = `${first + 1}–${first + rows.length} of ${all.length}`;
      this.pager.querySelector('.pages').textContent = `Page ${this.page + 1} of ${pages}`;
      this.pager.querySelector('[data-step="-1"]').disabled = this.page === 0;
      this.pager.querySelector('[data-step="1"]').disabled = this.page === pages - 1;
    }
    this.onRender?.(rows);
  }
}

// usageBar is a bar of used against capacity, with the figures. A meter,
// not a styled span: the pages' content security policy refuses inline
// styles.
export function usageBar(used, capacity, fmt = String) {
  const pct = capacity > 0 ? Math.min(100, Math.round((100 * used) / capacity)) : 0;
  return `<div class="usage" title="${pct}%"><meter min="0" max="${Math.max(capacity, 1)}" value="${used}"` +
    ` high="${0.8 * capacity}" optimum="0"></meter>` +
    `<span class="usage-text">${esc(fmt(used))} / ${esc(fmt(capacity))}</span></div>`;
}
