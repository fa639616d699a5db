import { join } from 'node:path';
import { cropGeometry, l2normalise, templateGeometry, type CropGeometry, type FivePoints, type Point } from './align.ts';
import { faceApiModelsDir, filesSha256, humanModelsDir, humanModelUrl, loadFaceApi, loadOnnxRuntime, loadTf, onnxSession, packageDir, packageVersion, type Tf } from './runtime.ts';

/** How an embedder wants its face cut out: the geometry its weights were trained on. */
export type CropSpec =
  /** side = mean eye-to-mouth distance / eyeToMouth (see `cropGeometry`), eyes levelled or not */
  | { kind: 'eyes-mouth'; eyeToMouth: number; rotate: boolean }
  /** the five landmarks warped onto fixed positions of an inputSize crop (see `templateGeometry`) */
  | { kind: 'template'; name: string; points: readonly Point[] };

/** ArcFace's five landmark positions in its 112 x 112 crop (InsightFace's `arcface_dst`). */
export const ARCFACE_112: readonly Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

export function embedderGeometry(model: EmbedderModel, p: FivePoints): CropGeometry {
  const c = model.crop;
  return c.kind === 'template' ? templateGeometry(p, c.points, model.inputSize) : cropGeometry(p, c.eyeToMouth, c.rotate);
}

/** Names the crop in the version stored beside templates: another geometry makes other vectors. */
export function cropTag(c: CropSpec): string {
  return c.kind === 'template' ? `crop-${c.name}` : `crop${c.eyeToMouth}${c.rotate ? 'r' : ''}`;
}

export interface EmbedderModel {
  /** stable name stored beside every template */
  name: string;
  /** package version and weights hash: templates of different versions are not mixed */
  version: string;
  dim: number;
  licence: string;
  /** side of the square aligned crop it wants */
  inputSize: number;
  crop: CropSpec;
  /**
   * The false-match rate whose threshold the frontal frames of one capture must reach against the
   * first (see `sameFaceBar`); turned frames are held to the impostor mean (see the challenge).
   */
  sameFaceFmr: number;
}

/** An embedder turns aligned crops (float RGB 0..255, inputSize^2 x 3) into L2-normalised vectors. */
export interface Embedder {
  model: EmbedderModel;
  embed(crops: Float32Array[]): Promise<Float32Array[]>;
}

/**
 * face-api's 128-d ResNet-34: the dlib face-recognition model converted to tfjs (MIT package,
 * dlib model released CC0). The crop geometry was chosen by measurement on LFW (see the model card).
 */
export async function faceApiResnetEmbedder(): Promise<Embedder> {
  const tf: Tf = await loadTf();
  const api = await loadFaceApi();
  const dir = faceApiModelsDir();
  const version = `${packageVersion('@vladmandic/face-api')}+${filesSha256([join(dir, 'face_recognition_model.bin')]).slice(0, 12)}`;
  const model: EmbedderModel = { name: 'faceapi-resnet128', version, dim: 128, licence: 'MIT (face-api) / CC0 (dlib weights)', inputSize: 150, crop: { kind: 'eyes-mouth', eyeToMouth: 0.45, rotate: false },
    // Its 1-in-10 stranger score (0.884) failed turned frames of one person: strangers cluster too near.
    sameFaceFmr: 0.5,
  };
  return {
    model,
    async embed(crops) {
      const tensors = crops.map((c) => tf.tensor3d(c, [150, 150, 3]));
      try {
        const out = (await api.nets.faceRecognitionNet.computeFaceDescriptor(tensors.length === 1 ? tensors[0] : tensors)) as Float32Array | Float32Array[];
        return (Array.isArray(out) ? out : [out]).map((v) => l2normalise(v));
      } finally {
        for (const t of tensors) t.dispose();
      }
    },
  };
}

/**
 * Human's faceres (1024-d descriptor of a multi-task age/gender/descriptor net). Its licence
 * follows Human (MIT) but its training data is not documented; it was measured, not shipped.
 */
export async function humanFaceresEmbedder(): Promise<Embedder> {
  const tf: Tf = await loadTf();
  const net = await tf.loadGraphModel(humanModelUrl('faceres'));
  const version = `${packageVersion('@vladmandic/human')}+${filesSha256([join(humanModelsDir(), 'faceres.bin')]).slice(0, 12)}`;
  const model: EmbedderModel = { name: 'human-faceres', version, dim: 1024, licence: 'MIT (Human); training data undocumented', inputSize: 224, crop: { kind: 'eyes-mouth', eyeToMouth: 0.3, rotate: true }, sameFaceFmr: 0.5 };
  return {
    model,
    async embed(crops) {
      const out: Float32Array[] = [];
      for (const c of crops) {
        const x = tf.tensor4d(c, [1, 224, 224, 3]);
        const outputs = net.execute(x) as { shape: number[]; data(): Promise<Float32Array>; dispose(): void }[];
        x.dispose();
        const emb = outputs.find((t) => t.shape[1] === 1024);
        out.push(l2normalise(new Float32Array(await emb!.data())));
        for (const t of outputs) t.dispose();
      }
      return out;
    },
  };
}

/**
 * The 512-d ArcFace-style network `fr_feature.onnx` of the npm package faceplugin-face-recognition-js
 * (declared MIT; training data undocumented, see the model card), run by onnxruntime-node on one
 * thread per engine: the pool's workers are the parallelism. Input: the ArcFace 112 px crop,
 * (x - 127) / 128, NCHW, channels in BGR order: the package's own code feeds RGB, but BGR separates
 * LFW's pairs clearly better (d' 5.6 against 5.0, half the errors on 2,400 View-2 pairs), so the
 * weights were trained on OpenCV's channel order. The network takes one face per run.
 */
export async function faceplugin512Embedder(): Promise<Embedder> {
  const ort = loadOnnxRuntime();
  const file = join(packageDir('faceplugin-face-recognition-js'), 'model', 'fr_feature.onnx');
  const session = await onnxSession(file);
  const input = session.inputNames[0]!;
  const output = session.outputNames[0]!;
  const version = `${packageVersion('faceplugin-face-recognition-js')}+${filesSha256([file]).slice(0, 12)}+bgr`;
  const model: EmbedderModel = {
    name: 'faceplugin-arcface512',
    version,
    dim: 512,
    licence: 'MIT (declared by the package); training data undocumented',
    inputSize: 112,
    crop: { kind: 'template', name: 'arcface112', points: ARCFACE_112 },
    sameFaceFmr: 0.01,
  };
  const plane = 112 * 112;
  return {
    model,
    async embed(crops) {
      const out: Float32Array[] = [];
      for (const c of crops) {
        const x = new Float32Array(3 * plane);
        for (let i = 0; i < plane; i++) {
          x[i] = (c[3 * i + 2]! - 127) / 128;
          x[plane + i] = (c[3 * i + 1]! - 127) / 128;
          x[2 * plane + i] = (c[3 * i]! - 127) / 128;
        }
        const result = await session.run({ [input]: new ort.Tensor('float32', x, [1, 3, 112, 112]) });
        out.push(l2normalise(result[output]!.data as Float32Array));
      }
      return out;
    },
  };
}

export const EMBEDDERS: Record<string, () => Promise<Embedder>> = {
  'faceplugin-arcface512': faceplugin512Embedder,
  'faceapi-resnet128': faceApiResnetEmbedder,
  'human-faceres': humanFaceresEmbedder,
};
export const EMBEDDER_NAMES = Object.keys(EMBEDDERS);
