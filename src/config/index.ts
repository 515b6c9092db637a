export { defaultConfig, type LoadConfigInput, loadConfig } from './load.js';
export { type Config, type ConfigOptions, configSchema, type EngineConfig } from './schema.js';
