/**
 * Server CPU and memory during a run, scraped from the target's Prometheus `/metrics` (prom-client's default
 * process metrics, src/server/observability/metrics.ts): CPU cores in use = Δprocess_cpu_seconds_total /
 * Δwall time, RSS = process_resident_memory_bytes. A target without them (or one that is down, as in a
 * failover) leaves gaps, never invented numbers. A counter that goes backwards means a restarted process:
 * that interval is skipped. surgevec's degradation level (`surgevec_admission_level`) is read too when present,
 * so a burst's report shows when the ladder climbed and when it was back at 0.
 */
import { request } from 'undici';
import { sampleValue } from './prometheus.js';

export interface ServerSeries {
  /** Run seconds of each sample. */
  t: number[];
  cpu_cores: (number | null)[];
  rss_mb: (number | null)[];
  level?: (number | null)[];
}

export class MetricsScraper {
  readonly series: ServerSeries = { t: [], cpu_cores: [], rss_mb: [], level: [] };
  private timer: NodeJS.Timeout | undefined;
  private last: { wall: number; cpu: number } | undefined;
  private inFlight = false;
  available = false;

  constructor(
    private readonly base: string,
    private readonly intervalS: number,
    private readonly runTime: () => number,
  ) {}

  /** One scrape now (also the baseline before the run). */
  async scrape(): Promise<{ cpuS?: number; rssBytes?: number; level?: number } | undefined> {
    try {
      const res = await request(`${this.base}/metrics`, { headersTimeout: 2000, bodyTimeout: 2000 });
      const text = await res.body.text();
      if (res.statusCode !== 200) return undefined;
      const cpu = sampleValue(text, 'process_cpu_seconds_total');
      const rss = sampleValue(text, 'process_resident_memory_bytes');
      if (cpu === undefined && rss === undefined) return undefined;
      this.available = true;
      const level = sampleValue(text, 'surgevec_admission_level');
      return {
        ...(cpu !== undefined ? { cpuS: cpu } : {}),
        ...(rss !== undefined ? { rssBytes: rss } : {}),
        ...(level !== undefined ? { level } : {}),
      };
    } catch {
      return undefined;
    }
  }

  private async tick(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const wall = performance.now();
      const s = await this.scrape();
      const t = Math.round(this.runTime() / 100) / 10;
      let cores: number | null = null;
      if (s?.cpuS !== undefined) {
        if (this.last && s.cpuS >= this.last.cpu && wall > this.last.wall)
          cores = Math.round(((s.cpuS - this.last.cpu) / ((wall - this.last.wall) / 1000)) * 1000) / 1000;
        this.last = { wall, cpu: s.cpuS };
      } else {
        this.last = undefined;
      }
      this.series.t.push(t);
      this.series.cpu_cores.push(cores);
      this.series.rss_mb.push(s?.rssBytes !== undefined ? Math.round(s.rssBytes / 1048576) : null);
      this.series.level?.push(s?.level ?? null);
    } finally {
      this.inFlight = false;
    }
  }

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalS * 1000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.tick();
  }
}
