#!/usr/bin/env node
/**
 * Adds lock entries for platform-specific optional packages (other OSes/CPUs) that this machine's npm
 * registry mirror does not serve. npm install silently leaves them out when it cannot fetch their
 * manifests, and `npm ci` then refuses the lock as "out of sync" (seen with @biomejs/cli-* and
 * @rollup/rollup-*). The entries carry only version/os/cpu/libc: npm ci never downloads a package for
 * another platform, so no integrity is needed. Run after every `npm install`:  node scripts/complete-lockfile.mjs
 */
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const pk = lock.packages;
const OS = ['darwin', 'win32', 'android', 'freebsd', 'openbsd', 'openharmony', 'sunos', 'aix', 'linux'];
const CPU = ['arm64', 'x64', 'ia32', 'loong64', 'ppc64', 'riscv64', 's390x', 'arm'];
let added = 0;
for (const [path, meta] of Object.entries(pk)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    if (pk[`node_modules/${name}`]) continue;
    const base = name.split('/').pop();
    const parts = base.split('-');
    const os = OS.find((o) => parts.includes(o));
    const cpu = CPU.find((c) => parts.includes(c));
    if (!os || !cpu) {
      console.error(
        `skipped ${name}: cannot tell its platform from the name (declared by ${path || 'root'})`,
      );
      continue;
    }
    const entry = { version, cpu: [cpu], os: [os], optional: true };
    if (meta.dev) entry.dev = true;
    if (parts.includes('musl')) entry.libc = ['musl'];
    else if (os === 'linux' && (parts.includes('gnu') || parts.includes('gnueabihf'))) entry.libc = ['glibc'];
    pk[`node_modules/${name}`] = entry;
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(pk).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} platform entries added`);
