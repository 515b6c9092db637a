/**
 * Import rules of docs/ARCHITECTURE.md. A forbidden import fails `npm test`
 * (test/architecture.test.ts also proves the rule set bites on a planted violation).
 */
const layer = (name) => `^src/${name}/`;
const allow = {
  protocol: [],
  config: ['protocol'],
  platform: ['protocol'],
  engine: ['protocol', 'config', 'platform'],
  admission: ['protocol', 'config', 'platform'],
  subscriptions: ['engine', 'protocol', 'config', 'platform'],
  server: ['engine', 'admission', 'subscriptions', 'protocol', 'config', 'platform'],
  cluster: ['engine', 'server', 'client', 'protocol', 'config', 'platform'],
  autoscale: ['client', 'protocol', 'config', 'platform'],
  client: ['protocol'],
  bench: ['client', 'protocol', 'config', 'platform', 'engine'],
};
const layers = [...Object.keys(allow), 'cli'];

const forbidden = Object.entries(allow).map(([from, ok]) => ({
  name: `${from}-imports`,
  comment: `src/${from} may import only: ${ok.join(', ') || 'nothing internal'}`,
  severity: 'error',
  from: { path: layer(from) },
  to: { path: `^src/(${layers.filter((l) => l !== from && !ok.includes(l)).join('|')})/` },
}));

forbidden.push(
  {
    name: 'nothing-imports-cli',
    severity: 'error',
    from: { path: '^src/', pathNot: '^src/cli/' },
    to: { path: '^src/cli/' },
  },
  {
    // Other layers and the bench reach the engine through its public API only.
    name: 'engine-public-api-only',
    severity: 'error',
    from: { path: '^src/', pathNot: '^src/(engine|cli)/' },
    to: { path: '^src/engine/', pathNot: '^src/engine/index\\.ts$' },
  },
  { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
);

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
