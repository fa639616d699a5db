/**
 * npm run bench:gallery:partitions [-- --partitions=4] [-- --per=50000] [-- --json]
 *
 * What a process serving only some partitions (FACEPAY_GALLERY_PARTITIONS) holds and how fast it
 * restarts, against one serving all: a SQLite database of `partitions` x `per` synthetic 128-d
 * templates (one per shopper, shoppers dealt round-robin to p0, p1, ...), indexed and
 * snapshotted once by a gallery serving every partition, then restarted from the snapshots in a
 * fresh child process per configuration (all, p0, p0+p1), each measuring the growth of its memory
 * over the restart, the restart's time, and identify p50 / p99 over strangers in its partitions.
 * The database and snapshots are cached under .bench-cache/gallery/partitions-P-N/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Gallery, galleryMigrations, masterKeyFromBytes, measureExactScanRate } from '../src/gallery/index.ts';
import { randomUnit, syntheticCalibration } from '../src/gallery/testing.ts';
import { ManualClock, repoRoot, seededRandom } from '../src/platform/index.ts';
import { migrate, SqliteDb } from '../src/storage/index.ts';

const DIM = 128;
const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const partitions = Number(opt('partitions') ?? 4);
const per = Number(opt('per') ?? 50_000);
const ids = Array.from({ length: partitions }, (_, i) => `p${i}`);
const dir = join(repoRoot, '.bench-cache', 'gallery', `partitions-${partitions}-${per}`);
const model = { name: 'bench-partitions', version: '1' };

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
}

function makeGallery(db: SqliteDb, served: readonly string[] | undefined, rate: number): Gallery {
  let n = 0;
  return new Gallery({
    db,
    masterKeys: { current: masterKeyFromBytes(Buffer.alloc(32, 9)), previous: [] },
    model,
    dim: DIM,
    calibration: syntheticCalibration({ model: model.name }),
    clock: new ManualClock('2026-12-07T00:00:00Z'),
    ids: { next: (p) => `${p}_${process.pid}_${++n}` },
    random: seededRandom(process.pid),
    snapshotDir: join(dir, 'snapshots'),
    progressOut: null,
    exactScanRate: rate,
    ...(served ? { servedPartitions: served } : {}),
  });
}

interface ChildResult {
  served: string;
  templates: number;
  restart_s: number;
  rss_growth_mib: number;
  bytes_per_template: number;
  identify_p50_ms: number;
  identify_p99_ms: number;
}

async function child(served: string, rate: number): Promise<ChildResult> {
  const list = served === 'all' ? undefined : served.split('+');
  gc();
  const db = new SqliteDb(join(dir, 'facepay.sqlite'));
  // The page cache is a fixed cost of the database, not of the templates held (as in bench:gallery).
  db.raw.pragma('cache_size = -2048');
  const g = makeGallery(db, list, rate);
  await g.storedCounts();
  gc();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const report = await g.start();
  const restartS = (performance.now() - t0) / 1000;
  gc();
  const rss1 = process.memoryUsage().rss;
  if (report.partitions.some((p) => p.source !== 'snapshot')) process.stderr.write(`# warning: not every partition came from its snapshot: ${JSON.stringify(report.partitions)}\n`);
  const templates = Object.values(g.sizes()).reduce((a, b) => a + b, 0);
  const random = seededRandom(5);
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const probe = { model, vector: randomUnit(DIM, random) };
    const t = performance.now();
    await g.identify(probe);
    times.push(performance.now() - t);
  }
  await db.close();
  return {
    served,
    templates,
    restart_s: restartS,
    rss_growth_mib: (rss1 - rss0) / 2 ** 20,
    bytes_per_template: (rss1 - rss0) / Math.max(1, templates),
    identify_p50_ms: pct(times, 0.5),
    identify_p99_ms: pct(times, 0.99),
  };
}

async function build(rate: number): Promise<{ import_s: number; build_s: number }> {
  const marker = join(dir, 'built.json');
  if (existsSync(marker)) return JSON.parse(readFileSync(marker, 'utf8')) as { import_s: number; build_s: number };
  mkdirSync(join(dir, 'snapshots'), { recursive: true });
  const db = new SqliteDb(join(dir, 'facepay.sqlite'));
  await migrate(db, galleryMigrations);
  const g = makeGallery(db, undefined, rate);
  const random = seededRandom(1);
  const total = partitions * per;
  const t0 = performance.now();
  for (let from = 0; from < total; from += 5000) {
    const batch = Array.from({ length: Math.min(5000, total - from) }, (_, j) => ({
      shopperId: `sh_${from + j}`,
      embeddings: [{ model, vector: randomUnit(DIM, random) }],
      partitions: [ids[(from + j) % partitions] as string],
    }));
    await g.importMany(batch);
    process.stderr.write(`# imported ${from + batch.length} / ${total}\n`);
  }
  const importS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await g.start();
  const buildS = (performance.now() - t1) / 1000;
  await g.snapshot();
  await db.close();
  const built = { import_s: importS, build_s: buildS };
  writeFileSync(marker, JSON.stringify(built));
  return built;
}

async function main(): Promise<void> {
  const childServed = opt('child');
  if (childServed !== undefined) {
    process.stdout.write(`${JSON.stringify(await child(childServed, Number(opt('rate'))))}\n`);
    return;
  }
  const rate = measureExactScanRate(DIM, 'i8', 1);
  const load0 = loadavg();
  const built = await build(rate);
  const configs = ['all', 'p0', ...(partitions >= 2 ? ['p0+p1'] : [])];
  const results: ChildResult[] = [];
  for (const served of configs) {
    // A fresh process per configuration, so that its memory figure is its own.
    const res = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, `--child=${served}`, `--rate=${rate}`, ...argv], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    });
    if (res.status !== 0) throw new Error(`child ${served} failed with ${res.status}`);
    results.push(JSON.parse(res.stdout.trim().split('\n').pop() as string) as ChildResult);
  }
  const out = {
    machine: `${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores`,
    load_average: [load0, loadavg()],
    partitions,
    templates_per_partition: per,
    exact_scan_rate_per_ms: rate,
    ...built,
    results,
  };
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(out)}\n`);
  else {
    process.stdout.write(`${out.machine}; load ${load0.map((x) => x.toFixed(1)).join(' ')}; ${partitions} partitions x ${per} templates; exact scan ${Math.round(rate)} templates/ms\n`);
    process.stdout.write(`import ${built.import_s.toFixed(1)} s, full build ${built.build_s.toFixed(1)} s\n`);
    for (const r of results) {
      process.stdout.write(
        `serves ${r.served.padEnd(6)} ${String(r.templates).padStart(8)} templates, restart ${r.restart_s.toFixed(2)} s, memory +${r.rss_growth_mib.toFixed(1)} MiB (${r.bytes_per_template.toFixed(0)} B/template), identify p50 ${r.identify_p50_ms.toFixed(2)} / p99 ${r.identify_p99_ms.toFixed(2)} ms\n`,
      );
    }
  }
}

await main();
