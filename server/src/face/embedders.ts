import { join } from 'node:path';
import { l2normalise } from './align.ts';
import { faceApiModelsDir, filesSha256, humanModelsDir, humanModelUrl, loadFaceApi, loadTf, packageVersion, type Tf } from './runtime.ts';

export interface EmbedderModel {
  /** stable name stored beside every template */
  name: string;
  /** package version and weights hash: templates of different versions are not mixed */
  version: string;
  dim: number;
  licence: string;
  /** side of the square aligned crop it wants */
  inputSize: number;
  /** eye-to-mouth distance over crop side (see cropGeometry) */
  eyeToMouth: number;
  /** whether the crop is rotated so the eyes are level */
  rotate: boolean;
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
  const model: EmbedderModel = { name: 'faceapi-resnet128', version, dim: 128, licence: 'MIT (face-api) / CC0 (dlib weights)', inputSize: 150, eyeToMouth: 0.45, rotate: false };
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
  const model: EmbedderModel = { name: 'human-faceres', version, dim: 1024, licence: 'MIT (Human); training data undocumented', inputSize: 224, eyeToMouth: 0.3, rotate: true };
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

export const EMBEDDERS: Record<string, () => Promise<Embedder>> = {
  'faceapi-resnet128': faceApiResnetEmbedder,
  'human-faceres': humanFaceresEmbedder,
};
export const EMBEDDER_NAMES = Object.keys(EMBEDDERS);
