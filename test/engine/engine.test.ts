import { Engine, WorkerEngine } from '../../src/engine/index.js';
import { engineContract, testConfig } from '../contracts/engine.contract.js';

engineContract('Engine', (dir, overrides) => Engine.open(testConfig(dir, overrides)));
engineContract('WorkerEngine', (dir, overrides) => WorkerEngine.open(testConfig(dir, overrides)));
