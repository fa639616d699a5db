/**
 * Enrolment's writes: enrolling and re-enrolling a shopper, bulk import, a refreshed template,
 * the phone digits and "always ask", and deleting a face. Each writes its rows and events in one
 * transaction, then brings this process's index along before it returns.
 */
import { DomainError } from '../platform/index.ts';
import type { EventLog } from './events.ts';
import type { GalleryKeys } from './keys.ts';
import type { LocalPartition, PartitionRouter } from './partition.ts';
import type { GalleryEvent, GalleryRepo, TemplateRow } from './repo.ts';
import { checkEmbedding, ofModel } from './shared.ts';
import type { Embedding, EnrolInput, GalleryOptions } from './types.ts';

export interface EnrolmentDeps {
  repo: GalleryRepo;
  keys: GalleryKeys;
  log: EventLog;
  router: PartitionRouter<LocalPartition>;
  o: GalleryOptions;
  /** Unwraps the data keys if that has not happened yet. */
  open(): Promise<void>;
  /** Whether the index has been loaded (before that, writes go to the database only). */
  started(): boolean;
  /** Whether this process holds the partition in memory; a write to another goes to the database only. */
  serves(partitionId: string): boolean;
}

type Placed = { templateKey: number; partitionId: string };

function additions(rows: readonly Placed[]): Omit<GalleryEvent, 'seq' | 'at'>[] {
  return rows.map((r) => ({ kind: 'add' as const, templateKey: r.templateKey, partitionId: r.partitionId }));
}

function removals(rows: readonly Placed[]): Omit<GalleryEvent, 'seq' | 'at'>[] {
  return rows.map((r) => ({ kind: 'remove' as const, templateKey: r.templateKey, partitionId: r.partitionId }));
}

export class Enrolment {
  private readonly repo: GalleryRepo;
  private readonly keys: GalleryKeys;
  private readonly log: EventLog;
  private readonly router: PartitionRouter<LocalPartition>;
  private readonly o: GalleryOptions;

  constructor(private readonly d: EnrolmentDeps) {
    this.repo = d.repo;
    this.keys = d.keys;
    this.log = d.log;
    this.router = d.router;
    this.o = d.o;
  }

  /** The keyed MAC of the phone digits, or null when none are given. */
  private macOf(digits: string | null | undefined): string | null {
    return digits === undefined || digits === null ? null : this.keys.mac(digits);
  }

  private partitionsOf(input: EnrolInput): string[] {
    const list = input.partitions ?? [input.partitionId ?? this.o.defaultPartition ?? 'default'];
    if (list.length === 0 || list.some((p) => typeof p !== 'string' || p.length === 0 || p.length > 100)) {
      throw new DomainError('invalid', 'bad_partitions', 'a shopper is enrolled in one or more partitions, each named by a non-empty id');
    }
    if (new Set(list).size !== list.length) throw new DomainError('invalid', 'bad_partitions', 'a partition is named twice');
    return list;
  }

  /**
   * Enrols a shopper, or re-enrols one: the new templates replace all earlier ones in one
   * transaction, and the index follows before this returns.
   */
  async enrol(input: EnrolInput): Promise<{ templateIds: string[] }> {
    if (input.embeddings.length === 0) throw new DomainError('invalid', 'no_templates', 'enrolment needs at least one embedding');
    const max = this.o.maxTemplatesPerShopper ?? 10;
    if (input.embeddings.length > max) throw new DomainError('invalid', 'too_many_templates', `at most ${max} templates per shopper`);
    const vectors = input.embeddings.map((e) => checkEmbedding(e, this.o.model, this.o.dim));
    const partitions = this.partitionsOf(input);
    const partitionId = partitions[0] as string;
    const mac = this.macOf(input.phoneLast4);
    const now = this.o.clock.now().getTime();
    const key = this.keys.active();
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
      const rows = partitions.flatMap((pid) => vectors.map((v) => this.keys.seal(this.o.ids.next('tpl'), input.shopperId, pid, v, key, now, next++)));
      await this.repo.insertTemplates(tx, rows);
      await this.log.write(tx, [
        ...removals(old),
        ...additions(rows),
      ]);
      return { removed: old, rows };
    });
    this.removeLocally(removed);
    this.addLocally(
      rows,
      partitions.flatMap(() => vectors),
    );
    await this.log.sync();
    return { templateIds: rows.map((r) => r.id) };
  }

  /**
   * Bulk enrolment of new shoppers (a migration, a benchmark): one transaction per call, no
   * re-enrolment checks. Before `start` it writes the database only and `start` then builds the
   * index once; after `start` the index follows as with `enrol`.
   */
  async importMany(inputs: readonly EnrolInput[]): Promise<void> {
    if (inputs.length === 0) return;
    await this.d.open();
    const now = this.o.clock.now().getTime();
    const key = this.keys.active();
    const prepared = inputs.map((input) => ({
      input,
      partitions: this.partitionsOf(input),
      vectors: input.embeddings.map((e) => checkEmbedding(e, this.o.model, this.o.dim)),
      mac: this.macOf(input.phoneLast4),
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
        p.partitions.flatMap((pid) => p.vectors.map((v) => this.keys.seal(this.o.ids.next('tpl'), p.input.shopperId, pid, v, key, now, next++))),
      );
      await this.repo.insertTemplates(tx, rows);
      await this.log.write(
        tx,
        additions(rows),
      );
      return rows;
    });
    if (!this.d.started()) return;
    const vectors = prepared.flatMap((p) => p.partitions.flatMap(() => p.vectors));
    const byPartition = new Map<string, number[]>();
    rows.forEach((r, i) => {
      if (!this.d.serves(r.partitionId)) return;
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
    await this.log.sync();
  }

  /** Adds one template (say, after a confident payment), dropping the oldest beyond the per-shopper cap. */
  async addTemplate(shopperId: string, embedding: Embedding): Promise<{ templateId: string }> {
    const vector = checkEmbedding(embedding, this.o.model, this.o.dim);
    const max = this.o.maxTemplatesPerShopper ?? 10;
    const now = this.o.clock.now().getTime();
    const key = this.keys.active();
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
      const rows = partitions.map((pid) => this.keys.seal(this.o.ids.next('tpl'), shopperId, pid, vector, key, now, k++));
      await this.repo.insertTemplates(tx, rows);
      await this.log.write(tx, [
        ...removals(dropped),
        ...additions(rows),
      ]);
      return { rows, dropped };
    });
    this.removeLocally(dropped);
    this.addLocally(
      rows,
      rows.map(() => vector),
    );
    await this.log.sync();
    return { templateId: (rows[0] as TemplateRow).id };
  }

  /** Sets or clears the phone suffix and the "always ask for my digits" choice. */
  async setOptions(shopperId: string, opts: { phoneLast4?: string | null; alwaysAsk?: boolean }): Promise<void> {
    const mac = this.macOf(opts.phoneLast4);
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
    return rows.some((t) => ofModel(t, this.o.model));
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
      await this.log.write(
        tx,
        removals(old),
      );
      return old;
    });
    this.removeLocally(removed);
    await this.log.sync();
    return { templatesRemoved: removed.length };
  }

  private removeLocally(rows: readonly Placed[]): void {
    for (const r of rows) if (this.d.serves(r.partitionId)) this.router.get(r.partitionId).removeSync([r.templateKey]);
  }

  private addLocally(rows: readonly TemplateRow[], vectors: readonly Float32Array[]): void {
    rows.forEach((r, i) => {
      const v = vectors[i];
      if (v !== undefined && ofModel(r, this.o.model) && this.d.serves(r.partitionId)) {
        this.router.get(r.partitionId).addSync([r.templateKey], v);
      }
    });
  }
}
