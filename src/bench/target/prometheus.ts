/** Reads single values out of Prometheus text exposition (what /metrics serves). Enough for unlabelled gauges. */

/** The value of the first sample of `name` (any labels), or undefined. */
export function sampleValue(text: string, name: string): number | undefined {
  const re = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)`, 'm');
  const m = re.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  return Number.isFinite(v) ? v : undefined;
}
