import type { Db, SqlExecutor } from '../storage/index.ts';

/** The only file of the gallery that speaks SQL. */

export interface KeyRow {
  id: string;
  purpose: 'template' | 'phone';
  wrapped: Buffer;
  masterKeyId: string;
  active: boolean;
  createdAt: number;
}

export interface ShopperRow {
  shopperId: string;
  partitionId: string;
  phoneSuffixMac: string | null;
  alwaysAsk: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface TemplateRow {
  templateKey: number;
  id: string;
  shopperId: string;
  partitionId: string;
  modelName: string;
  modelVersion: string;
  dim: number;
  keyId: string;
  ciphertext: Buffer;
  createdAt: number;
}

/** A template with its shopper's flags, as the re-scoring and the narrowed search read it. */
export interface CandidateRow extends TemplateRow {
  alwaysAsk: boolean;
  phoneSuffixMac: string | null;
}

export interface GalleryEvent {
  seq: number;
  kind: 'add' | 'remove';
  templateKey: number;
  partitionId: string;
  at: number;
}

export interface PartitionStats {
  partitionId: string;
  count: number;
  keySum: number;
}

export interface ModelFilter {
  name: string;
  version: string;
}

type Raw = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const buf = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array));

function toTemplate(r: Raw): TemplateRow {
  return {
    templateKey: num(r.template_key),
    id: String(r.id),
    shopperId: String(r.shopper_id),
    partitionId: String(r.partition_id),
    modelName: String(r.model_name),
    modelVersion: String(r.model_version),
    dim: num(r.dim),
    keyId: String(r.key_id),
    ciphertext: buf(r.ciphertext),
    createdAt: num(r.created_at),
  };
}

function toCandidate(r: Raw): CandidateRow {
  return {
    ...toTemplate(r),
    alwaysAsk: num(r.always_ask) === 1,
    phoneSuffixMac: r.phone_suffix_mac === null || r.phone_suffix_mac === undefined ? null : String(r.phone_suffix_mac),
  };
}

function toEvent(r: Raw): GalleryEvent {
  return {
    seq: num(r.seq),
    kind: String(r.kind) === 'remove' ? 'remove' : 'add',
    templateKey: num(r.template_key),
    partitionId: String(r.partition_id),
    at: num(r.at),
  };
}

function toShopper(r: Raw): ShopperRow {
  return {
    shopperId: String(r.shopper_id),
    partitionId: String(r.partition_id),
    phoneSuffixMac: r.phone_suffix_mac === null || r.phone_suffix_mac === undefined ? null : String(r.phone_suffix_mac),
    alwaysAsk: num(r.always_ask) === 1,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

/** `$from, $from+1, ...` placeholders for an IN list. */
function placeholders(n: number, from: number): string {
  return Array.from({ length: n }, (_, i) => `$${from + i}`).join(', ');
}

const TEMPLATE_COLUMNS =
  't.template_key, t.id, t.shopper_id, t.partition_id, t.model_name, t.model_version, t.dim, t.key_id, t.ciphertext, t.created_at';

/** Shoppers whose templates are all of one other model, and how many templates they hold. */
export interface UnsearchableModel {
  modelName: string;
  modelVersion: string;
  shoppers: number;
  templates: number;
}

export class GalleryRepo {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  /**
   * Serialises the gallery's writers on PostgreSQL (a re-enrolment reads the templates it
   * replaces; SQLite serialises anyway). Event numbers then commit in order too, but the readers'
   * `sync` does not rely on it: it watches for numbers it skipped over.
   */
  async lockWrites(tx: SqlExecutor): Promise<void> {
    if (tx.dialect === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(7413)');
  }

  /** Reserves n consecutive values of a counter and answers the first. */
  async reserve(tx: SqlExecutor, counter: 'template_key' | 'event_seq', n: number): Promise<number> {
    const rows = await tx.query<Raw>('UPDATE gallery_counters SET value = value + $1 WHERE name = $2 RETURNING value', [n, counter]);
    const last = num(rows[0]?.value);
    return last - n + 1;
  }

  // Keys

  async listKeys(ex: SqlExecutor = this.db): Promise<KeyRow[]> {
    const rows = await ex.query<Raw>('SELECT id, purpose, wrapped, master_key_id, active, created_at FROM gallery_keys ORDER BY created_at, id');
    return rows.map((r) => ({
      id: String(r.id),
      purpose: String(r.purpose) === 'phone' ? 'phone' : 'template',
      wrapped: buf(r.wrapped),
      masterKeyId: String(r.master_key_id),
      active: num(r.active) === 1,
      createdAt: num(r.created_at),
    }));
  }

  async insertKey(tx: SqlExecutor, k: KeyRow): Promise<void> {
    if (k.active) await tx.execute('UPDATE gallery_keys SET active = 0 WHERE purpose = $1', [k.purpose]);
    await tx.execute(
      'INSERT INTO gallery_keys (id, purpose, wrapped, master_key_id, active, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [k.id, k.purpose, k.wrapped, k.masterKeyId, k.active ? 1 : 0, k.createdAt],
    );
  }

  async rewrapKey(tx: SqlExecutor, id: string, wrapped: Buffer, masterKeyId: string): Promise<void> {
    await tx.execute('UPDATE gallery_keys SET wrapped = $1, master_key_id = $2 WHERE id = $3', [wrapped, masterKeyId, id]);
  }

  // Shoppers

  async upsertShopper(tx: SqlExecutor, s: ShopperRow): Promise<void> {
    await tx.execute(
      `INSERT INTO gallery_shoppers (shopper_id, partition_id, phone_suffix_mac, always_ask, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (shopper_id) DO UPDATE SET partition_id = $2, phone_suffix_mac = $3, always_ask = $4, updated_at = $6`,
      [s.shopperId, s.partitionId, s.phoneSuffixMac, s.alwaysAsk ? 1 : 0, s.createdAt, s.updatedAt],
    );
  }

  async insertShoppers(tx: SqlExecutor, rows: readonly ShopperRow[]): Promise<void> {
    const per = 6;
    for (let i = 0; i < rows.length; i += 100) {
      const chunk = rows.slice(i, i + 100);
      const values = chunk.map((_, j) => `(${placeholders(per, j * per + 1)})`).join(', ');
      const params = chunk.flatMap((s) => [s.shopperId, s.partitionId, s.phoneSuffixMac, s.alwaysAsk ? 1 : 0, s.createdAt, s.updatedAt]);
      await tx.execute(
        `INSERT INTO gallery_shoppers (shopper_id, partition_id, phone_suffix_mac, always_ask, created_at, updated_at) VALUES ${values}`,
        params,
      );
    }
  }

  async getShopper(shopperId: string, ex: SqlExecutor = this.db): Promise<ShopperRow | undefined> {
    const rows = await ex.query<Raw>(
      'SELECT shopper_id, partition_id, phone_suffix_mac, always_ask, created_at, updated_at FROM gallery_shoppers WHERE shopper_id = $1',
      [shopperId],
    );
    return rows[0] === undefined ? undefined : toShopper(rows[0]);
  }

  async deleteShopper(tx: SqlExecutor, shopperId: string): Promise<void> {
    await tx.execute('DELETE FROM gallery_shoppers WHERE shopper_id = $1', [shopperId]);
  }

  // Templates

  async insertTemplates(tx: SqlExecutor, rows: readonly TemplateRow[]): Promise<void> {
    const per = 10;
    for (let i = 0; i < rows.length; i += 100) {
      const chunk = rows.slice(i, i + 100);
      const values = chunk.map((_, j) => `(${placeholders(per, j * per + 1)})`).join(', ');
      const params = chunk.flatMap((t) => [
        t.templateKey,
        t.id,
        t.shopperId,
        t.partitionId,
        t.modelName,
        t.modelVersion,
        t.dim,
        t.keyId,
        t.ciphertext,
        t.createdAt,
      ]);
      await tx.execute(
        `INSERT INTO gallery_templates (template_key, id, shopper_id, partition_id, model_name, model_version, dim, key_id, ciphertext, created_at)
         VALUES ${values}`,
        params,
      );
    }
  }

  async templatesOfShopper(shopperId: string, ex: SqlExecutor = this.db): Promise<TemplateRow[]> {
    const rows = await ex.query<Raw>(`SELECT ${TEMPLATE_COLUMNS} FROM gallery_templates t WHERE t.shopper_id = $1 ORDER BY t.template_key`, [
      shopperId,
    ]);
    return rows.map(toTemplate);
  }

  async deleteTemplates(tx: SqlExecutor, keys: readonly number[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      await tx.execute(`DELETE FROM gallery_templates WHERE template_key IN (${placeholders(chunk.length, 1)})`, chunk);
    }
  }

  /** The flags of these shoppers that a decision reads; deleted shoppers are simply absent. */
  async shopperFlags(shopperIds: readonly string[]): Promise<Pick<ShopperRow, 'shopperId' | 'alwaysAsk' | 'phoneSuffixMac'>[]> {
    if (shopperIds.length === 0) return [];
    const rows = await this.db.query<Raw>(
      `SELECT shopper_id, always_ask, phone_suffix_mac FROM gallery_shoppers WHERE shopper_id IN (${placeholders(shopperIds.length, 1)})`,
      shopperIds,
    );
    return rows.map((r) => ({
      shopperId: String(r.shopper_id),
      alwaysAsk: num(r.always_ask) === 1,
      phoneSuffixMac: r.phone_suffix_mac === null || r.phone_suffix_mac === undefined ? null : String(r.phone_suffix_mac),
    }));
  }

  // CROSS JOIN makes SQLite start from the shoppers' suffix index (without statistics it would
  // otherwise walk every template of the model); PostgreSQL plans it like any inner join.
  // The partition is the template's (a shopper may be in several), compared as an expression so
  // that SQLite reaches the templates through the shopper index rather than through
  // (model, partition), which walked every template of the partition per shopper: 459 ms an
  // identify at 100 thousand.

  /** Every template of the model whose shopper registered this phone suffix, in the given partitions (a shopper enrolled in several has templates in each). */
  async candidatesWithSuffix(model: ModelFilter, partitions: readonly string[], mac: string): Promise<CandidateRow[]> {
    const rows = await this.db.query<Raw>(
      `SELECT ${TEMPLATE_COLUMNS}, s.always_ask, s.phone_suffix_mac
       FROM gallery_shoppers s CROSS JOIN gallery_templates t
       WHERE t.shopper_id = s.shopper_id AND s.phone_suffix_mac = $1 AND (t.partition_id || '') IN (${placeholders(partitions.length, 4)})
         AND t.model_name = $2 AND t.model_version = $3`,
      [mac, model.name, model.version, ...partitions],
    );
    return rows.map(toCandidate);
  }

  /** How many templates a search narrowed to this suffix would compare against. */
  async countWithSuffix(model: ModelFilter, partitions: readonly string[], mac: string): Promise<number> {
    const rows = await this.db.query<Raw>(
      `SELECT COUNT(*) AS n
       FROM gallery_shoppers s CROSS JOIN gallery_templates t
       WHERE t.shopper_id = s.shopper_id AND s.phone_suffix_mac = $1 AND (t.partition_id || '') IN (${placeholders(partitions.length, 4)})
         AND t.model_name = $2 AND t.model_version = $3`,
      [mac, model.name, model.version, ...partitions],
    );
    return num(rows[0]?.n ?? 0);
  }

  /** One page of a model's templates in key order, for rebuilding the index. */
  async templatesPage(model: ModelFilter, partitionId: string, afterKey: number, limit: number): Promise<TemplateRow[]> {
    const rows = await this.db.query<Raw>(
      `SELECT ${TEMPLATE_COLUMNS} FROM gallery_templates t
       WHERE t.model_name = $1 AND t.model_version = $2 AND t.partition_id = $3 AND t.template_key > $4
       ORDER BY t.template_key LIMIT $5`,
      [model.name, model.version, partitionId, afterKey, limit],
    );
    return rows.map(toTemplate);
  }

  async templatesByKeys(keys: readonly number[]): Promise<TemplateRow[]> {
    if (keys.length === 0) return [];
    const rows = await this.db.query<Raw>(
      `SELECT ${TEMPLATE_COLUMNS} FROM gallery_templates t WHERE t.template_key IN (${placeholders(keys.length, 1)})`,
      keys,
    );
    return rows.map(toTemplate);
  }

  async partitionsOf(model: ModelFilter): Promise<string[]> {
    const rows = await this.db.query<Raw>(
      'SELECT DISTINCT partition_id FROM gallery_templates WHERE model_name = $1 AND model_version = $2 ORDER BY partition_id',
      [model.name, model.version],
    );
    return rows.map((r) => String(r.partition_id));
  }

  /**
   * Shoppers whose templates are all of other models, per model: the current model cannot search
   * them, so they must enrol again (a model change leaves their old templates in place).
   */
  async unsearchable(model: ModelFilter): Promise<UnsearchableModel[]> {
    const rows = await this.db.query<Raw>(
      `SELECT t.model_name, t.model_version, COUNT(DISTINCT t.shopper_id) AS shoppers, COUNT(*) AS n
       FROM gallery_templates t
       WHERE NOT (t.model_name = $1 AND t.model_version = $2)
         AND NOT EXISTS (SELECT 1 FROM gallery_templates c WHERE c.shopper_id = t.shopper_id AND c.model_name = $1 AND c.model_version = $2)
       GROUP BY t.model_name, t.model_version ORDER BY t.model_name, t.model_version`,
      [model.name, model.version],
    );
    return rows.map((r) => ({ modelName: String(r.model_name), modelVersion: String(r.model_version), shoppers: num(r.shoppers), templates: num(r.n) }));
  }

  /** Count and key sum per partition: the consistency check of a loaded snapshot. */
  async stats(model: ModelFilter, partitions?: readonly string[], ex: SqlExecutor = this.db): Promise<PartitionStats[]> {
    // Only the partitions asked for: a process serving one region need not count the others' rows.
    const only = partitions === undefined ? '' : ` AND partition_id IN (${placeholders(partitions.length, 3)})`;
    if (partitions !== undefined && partitions.length === 0) return [];
    const rows = await ex.query<Raw>(
      `SELECT partition_id, COUNT(*) AS n, CAST(COALESCE(SUM(template_key), 0) AS BIGINT) AS s
       FROM gallery_templates WHERE model_name = $1 AND model_version = $2${only} GROUP BY partition_id`,
      [model.name, model.version, ...(partitions ?? [])],
    );
    return rows.map((r) => ({ partitionId: String(r.partition_id), count: num(r.n), keySum: num(r.s) }));
  }

  // Events

  async insertEvents(tx: SqlExecutor, events: readonly GalleryEvent[]): Promise<void> {
    const per = 5;
    for (let i = 0; i < events.length; i += 200) {
      const chunk = events.slice(i, i + 200);
      const values = chunk.map((_, j) => `(${placeholders(per, j * per + 1)})`).join(', ');
      await tx.execute(
        `INSERT INTO gallery_events (seq, kind, template_key, partition_id, at) VALUES ${values}`,
        chunk.flatMap((e) => [e.seq, e.kind, e.templateKey, e.partitionId, e.at]),
      );
    }
  }

  async eventsAfter(seq: number, limit: number, ex: SqlExecutor = this.db): Promise<GalleryEvent[]> {
    const rows = await ex.query<Raw>('SELECT seq, kind, template_key, partition_id, at FROM gallery_events WHERE seq > $1 ORDER BY seq LIMIT $2', [
      seq,
      limit,
    ]);
    return rows.map(toEvent);
  }

  /** The events of these numbers that exist now (numbers skipped over by an earlier read). */
  async eventsIn(seqs: readonly number[]): Promise<GalleryEvent[]> {
    const out: GalleryEvent[] = [];
    for (let i = 0; i < seqs.length; i += 500) {
      const chunk = seqs.slice(i, i + 500);
      const rows = await this.db.query<Raw>(
        `SELECT seq, kind, template_key, partition_id, at FROM gallery_events WHERE seq IN (${placeholders(chunk.length, 1)}) ORDER BY seq`,
        chunk,
      );
      out.push(...rows.map(toEvent));
    }
    return out;
  }

  async lastEventSeq(ex: SqlExecutor = this.db): Promise<number> {
    const rows = await ex.query<Raw>("SELECT value FROM gallery_counters WHERE name = 'event_seq'");
    return num(rows[0]?.value ?? 0);
  }

  async firstEventSeq(): Promise<number | undefined> {
    const rows = await this.db.query<Raw>('SELECT MIN(seq) AS m FROM gallery_events');
    const m = rows[0]?.m;
    return m === null || m === undefined ? undefined : num(m);
  }

  /** Drops events older than the cut-off; a snapshot older than what is left is rebuilt instead. */
  async pruneEvents(beforeMs: number): Promise<number> {
    return (await this.db.execute('DELETE FROM gallery_events WHERE at < $1', [beforeMs])).changes;
  }
}
