/**
 * The report views of one run file. The HTML is opened in real Chromium (Debian's, via playwright-core): it
 * must render every chart from inlined uPlot with no network request and no script error, and show the SLA
 * verdict. Markdown, console and compare read the same file; a file of another schema or version is refused.
 * The fixture is a real run (failover scenario, synthetic data) written by `surgevec bench run`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareMarkdown } from '../../src/bench/report/compare.js';
import { ms } from '../../src/bench/report/format.js';
import { CHART_IDS, htmlReport } from '../../src/bench/report/html.js';
import { parseRunFile, type RunFile } from '../../src/bench/report/run-file.js';
import { consoleSummary, markdownReport } from '../../src/bench/report/text.js';
import { SurgeError } from '../../src/protocol/errors.js';

/** The little of the DOM the checks read (this project compiles without the DOM library). */
interface El {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  width: number;
  height: number;
  querySelector(s: string): El | null;
  querySelectorAll(s: string): Iterable<El> & { length: number };
}
interface Doc {
  body: El;
  getElementById(id: string): El | null;
  querySelectorAll(s: string): { length: number };
}

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/run-failover.json', import.meta.url), 'utf8'),
) as unknown;
const dir = mkdtempSync(join(tmpdir(), 'surgevec-report-'));
let browser: Browser;

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function render(run: RunFile, name: string) {
  const file = join(dir, `${name}.html`);
  writeFileSync(file, htmlReport(run));
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`file://${file}`);
  await page.waitForFunction(
    () => (globalThis as unknown as { document: Doc }).document.body.dataset.charts !== undefined,
    null,
    { timeout: 15_000 },
  );
  const result = await page.evaluate(
    (ids) => {
      const document = (globalThis as unknown as { document: Doc }).document;
      const charts = ids.map((id) => {
        const box = document.getElementById(`chart-${id}`);
        const canvas = box?.querySelector('canvas');
        return {
          id,
          rendered: box?.dataset.rendered === '1',
          title: box?.querySelector('h3')?.textContent ?? '',
          canvas: canvas ? { w: canvas.width, h: canvas.height } : null,
          legend: [...(box?.querySelectorAll('.u-legend .u-label') ?? [])].map((e) => e.textContent),
        };
      });
      const v = document.getElementById('verdict');
      return {
        count: document.body.dataset.charts,
        charts,
        verdict: v?.textContent,
        pass: v?.dataset.pass,
        verdictRows: document.querySelectorAll('#verdicts tr').length,
      };
    },
    [...CHART_IDS],
  );
  await page.close();
  return { ...result, errors, requests };
}

describe('run file → reports', () => {
  it('the fixture is a valid v1 run file', () => {
    const run = parseRunFile(fixture, 'run-failover.json');
    expect(run.scenario.name).toBe('failover');
    expect(run.pass).toBe(false);
  });

  it('HTML renders every chart in Chromium, offline, with the verdict', async () => {
    const run = parseRunFile(fixture, 'fixture');
    const r = await render(run, 'fail');
    expect(r.errors).toEqual([]);
    expect(r.requests.every((u) => u.startsWith('file:') || u.startsWith('data:'))).toBe(true);
    expect(r.count).toBe(String(CHART_IDS.length));
    for (const c of r.charts) {
      expect(c.rendered, c.id).toBe(true);
      expect(c.canvas!.w, c.id).toBeGreaterThan(300);
      expect(c.canvas!.h, c.id).toBeGreaterThan(100);
    }
    expect(r.charts.find((c) => c.id === 'latency')!.legend).toEqual(
      expect.arrayContaining(['p50', 'p99', 'offered req/s (right axis)']),
    );
    expect(r.verdict).toBe('SLA FAIL');
    expect(r.pass).toBe('false');
    expect(r.verdictRows).toBe(1 + run.verdicts.length);

    const ok = await render(
      { ...run, pass: true, verdicts: run.verdicts.map((v) => ({ ...v, pass: true })) },
      'pass',
    );
    expect(ok.verdict).toBe('SLA PASS');
    expect(ok.errors).toEqual([]);
  });

  it('Markdown, console and compare are views of the same numbers', () => {
    const run = parseRunFile(fixture, 'fixture');
    const md = markdownReport(run);
    expect(md).toMatch(/^# failover: FAIL/);
    expect(md).toContain(`| p99 < 50 ms | ${ms(run.summary.latency_ms.p99)} | FAIL |`);
    expect(md).toContain('failover.recovery_s');
    expect(consoleSummary(run)).toContain('FAIL  error rate < 0.1%');
    const better = structuredClone(run);
    better.summary.latency_ms.p99 = run.summary.latency_ms.p99 / 2;
    const cmp = compareMarkdown(run, better, 'a', 'b');
    expect(cmp).toMatch(/\| latency p99 \| .* \| .* \| -50\.0% better \|/);
  });

  it('refuses files of another schema or version', () => {
    const e = (v: unknown) => {
      try {
        parseRunFile(v, 'x.json');
      } catch (err) {
        return err as SurgeError;
      }
      throw new Error('accepted');
    };
    expect(e({ schema: 'k6' }).code).toBe('INVALID_RUN_FILE');
    expect(e({ ...(fixture as object), version: 2 }).message).toMatch(
      /version 2; this surgevec reads version 1/,
    );
    expect(e({ ...(fixture as object), summary: {} }).message).toMatch(/summary\./);
    expect(e({ schema: 'k6' })).toBeInstanceOf(SurgeError);
  });
});
