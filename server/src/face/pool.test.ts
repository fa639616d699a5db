import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AnalyzeOptions, Analyzer, FaceAnalysis } from './analyzer.ts';
import { inline, PriorityLanes } from './pool.ts';

/** An analyser that answers only when told to, recording the order it was asked in. */
function heldAnalyzer() {
  const order: string[] = [];
  const waiting: (() => void)[] = [];
  const analyzer: Analyzer = {
    model: { name: 'fake', version: '1', dim: 4 } as Analyzer['model'],
    analyze(image: Uint8Array, opts: AnalyzeOptions) {
      order.push(`${opts.priority ?? 'background'}:${image[0]}`);
      return new Promise<FaceAnalysis>((resolve) => waiting.push(() => resolve({} as FaceAnalysis)));
    },
    close: async () => undefined,
  };
  const releaseAll = async (): Promise<void> => {
    while (waiting.length > 0 || order.length === 0) {
      waiting.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { analyzer, order, releaseAll };
}

describe('the face engine queue', () => {
  test('a payment queued behind an enrolment flood is served next, and the flood cannot fill its lane', async () => {
    const { analyzer, order, releaseAll } = heldAnalyzer();
    const runner = inline(analyzer, 8);
    const all: Promise<unknown>[] = [];
    // Enrolment frames fill their lane: the ninth beyond the running one is refused busy.
    for (let i = 0; i < 9; i++) all.push(runner.analyze(new Uint8Array([i]), { purpose: 'enrolment', priority: 'enrolment' }));
    await assert.rejects(runner.analyze(new Uint8Array([99]), { purpose: 'enrolment', priority: 'enrolment' }), { code: 'face_engine_busy' });
    all.push(runner.analyze(new Uint8Array([50]), { purpose: 'inspect' }));
    // The payment still finds room, and goes before every enrolment frame that waited longer.
    const payment = runner.analyze(new Uint8Array([7]), { purpose: 'payment', priority: 'payment' });
    all.push(payment);
    await releaseAll();
    await Promise.all(all);
    assert.deepEqual(order.slice(0, 3), ['enrolment:0', 'payment:7', 'enrolment:1']);
    assert.equal(order.at(-1), 'background:50');
    assert.equal(order.length, 11);
  });

  test('lanes serve payment, then enrolment, then background, each bounded', () => {
    const q = new PriorityLanes<string>(2);
    assert.ok(q.push('background', 'b1'));
    assert.ok(q.push('enrolment', 'e1'));
    assert.ok(q.push('enrolment', 'e2'));
    assert.equal(q.push('enrolment', 'e3'), false);
    assert.ok(q.push('payment', 'p1'));
    assert.deepEqual([q.shift(), q.shift(), q.shift(), q.shift(), q.shift()], ['p1', 'e1', 'e2', 'b1', undefined]);
  });
});
