import { DomainError } from '../platform/index.ts';
import { chooseMethod, measureExactScanRate } from './exact.ts';
import { Enrolment } from './enrolment.ts';
import { EventLog } from './events.ts';
import { GalleryKeys } from './keys.ts';
import { DEFAULT_ANN, DEFAULT_PARALLEL_FROM, LocalPartition, PartitionRouter, type AnnParams, type SearchMethod } from './partition.ts';
import type { Projection } from './projection.ts';
import { DEFAULT_POLICY, decide, decideNarrowed, rankShoppers, type Decision, type DecisionPolicy, type ScoredShopper } from './policy.ts';
import { GalleryRepo, type CandidateRow, type GalleryEvent, type TemplateRow } from './repo.ts';
import { rebuildPartition } from './rebuild.ts';
import { checkEmbedding, ofModel } from './shared.ts';
import { defaultScratchDir, loadSnapshot, readSnapshotMeta, saveSnapshot } from './snapshot.ts';
import { envelopeOf } from './envelope.ts';
import type { TailModel } from './tail.ts';
import { DEFAULT_SEARCH_BUDGET_MS, type Embedding, type EnrolInput, type GalleryOptions, type SearchScope, type SearchStats, type ServedPartition, type StartReport } from './types.ts';

/**
 * Shoppers a search answers with: the decision reads the first and the second (margin rule); a
 * third lets a caller leave one shopper out and still decide (the bench's not-enrolled probes).
 */
const RANKED_SHOPPERS = 3;

/** Templates taken from the index for the exact re-score (README, Index). */
export const DEFAULT_CANDIDATES = 16;

/**
 * The gallery over its parts: the data keys (keys.ts), the change log other processes follow
 * (events.ts), rebuilding a partition's index (rebuild.ts), snapshots (snapshot.ts); here are its
 * start, the writes of enrolment and deletion, and the search and decision.
 */
export class Gallery {
  private readonly repo: GalleryRepo;
  private readonly router: PartitionRouter<LocalPartition>;
  private readonly tail: TailModel;
  private readonly policy: DecisionPolicy;
  private readonly ann: AnnParams;
  private readonly keys: GalleryKeys;
  private readonly log: EventLog;
  private readonly writes: Enrolment;
  private started = false;
  /** True while `start` loads the partitions (the readiness probe says `loading` or `waiting`). */
  private starting = false;
  private scanRate: number | undefined;
  /** The method chosen at start per partition; a partition first seen later is chosen for its size then (empty: exact). */
  private readonly methods = new Map<string, SearchMethod>();
  /** Undefined: every partition (today's single-process behaviour). */
  private readonly served: ReadonlySet<string> | undefined;
  private readonly loadStates = new Map<string, 'loading' | 'loaded'>();

  constructor(private readonly o: GalleryOptions) {
    this.repo = new GalleryRepo(o.db);
    this.keys = new GalleryKeys(this.repo, o);
    this.log = new EventLog(this.repo, o.clock, (events) => this.applyEvents(events));
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
    this.writes = new Enrolment({
      repo: this.repo,
      keys: this.keys,
      log: this.log,
      router: this.router,
      o,
      open: () => this.open(),
      started: () => this.started,
      serves: (id) => this.serves(id),
    });
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

  /** The data keys that the last start re-wrapped with the current master key, and the key they were under. */
  get rewrapped(): readonly { dataKeyId: string; from: string }[] {
    return this.keys.rewrapped;
  }

  /** Unwraps the data keys (re-wrapping any under an older master key); `start` does it too. */
  async open(): Promise<void> {
    if (!this.keys.loaded) await this.keys.load();
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
        this.keys.get(meta.keyId) !== undefined &&
        (meta.appliedSeq >= lastSeq || (firstSeq !== undefined && firstSeq <= meta.appliedSeq + 1));
      let source: 'snapshot' | 'rebuild' = 'rebuild';
      if (usable && this.o.snapshotDir !== undefined) {
        try {
          await loadSnapshot(this.o.snapshotDir, this.scratch(), part, meta, this.keys.get(meta.keyId) as Buffer, this.o.random);
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
    this.log.appliedSeq = replayFrom.length > 0 ? Math.min(...replayFrom) : lastSeq;
    const before = this.log.appliedSeq;
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
        entry.replayedEvents = this.log.appliedSeq - before;
      }
    }
    for (const id of served ?? []) this.loadStates.set(id, 'loaded');
    return report;
  }

  private scratch(): string {
    return this.o.scratchDir ?? defaultScratchDir();
  }

  /** A new data key for templates written from now on; older rows keep theirs until re-enrolled. */
  async rotateDataKey(): Promise<string> {
    return this.keys.rotate();
  }

  /**
   * Enrols a shopper, or re-enrols one: the new templates replace all earlier ones in one
   * transaction, and the index follows before this returns.
   */
  enrol(input: EnrolInput): Promise<{ templateIds: string[] }> {
    return this.writes.enrol(input);
  }

  /**
   * Bulk enrolment of new shoppers (a migration, a benchmark): one transaction per call, no
   * re-enrolment checks. Before `start` it writes the database only and `start` then builds the
   * index once; after `start` the index follows as with `enrol`.
   */
  importMany(inputs: readonly EnrolInput[]): Promise<void> {
    return this.writes.importMany(inputs);
  }

  /** Adds one template (say, after a confident payment), dropping the oldest beyond the per-shopper cap. */
  addTemplate(shopperId: string, embedding: Embedding): Promise<{ templateId: string }> {
    return this.writes.addTemplate(shopperId, embedding);
  }

  /** Sets or clears the phone suffix and the "always ask for my digits" choice. */
  setOptions(shopperId: string, opts: { phoneLast4?: string | null; alwaysAsk?: boolean }): Promise<void> {
    return this.writes.setOptions(shopperId, opts);
  }

  /**
   * Whether this gallery can find the shopper: false when they have no template, or only templates
   * of another model (after a model change they must enrol again; their old templates stay until then).
   */
  searchable(shopperId: string): Promise<boolean> {
    return this.writes.searchable(shopperId);
  }

  /** What the gallery keeps of a shopper, for their data export: ids, model and dates, never the vectors. */
  describeShopper(shopperId: string): Promise<{ templateId: string; model: { name: string; version: string }; dimensions: number; createdAt: number }[]> {
    return this.writes.describeShopper(shopperId);
  }

  /**
   * Deletes the shopper's face for good: the rows go in one transaction and the index drops the
   * templates before this returns, so the very next search cannot return them. (A search already
   * running re-scores from the database, where the rows are gone, so it cannot either.)
   */
  deleteShopper(shopperId: string): Promise<{ templatesRemoved: number }> {
    return this.writes.deleteShopper(shopperId);
  }

  /**
   * Applies, in order, the events written since the index was last in step: other processes'
   * enrolments and deletions on a shared PostgreSQL, or what happened after a snapshot. Call it
   * every second or so when several API processes share one database (`rank` calls it before each search).
   * Events whose numbers were skipped over are applied when they turn up (events.ts).
   */
  sync(): Promise<void> {
    return this.log.sync();
  }

  private async applyEvents(all: readonly GalleryEvent[]): Promise<void> {
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
        if (r !== undefined && ofModel(r, this.o.model) && r.partitionId === e.partitionId) {
          if (!part.has(r.templateKey)) part.addSync([r.templateKey], this.keys.decrypt(r));
        }
      }
    }
  }

  /** Event numbers skipped over by `sync` and still watched for (for tests and health checks). */
  get pendingGaps(): number {
    return this.log.pendingGaps;
  }

  private rebuild(part: LocalPartition): Promise<void> {
    return rebuildPartition(
      { repo: this.repo, model: this.o.model, dim: this.o.dim, indexDim: this.ann.indexDim, progressOut: this.o.progressOut, decrypt: (r) => this.keys.decrypt(r) },
      part,
    );
  }

  /** Saves every partition, encrypted, with the last event it includes. */
  async snapshot(): Promise<void> {
    const dir = this.o.snapshotDir;
    if (dir === undefined) return;
    await this.log.idle();
    for (const part of this.router.all()) {
      await saveSnapshot(
        dir,
        this.scratch(),
        part,
        { model: this.o.model.name, version: this.o.model.version, appliedSeq: this.log.appliedSeq, createdAt: this.o.clock.now().getTime() },
        this.keys.active(),
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

  private check(e: Embedding): Float32Array {
    return checkEmbedding(e, this.o.model, this.o.dim);
  }

  /** Exact cosine of the probe with a stored template. */
  private exactScore(probe: Float32Array, row: TemplateRow): number {
    const v = this.keys.decrypt(row);
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
    const { hits, size } = await this.router.search(this.check(probe), this.o.candidates ?? DEFAULT_CANDIDATES, this.scopeOf(scope));
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
    const v = this.check(probe);
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
    const v = this.check(probe);
    if (scope?.partitions !== undefined) this.scopeOf(scope);
    await this.catchUp();
    const rows = await this.repo.candidatesWithSuffix(this.o.model, this.scopeOf(scope), this.keys.mac(phoneLast4));
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
