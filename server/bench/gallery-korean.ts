/**
 * npm run bench:gallery:korean [-- --quick] [-- --json] [-- --sizes=10000,100000,1000000]
 *
 * Open-set identification on the Korean family set (adults, age classes d to h; $FACEPAY_KOREAN_FAMILY):
 * a gallery of one adult photo per enrolled person plus distractors drawn from a Gaussian fitted to
 * the Korean embeddings (one per person, as bench:gallery draws LFW's from LFW), probed by the other
 * photos of enrolled people and by every photo of never-enrolled people, at each size.
 *
 * The split (deterministic, by family): families in id order, the family at position i is
 *   i % 4 = 1: enrolled whole; i % 4 = 3: never enrolled (stranger probes);
 *   i % 4 = 0 or 2: split, alternate adults enrolled and the others never enrolled (kin probes:
 *   a relative of theirs is in the gallery), which enrols about half of the people.
 *
 * The decision is the gallery's own (`decide` of server/src/gallery over the envelope the gallery
 * builds from every population calibrated for the model, or FACEPAY_CALIBRATION_POPULATION's one),
 * over an exact float32 scan (usearch exactSearch, two threads): the gallery decides on exact
 * float32 scores of its index's candidates, so an exact scan gives its decision whenever the index
 * finds the best three shoppers (an index miss can only lower the scores it decides on). The
 * narrowed set size the decision asks about is the count of gallery templates sharing the best
 * shopper's phone digits, drawn per template as bench:gallery draws them.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exactSearch, MetricKind } from 'usearch';
import { loadPopulationCalibrations, type EmbeddingLine } from '../src/face/index.ts';
import {
  calibrationFromJson,
  decide,
  DEFAULT_POLICY,
  envelopeOf,
  Gallery,
  galleryMigrations,
  masterKeyFromBytes,
  poissonUpperBound,
  type Decision,
  type ScoredShopper,
  type TailModel,
} from '../src/gallery/index.ts';
import { ManualClock, repoRoot, seededRandom } from '../src/platform/index.ts';
import { migrate, SqliteDb } from '../src/storage/index.ts';
import { embeddingOf } from './embed-cache.ts';
import { koreanFamily, type PopulationImage } from './face-populations.ts';
import { distractorFactory } from './gallery.ts';

export interface KoreanSizeResult {
  size: number;
  /** Korean people in the gallery (the rest of `size` are distractors). */
  enrolled: number;
  probes_enrolled: number;
  /** Never-enrolled probes without a relative in the gallery. */
  probes_unenrolled: number;
  /** Face-alone false matches per probe (enrolled and unenrolled probes, kin apart). */
  face_alone_fpir: number;
  /** The 95 % upper bound on face_alone_fpir from its count (the resolution of the probes). */
  face_alone_fpir_upper95: number;
  face_alone_false_matches: number;
  /** Mean false-match probability the decisions stated (0 for a decision that is not a match), over the same probes. */
  stated_fpir: number;
  /** Enrolled probes not matched to themselves by face alone (sent to the digits included). */
  fnir: number;
  /** Share of the probes answered `ambiguous` (asked for the phone digits or PIN). */
  step_up_rate: number;
  /** Never-enrolled relatives of enrolled people, apart. */
  kin: { probes: number; face_alone_matches: number; matches_naming_relative: number; stated_fpir: number; step_up_rate: number };
  outcomes: { enrolled: Record<string, number>; unenrolled: Record<string, number> };
  /**
   * The same probes through the Gallery service itself (SQLite, encrypted templates, its HNSW
   * index and exact re-score), at the sizes up to SERVICE_MAX_SIZE: how many decisions agree with
   * the exact scan's (same outcome, same shopper) and the service's own figures.
   */
  /**
   * The envelope checked where probes can see it: at a loose target T per search, the share of
   * never-enrolled probes whose best score reaches the threshold for T / size (the envelope
   * claims at most T). The default target, 1e-6, is beyond what some thousand probes can measure.
   */
  calibration_check: { target: number; threshold: number; strangers_above: number; strangers_rate: number; kin_above: number; kin_rate: number }[];
  service: { agreement: number; probes: number; face_alone_fpir: number; stated_fpir: number; fnir: number; step_up_rate: number; build_s: number } | null;
}

/** Sizes up to this are also run through the Gallery service (importing a million encrypted templates takes too long for a bench). */
export const SERVICE_MAX_SIZE = 100_000;

export interface KoreanOpenSet {
  model: string;
  calibration: string;
  sizes: KoreanSizeResult[];
  /** The three headline figures are those of the largest size. */
  korean_face_alone_fpir: number;
  korean_stated_fpir: number;
  korean_step_up_rate: number;
  /** Measured face-alone FPIR at most the stated one, at every size. */
  target_met: boolean;
}

export interface Person {
  person: string;
  family: string;
  images: { path: string; vector: Float32Array }[];
}

export type Role = 'enrolled' | 'stranger' | 'kin';

/** The deterministic split described at the top; people of one family are decided together. */
export function splitPeople(people: readonly Pick<Person, 'person' | 'family'>[]): Map<string, Role> {
  const byFamily = new Map<string, string[]>();
  for (const p of people) byFamily.set(p.family, [...(byFamily.get(p.family) ?? []), p.person]);
  const roles = new Map<string, Role>();
  [...byFamily.keys()].sort().forEach((family, i) => {
    const members = [...(byFamily.get(family) ?? [])].sort();
    members.forEach((person, j) => {
      const role: Role = i % 4 === 1 ? 'enrolled' : i % 4 === 3 ? 'stranger' : j % 2 === 0 ? 'enrolled' : 'kin';
      roles.set(person, role);
    });
  });
  return roles;
}

export interface ProbeOutcome {
  /** The probe's own person when enrolled, else null. */
  mate: string | null;
  decision: Decision;
}

/** Face-alone false matches: a match naming someone else, or any match for a never-enrolled probe. */
export function countOutcomes(outcomes: readonly ProbeOutcome[]): { falseMatches: number; stated: number; ambiguous: number; missed: number; mated: number } {
  let falseMatches = 0;
  let stated = 0;
  let ambiguous = 0;
  let missed = 0;
  let mated = 0;
  for (const o of outcomes) {
    const d = o.decision;
    if (o.mate !== null) mated++;
    if (d.outcome === 'match') {
      stated += d.falseMatchProbability;
      if (d.shopperId !== o.mate) falseMatches++;
    }
    if (d.outcome === 'ambiguous') ambiguous++;
    if (o.mate !== null && !(d.outcome === 'match' && d.shopperId === o.mate)) missed++;
  }
  return { falseMatches, stated, ambiguous, missed, mated };
}

/** The phone digits of gallery template i (seeded, uniform over 0000..9999). */
export function digitsOf(i: number): number {
  return seededRandom(555_000 + i).int(10_000);
}

const benchKey = masterKeyFromBytes(createHash('sha256').update('facepay bench gallery-korean master key (not a secret)').digest());

/** The gallery of `total` templates (row i of `data`, shopper `shopperOf(i)`, digits `digits[i]`) in a real Gallery on a scratch SQLite file. */
async function serviceDecisions(
  o: { data: Float32Array; total: number; dim: number; model: { name: string; version: string }; shopperOf: (i: number) => string; digits: Int32Array; cals: ReturnType<typeof loadPopulationCalibrations>; queries: Float32Array[] },
): Promise<{ decisions: Decision[]; buildS: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'facepay-gallery-korean-'));
  const db = new SqliteDb(join(dir, 'facepay.sqlite'));
  try {
    await migrate(db, galleryMigrations);
    const [first, ...rest] = o.cals;
    const g = new Gallery({
      db,
      masterKeys: { current: benchKey, previous: [] },
      model: o.model,
      dim: o.dim,
      calibration: calibrationFromJson(first!),
      populations: rest.map((c) => calibrationFromJson(c)),
      clock: new ManualClock('2026-12-07T00:00:00Z'),
      ids: { next: (p) => `${p}_${Math.random().toString(36).slice(2)}` },
      random: seededRandom(17),
      progressOut: null,
    });
    const t0 = performance.now();
    const batch = 5000;
    for (let s = 0; s < o.total; s += batch) {
      const inputs = [];
      for (let i = s; i < Math.min(o.total, s + batch); i++) {
        inputs.push({ shopperId: o.shopperOf(i), embeddings: [{ model: o.model, vector: o.data.subarray(i * o.dim, (i + 1) * o.dim) }], phoneLast4: String(o.digits[i]).padStart(4, '0') });
      }
      await g.importMany(inputs);
    }
    await g.start();
    const buildS = (performance.now() - t0) / 1000;
    const decisions: Decision[] = [];
    for (const v of o.queries) decisions.push(await g.identify({ model: o.model, vector: v }));
    return { decisions, buildS };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function loadPeople(dir: string, emb: Map<string, EmbeddingLine>): Person[] {
  const set = koreanFamily(dir);
  const byPerson = new Map<string, Person>();
  for (const im of set.images as PopulationImage[]) {
    const e = embeddingOf(emb.get(im.path));
    if (!e) continue;
    const v = Float32Array.from(e);
    let n = 0;
    for (const x of v) n += x * x;
    for (let i = 0; i < v.length; i++) v[i] = v[i]! / Math.sqrt(n);
    const p = byPerson.get(im.person) ?? { person: im.person, family: im.family, images: [] };
    p.images.push({ path: im.path, vector: v });
    byPerson.set(im.person, p);
  }
  for (const p of byPerson.values()) p.images.sort((a, b) => (a.path < b.path ? -1 : 1));
  return [...byPerson.values()].sort((a, b) => (a.person < b.person ? -1 : 1));
}

let modelVersion = '';

function readCache(file: string): Map<string, EmbeddingLine> {
  const out = new Map<string, EmbeddingLine>();
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    if (!l.trim()) continue;
    const o = JSON.parse(l) as EmbeddingLine;
    if ('version' in o && typeof o.version === 'string') modelVersion = o.version;
    out.set(o.path, o);
  }
  return out;
}

const MODEL = process.env.FACEPAY_FACE_MODEL || 'faceplugin-arcface512';

export async function koreanOpenSet(opts: { sizes: number[]; quick: boolean; log: (s: string) => void }): Promise<KoreanOpenSet> {
  const { log } = opts;
  const dir = process.env.FACEPAY_KOREAN_FAMILY;
  if (!dir || !existsSync(join(dir, 'files.tsv'))) throw new Error('FACEPAY_KOREAN_FAMILY must point at the built Korean family set (../shared/tools/korean-family.sh)');
  const cacheFile = join(repoRoot, '.bench-cache/face', `korean-family.${MODEL}.jsonl`);
  if (!existsSync(cacheFile)) throw new Error(`no Korean embeddings at ${cacheFile}: run npm run bench:face -- --populations first`);
  const people = loadPeople(dir, readCache(cacheFile));
  const dim = people[0]?.images[0]?.vector.length ?? 0;

  // The gallery's false-match model: the envelope of every population measured for the model, as
  // the composition builds it (face-stack.ts), or one population by FACEPAY_CALIBRATION_POPULATION.
  const only = process.env.FACEPAY_CALIBRATION_POPULATION || undefined;
  const cals = loadPopulationCalibrations(MODEL, only);
  const tail: TailModel = envelopeOf(cals.map((c) => calibrationFromJson(c)));
  const policy = DEFAULT_POLICY;
  const calibration = only ? `population ${only} only` : `envelope of ${cals.map((c) => c.population).join(', ')}`;

  const roles = splitPeople(people);
  const enrolled = people.filter((p) => roles.get(p.person) === 'enrolled');
  const family = new Map(people.map((p) => [p.person, p.family]));
  // Queries: the enrolled people's other photos, then every photo of the never-enrolled.
  const queries: { person: string; role: Role; vector: Float32Array }[] = [];
  for (const p of people) {
    const role = roles.get(p.person)!;
    for (const im of role === 'enrolled' ? p.images.slice(1) : p.images) queries.push({ person: p.person, role, vector: im.vector });
  }
  const flatQ = new Float32Array(queries.length * dim);
  queries.forEach((q, i) => flatQ.set(q.vector, i * dim));
  log(
    `korean open-set: ${people.length} adults of ${new Set(people.map((p) => p.family)).size} families (${MODEL}); ${enrolled.length} enrolled (first photo), ` +
      `${queries.filter((q) => q.role === 'enrolled').length} enrolled probes, ${queries.filter((q) => q.role === 'stranger').length} stranger probes, ${queries.filter((q) => q.role === 'kin').length} kin probes; decisions on the ${calibration}; split ${splitFingerprint(roles)}`,
  );

  // Distractors: one template per synthetic identity from the Korean distribution (first photo of each person).
  const fit = new Float32Array(people.length * dim);
  people.forEach((p, i) => fit.set(p.images[0]!.vector, i * dim));
  const make = distractorFactory({ model: MODEL, dim, fit });
  const maxSize = Math.max(...opts.sizes);
  const nMax = Math.max(0, maxSize - enrolled.length);
  const matrix = new Float32Array((enrolled.length + nMax) * dim);
  enrolled.forEach((p, i) => matrix.set(p.images[0]!.vector, i * dim));
  // Drawn in blocks of 50,000 (a seed each) as the sizes need them, so that each size's figures are out before the next one's draws.
  const block = 50_000;
  let drawn = 0;
  let drawS = 0;
  const drawUpTo = (n: number): void => {
    const t0 = performance.now();
    while (drawn < n) {
      const b = Math.floor(drawn / block);
      const count = Math.min(block, nMax - b * block);
      matrix.set(make(count, 3000 + b), (enrolled.length + b * block) * dim);
      drawn = b * block + count;
      if (nMax > block) log(`# korean distractors ${drawn}/${nMax}`);
    }
    drawS += (performance.now() - t0) / 1000;
  };
  {
    // How alike the distractors are to real faces: unrelated Korean pairs against Korean-distractor pairs.
    const real: number[] = [];
    const synth: number[] = [];
    const sample = make(2000, 31_337);
    const r = seededRandom(5);
    const dot = (a: Float32Array, ao: number, b: Float32Array, bo: number): number => {
      let x = 0;
      for (let k = 0; k < dim; k++) x += a[ao + k]! * b[bo + k]!;
      return x;
    };
    for (let i = 0; i < people.length; i++) {
      for (let j = i + 1; j < people.length; j++) if (people[i]!.family !== people[j]!.family) real.push(dot(fit, i * dim, fit, j * dim));
      for (let t = 0; t < 300; t++) synth.push(dot(fit, i * dim, sample, r.int(2000) * dim));
    }
    const st = (xs: number[]): string => {
      const s = [...xs].sort((a, b) => a - b);
      const mean = s.reduce((a, b) => a + b, 0) / s.length;
      const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length);
      const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
      return `mean ${mean.toFixed(3)} sd ${sd.toFixed(3)} p99 ${q(0.99).toFixed(3)} p99.9 ${q(0.999).toFixed(3)} max ${s[s.length - 1]!.toFixed(3)} (${s.length} pairs)`;
    };
    log(`impostor cosine, Korean vs unrelated Korean (first photos): ${st(real)}`);
    log(`impostor cosine, Korean vs Korean distractor:              ${st(synth)}`);
  }
  const shopperOf = (key: number): string => (key < enrolled.length ? enrolled[key]!.person : `d:${key - enrolled.length}`);

  const results: KoreanSizeResult[] = [];
  for (const size of [...opts.sizes].sort((a, b) => a - b)) {
    const total = Math.max(size, enrolled.length);
    drawUpTo(Math.min(nMax, total - enrolled.length));
    log(`# korean distractors: ${drawn} drawn in ${drawS.toFixed(1)} s so far (Gaussian, mean and full ${dim} x ${dim} covariance of ${people.length} Korean adults, renormalised)`);
    const data = matrix.subarray(0, total * dim);
    const digits = new Int32Array(total);
    const perDigits = new Int32Array(10_000);
    for (let i = 0; i < total; i++) {
      digits[i] = digitsOf(i);
      perDigits[digits[i]!]!++;
    }
    const t1 = performance.now();
    const k = 3;
    // usearch's exact search holds a (template, query) pair for every template and query of one
    // call (a million templates by 1,871 queries would be some 30 GB), so queries go in chunks,
    // each a copy: the native call reads a typed array from the start of its buffer, whatever
    // its offset (a subarray view gives the first queries' results again).
    const found = { keys: new BigUint64Array(queries.length * k), distances: new Float32Array(queries.length * k) };
    const chunk = Math.max(1, Math.floor(5e7 / total));
    for (let q0 = 0; q0 < queries.length; q0 += chunk) {
      const n = Math.min(chunk, queries.length - q0);
      const part = exactSearch(data, flatQ.slice(q0 * dim, (q0 + n) * dim), dim, k, MetricKind.Cos, 2) as unknown as { keys: BigUint64Array; distances: Float32Array };
      found.keys.set(part.keys.subarray(0, n * k), q0 * k);
      found.distances.set(part.distances.subarray(0, n * k), q0 * k);
    }
    const scanS = (performance.now() - t1) / 1000;
    const out: { role: Role; probe: ProbeOutcome; person: string }[] = [];
    for (let q = 0; q < queries.length; q++) {
      const ranked: ScoredShopper[] = [];
      for (let j = 0; j < k; j++) {
        const key = Number(found.keys[q * k + j]);
        if (key >= total) continue;
        ranked.push({ shopperId: shopperOf(key), score: 1 - found.distances[q * k + j]!, alwaysAsk: false, phoneSuffixMac: String(digits[key]) });
      }
      const d = await decide(ranked, total, tail, policy, async (first) => perDigits[Number(first.phoneSuffixMac)]);
      const qq = queries[q]!;
      out.push({ role: qq.role, person: qq.person, probe: { mate: qq.role === 'enrolled' ? qq.person : null, decision: d } });
    }
    const main = out.filter((o) => o.role !== 'kin').map((o) => o.probe);
    const kinOut = out.filter((o) => o.role === 'kin');
    const c = countOutcomes(main);
    const ck = countOutcomes(kinOut.map((o) => o.probe));
    const tally = (xs: typeof out): Record<string, number> => {
      const t: Record<string, number> = { match_self: 0, match_wrong: 0, match_wrong_relative: 0, ambiguous: 0, no_match: 0 };
      for (const o of xs) {
        const d = o.probe.decision;
        if (d.outcome === 'match') {
          if (d.shopperId === o.probe.mate) t.match_self!++;
          else {
            t.match_wrong!++;
            if (family.get(d.shopperId) === family.get(o.person)) t.match_wrong_relative!++;
          }
        } else t[d.outcome]!++;
      }
      return t;
    };
    const r: KoreanSizeResult = {
      size: total,
      enrolled: enrolled.length,
      probes_enrolled: c.mated,
      probes_unenrolled: main.length - c.mated,
      face_alone_fpir: c.falseMatches / main.length,
      face_alone_fpir_upper95: poissonUpperBound(c.falseMatches) / main.length,
      face_alone_false_matches: c.falseMatches,
      stated_fpir: c.stated / main.length,
      fnir: c.missed / Math.max(1, c.mated),
      step_up_rate: c.ambiguous / main.length,
      kin: {
        probes: kinOut.length,
        face_alone_matches: ck.falseMatches,
        matches_naming_relative: kinOut.filter((o) => o.probe.decision.outcome === 'match' && family.get(o.probe.decision.shopperId) === family.get(o.person)).length,
        stated_fpir: ck.stated / Math.max(1, kinOut.length),
        step_up_rate: ck.ambiguous / Math.max(1, kinOut.length),
      },
      outcomes: { enrolled: tally(out.filter((o) => o.role === 'enrolled')), unenrolled: tally(out.filter((o) => o.role === 'stranger')) },
      calibration_check: [0.5, 0.2, 0.1, 0.01, 1e-3].map((target) => {
        const threshold = tail.thresholdFor(target / total);
        const above = (role: Role): number => queries.filter((qq, q) => qq.role === role && 1 - found.distances[q * k]! >= threshold).length;
        const ns = queries.filter((qq) => qq.role === 'stranger').length;
        const nk = queries.filter((qq) => qq.role === 'kin').length;
        return { target, threshold, strangers_above: above('stranger'), strangers_rate: above('stranger') / Math.max(1, ns), kin_above: above('kin'), kin_rate: above('kin') / Math.max(1, nk) };
      }),
      service: null,
    };
    log(
      `korean size ${total}: envelope check, never-enrolled probes whose best score reaches the threshold for target T / ${total}: ` +
        r.calibration_check.map((c) => `T ${c.target} (${c.threshold.toFixed(3)}): strangers ${c.strangers_rate.toFixed(3)}, kin ${c.kin_rate.toFixed(3)}`).join('; '),
    );
    if (total <= SERVICE_MAX_SIZE) {
      const { decisions, buildS } = await serviceDecisions({ data, total, dim, model: { name: MODEL, version: modelVersion }, shopperOf, digits, cals, queries: queries.map((q) => q.vector) });
      const same = (a: Decision, b: Decision): boolean => a.outcome === b.outcome && (a.outcome !== 'match' || (b.outcome === 'match' && a.shopperId === b.shopperId));
      const agreement = decisions.filter((d, i) => same(d, out[i]!.probe.decision)).length;
      const sm = countOutcomes(out.map((o, i) => ({ o, d: decisions[i]! })).filter((x) => x.o.role !== 'kin').map((x) => ({ mate: x.o.probe.mate, decision: x.d })));
      r.service = {
        agreement,
        probes: decisions.length,
        face_alone_fpir: sm.falseMatches / main.length,
        stated_fpir: sm.stated / main.length,
        fnir: sm.missed / Math.max(1, sm.mated),
        step_up_rate: sm.ambiguous / main.length,
        build_s: buildS,
      };
      log(
        `korean size ${total} through the Gallery service (import + build ${buildS.toFixed(1)} s): ${agreement} of ${decisions.length} decisions as the exact scan's; ` +
          `face-alone FPIR ${r.service.face_alone_fpir.toExponential(2)}, stated ${r.service.stated_fpir.toExponential(2)}, FNIR ${r.service.fnir.toFixed(4)}, step-up ${r.service.step_up_rate.toFixed(4)}`,
      );
    }
    results.push(r);
    log(
      `korean size ${total}: face-alone FPIR ${r.face_alone_fpir.toExponential(2)} (${c.falseMatches} of ${main.length} probes; 95 % upper ${r.face_alone_fpir_upper95.toExponential(1)}), ` +
        `stated ${r.stated_fpir.toExponential(2)}, FNIR ${r.fnir.toFixed(4)}, step-up ${r.step_up_rate.toFixed(4)}; kin ${r.kin.probes} probes: ${r.kin.face_alone_matches} face-alone matches ` +
        `(${r.kin.matches_naming_relative} naming a relative), step-up ${r.kin.step_up_rate.toFixed(4)}; enrolled ${JSON.stringify(r.outcomes.enrolled)}, strangers ${JSON.stringify(r.outcomes.unenrolled)}; exact scan ${scanS.toFixed(1)} s`,
    );
  }
  const last = results[results.length - 1]!;
  return {
    model: MODEL,
    calibration,
    sizes: results,
    korean_face_alone_fpir: last.face_alone_fpir,
    korean_stated_fpir: last.stated_fpir,
    korean_step_up_rate: last.step_up_rate,
    target_met: results.every((r) => r.face_alone_fpir <= r.stated_fpir),
  };
}

/** A fingerprint of the split, printed so two runs can be seen to enrol the same people without naming them. */
export function splitFingerprint(roles: Map<string, Role>): string {
  return createHash('sha256')
    .update([...roles.entries()].sort().map(([p, r]) => `${p}=${r}`).join('\n'))
    .digest('hex')
    .slice(0, 12);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const sizes = (argv.find((a) => a.startsWith('--sizes='))?.split('=')[1] ?? (quick ? '10000' : '10000,100000,1000000')).split(',').map(Number);
  const res = await koreanOpenSet({ sizes, quick, log: (s) => process.stderr.write(`${s}\n`) });
  process.stdout.write(
    `korean open-set (${res.calibration}): at ${res.sizes.at(-1)?.size}: korean_face_alone_fpir ${res.korean_face_alone_fpir}, korean_stated_fpir ${res.korean_stated_fpir}, ` +
      `korean_step_up_rate ${res.korean_step_up_rate}; measured at most the stated at every size: ${res.target_met}\n`,
  );
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(res)}\n`);
}

if (process.argv[1] !== undefined && new URL(import.meta.url).pathname === process.argv[1]) await main();
