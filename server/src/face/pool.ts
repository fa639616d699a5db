import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DomainError, type ErrorKind } from '../platform/index.ts';
import { createAnalyzer, type AnalysisPriority, type AnalyzeOptions, type Analyzer, type FaceAnalysis } from './analyzer.ts';
import type { FaceConfig } from './config.ts';
import type { EmbedderModel } from './embedders.ts';
import { faceErrors } from './errors.ts';

export interface WorkerRequest {
  id: number;
  image: ArrayBuffer;
  opts: AnalyzeOptions;
}
export type WorkerReply =
  | { id: number; result: FaceAnalysis }
  | { id: number; error: { domain: true; kind: ErrorKind; code: string; message: string; details: Record<string, unknown> | undefined } | { domain: false; message: string } };

/** Runs analyses: on the calling thread (workers = 0) or on a pool of worker threads with a bounded queue. */
export interface AnalysisRunner {
  model: EmbedderModel;
  analyze(image: Uint8Array, opts: AnalyzeOptions): Promise<FaceAnalysis>;
  /** requests accepted and not yet answered */
  pending(): number;
  close(): Promise<void>;
}

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

export async function createRunner(config: FaceConfig): Promise<AnalysisRunner> {
  if (config.workers <= 0) return inline(await createAnalyzer(config), config.maxQueue);
  return createPool(config);
}

const PRIORITIES: readonly AnalysisPriority[] = ['payment', 'enrolment', 'background'];

/**
 * The engine's waiting requests: one bounded lane per priority, served payment first, then
 * enrolment, then background. Separate bounds mean a full enrolment lane still leaves a terminal's
 * payment room to wait (and be served next), where one shared queue would answer it busy.
 */
export class PriorityLanes<T> {
  private readonly lanes = new Map<AnalysisPriority, T[]>(PRIORITIES.map((p) => [p, []]));
  constructor(private readonly bound: number) {}

  /** False when that priority's lane is full. */
  push(priority: AnalysisPriority | undefined, item: T): boolean {
    const lane = this.lanes.get(priority ?? 'background')!;
    if (lane.length >= this.bound) return false;
    lane.push(item);
    return true;
  }

  shift(): T | undefined {
    for (const p of PRIORITIES) {
      const lane = this.lanes.get(p)!;
      if (lane.length > 0) return lane.shift();
    }
    return undefined;
  }

  lengthOf(priority: AnalysisPriority | undefined): number {
    return this.lanes.get(priority ?? 'background')!.length;
  }

  get length(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.length;
    return n;
  }

  drain(): T[] {
    const all: T[] = [];
    for (const p of PRIORITIES) all.push(...this.lanes.get(p)!.splice(0));
    return all;
  }
}

/** The engine on the calling thread, one analysis at a time (the wasm backend is not re-entrant). */
export function inline(analyzer: Analyzer, maxQueue: number): AnalysisRunner {
  // One more place than queued requests: the request of an idle engine passes through the lane.
  const queue = new PriorityLanes<Job>(maxQueue + 1);
  let running: Promise<void> | null = null;
  let closed = false;
  let nextId = 1;
  function pump(): void {
    if (running) return;
    const job = queue.shift();
    if (!job) return;
    running = analyzer
      .analyze(job.image, job.opts)
      .then(job.resolve, job.reject)
      .finally(() => {
        running = null;
        pump();
      });
  }
  return {
    model: analyzer.model,
    pending: () => queue.length + (running ? 1 : 0),
    analyze(image, opts) {
      if (closed) return Promise.reject(faceErrors.closed());
      // Only one analysis runs at a time: the first request of an idle engine starts at once.
      if (queue.lengthOf(opts.priority) >= maxQueue + (running ? 0 : 1)) return Promise.reject(faceErrors.busy(queue.length));
      return new Promise<FaceAnalysis>((resolve, reject) => {
        queue.push(opts.priority, { id: nextId++, image, opts, resolve, reject });
        pump();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.drain()) job.reject(faceErrors.closed());
      await running;
      await analyzer.close();
    },
  };
}

interface Job {
  id: number;
  image: Uint8Array;
  opts: AnalyzeOptions;
  resolve(r: FaceAnalysis): void;
  reject(e: unknown): void;
}

async function createPool(config: FaceConfig): Promise<AnalysisRunner> {
  const bootstrap = new URL('./worker-boot.mjs', import.meta.url);
  const workers: { worker: Worker; job: Job | null }[] = [];
  const queue = new PriorityLanes<Job>(config.maxQueue);
  let nextId = 1;
  let closed = false;
  let model: EmbedderModel | undefined;

  const starts = Array.from({ length: config.workers }, () => {
    const worker = new Worker(bootstrap, { workerData: { config } });
    const slot = { worker, job: null as Job | null };
    return new Promise<void>((resolve, reject) => {
      const onFirst = (msg: { ready: boolean; model?: EmbedderModel; message?: string }): void => {
        if (!msg.ready) {
          reject(new DomainError('unavailable', 'face_engine_failed', `The face engine could not start: ${msg.message}`));
          return;
        }
        model = msg.model;
        worker.on('message', (reply: WorkerReply) => finish(slot, reply));
        workers.push(slot);
        resolve();
      };
      worker.once('message', onFirst);
      worker.once('error', reject);
      // A worker that dies takes its job with it; the others carry on, and with none left every
      // waiting request is refused rather than left hanging.
      worker.on('exit', () => {
        const i = workers.indexOf(slot);
        if (i >= 0) workers.splice(i, 1);
        slot.job?.reject(new DomainError('unavailable', 'face_engine_failed', 'The face engine stopped while analysing the image.'));
        slot.job = null;
        if (workers.length === 0) for (const job of queue.drain()) job.reject(new DomainError('unavailable', 'face_engine_failed', 'The face engine has stopped.'));
      });
    });
  });
  try {
    await Promise.all(starts);
  } catch (e) {
    await Promise.all(workers.map((w) => w.worker.terminate()));
    throw e;
  }

  function finish(slot: { worker: Worker; job: Job | null }, reply: WorkerReply): void {
    const job = slot.job;
    slot.job = null;
    if (job && job.id === reply.id) {
      if ('result' in reply) job.resolve(reply.result);
      else if (reply.error.domain) job.reject(new DomainError(reply.error.kind, reply.error.code, reply.error.message, reply.error.details));
      else job.reject(new Error(reply.error.message));
    }
    pump();
  }

  function pump(): void {
    for (const slot of workers) {
      if (slot.job) continue;
      const job = queue.shift();
      if (!job) return;
      slot.job = job;
      // The bytes cross to the worker once: either the caller hands its buffer over (transfer), or one copy is made.
      const own =
        job.opts.transfer === true &&
        job.image.byteOffset === 0 &&
        job.image.byteLength === job.image.buffer.byteLength &&
        !(job.image.buffer instanceof SharedArrayBuffer);
      let buf: ArrayBuffer;
      if (own) buf = job.image.buffer as ArrayBuffer;
      else {
        // Buffer#slice is a view, not a copy: copy explicitly so the caller's memory stays intact.
        const copy = new Uint8Array(job.image.byteLength);
        copy.set(job.image);
        buf = copy.buffer;
      }
      const { transfer: _, priority: __, ...opts } = job.opts;
      const req: WorkerRequest = { id: job.id, image: buf, opts };
      slot.worker.postMessage(req, [buf]);
    }
  }

  return {
    model: model!,
    pending: () => queue.length + workers.filter((w) => w.job).length,
    analyze(image, opts) {
      if (closed) return Promise.reject(faceErrors.closed());
      if (workers.length === 0) return Promise.reject(new DomainError('unavailable', 'face_engine_failed', 'The face engine has stopped.'));
      if (queue.lengthOf(opts.priority) >= config.maxQueue) return Promise.reject(faceErrors.busy(queue.length));
      return new Promise<FaceAnalysis>((resolve, reject) => {
        queue.push(opts.priority, { id: nextId++, image, opts, resolve, reject });
        pump();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.drain()) job.reject(faceErrors.closed());
      await Promise.all([...workers].map((w) => w.worker.terminate()));
    },
  };
}
