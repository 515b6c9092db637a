/**
 * Search latency over fixed windows (HdrHistogram, µs resolution to 2 significant digits): the p99 the ef
 * controller and the ladder act on. A window, not an all-time histogram, so a burst that has ended stops
 * counting as soon as its window closes.
 */
import { build, type Histogram } from 'hdr-histogram-js';

export class LatencyWindow {
  private readonly h: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 2,
  });

  record(ms: number): void {
    this.h.recordValue(Math.min(600_000_000, Math.max(1, Math.round(ms * 1000))));
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** p99 in ms (0 when empty), then the window starts over. */
  close(): { p99Ms: number; count: number } {
    const count = this.h.totalCount;
    const p99Ms = count === 0 ? 0 : this.h.getValueAtPercentile(99) / 1000;
    this.h.reset();
    return { p99Ms, count };
  }
}
