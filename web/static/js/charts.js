// An instance's metrics as line charts over a chosen time range, drawn as
// SVG by hand: the pages' content security policy refuses the inline
// styles chart libraries set.
import { api } from './api.js';

const svgNS = 'http://www.w3.org/2000/svg';
const refreshEvery = 10_000; // ms: kumod samples every 10 s

// Each range's period is one kumod keeps at the range's age (10 s samples
// for a day, minutes for 15 days) and gives 288 to 360 datapoints. tick is
// the time between x axis labels, in seconds.
const ranges = [
  { key: '1h', label: '1 hour', span: 3600, period: 10, tick: 600, live: true },
  { key: '1d', label: '1 day', span: 86400, period: 300, tick: 4 * 3600 },
  { key: '2w', label: '2 weeks', span: 14 * 86400, period: 3600, tick: 2 * 86400 },
];

// Byte and operation metrics count what happened in each 10 s sample: the
// average per sample over `per` is a rate that reads the same at every
// period, also one only partly sampled, which a period's sum is not.
const units = {
  percent: { base: 1000, names: ['%'], per: 1 },
  bytes: { base: 1024, names: [' B/s', ' KiB/s', ' MiB/s', ' GiB/s'], per: 10 },
  ops: { base: 1000, names: [' ops/s', 'k ops/s', 'M ops/s'], per: 10 },
};

const charts = [
  { title: 'CPU utilization (%)', unit: units.percent, series: [['CPUUtilization', 'CPU']] },
  { title: 'Network (bytes/s)', unit: units.bytes, series: [['NetworkIn', 'In'], ['NetworkOut', 'Out']] },
  { title: 'Disk throughput (bytes/s)', unit: units.bytes, series: [['DiskReadBytes', 'Read'], ['DiskWriteBytes', 'Write']] },
  { title: 'Disk operations (ops/s)', unit: units.ops, series: [['DiskReadOps', 'Read'], ['DiskWriteOps', 'Write']] },
];

// The charts' drawing box; the SVG scales it to its width.
const width = 520;
const height = 190;
const pad = { top: 10, right: 16, bottom: 26, left: 72 };
const plotW = width - pad.left - pad.right;
const plotH = height - pad.top - pad.bottom;

const timeLabel = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayLabel = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const pointTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

// initMonitoring fills #monitoring with a range picker and a chart per
// metric group, and keeps the last hour's charts current while the page
// is seen.
export function initMonitoring(instanceId) {
  const section = document.getElementById('monitoring');
  const status = section.querySelector('.monitoring-status');
  const picker = document.createElement('div');
  picker.className = 'range-picker';
  picker.setAttribute('role', 'group');
  picker.setAttribute('aria-label', 'Time range');
  for (const r of ranges) {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.range = r.key;
    b.textContent = r.label;
    picker.append(b);
  }
  section.querySelector('.panel-head').append(picker);
  const views = charts.map(chartView);
  section.querySelector('.charts').replaceChildren(...views.map((v) => v.figure));

  const path = `/instances/${encodeURIComponent(instanceId)}/metrics`;
  let range = ranges[0];
  let timer = 0;
  // Only the newest load draws, and schedules the next: an older one may
  // answer after it.
  let generation = 0;

  async function load() {
    clearTimeout(timer);
    const gen = ++generation;
    const r = range;
    for (const b of picker.children) b.setAttribute('aria-pressed', String(b.dataset.range === r.key));
    const end = Math.ceil(Date.now() / (r.period * 1000)) * r.period * 1000;
    const start = end - r.span * 1000;
    const read = async ([name]) => {
      const q = new URLSearchParams({ name, period: r.period, start: isoSeconds(start), end: isoSeconds(end), stat: 'Average' });
      return (await api('GET', `${path}?${q}`)).datapoints;
    };
    try {
      const answers = await Promise.all(charts.map((c) => Promise.all(c.series.map(read))));
      if (gen !== generation) return;
      views.forEach((v, i) => v.draw(answers[i], r, start, end));
      status.textContent = '';
    } catch (e) {
      if (gen !== generation) return;
      status.textContent = `Could not read the metrics: ${e.code ?? 'Error'}: ${e.message}`;
    }
    if (r.live && !document.hidden) timer = setTimeout(load, refreshEvery);
  }

  picker.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-range]');
    if (!b) return;
    range = ranges.find((r) => r.key === b.dataset.range);
    load();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) clearTimeout(timer);
    else if (range.live) load();
  });
  load();
}

function isoSeconds(ms) {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

// chartView is one chart's figure, and draw(lists, range, start, end)
// redraws it with each series' datapoints.
function chartView(chart) {
  const figure = document.createElement('figure');
  figure.className = 'chart';
  const caption = document.createElement('figcaption');
  const title = document.createElement('span');
  title.className = 'chart-title';
  title.textContent = chart.title;
  caption.append(title);
  if (chart.series.length > 1) {
    const legend = document.createElement('span');
    legend.className = 'legend';
    chart.series.forEach(([, label], i) => {
      const key = document.createElement('span');
      key.className = `key s${i}`;
      key.textContent = label;
      legend.append(key);
    });
    caption.append(legend);
  }
  const svg = svgEl('svg', {
    viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': chart.title,
    'data-metric': chart.series.map(([name]) => name).join(' '),
  });
  figure.append(caption, svg);
  return { figure, draw: (lists, r, start, end) => draw(svg, chart, lists, r, start, end) };
}

function draw(svg, chart, lists, r, start, end) {
  const u = chart.unit;
  const series = lists.map((points) => points.map((p) => ({ t: Date.parse(p.timestamp), v: p.average / u.per })));
  const x = (t) => pad.left + ((t - start) / (end - start)) * plotW;
  const bottom = pad.top + plotH;
  svg.replaceChildren();
  svg.dataset.period = r.period;

  const label = r.tick < 86400 ? timeLabel : dayLabel;
  for (let t = firstTick(start, r.tick * 1000); t < end; t += r.tick * 1000) {
    svgEl('line', { x1: x(t), x2: x(t), y1: pad.top, y2: bottom, class: 'grid' }, svg);
    svgEl('text', { x: x(t), y: height - 8, class: 'tick tick-x' }, svg).textContent = label.format(t);
  }
  if (series.every((s) => s.length === 0)) {
    svgEl('line', { x1: pad.left, x2: width - pad.right, y1: bottom, y2: bottom, class: 'axis' }, svg);
    svgEl('text', { x: pad.left + plotW / 2, y: pad.top + plotH / 2, class: 'no-data' }, svg).textContent = 'No data yet';
    return;
  }

  const scale = yScale(u, Math.max(...series.flat().map((p) => p.v)));
  const y = (v) => bottom - (v / scale.top) * plotH;
  for (const tick of scale.ticks) {
    svgEl('line', { x1: pad.left, x2: width - pad.right, y1: y(tick.v), y2: y(tick.v), class: tick.v ? 'grid' : 'axis' }, svg);
    svgEl('text', { x: pad.left - 6, y: y(tick.v) + 4, class: 'tick tick-y' }, svg).textContent = tick.label;
  }
  // A missing period breaks the line rather than bridge it.
  const gap = r.period * 1000;
  series.forEach((points, i) => {
    const d = points.map((p, j) => `${j > 0 && p.t - points[j - 1].t <= gap ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`);
    svgEl('path', { d: d.join(''), class: `line s${i}` }, svg);
  });
  series.forEach((points, i) => {
    for (const p of points) {
      const dot = svgEl('circle', { cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 2, class: `point s${i}` }, svg);
      svgEl('title', {}, dot).textContent = `${pointTime.format(p.t)}\n${chart.series[i][1]}: ${formatValue(u, p.v)}`;
    }
  });
}

function svgEl(name, attrs, parent) {
  const e = document.createElementNS(svgNS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  parent?.append(e);
  return e;
}

// firstTick is the first multiple of step, in local time, from start on,
// so that labels read 10:00 or 16:00 rather than where the range begins.
function firstTick(start, step) {
  const offset = new Date(start).getTimezoneOffset() * 60_000;
  return Math.ceil((start - offset) / step) * step + offset;
}

// magnitude is the index of the prefix a value of size v is shown with.
function magnitude(u, v) {
  return v > 0 ? Math.max(0, Math.min(u.names.length - 1, Math.floor(Math.log(v) / Math.log(u.base)))) : 0;
}

function formatValue(u, v) {
  const i = magnitude(u, v);
  const n = v / u.base ** i;
  return `${+n.toFixed(n >= 100 ? 0 : n >= 10 ? 1 : 2)}${u.names[i]}`;
}

// yScale runs from zero to a round number at or above max, in the prefix
// max is shown with, with 3 to 5 ticks a round step apart; zero needs no
// unit. A top of at least one unit keeps an idle series from sitting on a
// scale of nothing.
function yScale(u, max) {
  const i = magnitude(u, max);
  const div = u.base ** i;
  const m = Math.max(max / div, 1);
  const step = niceStep(m / 4);
  const n = Math.ceil(m / step - 1e-9);
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  return {
    top: n * step * div,
    ticks: Array.from({ length: n + 1 }, (_, k) => ({ v: k * step * div, label: k ? `${+(k * step).toFixed(digits)}${u.names[i]}` : '0' })),
  };
}

// niceStep is the least of 1, 2 and 5 times a power of ten not below raw.
function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((f) => f * p).find((s) => s >= raw);
}
