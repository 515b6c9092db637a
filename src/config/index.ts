export { defaultConfig, type LoadConfigInput, loadConfig } from './load.js';
export {
  type AdmissionConfig,
  type Config,
  type ConfigOptions,
  configSchema,
  type EngineConfig,
  type TenantConfig,
} from './schema.js';
