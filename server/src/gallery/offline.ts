import type { Clock } from '../platform/index.ts';
import type { Db } from '../storage/index.ts';
import { GalleryRepo } from './repo.ts';

/**
 * A process running without the face engine (FACEPAY_FACE=0) holds no index, yet a shopper's
 * deletion there must still remove their face: the rows go, and the same `remove` events a Gallery
 * writes tell every process that does hold an index to drop the templates.
 */
export async function deleteShopperTemplates(db: Db, clock: Clock, shopperId: string): Promise<{ templatesRemoved: number }> {
  const repo = new GalleryRepo(db);
  const removed = await repo.transaction(async (tx) => {
    await repo.lockWrites(tx);
    const old = await repo.templatesOfShopper(shopperId, tx);
    await repo.deleteTemplates(
      tx,
      old.map((t) => t.templateKey),
    );
    await repo.deleteShopper(tx, shopperId);
    if (old.length > 0) {
      const first = await repo.reserve(tx, 'event_seq', old.length);
      const at = clock.now().getTime();
      await repo.insertEvents(
        tx,
        old.map((t, i) => ({ seq: first + i, kind: 'remove' as const, templateKey: t.templateKey, partitionId: t.partitionId, at })),
      );
    }
    return old;
  });
  return { templatesRemoved: removed.length };
}

/** What is stored of a shopper's face without opening the gallery: ids, model and dates. */
export async function describeShopperTemplates(db: Db, shopperId: string) {
  const rows = await new GalleryRepo(db).templatesOfShopper(shopperId);
  return rows.map((t) => ({ templateId: t.id, model: { name: t.modelName, version: t.modelVersion }, dimensions: t.dim, createdAt: t.createdAt }));
}
