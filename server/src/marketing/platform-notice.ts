import { asDb, type SqlExecutor } from '../storage/index.ts';
import { MarketingRepo } from './repo.ts';
import { inboxRow } from './shared.ts';

/**
 * The sender of inbox notices that come from the platform itself, not from a merchant (the
 * retention rule's notices): the portal names it Facepay and offers no mute for it.
 */
export const PLATFORM_SENDER = 'facepay';

/**
 * A notice from the platform in the shopper's inbox, written inside the caller's transaction so
 * that it lands exactly when the change it announces does.
 */
export async function recordPlatformNotice(tx: SqlExecutor, n: { id: string; shopperId: string; title: string; body: string; at: number }): Promise<void> {
  await new MarketingRepo(asDb(tx)).insertInbox(
    inboxRow({ id: n.id, shopper_id: n.shopperId, merchant_id: PLATFORM_SENDER, kind: 'message', title: n.title, body: n.body, created_at: n.at }),
  );
}
