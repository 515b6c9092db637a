/**
 * surgevec bench: the public surface (`surgevec/bench` for embedders, `surgevec bench` on the command line).
 * docs/BENCH.md is the user guide.
 */

export { anomalyWindows, ewmaAnomalies } from './analysis/anomaly.js';
export { capacity } from './analysis/capacity.js';
export { RULES, recommend } from './analysis/recommend.js';
export { passes, verdicts } from './analysis/sla.js';
export { expectedArrivals, type RateCurve, rateCurve } from './arrivals/rate.js';
export { ArrivalSchedule } from './arrivals/schedule.js';
export { type ArrivalSpec, arrivalSchema, nominalRate, withRate } from './arrivals/spec.js';
export { BUILTIN_TRACES, loadTrace, parseTraceCsv, type Trace } from './arrivals/trace.js';
export { type BenchDataset, type DatasetSpec, loadBenchDataset } from './datasets/bench-dataset.js';
export { type Percentiles, percentiles } from './generator/histogram.js';
export {
  type GeneratorOptions,
  type PlannedRequest,
  runClosedLoop,
  runOpenLoop,
} from './generator/open-loop.js';
export { Recorder } from './generator/recorder.js';
export { compareMarkdown } from './report/compare.js';
export { CHART_IDS, htmlReport } from './report/html.js';
export { parseRunFile, RUN_SCHEMA, RUN_VERSION, type RunFile, readRunFile } from './report/run-file.js';
export { consoleSummary, markdownReport } from './report/text.js';
export { writeRunOutputs } from './report/write.js';
export { DEFAULT_TARGET, type RunOptions, runScenario } from './run.js';
export { BUILTIN_SCENARIOS } from './scenarios/builtin.js';
export { resolveScenario, type ScenarioOverrides } from './scenarios/resolve.js';
export {
  parseScenario,
  type Scenario,
  type ScenarioInput,
  scenarioJsonSchema,
  scenarioSchema,
} from './scenarios/schema.js';
export { HttpTransport } from './transports/http.js';
export type { Outcome, Transport, WireRequest } from './transports/transport.js';
export { WebSocketTransport } from './transports/websocket.js';
