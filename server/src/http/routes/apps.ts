import type { FastifyInstance, FastifyReply } from 'fastify';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { repoRoot } from '../../platform/index.ts';
import type { AppServices } from '../types.ts';

const APPS: Record<string, string> = {
  terminal: 'Terminal: the face-pay screen for the shop counter',
  console: 'Console: stores, terminals, payments and campaigns for merchants',
  portal: 'Portal: account, wallet and face enrolment for shoppers',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.bin': 'application/octet-stream',
};

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style></head><body>${body}</body></html>`;
}

async function sendFile(reply: FastifyReply, file: string): Promise<FastifyReply> {
  return reply.type(TYPES[extname(file)] ?? 'application/octet-stream').send(await readFile(file));
}

/**
 * The web apps, served from apps/<name>/dist when built (any unknown path falls back to the app's
 * index.html, for client-side routing), else a placeholder page.
 */
/**
 * The on-device face detector's files, for the terminal and the portal: Human's detector and mesh
 * models and tfjs's wasm binaries, straight from the installed packages. Only those files.
 */
const FACE_ASSETS: Record<string, { dir: string; files: RegExp }> = {
  models: { dir: join(repoRoot, 'node_modules/@vladmandic/human/models'), files: /^(blazeface|facemesh)\.(json|bin)$/ },
  wasm: { dir: join(repoRoot, 'node_modules/@tensorflow/tfjs-backend-wasm/dist'), files: /^tfjs-backend-wasm(-simd|-threaded-simd)?\.wasm$/ },
};

export function registerAppRoutes(app: FastifyInstance, _services: AppServices, appsDir = join(repoRoot, 'apps')): void {
  app.get('/assets/face/:kind/:file', async (request, reply) => {
    const { kind, file } = request.params as { kind: string; file: string };
    const asset = FACE_ASSETS[kind];
    if (asset === undefined || !asset.files.test(file) || !existsSync(join(asset.dir, file)))
      return reply.code(404).send({ error: { code: 'asset_not_found', message: `no face asset ${kind}/${file}`, request_id: request.id } });
    reply.header('cache-control', 'public, max-age=86400');
    return sendFile(reply, join(asset.dir, file));
  });

  app.get('/', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(
      page(
        'Facepay',
        `<h1>Facepay</h1><ul>${Object.entries(APPS)
          .map(([name, about]) => `<li><a href="/${name}/">${about.split(':')[0]}</a>: ${about.split(': ')[1]}</li>`)
          .join('')}<li><a href="/docs">API reference</a></li></ul>`,
      ),
    ),
  );
  for (const [name, about] of Object.entries(APPS)) {
    const dist = join(appsDir, name, 'dist');
    const handler = async (request: { params: unknown }, reply: FastifyReply): Promise<FastifyReply> => {
      if (existsSync(join(dist, 'index.html'))) {
        const rest = ((request.params as { '*'?: string })['*'] ?? '').split('?')[0] ?? '';
        // The router has already decoded the path once; decoding again would read `%25` as a bare `%`.
        const file = normalize(join(dist, rest.replaceAll('\0', '')));
        if ((file === dist || file.startsWith(dist + sep)) && existsSync(file) && statSync(file).isFile()) return sendFile(reply, file);
        return sendFile(reply, join(dist, 'index.html'));
      }
      return reply
        .type('text/html; charset=utf-8')
        .send(page(`Facepay ${name}`, `<h1>${about.split(':')[0]}</h1><p>${about.split(': ')[1]}.</p><p>Not built yet: build <code>apps/${name}</code> to replace this page.</p><p><a href="/">All apps</a> · <a href="/docs">API reference</a></p>`));
    };
    app.get(`/${name}`, (_request, reply) => reply.redirect(`/${name}/`));
    app.get(`/${name}/*`, handler);
  }
}
