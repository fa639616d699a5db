import { parentPort, workerData } from 'node:worker_threads';
import { DomainError } from '../platform/index.ts';
import { createAnalyzer } from './analyzer.ts';
import type { FaceConfig } from './config.ts';
import type { WorkerReply, WorkerRequest } from './pool.ts';

/** One engine per worker thread: the wasm backend is single-threaded in Node. */
const port = parentPort!;
const config = (workerData as { config: FaceConfig }).config;

try {
  const analyzer = await createAnalyzer(config);
  port.on('message', (req: WorkerRequest) => {
    void (async () => {
      let reply: WorkerReply;
      const transfer = new Set<ArrayBuffer>();
      try {
        const result = await analyzer.analyze(new Uint8Array(req.image), req.opts);
        // Without a mirror pass both fields may be the same vector: a buffer is listed once.
        for (const v of [result.embedding, result.checkEmbedding]) if (v) transfer.add(v.buffer as ArrayBuffer);
        reply = { id: req.id, result };
      } catch (e) {
        reply =
          e instanceof DomainError
            ? { id: req.id, error: { domain: true, kind: e.kind, code: e.code, message: e.message, details: e.details } }
            : { id: req.id, error: { domain: false, message: e instanceof Error ? e.message : String(e) } };
      }
      port.postMessage(reply, [...transfer]);
    })();
  });
  port.postMessage({ ready: true, model: analyzer.model });
} catch (e) {
  port.postMessage({ ready: false, message: e instanceof Error ? e.message : String(e) });
}
