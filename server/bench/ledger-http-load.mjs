// The HTTP load generator of bench:ledger, run as a child process so that it does not share the
// server's event loop: C keep-alive connections each POST payments back to back.
// argv: baseUrl apiKey storeId concurrency total shopperCount
import http from 'node:http';

const [base, key, store, concurrency, total, shopperCount, prefix] = process.argv.slice(2);
const C = Number(concurrency);
const N = Number(total);
const S = Number(shopperCount);
const agent = new http.Agent({ keepAlive: true, maxSockets: C });
const url = new URL('/v1/payment_intents', base);

function post(body, idem) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'idempotency-key': idem,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let next = 0;
const statuses = {};
const started = performance.now();
await Promise.all(
  Array.from({ length: C }, async () => {
    for (;;) {
      const i = next++;
      if (i >= N) return;
      const body = JSON.stringify({ amount: 100 + (i % 400), currency: 'usd', store, confirm: true, shopper: `test_bench_${i % S}` });
      const s = await post(body, `${prefix}-${i}`);
      statuses[s] = (statuses[s] ?? 0) + 1;
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
agent.destroy();
process.stdout.write(`${JSON.stringify({ requests: N, seconds, statuses })}\n`);
