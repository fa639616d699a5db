import { readFileSync } from 'node:fs';
import { createFaceEngine } from '/work/main/server/src/face/index.ts';
const [clip, from, to] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
const engine = await createFaceEngine({ workers: 1 });
const out: string[] = [];
for (let i = from; i <= to; i++) {
  const img = readFileSync(`/work/shared/datasets/video/${clip}/frame_${String(i).padStart(5, '0')}.jpg`);
  const a = await engine.analyze(img, { purpose: 'inspect', liveness: false, embedding: 'check' });
  const p = a.quality?.pose;
  out.push(`${i}:${p ? p.yaw.toFixed(0) : 'x'}`);
}
console.log(out.join(' '));
await (engine as any).close?.();
process.exit(0);
