import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  CHALLENGE_KINDS,
  createFaceEngine,
  defaultChallengeOptions,
  defaultFrameTiming,
  embedFiles,
  loadLivenessModel,
  writeJsonl,
  type Challenge,
  type ChallengeFrame,
  type ChallengeKind,
  type FaceAnalysis,
  type FaceEngine,
} from '../face/index.ts';
import { checkStaged, shippedChallengeOptions, stagedSelection, streamSignals, streamTiming } from '../face/sequence.ts';
import { isDomainError, Progress } from '../platform/index.ts';

const USAGE = `usage:
  facepay face inspect IMAGE [--json] [--purpose payment|enrolment|inspect]
  facepay face compare A B [--json] [--fmr 1e-5]
  facepay face embed IMAGE... --out FILE.jsonl [--workers N]
  facepay face liveness DIR [--challenge turn_left|turn_right|blink] [--fps N] [--from I] [--to J] [--json]
`;

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

function parse(args: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json' || a === '--help' || a === '-h') flags.set(a.replace(/^-+/, ''), true);
    else if (a.startsWith('--')) {
      const [k, v] = a.includes('=') ? [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a.slice(2), args[++i]];
      if (v === undefined) throw new Error(`${a} needs a value`);
      flags.set(k, v);
    } else positional.push(a);
  }
  return { positional, flags };
}

/** The analysis as JSON: embeddings as arrays, the aligned crop never (it is not kept). */
function toJson(a: FaceAnalysis): Record<string, unknown> {
  return {
    faces: a.faces,
    quality: a.quality,
    liveness: a.liveness,
    eye_aspect_ratio: a.eyeAspectRatio,
    model: a.model,
    image: { width: a.image.width, height: a.image.height, sha256: a.image.sha256 },
    embedding: a.embedding ? Array.from(a.embedding, (x) => Math.round(x * 1e6) / 1e6) : null,
    timings_ms: a.timings,
    ...(a.error ? { error: a.error } : {}),
  };
}

function fail(json: boolean, code: string, message: string): number {
  if (json) process.stdout.write(JSON.stringify({ error: { code, message } }) + '\n');
  else process.stderr.write(`facepay face: ${message} (${code})\n`);
  return 1;
}

async function inspect(p: Parsed, engine: FaceEngine, json: boolean): Promise<number> {
  const [file] = p.positional;
  if (!file || p.positional.length !== 1) return fail(json, 'usage', USAGE);
  const purpose = (p.flags.get('purpose') ?? 'inspect') as 'payment' | 'enrolment' | 'inspect';
  const a = await engine.analyze(await readFile(file), { purpose });
  if (json) {
    process.stdout.write(JSON.stringify(toJson(a)) + '\n');
    return a.error ? 1 : 0;
  }
  const q = a.quality;
  const lines = [
    `image     ${a.image.width}x${a.image.height}`,
    `faces     ${a.faces.length}${a.faces.map((f, i) => `\n  #${i + 1} box ${f.box.map((x) => Math.round(x)).join(',')} score ${f.score}`).join('')}`,
    q
      ? `quality   ${q.ok ? 'ok' : `refused: ${q.reason}`}; face ${q.faceSizePx} px, yaw ${q.pose.yaw.toFixed(1)} pitch ${q.pose.pitch.toFixed(1)} roll ${q.pose.roll.toFixed(1)} deg, sharpness ${q.sharpness}, brightness ${q.brightness}`
      : 'quality   -',
    a.liveness ? `liveness  ${a.liveness.score.toFixed(3)} (${a.liveness.live ? 'live' : 'not live'} by the passive model ${a.liveness.model}; the active challenge decides)` : 'liveness  -',
    `model     ${a.model.name} ${a.model.version}${a.embedding ? `, embedding ${a.embedding.length}-d` : ''}`,
    `timings   ${Object.entries(a.timings).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')} ms`,
  ];
  if (a.error) lines.push(`refused   ${a.error.code}: ${a.error.message}`);
  process.stdout.write(lines.join('\n') + '\n');
  return a.error ? 1 : 0;
}

async function compare(p: Parsed, engine: FaceEngine, json: boolean): Promise<number> {
  if (p.positional.length !== 2) return fail(json, 'usage', USAGE);
  const fmrFlag = p.flags.get('fmr');
  const fmr = typeof fmrFlag === 'string' ? Number(fmrFlag) : undefined;
  if (fmr !== undefined && !(fmr > 0 && fmr < 1)) return fail(json, 'invalid_fmr', '--fmr must be a rate between 0 and 1, e.g. 1e-5');
  const [a, b] = await Promise.all(p.positional.map((f) => readFile(f)));
  const c = await engine.compare(a!, b!, fmr === undefined ? {} : { fmr });
  if (json) {
    process.stdout.write(
      JSON.stringify({ similarity: c.similarity, threshold: c.threshold, fmr: c.fmr, match: c.match, model: c.model, a: { timings_ms: c.a.timings, quality: c.a.quality }, b: { timings_ms: c.b.timings, quality: c.b.quality } }) +
        '\n',
    );
  } else {
    process.stdout.write(
      `similarity ${c.similarity.toFixed(4)}, threshold ${c.threshold.toFixed(4)} (false-match rate ${c.fmr}): ${c.match ? 'MATCH' : 'no match'} [${c.model.name}]\n`,
    );
  }
  return 0;
}

async function embed(p: Parsed, engine: FaceEngine, json: boolean): Promise<number> {
  const out = p.flags.get('out');
  if (typeof out !== 'string' || p.positional.length === 0) return fail(json, 'usage', USAGE);
  const progress = new Progress('embed', p.positional.length);
  const lines = await embedFiles(engine, p.positional, { onDone: () => progress.tick() });
  progress.finish();
  await writeJsonl(resolve(out), lines);
  const failed = lines.filter((l) => 'error' in l).length;
  const summary = { out: resolve(out), images: lines.length, embedded: lines.length - failed, failed, model: engine.model.name };
  process.stdout.write(json ? JSON.stringify(summary) + '\n' : `wrote ${summary.embedded} embeddings (${failed} refused) to ${summary.out}\n`);
  return 0;
}

/** Frames of a folder in name order (frame_2 before frame_10), images only. */
async function frameFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => /\.(jpe?g|png|webp)$/i.test(n));
  return names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).map((n) => join(dir, n));
}

/**
 * A folder of frames, in order, judged as the server judges an answer to the liveness challenge:
 * the frames are taken as filmed `--fps` a second (default 12, the terminal's rate), the challenge
 * as issued at the first frame and answered just after the last, and the same checks run with the
 * face stack's settings (face/sequence.ts). Without --challenge, each kind asked by default is
 * tried and the answer is live when one passes. The passive score is measured on a few frames and
 * shown; it takes no part in the decision.
 */
async function liveness(p: Parsed, engine: FaceEngine, json: boolean): Promise<number> {
  const [dir] = p.positional;
  if (!dir || p.positional.length !== 1) return fail(json, 'usage', USAGE);
  const asked = p.flags.get('challenge');
  if (asked !== undefined && !CHALLENGE_KINDS.includes(asked as ChallengeKind)) return fail(json, 'invalid_challenge', `--challenge must be one of ${CHALLENGE_KINDS.join(', ')}`);
  const fps = Number(p.flags.get('fps') ?? 12);
  if (!(fps > 0 && fps <= 240)) return fail(json, 'invalid_fps', '--fps must be a number of frames a second between 0 and 240');
  const all = await frameFiles(dir);
  const from = Number(p.flags.get('from') ?? 1);
  const to = Number(p.flags.get('to') ?? all.length);
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to < from) return fail(json, 'invalid_range', '--from and --to are 1-based frame positions in the folder, from <= to');
  const files = all.slice(from - 1, to);
  if (files.length === 0) return fail(json, 'no_frames', `no image frames in ${dir}`);
  // A few frames get the passive score (it doubles a frame's work): about two a second.
  const passiveEvery = Math.max(1, Math.round(fps / 2));
  const analyses: FaceAnalysis[] = new Array<FaceAnalysis>(files.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < files.length) {
        const i = next++;
        analyses[i] = await engine.analyze(await readFile(files[i]!), { purpose: 'inspect', liveness: i % passiveEvery === 0, embedding: 'check', priority: 'background' });
      }
    }),
  );
  const opts = shippedChallengeOptions(engine.model);
  const t0 = Date.now();
  const frames: ChallengeFrame[] = analyses.map((analysis, i) => ({ at: t0 + Math.round((i * 1000) / fps), analysis }));
  const arrivedAt = frames[frames.length - 1]!.at;
  const ttlMs = opts.ttlMs ?? defaultChallengeOptions.ttlMs;
  const ats = frames.map((f) => f.at);
  const hashes = analyses.map((a) => a.image.sha256);
  const kinds = asked !== undefined ? [asked as ChallengeKind] : [...defaultChallengeOptions.kinds];
  const tried = kinds.map((kind) => {
    const challenge: Challenge = { id: 'chl_cli', kind, issuedAt: t0, expiresAt: t0 + ttlMs };
    // Decided on the frames the server's two passes would analyse (face/sequence.ts), so that the
    // verdict is the server's; every frame was analysed here only for the passive score's sake.
    const chosen = stagedSelection(challenge, ats, hashes, (i) => frames[i]!.analysis, opts);
    const result = checkStaged(challenge, ats, new Map(chosen.map((i) => [i, frames[i]!.analysis])), arrivedAt, opts, defaultFrameTiming);
    return { kind, result, judged: chosen.map((i) => frames[i]!) };
  });
  const chosen = tried.find((t) => t.result.passed) ?? tried[0]!;
  const scores = analyses.map((a) => a.liveness?.score).filter((x): x is number => x !== undefined);
  const passive = { scores, threshold: loadLivenessModel()?.threshold ?? 0.5 };
  const signals = streamSignals(chosen.kind, chosen.judged, chosen.result, opts, passive, defaultFrameTiming);
  // The timing signal is about the whole stream as sent, not the frames analysed.
  signals.timing = { ...signals.timing!, value: streamTiming(ats) };
  const out = {
    live: chosen.result.passed,
    challenge: { kind: chosen.kind, passed: chosen.result.passed, reason: chosen.result.reason },
    tried: tried.map((t) => ({ kind: t.kind, passed: t.result.passed, reason: t.result.reason })),
    signals,
    frames: files.length,
    frames_analysed: chosen.judged.length,
    fps,
    model: { name: engine.model.name, version: engine.model.version },
  };
  if (json) process.stdout.write(JSON.stringify(out) + '\n');
  else {
    const lines = [
      `${out.live ? 'LIVE' : 'NOT LIVE'}: ${chosen.kind} ${chosen.result.passed ? 'passed' : `refused (${chosen.result.reason})`} on ${files.length} frames at ${fps} fps`,
      ...Object.entries(signals).map(([k, v]) => `  ${k.padEnd(26)} ${v.verdict.padEnd(5)} ${JSON.stringify(v.value)}${v.threshold === undefined ? '' : ` (bar ${JSON.stringify(v.threshold)})`}`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  }
  return out.live ? 0 : 1;
}

export async function run(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  let p: Parsed;
  try {
    p = parse(rest);
  } catch (e) {
    return fail(rest.includes('--json'), 'usage', `${(e as Error).message}\n${USAGE}`);
  }
  const json = p.flags.get('json') === true;
  if (!command || command === 'help' || command === '--help' || p.flags.has('help')) {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (!['inspect', 'compare', 'embed', 'liveness'].includes(command)) return fail(json, 'usage', `unknown command "${command}"\n${USAGE}`);
  const workersFlag = p.flags.get('workers');
  const workers = typeof workersFlag === 'string' ? Number(workersFlag) : (command === 'embed' && p.positional.length > 8) || command === 'liveness' ? 2 : 0;
  let engine: FaceEngine | undefined;
  try {
    engine = await createFaceEngine({ workers });
    if (command === 'inspect') return await inspect(p, engine, json);
    if (command === 'compare') return await compare(p, engine, json);
    if (command === 'liveness') return await liveness(p, engine, json);
    return await embed(p, engine, json);
  } catch (e) {
    if (isDomainError(e)) return fail(json, e.code, e.message);
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return fail(json, 'not_a_folder', (e as Error).message);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return fail(json, 'file_not_found', (e as Error).message);
    throw e;
  } finally {
    await engine?.close();
  }
}
