import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { createFaceEngine } from '../src/face/index.ts';
const engine = await createFaceEngine({ workers: 0 });
const imgs = await Promise.all(Array.from({ length: 20 }, (_, i) => sharp(readFileSync(`/work/shared/datasets/video/tran_real/frame_${String(20 + i * 3).padStart(5, '0')}.jpg`)).resize(480, 480, { fit: 'inside' }).jpeg({ quality: 80 }).toBuffer()));
for (const mode of ['check', 'model'] as const) {
  const tot: Record<string, number> = {}; let wall = 0;
  for (const img of imgs) { const t = performance.now(); const a = await engine.analyze(img, { purpose: 'inspect', liveness: false, embedding: mode }); wall += performance.now() - t; for (const [k, v] of Object.entries(a.timings ?? {})) tot[k] = (tot[k] ?? 0) + (v as number); }
  console.log(mode, 'wall/frame', (wall / imgs.length).toFixed(1), Object.entries(tot).map(([k, v]) => `${k}=${(v / imgs.length).toFixed(1)}`).join(' '));
}
process.exit(0);
