/**
 * The gallery's change log: every enrolment and deletion writes numbered events in its own
 * transaction, and each process follows them in order to keep its index in step.
 */
import type { Clock } from '../platform/index.ts';
import type { SqlExecutor } from '../storage/index.ts';
import type { GalleryEvent, GalleryRepo } from './repo.ts';

/**
 * How long `sync` keeps looking for an event number it skipped over. A writer holds its number
 * only for its own transaction (milliseconds); a number still missing after this was never
 * committed, so it is let go.
 */
export const GAP_WAIT_MS = 10 * 60 * 1000;
/** At most this many skipped numbers are watched per run of missing ones. */
const MAX_TRACKED_GAPS = 1000;

export class EventLog {
  /** The last event number applied to the index. */
  appliedSeq = 0;
  /** Event numbers below `appliedSeq` not seen yet (their transaction had not committed), with when they were first missed. */
  private readonly gaps = new Map<number, number>();
  private syncing: Promise<void> = Promise.resolve();

  constructor(
    private readonly repo: GalleryRepo,
    private readonly clock: Clock,
    /** Applies a batch of events to the index, in order. */
    private readonly apply: (events: readonly GalleryEvent[]) => Promise<void>,
  ) {}

  async write(tx: SqlExecutor, events: Omit<GalleryEvent, 'seq' | 'at'>[]): Promise<void> {
    if (events.length === 0) return;
    const first = await this.repo.reserve(tx, 'event_seq', events.length);
    const at = this.clock.now().getTime();
    await this.repo.insertEvents(
      tx,
      events.map((e, i) => ({ ...e, seq: first + i, at })),
    );
  }

  /**
   * Applies, in order, the events written since the index was last in step.
   *
   * Event numbers are handed out before their transactions commit, so a reader may see number n+1
   * before n (two writers committing out of their numbers' order, which the writers' lock prevents
   * today but nothing here should depend on). A number skipped over is remembered as a gap and
   * read again at every sync until its event turns up or `GAP_WAIT_MS` has passed: applying an
   * event late is harmless, since an add whose row a later event removed finds no row, and
   * template keys are never reused.
   */
  sync(): Promise<void> {
    const run = async (): Promise<void> => {
      const t = this.clock.now().getTime();
      if (this.gaps.size > 0) {
        for (const [seq, since] of this.gaps) if (t - since > GAP_WAIT_MS) this.gaps.delete(seq);
        const late = await this.repo.eventsIn([...this.gaps.keys()]);
        await this.apply(late);
        for (const e of late) this.gaps.delete(e.seq);
      }
      for (;;) {
        const events = await this.repo.eventsAfter(this.appliedSeq, 2000);
        if (events.length === 0) return;
        await this.apply(events);
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

  /** Resolves when the sync under way, if any, has finished. */
  idle(): Promise<void> {
    return this.syncing;
  }

  /** Event numbers skipped over and still watched for. */
  get pendingGaps(): number {
    return this.gaps.size;
  }
}
