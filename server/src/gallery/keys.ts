/**
 * The gallery's data keys: unwrapped from the database under the master keyring (re-wrapping any
 * under an older master key), the active template key that seals new templates, and the phone key
 * that MACs the last four digits.
 */
import { DomainError } from '../platform/index.ts';
import type { SqlExecutor } from '../storage/index.ts';
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
} from './crypto.ts';
import type { GalleryRepo, TemplateRow } from './repo.ts';
import type { GalleryOptions } from './types.ts';

export interface DataKey {
  id: string;
  key: Buffer;
}

const PHONE_DIGITS = /^[0-9]{4}$/;

export class GalleryKeys {
  private readonly dataKeys = new Map<string, Buffer>();
  private templateKey: DataKey | undefined;
  private phoneKey: Buffer | undefined;
  /** The data keys that the last load re-wrapped with the current master key, and the key they were under. */
  rewrapped: readonly { dataKeyId: string; from: string }[] = [];

  constructor(
    private readonly repo: GalleryRepo,
    private readonly o: Pick<GalleryOptions, 'masterKeys' | 'model' | 'dim' | 'clock' | 'ids' | 'random'>,
  ) {}

  get loaded(): boolean {
    return this.templateKey !== undefined;
  }

  /** The data key of this id, if the keyring could unwrap it (a snapshot names the key it is under). */
  get(id: string): Buffer | undefined {
    return this.dataKeys.get(id);
  }

  async load(): Promise<void> {
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
      if (this.templateKey === undefined) this.templateKey = await this.create(tx, 'template');
      if (this.phoneKey === undefined) this.phoneKey = (await this.create(tx, 'phone')).key;
    });
    this.rewrapped = rewrapped;
  }

  private async create(tx: SqlExecutor, purpose: 'template' | 'phone'): Promise<DataKey> {
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
  async rotate(): Promise<string> {
    const k = await this.repo.transaction(async (tx) => {
      await this.repo.lockWrites(tx);
      return this.create(tx, 'template');
    });
    this.templateKey = k;
    return k.id;
  }

  active(): DataKey {
    if (this.templateKey === undefined) throw new DomainError('unavailable', 'gallery_not_started', 'the gallery has not been started');
    return this.templateKey;
  }

  mac(digits: string): string {
    if (!PHONE_DIGITS.test(digits)) throw new DomainError('invalid', 'bad_phone_digits', 'the phone suffix must be exactly four digits');
    if (this.phoneKey === undefined) throw new DomainError('unavailable', 'gallery_not_started', 'the gallery has not been started');
    return phoneSuffixMac(this.phoneKey, digits);
  }

  decrypt(row: TemplateRow): Float32Array {
    const key = this.dataKeys.get(row.keyId);
    if (key === undefined) throw new DomainError('unavailable', 'data_key_missing', `template ${row.id} uses unknown data key ${row.keyId}`);
    return bytesToVector(openSealed(key, row.ciphertext, templateAad(row)));
  }

  seal(id: string, shopperId: string, partitionId: string, vector: Float32Array, key: DataKey, now: number, templateKey: number): TemplateRow {
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
}
