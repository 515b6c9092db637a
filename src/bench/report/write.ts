/** Writes a run's three files side by side: <id>.json (the run file), <id>.md and <id>.html (its views). */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { htmlReport } from './html.js';
import type { RunFile } from './run-file.js';
import { markdownReport } from './text.js';

export interface WrittenRun {
  json: string;
  md: string;
  html: string;
}

export async function writeRunOutputs(run: RunFile, outDir: string): Promise<WrittenRun> {
  await mkdir(outDir, { recursive: true });
  const files = {
    json: join(outDir, `${run.id}.json`),
    md: join(outDir, `${run.id}.md`),
    html: join(outDir, `${run.id}.html`),
  };
  await writeFile(files.json, `${JSON.stringify(run, null, 1)}\n`);
  await writeFile(files.md, markdownReport(run));
  await writeFile(files.html, htmlReport(run));
  return files;
}
