/**
 * The self-contained HTML report: one file, no network — uPlot's script and CSS are inlined from
 * node_modules/uplot/dist and the run's data is embedded as JSON, so it opens from disk, in CI artifacts and
 * offline. Charts: latency over time with the offered rate, the percentile curve, throughput, recall, errors,
 * and server CPU/RSS. The page marks `body[data-charts]` with how many charts rendered (the rendering test
 * checks it in real Chromium).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { int, ms, num, pct, rate, verdictActual, verdictMark } from './format.js';
import type { RunFile } from './run-file.js';
import { flattenExtras, withoutEvents } from './text.js';

export const CHART_IDS = ['latency', 'percentiles', 'throughput', 'recall', 'errors', 'server'] as const;

function uplotAssets(): { js: string; css: string } {
  const require = createRequire(import.meta.url);
  return {
    js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that is safe inside <script>: no "</script>", no HTML comment openers. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function card(label: string, value: string, cls = ''): string {
  return `<div class="card ${cls}"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div></div>`;
}

const CSS = `
:root { --fg:#1d2330; --muted:#5b6474; --line:#e3e6ec; --pass:#137333; --fail:#c5221f; --bg:#f7f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; }
header { display: flex; align-items: center; gap: 18px; flex-wrap: wrap; }
h1 { font-size: 24px; margin: 0; }
h2 { font-size: 17px; margin: 28px 0 10px; }
.sub { color: var(--muted); margin: 6px 0 0; }
.verdict { font-weight: 700; font-size: 18px; padding: 6px 16px; border-radius: 6px; color: #fff; letter-spacing: .04em; }
.verdict.pass { background: var(--pass); } .verdict.fail { background: var(--fail); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; margin-top: 18px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-weight: 600; margin-top: 2px; white-space: nowrap; }
.card.bad .value { color: var(--fail); } .card.good .value { color: var(--pass); }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
.chart { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px 6px; min-width: 0; }
.chart.wide { grid-column: 1 / -1; }
.chart h3 { margin: 0 0 2px; font-size: 15px; }
.chart p.note { margin: 0 0 6px; color: var(--muted); font-size: 12.5px; }
.chart .plot { width: 100%; }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); width: 100%; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.PASS { color: var(--pass); font-weight: 700; } td.FAIL { color: var(--fail); font-weight: 700; } td.na { color: var(--muted); }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
ul.recs { padding-left: 18px; } ul.recs li { margin: 6px 0; }
.sev { font-size: 11px; text-transform: uppercase; padding: 1px 6px; border-radius: 4px; background: #e8eaed; margin-right: 6px; }
.sev.critical { background: #fce8e6; color: var(--fail); } .sev.warn { background: #fef7e0; color: #8a5a00; }
details pre { background: #fff; border: 1px solid var(--line); padding: 10px; overflow: auto; font-size: 12px; }
.u-legend { font-size: 12.5px; } .u-legend .u-marker { width: 14px; height: 4px; }
@media (max-width: 900px) { .charts, .two { grid-template-columns: 1fr; } }
`;

/** Runs in the page: builds the six uPlot charts from RUN. Plain ES2017, no modules. */
const CLIENT = `
(function () {
  var run = JSON.parse(document.getElementById('run-data').textContent);
  var s = run.series, slo = run.slo;
  var events = (run.extras && run.extras.events) || [];
  var made = 0;
  var C = { p50: '#1a73e8', p90: '#12a4af', p99: '#e8710a', max: '#9aa0a6', slo: '#c5221f', rate: '#8e44ad',
    ok: '#137333', good: '#34a853', done: '#1a73e8', offered: '#8e44ad', svc: '#12a4af', rss: '#8e44ad', cpu: '#1a73e8' };
  function width(el) { return Math.max(320, el.clientWidth - 4); }
  function fill(arr, v) { return arr.map(function () { return v; }); }
  function fmtMs(v) { return v == null ? '–' : v >= 1000 ? (v / 1000).toFixed(2) + ' s' : v >= 10 ? v.toFixed(0) + ' ms' : v.toFixed(1) + ' ms'; }
  function msAxis(u, vals) { return vals.map(function (v) { return v == null ? '' : v >= 1000 ? (v / 1000) + ' s' : v < 1 ? v + ' ms' : v + ' ms'; }); }
  function eventsPlugin() {
    return { hooks: { draw: [function (u) {
      if (!events.length) return;
      var ctx = u.ctx; ctx.save(); ctx.strokeStyle = '#c5221f'; ctx.fillStyle = '#c5221f'; ctx.setLineDash([4, 3]); ctx.lineWidth = 1.5;
      ctx.font = (11 * devicePixelRatio) + 'px sans-serif';
      events.forEach(function (e) {
        var x = u.valToPos(e.t_s, 'x', true);
        if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
        ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
        // Labels go right of their line, or left of it near the right edge, so they are never clipped.
        var w = ctx.measureText(e.label).width, pad = 4 * devicePixelRatio;
        var lx = x + pad + w > u.bbox.left + u.bbox.width ? x - pad - w : x + pad;
        ctx.fillText(e.label, lx, u.bbox.top + 12 * devicePixelRatio);
      });
      ctx.restore();
    }] } };
  }
  function chart(id, opts, data) {
    var el = document.querySelector('#chart-' + id + ' .plot');
    // Markers on every second of a long run are noise: lines only, unless a series asks for points.
    if (data[0].length > 40) opts.series.forEach(function (s, i) { if (i > 0 && !s.points) s.points = { show: false }; });
    opts.width = width(el); opts.height = opts.height || 260;
    opts.plugins = (opts.plugins || []).concat([eventsPlugin()]);
    opts.cursor = { drag: { x: true, y: false } };
    // Values follow the cursor only on hover; a static view (print, screenshot) shows clean labels.
    opts.legend = { live: false };
    var u = new uPlot(opts, data, el);
    el.parentNode.dataset.rendered = '1';
    made++;
    window.addEventListener('resize', function () { u.setSize({ width: width(el), height: opts.height }); });
    return u;
  }
  var secAxis = { label: 'run time (s)', labelSize: 18, size: 36 };
  // A per-second column covers [t, t+1): plot it at its middle. The last one may cover less than a second
  // (the run ends mid-second): its counts are scaled to a rate so the line does not fall off a cliff.
  var elapsed = run.summary.elapsed_s;
  var t = s.t.map(function (x) { return x + 0.5; });
  var lastSpan = Math.min(1, Math.max(0.05, elapsed - s.t[s.t.length - 1]));
  function perSec(arr) { return arr.map(function (v, i) { return i === arr.length - 1 && v != null ? v / lastSpan : v; }); }
  var rateSeries = s.rate && s.rate.some(function (v) { return v != null; }) ? s.rate : null;

  chart('latency', {
    scales: { x: { time: false }, ms: { distr: 3 }, rps: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.1]; } } },
    axes: [secAxis,
      { scale: 'ms', label: 'latency', labelSize: 18, size: 64, values: msAxis },
      { scale: 'rps', side: 1, label: 'offered req/s', labelSize: 18, size: 60, grid: { show: false }, stroke: C.rate }],
    series: [{ label: 't (s)' },
      { label: 'p50', scale: 'ms', stroke: C.p50, width: 2, value: function (u, v) { return fmtMs(v); } },
      { label: 'p90', scale: 'ms', stroke: C.p90, width: 1.5, value: function (u, v) { return fmtMs(v); } },
      { label: 'p99', scale: 'ms', stroke: C.p99, width: 2.5, value: function (u, v) { return fmtMs(v); } },
      { label: 'max', scale: 'ms', stroke: C.max, width: 1, dash: [3, 3], value: function (u, v) { return fmtMs(v); } },
      { label: 'SLO p99 ' + slo.p99_ms + ' ms', scale: 'ms', stroke: C.slo, width: 1.5, dash: [8, 4], points: { show: false } },
      { label: 'offered req/s (right axis)', scale: 'rps', stroke: C.rate, width: 1.5, dash: [6, 3], points: { show: false } }],
  }, [t, s.lat_p50, s.lat_p90, s.lat_p99, s.lat_max, fill(t, slo.p99_ms), rateSeries || perSec(s.offered)]);

  var lc = run.histograms.latency_curve, sc = run.histograms.service_curve;
  function nines(p) { return p >= 100 ? null : -Math.log10(1 - p / 100); }
  var xs = [], lat = [], svc = [];
  lc.forEach(function (pt, i) {
    var x = nines(pt[0]);
    if (x == null) x = (xs.length ? xs[xs.length - 1] : 0) + 0.3;
    xs.push(x); lat.push(pt[1]); svc.push(sc[i] ? sc[i][1] : null);
  });
  var ticks = [[0.30103, '50%'], [1, '90%'], [2, '99%'], [3, '99.9%'], [4, '99.99%'], [5, '99.999%']];
  chart('percentiles', {
    scales: { x: { time: false }, ms: { distr: 3 } },
    axes: [{ label: 'percentile', labelSize: 18, size: 36,
        splits: function (u, ai, min, max) { return ticks.map(function (t) { return t[0]; }).filter(function (v) { return v >= min && v <= max; }); },
        values: function (u, vals) { return vals.map(function (v) { var f = ticks.filter(function (t) { return Math.abs(t[0] - v) < 1e-6; })[0]; return f ? f[1] : ''; }); } },
      { scale: 'ms', label: 'latency', labelSize: 18, size: 64, values: msAxis }],
    series: [{ label: 'nines', value: function (u, v) { return v == null ? '–' : (100 * (1 - Math.pow(10, -v))).toFixed(3) + '%'; } },
      { label: 'latency (from intended start)', scale: 'ms', stroke: C.p99, width: 2.5, value: function (u, v) { return fmtMs(v); } },
      { label: 'service time (from dispatch)', scale: 'ms', stroke: C.svc, width: 2, dash: [6, 3], value: function (u, v) { return fmtMs(v); } },
      { label: 'SLO p99', scale: 'ms', stroke: C.slo, width: 1.5, dash: [8, 4], points: { show: false } }],
  }, [xs, lat, svc, fill(xs, slo.p99_ms)]);

  chart('throughput', {
    scales: { x: { time: false }, rps: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.08]; } },
      q: { range: function (u, min, max) { return [0, Math.max(4, max) * 1.1]; } } },
    axes: [secAxis, { scale: 'rps', label: 'requests/s', labelSize: 18, size: 60 },
      { scale: 'q', side: 1, label: 'in flight', labelSize: 18, size: 56, grid: { show: false }, stroke: '#777' }],
    series: [{ label: 't (s)' },
      { label: 'offered', scale: 'rps', stroke: 'rgba(142,68,173,0.45)', width: 5 },
      { label: 'completed', scale: 'rps', stroke: C.done, width: 2 },
      { label: 'ok', scale: 'rps', stroke: C.ok, width: 1.5 },
      { label: 'goodput (ok ≤ ' + slo.p99_ms + ' ms)', scale: 'rps', stroke: C.good, width: 2, fill: 'rgba(52,168,83,0.10)' },
      { label: 'in flight + queued (right axis)', scale: 'q', stroke: '#777', width: 1, dash: [2, 2], points: { show: false } }],
  }, [t, perSec(s.offered), perSec(s.completed), perSec(s.ok), perSec(s.goodput), s.in_flight]);

  var rec = s.recall.filter(function (v) { return v != null; });
  var lo = Math.min.apply(null, rec.concat([slo.recall - 0.05]));
  chart('recall', {
    scales: { x: { time: false }, r: { range: [Math.max(0, Math.floor(lo * 20) / 20), 1.0] } },
    axes: [secAxis, { scale: 'r', label: 'recall@' + (run.summary.recall ? run.summary.recall.k : 10), labelSize: 18, size: 56 }],
    series: [{ label: 't (s)' },
      { label: 'recall (mean of samples per second)', scale: 'r', stroke: C.ok, width: 2, points: { show: true, size: 4 } },
      { label: 'SLO ' + slo.recall, scale: 'r', stroke: C.slo, width: 1.5, dash: [8, 4], points: { show: false } }],
  }, [t, s.recall, fill(t, slo.recall)]);

  var palette = { throttled_429: '#e8710a', overloaded_503: '#c5221f', client_4xx: '#9334e6', server_5xx: '#a50e0e', timeout: '#5f6368', network: '#1a73e8' };
  var eSeries = [{ label: 't (s)' }], eData = [t];
  Object.keys(s.errors_by_class).forEach(function (k) {
    if (s.errors_by_class[k].some(function (v) { return v > 0; })) {
      eSeries.push({ label: k, stroke: palette[k] || '#333', width: 2 }); eData.push(perSec(s.errors_by_class[k]));
    }
  });
  eSeries.push({ label: 'dropped (never sent)', stroke: '#000', width: 1.5, dash: [4, 3] }); eData.push(s.dropped);
  eSeries.push({ label: 'late starts (generator behind)', stroke: '#f9ab00', width: 1, dash: [2, 2] }); eData.push(s.late);
  chart('errors', {
    scales: { x: { time: false }, y: { range: function (u, min, max) { return [0, Math.max(5, max) * 1.1]; } } },
    axes: [secAxis, { label: 'per second', labelSize: 18, size: 56 }],
    series: eSeries,
  }, eData);

  var ss = run.server_series || { t: [0], cpu_cores: [null], rss_mb: [null] };
  chart('server', {
    scales: { x: { time: false }, cpu: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.15]; } },
      mb: { range: function (u, min, max) { return [0, Math.max(64, max) * 1.15]; } } },
    axes: [secAxis, { scale: 'cpu', label: 'CPU cores', labelSize: 18, size: 56 },
      { scale: 'mb', side: 1, label: 'RSS MB', labelSize: 18, size: 64, grid: { show: false }, stroke: C.rss }],
    series: [{ label: 't (s)' },
      { label: 'server CPU (cores)', scale: 'cpu', stroke: C.cpu, width: 2 },
      { label: 'server RSS (MB)', scale: 'mb', stroke: C.rss, width: 2 }],
  }, [ss.t, ss.cpu_cores, ss.rss_mb]);

  document.body.dataset.charts = String(made);
})();
`;

export function htmlReport(r: RunFile): string {
  const { js, css } = uplotAssets();
  const s = r.summary;
  const p = s.latency_ms;
  const v = Object.fromEntries(r.verdicts.map((x) => [x.name, x.pass]));
  const cls = (pass: boolean | null | undefined) => (pass === false ? 'bad' : pass ? 'good' : '');
  const title = `${r.scenario.name} — surgevec bench`;
  const chartBox = (id: string, h: string, note: string, wide = false) =>
    `<div class="chart${wide ? ' wide' : ''}" id="chart-${id}"><h3>${esc(h)}</h3><p class="note">${esc(note)}</p><div class="plot"></div></div>`;
  const verdictRows = r.verdicts
    .map((x) => {
      const m = verdictMark(x.pass);
      return `<tr><td>${esc(x.rule)}</td><td>${esc(verdictActual(x.name, x.actual))}</td><td class="${m === 'n/a' ? 'na' : m}">${m}</td></tr>`;
    })
    .join('');
  const summaryRows: Array<[string, string]> = [
    [
      'scheduled / ok / errors',
      `${int(s.requests.scheduled)} / ${int(s.requests.ok)} / ${int(s.requests.errors)}`,
    ],
    [
      'dropped / unsent / late starts',
      `${int(s.requests.dropped)} / ${int(s.requests.unsent)} / ${int(s.requests.late_starts)}`,
    ],
    [
      'offered / throughput / goodput',
      `${rate(s.rates.offered_rps)} / ${rate(s.rates.throughput_rps)} / ${rate(s.rates.goodput_rps)}`,
    ],
    [
      'latency p50 / p90 / p95 / p99 / p99.9 / max',
      [p.p50, p.p90, p.p95, p.p99, p.p999, p.max].map(ms).join(' / '),
    ],
    [
      'service time p50 / p99 / max',
      [s.service_ms.p50, s.service_ms.p99, s.service_ms.max].map(ms).join(' / '),
    ],
    [
      'errors by status',
      Object.entries(s.errors.by_status)
        .map(([k, n]) => `${k === '0' ? 'no answer' : k}: ${n}`)
        .join(', ') || '–',
    ],
    [
      'errors by code',
      Object.entries(s.errors.by_code)
        .map(([k, n]) => `${k}: ${n}`)
        .join(', ') || '–',
    ],
    [
      'Retry-After',
      s.retry_after.count
        ? `${s.retry_after.count} answers, mean ${s.retry_after.mean_s} s, max ${s.retry_after.max_s} s`
        : '–',
    ],
    [
      'refusals (429/503)',
      s.refusals?.latency_ms.count
        ? `${s.refusals.latency_ms.count}: latency p50 ${ms(s.refusals.latency_ms.p50)}, p99 ${ms(s.refusals.latency_ms.p99)}; service p99 ${ms(s.refusals.service_ms.p99)}; server p99 ${s.refusals.server_ms?.count ? ms(s.refusals.server_ms.p99) : '–'}`
        : '–',
    ],
    [
      'server CPU mean / max',
      s.server
        ? `${num(s.server.cpu_cores_mean, 2)} / ${num(s.server.cpu_cores_max, 2)} cores`
        : 'not scraped',
    ],
    [
      'server RSS start / max / end',
      s.server
        ? `${int(s.server.rss_mb_start)} / ${int(s.server.rss_mb_max)} / ${int(s.server.rss_mb_end)} MB`
        : 'not scraped',
    ],
    [
      'cost',
      s.cost
        ? `$${num(s.cost.usd_per_million_requests, 4)} per million requests (${s.cost.cores} cores × $${s.cost.usd_per_core_hour}/core-hour)`
        : '–',
    ],
    [
      'generator',
      `event loop ${pct(s.generator.event_loop_utilization, 0)} busy; timer lag p99 ${ms(s.timer_lag_ms.p99)}`,
    ],
    ...flattenExtras(withoutEvents(r.extras)),
  ];
  const tenants = s.by_tenant.length
    ? `<h2>Tenants</h2><table><tr><th>tenant</th><th>requests</th><th>dropped</th><th>success</th><th>goodput</th><th>p50</th><th>p99</th><th>p99.9</th><th>refusals</th><th>refusal p99</th></tr>${s.by_tenant
        .map(
          (t) =>
            `<tr><td>${esc(t.name)}</td><td>${t.count}</td><td>${t.dropped ?? 0}</td><td>${t.success_ratio === undefined ? '–' : pct(t.success_ratio, 2)}</td><td>${t.goodput ?? '–'}</td><td>${ms(t.latency_ms.p50)}</td><td>${ms(t.latency_ms.p99)}</td><td>${ms(t.latency_ms.p999)}</td><td>${t.refusal_ms?.count ?? 0}</td><td>${t.refusal_ms?.count ? ms(t.refusal_ms.p99) : '–'}</td></tr>`,
        )
        .join('')}</table>`
    : '';
  const anomalies = r.anomalies.length
    ? `<table><tr><th>series</th><th>seconds</th><th>direction</th><th>peak</th><th>expected</th><th>z</th></tr>${r.anomalies
        .map(
          (a) =>
            `<tr><td>${esc(a.series)}</td><td>${a.from_s}–${a.to_s}</td><td>${a.direction}</td><td>${num(a.peak)}</td><td>${num(a.expected)}</td><td>${a.z}</td></tr>`,
        )
        .join('')}</table>`
    : '<p>None flagged.</p>';
  const recs = r.recommendations.length
    ? `<ul class="recs">${r.recommendations.map((x) => `<li><span class="sev ${x.severity}">${x.severity}</span><b>${esc(x.rule)}</b>: ${esc(x.message)}</li>`).join('')}</ul>`
    : '<p>None.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${css}</style><style>${CSS}</style></head>
<body><main>
<header><h1>${esc(r.scenario.name)}</h1><span id="verdict" class="verdict ${r.pass ? 'pass' : 'fail'}" data-pass="${r.pass}">${r.pass ? 'SLA PASS' : 'SLA FAIL'}</span></header>
<p class="sub">${esc(String(r.scenario.description ?? ''))}</p>
<p class="sub">${esc(r.started_at)} · ${esc(r.target.url)}${r.target.server?.version ? ` (${esc(r.target.server.title ?? 'server')} ${esc(r.target.server.version)})` : ''} · ${esc(r.dataset.about)} · ${num(s.elapsed_s, 1)} s${r.stopped_early ? ' (stopped early)' : ''}</p>
<p class="sub">Host: ${r.host.cpus} CPUs (${esc(r.host.cpu_model)}), ${r.host.memory_gb} GB. ${esc(r.host.note)}</p>
<div class="cards">
${card('p50', ms(p.p50), cls(v.p50))}${card('p99', ms(p.p99), cls(v.p99))}${card('p99.9', ms(p.p999))}${card('throughput', rate(s.rates.throughput_rps))}${card('goodput', rate(s.rates.goodput_rps))}${card('error rate', pct(s.error_rate, 3), cls(v.error_rate))}${card('recall', s.recall ? s.recall.mean.toFixed(4) : 'n/a', cls(v.recall))}
</div>
<h2>Charts</h2>
<div class="charts">
${chartBox('latency', 'Latency over time, with the offered rate', 'Per second of intended start: what requests arriving then experienced (log scale). Dashed red: SLO p99.', true)}
${chartBox('percentiles', 'Latency percentiles', 'Whole run. Latency counts from the intended start; service time from dispatch — the gap is queueing.')}
${chartBox('throughput', 'Throughput', 'Per second of completion. Goodput = successes within the SLO p99.')}
${chartBox('recall', 'Recall over time', 'Sampled searches scored against exact ground truth.')}
${chartBox('errors', 'Errors and dropped requests', 'Errors by class per second of completion; dropped = never sent (over max_in_flight).')}
${chartBox('server', 'Server CPU and memory', 'Scraped from the target’s /metrics (process_cpu_seconds_total, process_resident_memory_bytes).', true)}
</div>
<div class="two">
<div><h2>SLA verdicts</h2><table id="verdicts"><tr><th>threshold</th><th>actual</th><th>verdict</th></tr>${verdictRows}</table></div>
<div><h2>Summary</h2><table>${summaryRows.map(([k, x]) => `<tr><th>${esc(k)}</th><td>${esc(x)}</td></tr>`).join('')}</table></div>
</div>
${tenants}
<h2>Anomalies (EWMA z-score)</h2>${anomalies}
<h2>Recommendations</h2>${recs}
${r.notes.length ? `<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
<h2>Scenario</h2><details><summary>resolved scenario (JSON)</summary><pre>${esc(JSON.stringify(r.scenario, null, 2))}</pre></details>
</main>
<script id="run-data" type="application/json">${scriptJson(r)}</script>
<script>${js}</script>
<script>${CLIENT}</script>
</body></html>
`;
}
