import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Loads tfjs on the wasm backend and the model packages. Human's model files are loaded as tfjs
 * graph models, and face-api `require`s the same @tensorflow/tfjs, so they share one backend and
 * one tensor registry. tfjs-node cannot install here, and the wasm backend is single-threaded in
 * Node: parallelism comes from workers.
 */
const require = createRequire(import.meta.url);

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Tf = any;
export type FaceApiModule = any;

/** The folder of an installed package (found by walking node_modules: not every package exports package.json). */
export function packageDir(name: string): string {
  for (const base of require.resolve.paths(name) ?? []) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`package ${name} is not installed`);
}

export function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(join(packageDir(name), 'package.json'), 'utf8')) as { version: string }).version;
}

/** sha256 of model files, for the model card and for the version stored beside templates. */
export function filesSha256(files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(readFileSync(f));
  return h.digest('hex');
}

let fetchShimmed = false;
/** Node 20's fetch refuses file:// URLs, which tfjs uses to load local models. */
function shimFileFetch(): void {
  if (fetchShimmed) return;
  fetchShimmed = true;
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.startsWith('file://')) return new Response(await readFile(new URL(url)), { status: 200 });
    return realFetch(input, init);
  }) as typeof fetch;
}

let ready: Promise<Tf> | undefined;
export function loadTf(): Promise<Tf> {
  ready ??= (async () => {
    shimFileFetch();
    const tf = require('@tensorflow/tfjs') as Tf;
    const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(p: string): void };
    wasm.setWasmPaths(join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist') + '/');
    await tf.setBackend('wasm');
    await tf.ready();
    return tf;
  })();
  return ready;
}

export function humanModelsDir(): string {
  return join(packageDir('@vladmandic/human'), 'models');
}
export function faceApiModelsDir(): string {
  return join(packageDir('@vladmandic/face-api'), 'model');
}
export function humanModelUrl(name: string): string {
  return pathToFileURL(join(humanModelsDir(), `${name}.json`)).href;
}

let faceApi: Promise<FaceApiModule> | undefined;
export function loadFaceApi(): Promise<FaceApiModule> {
  faceApi ??= (async () => {
    await loadTf();
    const api = require(join(packageDir('@vladmandic/face-api'), 'dist/face-api.node-wasm.js')) as FaceApiModule;
    await api.nets.faceRecognitionNet.loadFromDisk(faceApiModelsDir());
    return api;
  })();
  return faceApi;
}

/* The onnxruntime-node binding (CommonJS, native; its CUDA download is skipped by the project's .npmrc). */
export type OnnxRuntime = typeof import('onnxruntime-node');
let onnx: OnnxRuntime | undefined;
export function loadOnnxRuntime(): OnnxRuntime {
  onnx ??= require('onnxruntime-node') as OnnxRuntime;
  return onnx;
}

/** An ONNX model on the CPU with one thread: the worker pool, one engine per core, is the parallelism. */
export function onnxSession(file: string): ReturnType<OnnxRuntime['InferenceSession']['create']> {
  return loadOnnxRuntime().InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
}
