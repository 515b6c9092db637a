/**
 * Engine = collections + aliases over one data directory. Every method is async and takes plain values, so
 * the same API is served in-process (tests, benchmarks) or from a worker thread (the server; see worker/).
 *
 * <data_dir>/LOCK                      pid of the owning process
 * <data_dir>/aliases.json              alias → collection (replaced atomically)
 * <data_dir>/collections/<name>/       config.json, wal/, snapshots/
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config, EngineConfig } from '../../config/index.js';
import { type SerializedError, SurgeError } from '../../protocol/errors.js';
import type {
  AliasAction,
  AliasDescription,
  ChangeListener,
  ChangeOptions,
  ChangePage,
  CollectionConfig,
  CollectionInfo,
  CreateCollectionOptions,
  Filter,
  Payload,
  PayloadSchemaType,
  PointId,
  PointInput,
  PointRecord,
  PointsSelector,
  ScoredPoint,
  ScrollRequest,
  ScrollResult,
  SearchRequest,
  UpdateResult,
  WithPayload,
  WriteOptions,
} from '../types.js';
import { ChangeHub } from './changes.js';
import { Collection, type CollectionStats, type UpsertBatch } from './collection.js';

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const DISTANCES = ['Cosine', 'Euclid', 'Dot'] as const;

export function validateName(name: unknown, what = 'collection name'): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new SurgeError('INVALID_NAME', `invalid ${what} ${JSON.stringify(String(name)).slice(0, 300)}`);
  }
  return name;
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2), { flush: true });
  renameSync(tmp, file);
}

/** Everything the engine offers; implemented by Engine (in-process) and WorkerEngine (worker thread). */
export interface EngineApi {
  createCollection(name: string, options: CreateCollectionOptions): Promise<void>;
  dropCollection(name: string): Promise<boolean>;
  listCollections(): Promise<string[]>;
  collectionExists(name: string): Promise<boolean>;
  collectionInfo(name: string): Promise<CollectionInfo>;
  updateAliases(actions: AliasAction[]): Promise<void>;
  listAliases(collection?: string): Promise<AliasDescription[]>;
  createPayloadIndex(
    name: string,
    field: string,
    schema: PayloadSchemaType,
    options?: WriteOptions,
  ): Promise<UpdateResult>;
  deletePayloadIndex(name: string, field: string, options?: WriteOptions): Promise<UpdateResult>;
  upsert(name: string, points: PointInput[] | UpsertBatch, options?: WriteOptions): Promise<UpdateResult>;
  deletePoints(name: string, selector: PointsSelector, options?: WriteOptions): Promise<UpdateResult>;
  setPayload(
    name: string,
    payload: Payload,
    selector: PointsSelector,
    options?: WriteOptions & { key?: string },
  ): Promise<UpdateResult>;
  overwritePayload(
    name: string,
    payload: Payload,
    selector: PointsSelector,
    options?: WriteOptions,
  ): Promise<UpdateResult>;
  deletePayload(
    name: string,
    keys: string[],
    selector: PointsSelector,
    options?: WriteOptions,
  ): Promise<UpdateResult>;
  clearPayload(name: string, selector: PointsSelector, options?: WriteOptions): Promise<UpdateResult>;
  retrieve(
    name: string,
    ids: PointId[],
    withPayload?: WithPayload,
    withVector?: boolean,
  ): Promise<PointRecord[]>;
  scroll(name: string, request?: ScrollRequest): Promise<ScrollResult>;
  count(name: string, filter?: Filter | null): Promise<number>;
  search(name: string, request: SearchRequest): Promise<ScoredPoint[]>;
  searchBatch(name: string, requests: SearchRequest[]): Promise<ScoredPoint[][]>;
  /** Like searchBatch, but each search succeeds or fails on its own (a server coalescing unrelated callers). */
  searchEach(name: string, requests: SearchRequest[]): Promise<SearchOutcome[]>;
  /**
   * Applied ops of a collection with seq > afterSeq, oldest first, at most `limit`, read from its WAL.
   * `oldestSeq` is the first seq the WAL still holds (older ones went with a snapshot). With
   * `options.points`, upserts carry their vectors and payloads.
   */
  readChanges(name: string, afterSeq: number, limit: number, options?: ChangeOptions): Promise<ChangePage>;
  /**
   * Calls `listener` with every op applied from now on, in every collection, in seq order per collection
   * (not for WAL replay at start-up); before the write that caused it settles. Returns the unsubscribe.
   * `options.points` adds the points' data (ChangePoints) to the events this listener gets.
   */
  onChange(listener: ChangeListener, options?: ChangeOptions): () => void;
  /** Resolves when every collection has indexed all applied points. */
  whenIndexed(name?: string): Promise<void>;
  /**
   * Pauses (or resumes) background indexing and vacuum in every collection, present and future — the
   * degradation ladder's level 1 gives their CPU to searches. Unindexed points stay searchable (exactly);
   * whenIndexed() waits until indexing resumes. A batch already on the native core finishes.
   */
  setIndexingPaused(paused: boolean): Promise<void>;
  snapshot(name?: string): Promise<void>;
  stats(): Promise<Record<string, CollectionStats>>;
  close(): Promise<void>;
}

export type SearchOutcome = ScoredPoint[] | { error: SerializedError };

export class Engine implements EngineApi {
  private readonly collections = new Map<string, Collection>();
  private aliases = new Map<string, string>();
  private closed = false;
  private indexingPaused = false;
  private readonly root: string;
  private readonly settings: EngineConfig;
  /** Creation and drop of one name are serialised; other names proceed. */
  private readonly busy = new Set<string>();
  private readonly changes = new ChangeHub();

  private constructor(config: Readonly<Config>) {
    this.root = resolve(config.storage.data_dir);
    this.settings = { ...config.engine, storage: config.storage };
  }

  static async open(config: Readonly<Config>): Promise<Engine> {
    const e = new Engine(config);
    mkdirSync(join(e.root, 'collections'), { recursive: true });
    e.lock();
    try {
      const aliasFile = join(e.root, 'aliases.json');
      if (existsSync(aliasFile))
        e.aliases = new Map(Object.entries(JSON.parse(readFileSync(aliasFile, 'utf8'))));
      for (const name of readdirSync(join(e.root, 'collections'))) {
        const dir = join(e.root, 'collections', name);
        if (name.startsWith('.') || !existsSync(join(dir, 'config.json'))) {
          // A drop or create that crashed half-way: finish the drop.
          rmSync(dir, { recursive: true, force: true });
          continue;
        }
        const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as CollectionConfig;
        cfg.payload_indexes = {};
        e.collections.set(name, await Collection.open(name, dir, cfg, e.settings, e.changes));
      }
    } catch (err) {
      await e.close();
      throw err;
    }
    return e;
  }

  private lock(): void {
    const file = join(this.root, 'LOCK');
    if (existsSync(file)) {
      const pid = Number(readFileSync(file, 'utf8'));
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new SurgeError('STORAGE_ERROR', `data directory ${this.root} is in use by process ${pid}`, {
          pid,
        });
      }
    }
    writeFileSync(file, String(process.pid));
  }

  private collection(nameOrAlias: string): Collection {
    if (this.closed) throw new SurgeError('ENGINE_CLOSED', 'the engine is closed');
    if (typeof nameOrAlias !== 'string')
      throw new SurgeError('INVALID_NAME', 'collection name must be a string');
    const c = this.collections.get(this.aliases.get(nameOrAlias) ?? nameOrAlias);
    if (!c) {
      throw new SurgeError('COLLECTION_NOT_FOUND', `Collection \`${nameOrAlias}\` doesn't exist!`, {
        collection: nameOrAlias,
      });
    }
    return c;
  }

  async createCollection(name: string, options: CreateCollectionOptions): Promise<void> {
    if (this.closed) throw new SurgeError('ENGINE_CLOSED', 'the engine is closed');
    validateName(name);
    if (this.collections.has(name) || this.busy.has(name)) {
      throw new SurgeError('COLLECTION_EXISTS', `Collection \`${name}\` already exists!`, {
        collection: name,
      });
    }
    // As in Qdrant: the alias would hide the new collection from every request by name.
    if (this.aliases.has(name)) {
      throw new SurgeError(
        'ALIAS_EXISTS',
        `Can't create collection \`${name}\`: an alias of that name exists`,
      );
    }
    const config = this.resolveCollectionConfig(options);
    this.busy.add(name);
    try {
      const dir = join(this.root, 'collections', name);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      // config.json is written last: its presence marks a complete collection (see open()).
      writeJsonAtomic(join(dir, 'config.json'), { ...config, payload_indexes: {} });
      const c = await Collection.open(
        name,
        dir,
        { ...config, payload_indexes: {} },
        this.settings,
        this.changes,
      );
      if (this.indexingPaused) c.setIndexingPaused(true);
      this.collections.set(name, c);
      for (const [field, schema] of Object.entries(config.payload_indexes))
        await c.createPayloadIndex(field, schema);
    } finally {
      this.busy.delete(name);
    }
  }

  private resolveCollectionConfig(o: CreateCollectionOptions): CollectionConfig {
    if (o === null || typeof o !== 'object')
      throw new SurgeError('INVALID_REQUEST', 'collection options are required');
    if (!Number.isInteger(o.size) || o.size < 1 || o.size > 65536) {
      throw new SurgeError('INVALID_REQUEST', 'vectors.size must be an integer between 1 and 65536');
    }
    if (!DISTANCES.includes(o.distance)) {
      throw new SurgeError('INVALID_REQUEST', `vectors.distance must be one of ${DISTANCES.join(', ')}`);
    }
    const d = this.settings.hnsw;
    const hnsw = { ...d, ...Object.fromEntries(Object.entries(o.hnsw ?? {}).filter(([, v]) => v != null)) };
    const ints: [string, number, number, number][] = [
      ['hnsw_config.m', hnsw.m, 4, 128],
      ['hnsw_config.ef_construct', hnsw.ef_construct, 8, 4096],
      ['hnsw_config.ef', hnsw.ef, 1, 65536],
      ['hnsw_config.full_scan_threshold', hnsw.full_scan_threshold, 0, Number.MAX_SAFE_INTEGER],
      ['segment_max_points', o.segment_max_points ?? this.settings.segment_max_points, 16, 1 << 24],
    ];
    for (const [what, v, min, max] of ints) {
      if (!Number.isInteger(v) || v < min || v > max) {
        throw new SurgeError('INVALID_REQUEST', `${what} must be an integer between ${min} and ${max}`);
      }
    }
    return {
      size: o.size,
      distance: o.distance,
      hnsw,
      segment_max_points: o.segment_max_points ?? this.settings.segment_max_points,
      payload_indexes: { ...(o.payload_indexes ?? {}) },
    };
  }

  async dropCollection(name: string): Promise<boolean> {
    if (this.closed) throw new SurgeError('ENGINE_CLOSED', 'the engine is closed');
    const c = this.collections.get(name);
    if (!c) return false;
    this.collections.delete(name);
    await c.close({ snapshot: false });
    const dir = join(this.root, 'collections', name);
    const trash = join(this.root, 'collections', `.drop-${name}-${Date.now()}`);
    renameSync(dir, trash);
    rmSync(trash, { recursive: true, force: true });
    let changed = false;
    for (const [alias, target] of this.aliases) {
      if (target === name) {
        this.aliases.delete(alias);
        changed = true;
      }
    }
    if (changed) this.saveAliases();
    return true;
  }

  async listCollections(): Promise<string[]> {
    return [...this.collections.keys()].sort();
  }

  async collectionExists(name: string): Promise<boolean> {
    return this.collections.has(this.aliases.get(name) ?? name);
  }

  async collectionInfo(name: string): Promise<CollectionInfo> {
    return this.collection(name).info();
  }

  /** All actions apply together or none do (Qdrant's atomic alias switch). */
  async updateAliases(actions: AliasAction[]): Promise<void> {
    if (!Array.isArray(actions)) throw new SurgeError('INVALID_REQUEST', 'actions must be a list');
    const next = new Map(this.aliases);
    for (const [i, a] of actions.entries()) {
      checkAliasAction(a, i);
      if ('create_alias' in a) {
        const { alias_name, collection_name } = a.create_alias;
        validateName(alias_name, 'alias name');
        if (!this.collections.has(collection_name)) {
          throw new SurgeError('COLLECTION_NOT_FOUND', `Collection \`${collection_name}\` doesn't exist!`);
        }
        if (this.collections.has(alias_name)) {
          throw new SurgeError(
            'ALIAS_EXISTS',
            `Alias \`${alias_name}\` would hide the collection of that name`,
          );
        }
        // Qdrant: creating an existing alias re-points it (that is how an atomic swap is written).
        next.set(alias_name, collection_name);
      } else if ('delete_alias' in a) {
        if (!next.delete(a.delete_alias.alias_name)) {
          throw new SurgeError('ALIAS_NOT_FOUND', `Alias \`${a.delete_alias.alias_name}\` doesn't exist!`);
        }
      } else if ('rename_alias' in a) {
        const { old_alias_name, new_alias_name } = a.rename_alias;
        const target = next.get(old_alias_name);
        if (target === undefined)
          throw new SurgeError('ALIAS_NOT_FOUND', `Alias \`${old_alias_name}\` doesn't exist!`);
        validateName(new_alias_name, 'alias name');
        // As for create_alias: an alias named like a collection would hide that collection.
        if (this.collections.has(new_alias_name)) {
          throw new SurgeError(
            'ALIAS_EXISTS',
            `Alias \`${new_alias_name}\` would hide the collection of that name`,
          );
        }
        next.delete(old_alias_name);
        next.set(new_alias_name, target);
      } else {
        throw new SurgeError('INVALID_REQUEST', 'each action is create_alias, delete_alias or rename_alias');
      }
    }
    this.aliases = next;
    this.saveAliases();
  }

  private saveAliases(): void {
    writeJsonAtomic(join(this.root, 'aliases.json'), Object.fromEntries(this.aliases));
  }

  async listAliases(collection?: string): Promise<AliasDescription[]> {
    if (collection !== undefined) this.collection(collection);
    return [...this.aliases]
      .filter(([, c]) => collection === undefined || c === collection)
      .map(([alias_name, collection_name]) => ({ alias_name, collection_name }))
      .sort((a, b) => a.alias_name.localeCompare(b.alias_name));
  }

  createPayloadIndex(name: string, field: string, schema: PayloadSchemaType, options?: WriteOptions) {
    return this.collection(name).createPayloadIndex(field, schema, options);
  }

  deletePayloadIndex(name: string, field: string, options?: WriteOptions) {
    return this.collection(name).deletePayloadIndex(field, options);
  }

  async upsert(name: string, points: PointInput[] | UpsertBatch, options?: WriteOptions) {
    return this.collection(name).upsert(points, options);
  }

  async deletePoints(name: string, selector: PointsSelector, options?: WriteOptions) {
    return this.collection(name).delete(selector, options);
  }

  async setPayload(
    name: string,
    payload: Payload,
    selector: PointsSelector,
    options?: WriteOptions & { key?: string },
  ) {
    return this.collection(name).setPayload(payload, selector, options);
  }

  async overwritePayload(name: string, payload: Payload, selector: PointsSelector, options?: WriteOptions) {
    return this.collection(name).overwritePayload(payload, selector, options);
  }

  async deletePayload(name: string, keys: string[], selector: PointsSelector, options?: WriteOptions) {
    return this.collection(name).deletePayload(keys, selector, options);
  }

  async clearPayload(name: string, selector: PointsSelector, options?: WriteOptions) {
    return this.collection(name).clearPayload(selector, options);
  }

  async retrieve(name: string, ids: PointId[], withPayload?: WithPayload, withVector?: boolean) {
    return this.collection(name).retrieve(ids, withPayload, withVector);
  }

  async scroll(name: string, request?: ScrollRequest) {
    return this.collection(name).scroll(request);
  }

  async count(name: string, filter?: Filter | null) {
    return this.collection(name).count(filter);
  }

  async search(name: string, request: SearchRequest) {
    return this.collection(name).search(request);
  }

  async searchBatch(name: string, requests: SearchRequest[]) {
    if (!Array.isArray(requests)) throw new SurgeError('INVALID_REQUEST', 'searches must be a list');
    const c = this.collection(name);
    // Concurrently: each search's graph walk runs on the native core's threads, so a batch uses every core.
    return Promise.all(requests.map((r) => c.search(r)));
  }

  async searchEach(name: string, requests: SearchRequest[]): Promise<SearchOutcome[]> {
    if (!Array.isArray(requests)) throw new SurgeError('INVALID_REQUEST', 'searches must be a list');
    const c = this.collection(name);
    return Promise.all(
      requests.map(async (r): Promise<SearchOutcome> => {
        try {
          return await c.search(r);
        } catch (e) {
          const err = e instanceof SurgeError ? e : new SurgeError('INTERNAL', String(e));
          return { error: err.toJSON() };
        }
      }),
    );
  }

  async readChanges(
    name: string,
    afterSeq: number,
    limit: number,
    options?: ChangeOptions,
  ): Promise<ChangePage> {
    return this.collection(name).readChanges(afterSeq, limit, options);
  }

  onChange(listener: ChangeListener, options?: ChangeOptions): () => void {
    return this.changes.subscribe(listener, options);
  }

  /** The named collection (through aliases), or all of them. */
  private targets(name?: string): Collection[] {
    return name === undefined ? [...this.collections.values()] : [this.collection(name)];
  }

  async setIndexingPaused(paused: boolean): Promise<void> {
    this.indexingPaused = paused;
    for (const c of this.collections.values()) c.setIndexingPaused(paused);
  }

  async whenIndexed(name?: string): Promise<void> {
    const targets = this.targets(name);
    await Promise.all(targets.map((c) => c.whenIndexed()));
  }

  async snapshot(name?: string): Promise<void> {
    const targets = this.targets(name);
    for (const c of targets) await c.snapshot();
  }

  async stats(): Promise<Record<string, CollectionStats>> {
    return Object.fromEntries([...this.collections].map(([n, c]) => [n, c.stats()]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const errors: unknown[] = [];
    for (const c of this.collections.values()) await c.close().catch((e: unknown) => errors.push(e));
    this.collections.clear();
    rmSync(join(this.root, 'LOCK'), { force: true });
    if (errors.length > 0) throw errors[0];
  }
}

const ALIAS_FIELDS = {
  create_alias: ['alias_name', 'collection_name'],
  delete_alias: ['alias_name'],
  rename_alias: ['old_alias_name', 'new_alias_name'],
} as const;

/** Each action is one of ALIAS_FIELDS holding an object whose fields are strings (names are checked later). */
function checkAliasAction(a: unknown, i: number): asserts a is AliasAction {
  const kind =
    a !== null && typeof a === 'object' ? Object.keys(ALIAS_FIELDS).find((k) => k in a) : undefined;
  if (kind === undefined) {
    throw new SurgeError(
      'INVALID_REQUEST',
      `actions[${i}] must be create_alias, delete_alias or rename_alias`,
    );
  }
  const body = (a as Record<string, unknown>)[kind];
  for (const field of ALIAS_FIELDS[kind as keyof typeof ALIAS_FIELDS]) {
    if (
      body === null ||
      typeof body !== 'object' ||
      typeof (body as Record<string, unknown>)[field] !== 'string'
    ) {
      throw new SurgeError('INVALID_REQUEST', `actions[${i}].${kind}.${field} must be a string`);
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
