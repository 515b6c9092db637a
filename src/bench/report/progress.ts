/**
 * The live console line (cli-progress, on stderr so stdout stays for the summary): elapsed time against the
 * duration, offered and achieved rate of the last second, p50/p99 of the last closed second, errors and
 * drops so far. Off a TTY it prints a plain line every 5 s instead of redrawing.
 */
import cliProgress from 'cli-progress';
import type { Recorder } from '../generator/recorder.js';

export class LiveLine {
  private readonly bar: cliProgress.SingleBar;

  constructor(
    private readonly durationS: number,
    stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format:
          '{bar} {elapsed}/{total} s | offered {offered}/s achieved {achieved}/s | p50 {p50} p99 {p99} | errors {errors} dropped {dropped}',
        barsize: 20,
        hideCursor: true,
        noTTYOutput: true,
        notTTYSchedule: 5000,
        etaBuffer: 1,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  start(): void {
    this.bar.start(Math.ceil(this.durationS), 0, {
      elapsed: 0,
      offered: 0,
      achieved: 0,
      p50: '–',
      p99: '–',
      errors: 0,
      dropped: 0,
    });
  }

  update(elapsedMs: number, rec: Recorder): void {
    const { counts, series, closedSeconds } = rec.snapshot();
    const sec = Math.floor(elapsedMs / 1000) - 1;
    const last = closedSeconds - 1;
    const fmt = (v: number | null | undefined) =>
      v === null || v === undefined ? '–' : v >= 1000 ? `${(v / 1000).toFixed(1)}s` : `${v.toFixed(1)}ms`;
    this.bar.update(Math.min(Math.ceil(this.durationS), Math.floor(elapsedMs / 1000)), {
      elapsed: Math.floor(elapsedMs / 1000),
      offered: series.offered[sec] ?? 0,
      achieved: series.completed[sec] ?? 0,
      p50: fmt(last >= 0 ? series.lat_p50[last] : null),
      p99: fmt(last >= 0 ? series.lat_p99[last] : null),
      errors: counts.errors,
      dropped: counts.dropped,
    });
  }

  stop(): void {
    this.bar.stop();
  }
}
