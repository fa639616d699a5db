/** The gallery's public shapes: models and embeddings, its options, enrolment input, search scope, served partitions and reports. */
import type { Clock, IdGenerator, Random } from '../platform/index.ts';
import type { Db } from '../storage/index.ts';
import type { MasterKeyring } from './crypto.ts';
import type { AnnParams, SearchMethod } from './partition.ts';
import type { DecisionPolicy } from './policy.ts';
import type { UnsearchableModel } from './repo.ts';
import type { FalseMatchCalibration } from './tail.ts';

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
