export { MAX_OP_BYTES } from './record.js';
export {
  DEFAULT_SEGMENT_BYTES,
  Wal,
  type WalOpenReport,
  type WalOptions,
  type WalRecord,
  type WalStats,
} from './wal.js';
