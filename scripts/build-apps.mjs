#!/usr/bin/env node
// Bundles each web app (apps/<name>/src/main.tsx) into apps/<name>/dist with esbuild. It refuses
// any import from server code: the apps reach the server only through its published HTTP API.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const serverDir = join(root, 'server') + '/';

const noServerCode = {
  name: 'no-server-code',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      const target = args.path.startsWith('.') ? resolve(args.resolveDir, args.path) : args.path;
      if (target.startsWith(serverDir) || args.path.startsWith('@facepay/server'))
        return { errors: [{ text: `web apps must not import server code (${args.path})` }] };
      return undefined;
    });
  },
};

export async function buildApps({ quiet = false, only = undefined } = {}) {
  const apps = readdirSync(join(root, 'apps')).filter((a) => existsSync(join(root, 'apps', a, 'src/main.tsx')) && (only === undefined || only.includes(a)));
  for (const app of apps) {
    const dir = join(root, 'apps', app);
    const dist = join(dir, 'dist');
    mkdirSync(dist, { recursive: true });
    await build({
      entryPoints: [join(dir, 'src/main.tsx')],
      bundle: true,
      format: 'esm',
      target: 'es2020',
      outfile: join(dist, 'app.js'),
      minify: true,
      sourcemap: true,
      jsx: 'automatic',
      jsxImportSource: 'preact',
      loader: { '.css': 'css' },
      plugins: [noServerCode],
      logLevel: quiet ? 'error' : 'warning',
    });
    copyFileSync(join(dir, 'index.html'), join(dist, 'index.html'));
    if (!quiet) console.log(`built apps/${app}/dist`);
  }
  return apps;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildApps();
}
