/** Number formatting shared by the text views (console, Markdown, HTML tables). */

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
  if (v >= 100) return `${v.toFixed(0)} ms`;
  if (v >= 10) return `${v.toFixed(1)} ms`;
  return `${v.toFixed(2)} ms`;
}

export function int(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return Math.round(v).toLocaleString('en-US');
}

export function rate(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return `${v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1)}/s`;
}

export function pct(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined) return '–';
  return `${(v * 100).toFixed(digits)}%`;
}

export function num(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined) return '–';
  return String(+v.toFixed(digits));
}

export function verdictMark(pass: boolean | null): string {
  return pass === null ? 'n/a' : pass ? 'PASS' : 'FAIL';
}

/** The value a verdict shows, in the verdict's own unit. */
export function verdictActual(name: string, actual: number | null): string {
  if (actual === null) return 'not measured';
  if (name === 'error_rate') return pct(actual, 3);
  if (name === 'recall') return actual.toFixed(4);
  return ms(actual);
}
