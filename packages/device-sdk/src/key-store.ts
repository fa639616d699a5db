/**
 * Where a terminal keeps its identity between restarts. Browsers keep the CryptoKey object itself
 * in IndexedDB (structured clone keeps a non-extractable key usable and still unreadable); tests
 * and Node programs use the in-memory store or their own implementation of the interface.
 */
import type { DeviceAlgorithm } from './protocol.ts';

export interface DeviceIdentity {
  /** Null until activation succeeds: a key pair may be made first and registered later. */
  deviceId: string | null;
  algorithm: DeviceAlgorithm;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Base URL of the platform the device was activated against. */
  baseUrl?: string;
  activatedAt?: number;
  /** The server's clock minus the device's, last learnt from the server. */
  clockOffsetMs?: number;
}

export interface DeviceKeyStore {
  load(): Promise<DeviceIdentity | undefined>;
  save(identity: DeviceIdentity): Promise<void>;
  clear(): Promise<void>;
}

export class MemoryKeyStore implements DeviceKeyStore {
  private identity: DeviceIdentity | undefined;
  async load(): Promise<DeviceIdentity | undefined> {
    return this.identity;
  }
  async save(identity: DeviceIdentity): Promise<void> {
    this.identity = { ...identity };
  }
  async clear(): Promise<void> {
    this.identity = undefined;
  }
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** One record, under a fixed key, in an object store of its own database. */
export class IndexedDbKeyStore implements DeviceKeyStore {
  private static readonly STORE = 'identity';
  private static readonly KEY = 'device';

  constructor(private readonly dbName = 'facepay-device') {}

  private async open(): Promise<IDBDatabase> {
    if (globalThis.indexedDB === undefined) throw new Error('IndexedDB is unavailable here');
    const req = globalThis.indexedDB.open(this.dbName, 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore(IndexedDbKeyStore.STORE);
    };
    return request(req);
  }

  private async run<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await this.open();
    try {
      const tx = db.transaction(IndexedDbKeyStore.STORE, mode);
      // Listen for completion before issuing the request: a write counts only once it is committed.
      const done = new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
        tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
      });
      const result = await request(fn(tx.objectStore(IndexedDbKeyStore.STORE)));
      await done;
      return result;
    } finally {
      db.close();
    }
  }

  async load(): Promise<DeviceIdentity | undefined> {
    const value = await this.run('readonly', (s) => s.get(IndexedDbKeyStore.KEY));
    return (value as DeviceIdentity | undefined) ?? undefined;
  }

  async save(identity: DeviceIdentity): Promise<void> {
    await this.run('readwrite', (s) => s.put(identity, IndexedDbKeyStore.KEY));
  }

  async clear(): Promise<void> {
    await this.run('readwrite', (s) => s.delete(IndexedDbKeyStore.KEY));
  }
}
