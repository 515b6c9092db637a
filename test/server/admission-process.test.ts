/**
 * Admission control against real `surgevec serve` processes: the memory-budget regression (10 writers flat
 * out) and the premium/free burst. One file, so the two load scenarios run one after the other instead of
 * side by side on the same two cores (each would distort the other's latencies).
 */
import { burstScenario } from '../admission/burst-scenario.js';
import { memoryScenario } from '../admission/memory-scenario.js';

memoryScenario();
burstScenario();
