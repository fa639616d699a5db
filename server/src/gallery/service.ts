import { DomainError } from '../platform/index.ts';
import type { Clock, IdGenerator, Random } from '../platform/index.ts';
import { Progress } from '../platform/progress.ts';
import type { Db } from '../storage/index.ts';
import {
  bytesToVector,
  open as openSealed,
  phoneSuffixMac,
  randomDataKey,
  seal,
  templateAad,
  unwrapDataKey,
  vectorToBytes,
  wrapDataKey,
  type MasterKeyring,
} from './crypto.ts';
import { chooseMethod, measureExactScanRate } from './exact.ts';
import { DEFAULT_ANN, DEFAULT_PARALLEL_FROM, LocalPartition, PartitionRouter, type AnnParams, type SearchMethod } from './partition.ts';
import { learnProjection, type Projection } from './projection.ts';
import { DEFAULT_POLICY, decide, decideNarrowed, rankShoppers, type Decision, type DecisionPolicy, type ScoredShopper } from './policy.ts';
import { GalleryRepo, type CandidateRow, type GalleryEvent, type TemplateRow, type UnsearchableModel } from './repo.ts';
import { defaultScratchDir, loadSnapshot, readSnapshotMeta, saveSnapshot } from './snapshot.ts';
import { envelopeOf } from './envelope.ts';
import type { FalseMatchCalibration, TailModel } from './tail.ts';

export interface ModelRef {
  name: string;
  version: string;
}

/** An L2-normalised face embedding and the model that made it. */
export interface Embedding {
  model: ModelRef;
  vector: Float32Array;
}

export interface GalleryOptions {
  db: Db;
  masterKeys: MasterKeyring;
  /** The embedder whose templates this gallery searches; templates of other models are kept but not indexed. */
  model: ModelRef;
  dim: number;
  /** The face engine's false-match curve for this model (the gallery never reads files for it). */
  calibration: FalseMatchCalibration;
  /**
   * The same model's curves measured on other populations. With any, the gallery decides on the
   * envelope of all (the highest upper-bounded rate any population shows at each score), so that
   * no decision states a risk lower than a measured population reaches.
   */
  populations?: readonly FalseMatchCalibration[];
  clock: Clock;
  ids: IdGenerator;
  random: Random;
  policy?: Partial<DecisionPolicy>;
  ann?: Partial<Omit<AnnParams, 'dim'>>;
  /** Where encrypted index snapshots go; without it every start rebuilds from the database. */
  snapshotDir?: string;
  /** A memory-backed folder for the plain index while it is (de)serialised (default /dev/shm). */
  scratchDir?: string;
  /** Templates taken from the index for the exact re-score (default `DEFAULT_CANDIDATES`). */
  candidates?: number;
  maxTemplatesPerShopper?: number;
  defaultPartition?: string;
  /** Progress lines go here (default stderr); pass null to stay silent. */
  progressOut?: NodeJS.WriteStream | null;
  /**
   * Milliseconds a partition's scan may take (default `DEFAULT_SEARCH_BUDGET_MS`): a partition whose
   * exact scan fits is searched exactly, a larger one through the HNSW graph.
   */
  searchBudgetMs?: number;
  /** Templates per millisecond the exact scan goes through; measured at start when not given (tests inject it). */
  exactScanRate?: number;
  /** Overrides the choice for every partition (a benchmark comparing the two). */
  searchMethod?: SearchMethod;
  /**
   * The partitions this process loads, keeps in step and searches (FACEPAY_GALLERY_PARTITIONS);
   * default every partition in the database. Writes to any partition still go to the database,
   * the one source of truth, where the processes serving it pick them up; a search naming another
   * partition is refused with `gallery_partition_not_served`.
   */
  servedPartitions?: readonly string[];
}

/** A face payment spends about 180 ms in the face models; a scan of 15 ms that never misses is worth more than a 4 ms one that sometimes does. */
export const DEFAULT_SEARCH_BUDGET_MS = 15;

export interface SearchStats {
  /** Templates per millisecond of the exact scan on this machine (measured at start, or given). */
  exactScanRate: number;
  budgetMs: number;
  partitions: { id: string; templates: number; method: SearchMethod; exactScanMs: number }[];
}

export interface EnrolInput {
  shopperId: string;
  embeddings: Embedding[];
  partitionId?: string;
  /**
   * Every partition the shopper is enrolled in (a shopper of two regions, or of a merchant group
   * and its region): each embedding is stored once per partition, so a terminal searching any of
   * them finds the shopper. The first is the shopper's home partition. Overrides `partitionId`.
   */
  partitions?: string[];
  /** The last four digits of the shopper's phone, for narrowing; stored as a keyed MAC only. */
  phoneLast4?: string | null;
  alwaysAsk?: boolean;
}

export interface SearchScope {
  /** Partitions the terminal may search (a region, a merchant group); default all. */
  partitions?: string[];
}

/** A served partition's state, for the readiness probe: not yet loaded, loading, or in memory. */
export interface ServedPartition {
  id: string;
  state: 'waiting' | 'loading' | 'loaded';
  templates: number;
  method: SearchMethod | null;
}

export interface StartReport {
  partitions: { id: string; source: 'snapshot' | 'rebuild' | 'empty'; method: SearchMethod; templates: number; replayedEvents: number; ms: number }[];
  /** Shoppers enrolled only with another model: this gallery cannot find them until they enrol again. */
  unsearchable: UnsearchableModel[];
}

interface DataKey {
  id: string;
  key: Buffer;
}

const PHONE_DIGITS = /^[0-9]{4}$/;

/**
 * Shoppers a search answers with: the decision reads the first and the second (margin rule); a
 * third lets a caller leave one shopper out and still decide (the bench's not-enrolled probes).
 */
const RANKED_SHOPPERS = 3;

/**
 * How long `sync` keeps looking for an event number it skipped over. A writer holds its number
 * only for its own transaction (milliseconds); a number still missing after this was never
 * committed, so it is let go.
 */
export const GAP_WAIT_MS = 10 * 60 * 1000;
/** At most this many skipped numbers are watched per run of missing ones. */
const MAX_TRACKED_GAPS = 1000;

/** Templates taken from the index for the exact re-score (README, Index). */
export const DEFAULT_CANDIDATES = 16;

/**
 * Templates a projection is learned from. The 512-d model's templates span about 150 directions,
 * so 20,000 pin them down (in an exact scan of projected vectors at 100 thousand, projections
 * learned from 2,048 and from 20,000 templates kept the same candidates); learning costs a few
 * seconds of a rebuild.
 */
const PROJECTION_SAMPLES = 20_000;

export class Gallery {
  private readonly repo: GalleryRepo;
  private readonly router: PartitionRouter<LocalPartition>;
  private readonly tail: TailModel;
  private readonly policy: DecisionPolicy;
  private readonly ann: AnnParams;
  private readonly dataKeys = new Map<string, Buffer>();
  private templateKey: DataKey | undefined;
  private phoneKey: Buffer | undefined;
  private appliedSeq = 0;
  /** Event numbers below `appliedSeq` not seen yet (their transaction had not committed), with when they were first missed. */
  private readonly gaps = new Map<number, number>();
  private syncing: Promise<void> = Promise.resolve();
  private started = false;
  /** True while `start` loads the partitions (the readiness probe says `loading` or `waiting`). */
  private starting = false;
  private scanRate: number | undefined;
  /** The method chosen at start per partition; a partition first seen later is chosen for its size then (empty: exact). */
  private readonly methods = new Map<string, SearchMethod>();
  /** Undefined: every partition (today's single-process behaviour). */
  private readonly served: ReadonlySet<string> | undefined;
  private readonly loadStates = new Map<string, 'loading' | 'loaded'>();
  /** The data keys that the last start re-wrapped with the current master key, and the key they were under. */
  rewrapped: readonly { dataKeyId: string; from: string }[] = [];

  constructor(private readonly o: GalleryOptions) {
    this.repo = new GalleryRepo(o.db);
    this.policy = { ...DEFAULT_POLICY, ...o.policy };
    this.ann = { ...DEFAULT_ANN, ...o.ann, dim: o.dim };
    this.router = new PartitionRouter((id) => {
      // Every path that reaches a partition's index checks `serves` first; this is the last guard
      // against holding, in memory, templates that only other processes are meant to.
      if (!this.serves(id)) throw new Error(`gallery partition ${id} is not served by this process`);
      return new LocalPartition(id, this.ann, this.methods.get(id) ?? this.methodFor(0));
    });
    if (o.servedPartitions !== undefined) {
      const list = o.servedPartitions;
      if (list.length === 0 || list.some((p) => typeof p !== 'string' || p.length === 0 || p.length > 100) || new Set(list).size !== list.length) {
        throw new DomainError('invalid', 'bad_partitions', 'the served partitions are one or more distinct, non-empty ids');
      }
      this.served = new Set(list);
    }
    const measured = [o.calibration, ...(o.populations ?? [])];
    for (const c of measured) {
      if (c.model !== o.model.name) {
        throw new DomainError('invalid', 'calibration_model_mismatch', `calibration is for ${c.model}, the gallery uses ${o.model.name}`);
      }
    }
    this.tail = envelopeOf(measured);
  }

  /** Whether this process holds the partition in memory and may search it. */
  serves(partitionId: string): boolean {
    return this.served === undefined || this.served.has(partitionId);
  }

  /** The configured partitions, sorted, or undefined when this process serves every partition. */
  get servedPartitions(): string[] | undefined {
    return this.served === undefined ? undefined : [...this.served].sort();
  }

  /**
   * Each served partition and whether it is in memory (for /health/ready). With every partition
   * served, the partitions found in the database; a configured one with no templates yet is
   * `loaded` with none as soon as the start is done, since there was nothing to load.
   */
  servedState(): ServedPartition[] {
    const ids = new Set([...(this.served ?? []), ...this.router.ids()]);
    return [...ids].sort().map((id) => {
      const part = this.router.ids().includes(id) ? this.router.get(id) : undefined;
      const state = this.loadStates.get(id) ?? (this.started && !this.starting ? 'loaded' : 'waiting');
      return { id, state, templates: part?.count() ?? 0, method: part?.method ?? null };
    });
  }

  /**
   * For the readiness probe: ready once every served partition is in memory, with the partitions
   * served and each one's state, so that a load balancer routing by region can be checked against it.
   */
  readiness(): { ready: boolean; detail: string; details: { served: string[] | 'all'; partitions: ServedPartition[] } } {
    const partitions = this.servedState();
    const n = partitions.reduce((a, p) => a + p.templates, 0);
    const served = this.servedPartitions;
    return {
      ready: this.started && !this.starting && partitions.every((p) => p.state === 'loaded'),
      detail: `${this.started && !this.starting ? `${n} templates loaded` : 'loading'}; serves ${served === undefined ? 'all partitions' : `partitions ${served.join(', ')}`}`,
      details: { served: served ?? 'all', partitions },
    };
  }

  get tailModel(): TailModel {
    return this.tail;
  }

  get decisionPolicy(): DecisionPolicy {
    return this.policy;
  }

  /** Unwraps the data keys (re-wrapping any under an older master key); `start` does it too. */
  async open(): Promise<void> {
    if (this.templateKey === undefined) await this.loadKeys();
  }

  private get budgetMs(): number {
    return this.o.searchBudgetMs ?? DEFAULT_SEARCH_BUDGET_MS;
  }

  /** The exact scan's rate on this machine, measured once (about 100 ms) unless configured. */
  private exactRate(): number {
    // Measured as the scan of a large partition runs: at the index's dimensions, on the threads it gets.
    const threads = Number.isFinite(this.ann.parallelFrom ?? DEFAULT_PARALLEL_FROM) ? Math.max(1, this.ann.threads) : 1;
    this.scanRate ??=
      this.o.exactScanRate ?? measureExactScanRate(Math.min(this.ann.indexDim ?? this.o.dim, this.o.dim), this.ann.quantization === 'i8' ? 'i8' : 'f32', threads);
    return this.scanRate;
  }

  private methodFor(templates: number): SearchMethod {
    return this.o.searchMethod ?? chooseMethod(templates, this.exactRate(), this.budgetMs);
  }

  private say(line: string): void {
    const out = this.o.progressOut === undefined ? process.stderr : this.o.progressOut;
    out?.write(`${line}\n`);
  }

  /** Opens the keys, then loads the index from its snapshot or rebuilds it from the database. */
  async start(): Promise<StartReport> {
    await this.open();
    this.started = true;
    this.starting = true;
    try {
      return await this.load();
    } finally {
      this.starting = false;
    }
  }

  private async load(): Promise<StartReport> {
    const report: StartReport = { partitions: [], unsearchable: await this.repo.unsearchable(this.o.model) };
    const lastSeq = await this.repo.lastEventSeq();
    const served = this.servedPartitions;
    const stats = await this.repo.stats(this.o.model, served);
    const replayFrom: number[] = [];
    for (const s of stats) {
      const t0 = Date.now();
      this.loadStates.set(s.partitionId, 'loading');
      if (!this.router.ids().includes(s.partitionId)) {
        const method = this.methodFor(s.count);
        this.methods.set(s.partitionId, method);
        const rate = this.exactRate();
        this.say(
          `gallery partition ${s.partitionId}: ${s.count} templates, ${method === 'exact' ? 'exact scan' : 'HNSW graph'} ` +
            `(exact scan ${(s.count / rate).toFixed(1)} ms at ${Math.round(rate)} templates/ms, budget ${this.budgetMs} ms${this.o.searchMethod ? '; method set by configuration' : ''})`,
        );
      }
      const part = this.router.get(s.partitionId);
      const meta = this.o.snapshotDir ? readSnapshotMeta(this.o.snapshotDir, this.o.model.name, this.o.model.version, s.partitionId) : undefined;
      const firstSeq = await this.repo.firstEventSeq();
      // A snapshot is usable when its key is known and the events since it are all still kept.
      // Its projection must be what a rebuild would make now: the configured index dimensions, or
      // none while the partition is too small to learn one (a partition that has grown past that
      // since is rebuilt, which learns it).
      const target = this.ann.indexDim ?? this.o.dim;
      const shapeOk =
        meta !== undefined &&
        (meta.projection === null ? meta.indexDim === this.o.dim && !part.wantsProjection(s.count) : meta.indexDim === target && target < this.o.dim);
      const usable =
        meta !== undefined &&
        shapeOk &&
        meta.dim === this.o.dim &&
        (meta.method ?? 'hnsw') === part.method &&
        meta.quantization === this.ann.quantization &&
        meta.connectivity === this.ann.connectivity &&
        this.dataKeys.has(meta.keyId) &&
        (meta.appliedSeq >= lastSeq || (firstSeq !== undefined && firstSeq <= meta.appliedSeq + 1));
      let source: 'snapshot' | 'rebuild' = 'rebuild';
      if (usable && this.o.snapshotDir !== undefined) {
        try {
          await loadSnapshot(this.o.snapshotDir, this.scratch(), part, meta, this.dataKeys.get(meta.keyId) as Buffer, this.o.random);
          source = 'snapshot';
          replayFrom.push(meta.appliedSeq);
        } catch {
          part.clear();
        }
      }
      if (source === 'rebuild') await this.rebuild(part);
      this.loadStates.set(s.partitionId, 'loaded');
      report.partitions.push({ id: s.partitionId, source, method: part.method, templates: part.count(), replayedEvents: 0, ms: Date.now() - t0 });
    }
    // Replay from the oldest snapshot loaded. Replaying is idempotent (an add skips a key present or
    // a row gone, a remove of an absent key does nothing), so partitions rebuilt from the database
    // come to no harm from events they already reflect.
    this.appliedSeq = replayFrom.length > 0 ? Math.min(...replayFrom) : lastSeq;
    const before = this.appliedSeq;
    await this.sync();
    const check = await this.repo.stats(this.o.model, served);
    for (const part of this.router.all()) {
      if (!check.some((s) => s.partitionId === part.id) && part.count() > 0) part.clear();
    }
    for (const s of check) {
      const part = this.router.get(s.partitionId);
      const entry = report.partitions.find((p) => p.id === s.partitionId);
      if (part.count() !== s.count || part.keySum !== s.keySum) {
        // The snapshot and the database disagree beyond what the events explain: trust the database.
        const t0 = Date.now();
        await this.rebuild(part);
        if (entry) {
          entry.source = 'rebuild';
          entry.ms += Date.now() - t0;
        }
      }
      if (entry) {
        entry.templates = part.count();
        entry.replayedEvents = this.appliedSeq - before;
      }
    }
    for (const id of served ?? []) this.loadStates.set(id, 'loaded');
    return report;
  }

  private partitionsOf(input: EnrolInput): string[] {
    const list = input.partitions ?? [input.partitionId ?? this.o.defaultPartition ?? 'default'];
    if (list.length === 0 || list.some((p) => typeof p !== 'string' || p.length === 0 || p.length > 100)) {
      throw new DomainError('invalid', 'bad_partitions', 'a shopper is enrolled in one or more partitions, each named by a non-empty id');
    }
    if (new Set(list).size !== list.length) throw new DomainError('invalid', 'bad_partitions', 'a partition is named twice');
    return list;
  }

  private scratch(): string {
    return this.o.scratchDir ?? defaultScratchDir();
  }

  private async loadKeys(): Promise<void> {
    const ring = this.o.masterKeys;
    const masters = new Map([ring.current, ...ring.previous].map((m) => [m.id, m]));
    const rewrapped: { dataKeyId: string; from: string }[] = [];
    await this.repo.transaction(async (tx) => {
      rewrapped.length = 0;
      await this.repo.lockWrites(tx);
      const rows = await this.repo.listKeys(tx);
      for (const r of rows) {
        const m = masters.get(r.masterKeyId);
        if (m === undefined) {
          throw new DomainError(
            'unavailable',
            'master_key_missing',
            `data key ${r.id} is wrapped by master key ${r.masterKeyId}, which is not configured: set FACEPAY_MASTER_KEY to it, or put it in FACEPAY_MASTER_KEY_PREVIOUS while a new FACEPAY_MASTER_KEY takes over`,
          );
        }
        const key = unwrapDataKey(m, r.id, r.wrapped);
        this.dataKeys.set(r.id, key);
        if (m.id !== ring.current.id) {
          await this.repo.rewrapKey(tx, r.id, wrapDataKey(ring.current, r.id, key, this.o.random), ring.current.id);
          rewrapped.push({ dataKeyId: r.id, from: m.id });
        }
        if (r.active && r.purpose === 'template') this.templateKey = { id: r.id, key };
        if (r.active && r.purpose === 'phone') this.phoneKey = key;
      }
      if (this.templateKey === undefined) this.templateKey = await this.createKey(tx, 'template');
      if (this.phoneKey === undefined) this.phoneKey = (await this.createKey(tx, 'phone')).key;
    });
    this.rewrapped = rewrapped;
  }

  private async createKey(tx: Parameters<Parameters<GalleryRepo['transaction']>[0]>[0], purpose: 'template' | 'phone'): Promise<DataKey> {
    const id = this.o.ids.next('gk');
    const key = randomDataKey(this.o.random);
    const master = this.o.masterKeys.current;
    await this.repo.insertKey(tx, {
      id,
      purpose,
      wrapped: wrapDataKey(master, id, key, this.o.random),
      masterKeyId: master.id,
      active: true,
      createdAt: this.o.clock.now().getTime(),
    });
    this.dataKeys.set(id, key);
    return { id, key };
  }

  /** A new data key for templates written from now on; older rows keep theirs until re-enrolled. */
  async rotateDataKey(): Promise<string> {
    const k = await this.repo.transaction(async (tx) => {
      await this.repo.lockWrites(tx);
      return this.createKey(tx, 'template');
    });
    this.templateKey = k;
    return k.id;
  }

  private activeKey(): DataKey {
    if (this.templateKey === undefined) throw new DomainError('unavailable', 'gallery_not_started', 'the gallery has not been started');
    return this.templateKey;
  }

  private mac(digits: string): string {
    if (!PHONE_DIGITS.test(digits)) throw new DomainError('invalid', 'bad_phone_digits', 'the phone suffix must be exactly four digits');
    if (this.phoneKey === undefined) throw new DomainError('unavailable', 'gallery_not_started', 'the gallery has not been started');
    return phoneSuffixMac(this.phoneKey, digits);
  }

  /** Checks model and size, and returns a unit-length copy. */
  private checkEmbedding(e: Embedding): Float32Array {
    if (e.model.name !== this.o.model.name || e.model.version !== this.o.model.version) {
      throw new DomainError(
        'invalid',
        'model_mismatch',
        `embedding from ${e.model.name}@${e.model.version}, the gallery holds ${this.o.model.name}@${this.o.model.version}`,
      );
    }
    if (e.vector.length !== this.o.dim) throw new DomainError('invalid', 'bad_embedding', `embedding has ${e.vector.length} values, expected ${this.o.dim}`);
    let n = 0;
    for (const x of e.vector) n += x * x;
    if (!Number.isFinite(n) || n < 1e-12) throw new DomainError('invalid', 'bad_embedding', 'embedding is zero or not finite');
    const inv = 1 / Math.sqrt(n);
    return Float32Array.from(e.vector, (x) => x * inv);
  }

  private decrypt(row: TemplateRow): Float32Array {
    const key = this.dataKeys.get(row.keyId);
    if (key === undefined) throw new DomainError('unavailable', 'data_key_missing', `template ${row.id} uses unknown data key ${row.keyId}`);
    return bytesToVector(openSealed(key, row.ciphertext, templateAad(row)));
  }

  private sealTemplate(id: string, shopperId: string, partitionId: string, vector: Float32Array, key: DataKey, now: number, templateKey: number): TemplateRow {
    const base = { id, shopperId, modelName: this.o.model.name, modelVersion: this.o.model.version, dim: this.o.dim };
    return {
      ...base,
      templateKey,
      partitionId,
      keyId: key.id,
      ciphertext: seal(key.key, vectorToBytes(vector), templateAad(base), this.o.random),
      createdAt: now,
    };
  }

  /**
   * Enrols a shopper, or re-enrols one: the new templates replace all earlier ones in one
   * transaction, and the index follows before this returns.
   */
  async enrol(input: EnrolInput): Promise<{ templateIds: string[] }> {
    if (input.embeddings.length === 0) throw new DomainError('invalid', 'no_templates', 'enrolment needs at least one embedding');
    const max = this.o.maxTemplatesPerShopper ?? 10;
    if (input.embeddings.length > max) throw new DomainError('invalid', 'too_many_templates', `at most ${max} templates per shopper`);
    const vectors = input.embeddings.map((e) => this.checkEmbedding(e));
    const partitions = this.partitionsOf(input);
    const partitionId = partitions[0] as string;
    const mac = input.phoneLast4 === undefined || input.phoneLast4 === null ? null : this.mac(input.phoneLast4);
    const now = this.o.clock.now().getTime();
    const key = this.activeKey();
    const { removed, rows } = await this.repo.transaction(async (tx) => {
      await this.repo.lockWrites(tx);
      const existing = await this.repo.getShopper(input.shopperId, tx);
      const old = await this.repo.templatesOfShopper(input.shopperId, tx);
      await this.repo.upsertShopper(tx, {
        shopperId: input.shopperId,
        partitionId,
        phoneSuffixMac: input.phoneLast4 === undefined ? (existing?.phoneSuffixMac ?? null) : mac,
        alwaysAsk: input.alwaysAsk ?? existing?.alwaysAsk ?? false,
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      });
      await this.repo.deleteTemplates(
        tx,
        old.map((t) => t.templateKey),
      );
      let next = await this.repo.reserve(tx, 'template_key', vectors.length * partitions.length);
      const rows = partitions.flatMap((pid) => vectors.map((v) => this.sealTemplate(this.o.ids.next('tpl'), input.shopperId, pid, v, key, now, next++)));
      await this.repo.insertTemplates(tx, rows);
      await this.writeEvents(tx, [
        ...old.map((t) => ({ kind: 'remove' as const, templateKey: t.templateKey, partitionId: t.partitionId })),
        ...rows.map((t) => ({ kind: 'add' as const, templateKey: t.templateKey, partitionId: t.partitionId })),
      ]);
      return { removed: old, rows };
    });
    this.removeLocally(removed);
    this.addLocally(
      rows,
      partitions.flatMap(() => vectors),
    );
    await this.sync();
    return { templateIds: rows.map((r) => r.id) };
  }

  /**
   * Bulk enrolment of new shoppers (a migration, a benchmark): one transaction per call, no
   * re-enrolment checks. Before `start` it writes the database only and `start` then builds the
   * index once; after `start` the index follows as with `enrol`.
   */
  async importMany(inputs: readonly EnrolInput[]): Promise<void> {
    if (inputs.length === 0) return;
    await this.open();
    const now = this.o.clock.now().getTime();
    const key = this.activeKey();
    const prepared = inputs.map((input) => ({
      input,
      partitions: this.partitionsOf(input),
      vectors: input.embeddings.map((e) => this.checkEmbedding(e)),
      mac: input.phoneLast4 === undefined || input.phoneLast4 === null ? null : this.mac(input.phoneLast4),
    }));
    const total = prepared.reduce((n, p) => n + p.vectors.length * p.partitions.length, 0);
    const rows = await this.repo.transaction(async (tx) => {
      await this.repo.lockWrites(tx);
      let next = await this.repo.reserve(tx, 'template_key', total);
      await this.repo.insertShoppers(
        tx,
        prepared.map((p) => ({
          shopperId: p.input.shopperId,
          partitionId: p.partitions[0] as string,
          phoneSuffixMac: p.mac,
          alwaysAsk: p.input.alwaysAsk ?? false,
          createdAt: now,
          updatedAt: now,
        })),
      );
      const rows = prepared.flatMap((p) =>
        p.partitions.flatMap((pid) => p.vectors.map((v) => this.sealTemplate(this.o.ids.next('tpl'), p.input.shopperId, pid, v, key, now, next++))),
      );
      await this.repo.insertTemplates(tx, rows);
      await this.writeEvents(
        tx,
        rows.map((r) => ({ kind: 'add' as const, templateKey: r.templateKey, partitionId: r.partitionId })),
      );
      return rows;
    });
    if (!this.started) return;
    const vectors = prepared.flatMap((p) => p.partitions.flatMap(() => p.vectors));
    const byPartition = new Map<string, number[]>();
    rows.forEach((r, i) => {
      if (!this.serves(r.partitionId)) return;
      const list = byPartition.get(r.partitionId) ?? [];
      list.push(i);
      byPartition.set(r.partitionId, list);
    });
    for (const [partitionId, idx] of byPartition) {
      const flat = new Float32Array(idx.length * this.o.dim);
      idx.forEach((i, j) => flat.set(vectors[i] as Float32Array, j * this.o.dim));
      this.router.get(partitionId).addSync(
        idx.map((i) => (rows[i] as TemplateRow).templateKey),
        flat,
      );
    }
    await this.sync();
  }

  /** Adds one template (say, after a confident payment), dropping the oldest beyond the per-shopper cap. */
  async addTemplate(shopperId: string, embedding: Embedding): Promise<{ templateId: string }> {
    const vector = this.checkEmbedding(embedding);
    const max = this.o.maxTemplatesPerShopper ?? 10;
    const now = this.o.clock.now().getTime();
    const key = this.activeKey();
    const { rows, dropped } = await this.repo.transaction(async (tx) => {
      await this.repo.lockWrites(tx);
      const shopper = await this.repo.getShopper(shopperId, tx);
      if (shopper === undefined) throw new DomainError('not_found', 'shopper_not_enrolled', 'this shopper has no face enrolled');
      const old = await this.repo.templatesOfShopper(shopperId, tx);
      // The cap counts one partition's templates; the refresh goes to every partition the shopper is in.
      const partitions = [...new Set([shopper.partitionId, ...old.map((t) => t.partitionId)])];
      const dropped = partitions.flatMap((pid) => {
        const mine = old.filter((t) => t.partitionId === pid);
        return mine.slice(0, Math.max(0, mine.length + 1 - max));
      });
      await this.repo.deleteTemplates(
        tx,
        dropped.map((t) => t.templateKey),
      );
      let k = await this.repo.reserve(tx, 'template_key', partitions.length);
      const rows = partitions.map((pid) => this.sealTemplate(this.o.ids.next('tpl'), shopperId, pid, vector, key, now, k++));
      await this.repo.insertTemplates(tx, rows);
      await this.writeEvents(tx, [
        ...dropped.map((t) => ({ kind: 'remove' as const, templateKey: t.templateKey, partitionId: t.partitionId })),
        ...rows.map((r) => ({ kind: 'add' as const, templateKey: r.templateKey, partitionId: r.partitionId })),
      ]);
      return { rows, dropped };
    });
    this.removeLocally(dropped);
    this.addLocally(
      rows,
      rows.map(() => vector),
    );
    await this.sync();
    return { templateId: (rows[0] as TemplateRow).id };
  }

  /** Sets or clears the phone suffix and the "always ask for my digits" choice. */
  async setOptions(shopperId: string, opts: { phoneLast4?: string | null; alwaysAsk?: boolean }): Promise<void> {
    const mac = opts.phoneLast4 === undefined || opts.phoneLast4 === null ? null : this.mac(opts.phoneLast4);
    const now = this.o.clock.now().getTime();
    await this.repo.transaction(async (tx) => {
      const s = await this.repo.getShopper(shopperId, tx);
      if (s === undefined) throw new DomainError('not_found', 'shopper_not_enrolled', 'this shopper has no face enrolled');
      await this.repo.upsertShopper(tx, {
        ...s,
        phoneSuffixMac: opts.phoneLast4 === undefined ? s.phoneSuffixMac : mac,
        alwaysAsk: opts.alwaysAsk ?? s.alwaysAsk,
        updatedAt: now,
      });
    });
  }

  /**
   * Whether this gallery can find the shopper: false when they have no template, or only templates
   * of another model (after a model change they must enrol again; their old templates stay until then).
   */
  async searchable(shopperId: string): Promise<boolean> {
    const rows = await this.repo.templatesOfShopper(shopperId);
    return rows.some((t) => t.modelName === this.o.model.name && t.modelVersion === this.o.model.version);
  }

  /** What the gallery keeps of a shopper, for their data export: ids, model and dates, never the vectors. */
  async describeShopper(shopperId: string): Promise<{ templateId: string; model: { name: string; version: string }; dimensions: number; createdAt: number }[]> {
    const rows = await this.repo.templatesOfShopper(shopperId);
    return rows.map((t) => ({ templateId: t.id, model: { name: t.modelName, version: t.modelVersion }, dimensions: t.dim, createdAt: t.createdAt }));
  }

  /**
   * Deletes the shopper's face for good: the rows go in one transaction and the index drops the
   * templates before this returns, so the very next search cannot return them. (A search already
   * running re-scores from the database, where the rows are gone, so it cannot either.)
   */
  async deleteShopper(shopperId: string): Promise<{ templatesRemoved: number }> {
    const removed = await this.repo.transaction(async (tx) => {
      await this.repo.lockWrites(tx);
      const old = await this.repo.templatesOfShopper(shopperId, tx);
      await this.repo.deleteTemplates(
        tx,
        old.map((t) => t.templateKey),
      );
      await this.repo.deleteShopper(tx, shopperId);
      await this.writeEvents(
        tx,
        old.map((t) => ({ kind: 'remove' as const, templateKey: t.templateKey, partitionId: t.partitionId })),
      );
      return old;
    });
    this.removeLocally(removed);
    await this.sync();
    return { templatesRemoved: removed.length };
  }

  private async writeEvents(
    tx: Parameters<Parameters<GalleryRepo['transaction']>[0]>[0],
    events: Omit<GalleryEvent, 'seq' | 'at'>[],
  ): Promise<void> {
    if (events.length === 0) return;
    const first = await this.repo.reserve(tx, 'event_seq', events.length);
    const at = this.o.clock.now().getTime();
    await this.repo.insertEvents(
      tx,
      events.map((e, i) => ({ ...e, seq: first + i, at })),
    );
  }

  private removeLocally(rows: readonly { templateKey: number; partitionId: string }[]): void {
    for (const r of rows) if (this.serves(r.partitionId)) this.router.get(r.partitionId).removeSync([r.templateKey]);
  }

  private addLocally(rows: readonly TemplateRow[], vectors: readonly Float32Array[]): void {
    rows.forEach((r, i) => {
      const v = vectors[i];
      if (v !== undefined && r.modelName === this.o.model.name && r.modelVersion === this.o.model.version && this.serves(r.partitionId)) {
        this.router.get(r.partitionId).addSync([r.templateKey], v);
      }
    });
  }

  /**
   * Applies, in order, the events written since the index was last in step: other processes'
   * enrolments and deletions on a shared PostgreSQL, or what happened after a snapshot. Call it
   * every second or so when several API processes share one database (`rank` calls it before each search).
   *
   * Event numbers are handed out before their transactions commit, so a reader may see number n+1
   * before n (two writers committing out of their numbers' order, which the writers' lock prevents
   * today but nothing here should depend on). A number skipped over is remembered as a gap and
   * read again at every sync until its event turns up or `GAP_WAIT_MS` has passed: applying an
   * event late is harmless, since an add whose row a later event removed finds no row, and
   * template keys are never reused.
   */
  sync(): Promise<void> {
    const apply = async (all: readonly GalleryEvent[]): Promise<void> => {
      // Another partition's changes are its own processes' business: not even their rows are read.
      const events = all.filter((e) => this.serves(e.partitionId));
      const adds = events.filter((e) => e.kind === 'add').map((e) => e.templateKey);
      const rows = new Map((await this.repo.templatesByKeys(adds)).map((r) => [r.templateKey, r]));
      for (const e of events) {
        const part = this.router.get(e.partitionId);
        if (e.kind === 'remove') part.removeSync([e.templateKey]);
        else {
          const r = rows.get(e.templateKey);
          // A row already gone was deleted by a later event; one of another model is not indexed.
          if (r !== undefined && r.modelName === this.o.model.name && r.modelVersion === this.o.model.version && r.partitionId === e.partitionId) {
            if (!part.has(r.templateKey)) part.addSync([r.templateKey], this.decrypt(r));
          }
        }
      }
    };
    const run = async (): Promise<void> => {
      const t = this.o.clock.now().getTime();
      if (this.gaps.size > 0) {
        for (const [seq, since] of this.gaps) if (t - since > GAP_WAIT_MS) this.gaps.delete(seq);
        const late = await this.repo.eventsIn([...this.gaps.keys()]);
        await apply(late);
        for (const e of late) this.gaps.delete(e.seq);
      }
      for (;;) {
        const events = await this.repo.eventsAfter(this.appliedSeq, 2000);
        if (events.length === 0) return;
        await apply(events);
        for (const e of events) {
          // Only the last MAX_TRACKED_GAPS numbers of a long run are watched (a run that long is
          // events pruned, not transactions in flight).
          for (let s = Math.max(this.appliedSeq + 1, e.seq - MAX_TRACKED_GAPS); s < e.seq; s++) this.gaps.set(s, t);
          this.appliedSeq = e.seq;
        }
      }
    };
    this.syncing = this.syncing.then(run, run);
    return this.syncing;
  }

  /** Event numbers skipped over by `sync` and still watched for (for tests and health checks). */
  get pendingGaps(): number {
    return this.gaps.size;
  }

  /**
   * Rebuilds a partition's index from the database. When the templates are wider than the index
   * (`AnnParams.indexDim`) and there are enough of them, the projection is learned first from the
   * oldest `PROJECTION_SAMPLES` templates in key order: deterministic, and the same set whichever
   * process rebuilds.
   */
  private async rebuild(part: LocalPartition): Promise<void> {
    const total = (await this.repo.stats(this.o.model, [part.id])).find((s) => s.partitionId === part.id)?.count ?? 0;
    const progress = this.o.progressOut === null ? undefined : new Progress(`gallery index ${part.id}`, total, this.o.progressOut);
    const dim = this.o.dim;
    let after = 0;
    const batch = 10_000;
    const page = async (): Promise<{ keys: number[]; flat: Float32Array }> => {
      const rows = await this.repo.templatesPage(this.o.model, part.id, after, batch);
      const flat = new Float32Array(rows.length * dim);
      rows.forEach((r, i) => flat.set(this.decrypt(r), i * dim));
      after = rows[rows.length - 1]?.templateKey ?? after;
      return { keys: rows.map((r) => r.templateKey), flat };
    };
    const pending: { keys: number[]; flat: Float32Array }[] = [];
    if (part.wantsProjection(total)) {
      // The first pages are read ahead, learned from, then indexed like the rest.
      let have = 0;
      while (have < Math.min(total, PROJECTION_SAMPLES)) {
        const p = await page();
        if (p.keys.length === 0) break;
        pending.push(p);
        have += p.keys.length;
      }
      const sample = new Float32Array(Math.min(have, PROJECTION_SAMPLES) * dim);
      let filled = 0;
      for (const p of pending) {
        const take = Math.min(p.flat.length, sample.length - filled);
        sample.set(p.flat.subarray(0, take), filled);
        filled += take;
      }
      part.clear(have > 0 ? learnProjection(sample, dim, this.ann.indexDim ?? dim) : undefined);
    } else {
      part.clear();
    }
    for (;;) {
      const p = pending.shift() ?? (await page());
      if (p.keys.length === 0) break;
      part.addSync(p.keys, p.flat);
      progress?.tick(p.keys.length);
    }
    progress?.finish();
  }

  /** Saves every partition, encrypted, with the last event it includes. */
  async snapshot(): Promise<void> {
    const dir = this.o.snapshotDir;
    if (dir === undefined) return;
    await this.syncing;
    for (const part of this.router.all()) {
      await saveSnapshot(
        dir,
        this.scratch(),
        part,
        { model: this.o.model.name, version: this.o.model.version, appliedSeq: this.appliedSeq, createdAt: this.o.clock.now().getTime() },
        this.activeKey(),
        this.o.random,
      );
    }
  }

  /** Each partition's index: templates, the dimensions it holds, and its projection (learned from how many templates, and the share of their squared length it keeps). */
  indexInfo(): { id: string; method: SearchMethod; templates: number; indexDim: number; projection: { samples: number; kept: number; fingerprint: string } | null }[] {
    return this.router.all().map((p) => ({
      id: p.id,
      method: p.method,
      templates: p.count(),
      indexDim: p.storedDim,
      projection: p.projection === undefined ? null : { samples: p.projection.samples, kept: p.projection.kept, fingerprint: p.projection.fingerprint.slice(0, 12) },
    }));
  }

  /** A partition's projection (derived from templates: for measurement, never to be written out in the clear). */
  projectionOf(partitionId: string): Projection | undefined {
    return this.router.ids().includes(partitionId) ? this.router.get(partitionId).projection : undefined;
  }

  /** How each partition is searched, and why: the measured scan rate against the budget. */
  searchStats(): SearchStats {
    const rate = this.exactRate();
    return {
      exactScanRate: rate,
      budgetMs: this.budgetMs,
      partitions: this.router.all().map((p) => ({ id: p.id, templates: p.count(), method: p.method, exactScanMs: p.count() / rate })),
    };
  }

  /** Templates of this model per partition in the database (the index is not consulted). */
  async storedCounts(): Promise<Record<string, number>> {
    return Object.fromEntries((await this.repo.stats(this.o.model)).map((s) => [s.partitionId, s.count]));
  }

  /** Templates in each partition of the index. */
  sizes(): Record<string, number> {
    return Object.fromEntries(this.router.all().map((p) => [p.id, p.count()]));
  }

  /**
   * The partitions a search covers: the terminal's, each of which this process must serve (a
   * search that silently skipped one would miss its shoppers and decide at too small an N), or
   * by default every partition held here.
   */
  private scopeOf(scope: SearchScope | undefined): string[] {
    const list = scope?.partitions;
    if (list === undefined) return this.router.ids();
    const missing = list.find((id) => !this.serves(id));
    if (missing !== undefined) {
      const served = this.servedPartitions ?? [];
      throw new DomainError(
        'unavailable',
        'gallery_partition_not_served',
        `gallery partition ${missing} is not served by this process (it serves ${served.join(', ')}): send the request to a process of that partition's region`,
        { partition: missing, served },
      );
    }
    return list;
  }

  /** Exact cosine of the probe with a stored template. */
  private exactScore(probe: Float32Array, row: TemplateRow): number {
    const v = this.decrypt(row);
    let dot = 0;
    for (let i = 0; i < v.length; i++) dot += (v[i] ?? 0) * (probe[i] ?? 0);
    return dot;
  }

  /** Exact cosine of the probe with each candidate row, best per shopper first. */
  private score(probe: Float32Array, rows: readonly CandidateRow[]): ScoredShopper[] {
    return rankShoppers(rows.map((r) => ({ shopperId: r.shopperId, score: this.exactScore(probe, r), alwaysAsk: r.alwaysAsk, phoneSuffixMac: r.phoneSuffixMac })));
  }

  /** The index alone: its candidates with their quantised scores, and how many templates it searched. */
  async searchIndex(probe: Embedding, scope?: SearchScope): Promise<{ keys: number[]; size: number }> {
    const { hits, size } = await this.router.search(this.checkEmbedding(probe), this.o.candidates ?? DEFAULT_CANDIDATES, this.scopeOf(scope));
    return { keys: hits.map((h) => h.key), size };
  }

  /**
   * The index's candidates, re-scored exactly against the stored templates: the best
   * `RANKED_SHOPPERS` shoppers, best first. The template rows are read by primary key alone and
   * the shoppers' flags only for those few: at a million templates a join per candidate cost
   * 1.0 ms p50 against 0.6 ms when the database file was not in the OS cache (0.26 against 0.23
   * when it was). A shopper deleted in between is left out.
   */
  async rank(probe: Embedding, scope?: SearchScope): Promise<{ ranked: ScoredShopper[]; comparedTemplates: number }> {
    await this.catchUp();
    return this.rankNow(probe, scope);
  }

  /**
   * Another process on the same PostgreSQL may have enrolled a face a moment ago (perhaps in a
   * partition this one has not seen yet): a search takes in the change log first, one indexed
   * query when nothing changed, so that shopper can pay at once at a terminal served here.
   * Deletions need no such step: the candidates' rows are read back from the database.
   */
  private async catchUp(): Promise<void> {
    if (this.started) await this.sync();
  }

  private async rankNow(probe: Embedding, scope?: SearchScope): Promise<{ ranked: ScoredShopper[]; comparedTemplates: number }> {
    const v = this.checkEmbedding(probe);
    const { hits, size } = await this.router.search(v, this.o.candidates ?? DEFAULT_CANDIDATES, this.scopeOf(scope));
    const rows = await this.repo.templatesByKeys(hits.map((h) => h.key));
    const best = rankShoppers(rows.map((r) => ({ shopperId: r.shopperId, score: this.exactScore(v, r), alwaysAsk: false, phoneSuffixMac: null }))).slice(
      0,
      RANKED_SHOPPERS,
    );
    const flags = new Map((await this.repo.shopperFlags(best.map((s) => s.shopperId))).map((f) => [f.shopperId, f]));
    const ranked: ScoredShopper[] = [];
    for (const s of best) {
      const f = flags.get(s.shopperId);
      if (f !== undefined) ranked.push({ ...s, alwaysAsk: f.alwaysAsk, phoneSuffixMac: f.phoneSuffixMac });
    }
    return { ranked, comparedTemplates: size };
  }

  /** Who is this? match, ambiguous (ask for the phone's last four digits) or no_match. */
  async identify(probe: Embedding, scope?: SearchScope): Promise<Decision> {
    if (scope?.partitions !== undefined) this.scopeOf(scope);
    await this.catchUp();
    const partitions = this.scopeOf(scope);
    const { ranked, comparedTemplates } = await this.rankNow(probe, { partitions });
    return decide(ranked, comparedTemplates, this.tail, this.policy, (first) => this.narrowedSize(first, { partitions }));
  }

  /** Every template of the shoppers with these digits, scored exactly (the narrowed search is a full scan of that small set). */
  async rankWithDigits(probe: Embedding, phoneLast4: string, scope?: SearchScope): Promise<{ ranked: ScoredShopper[]; comparedTemplates: number }> {
    const v = this.checkEmbedding(probe);
    if (scope?.partitions !== undefined) this.scopeOf(scope);
    await this.catchUp();
    const rows = await this.repo.candidatesWithSuffix(this.o.model, this.scopeOf(scope), this.mac(phoneLast4));
    return { ranked: this.score(v, rows), comparedTemplates: rows.length };
  }

  /** The second step after `ambiguous`: the shoppers with these digits, decided at their smaller set's threshold. */
  async identifyWithDigits(probe: Embedding, phoneLast4: string, scope?: SearchScope): Promise<Decision> {
    const { ranked, comparedTemplates } = await this.rankWithDigits(probe, phoneLast4, scope);
    return decideNarrowed(ranked, comparedTemplates, this.tail, this.policy);
  }

  /** How many templates a search narrowed to this shopper's digits would compare (for offline evaluation). */
  async narrowedSize(first: ScoredShopper, scope?: SearchScope): Promise<number | undefined> {
    return first.phoneSuffixMac === null ? undefined : this.repo.countWithSuffix(this.o.model, this.scopeOf(scope), first.phoneSuffixMac);
  }
}
