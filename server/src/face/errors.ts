import { DomainError } from '../platform/index.ts';

/**
 * Every refusal of the face engine, with the message a person in front of the camera (or an
 * operator) can act on. The codes are stable: clients branch on them.
 */
export const faceErrors = {
  imageEmpty: () => new DomainError('invalid', 'image_empty', 'The image is empty.'),
  imageTooLarge: (bytes: number, max: number) =>
    new DomainError('too_large', 'image_too_large', `The image is ${bytes} bytes; at most ${max} bytes are accepted.`, { bytes, max }),
  imageDimensionsTooLarge: (width: number, height: number, max: number) =>
    new DomainError(
      'too_large',
      'image_dimensions_too_large',
      `The image is ${width}x${height} pixels; at most ${max} pixels a side are accepted.`,
      { width, height, max },
    ),
  imageUndecodable: () =>
    new DomainError('invalid', 'image_undecodable', 'The file could not be read as an image (JPEG, PNG or WebP expected).'),
  noFace: () => new DomainError('unprocessable', 'no_face', 'No face was found in the image. Look straight at the camera.'),
  multipleFaces: (count: number) =>
    new DomainError('unprocessable', 'multiple_faces', 'More than one face is in view. Only the person paying should face the camera.', {
      count,
    }),
  faceTooSmall: (sizePx: number, min: number) =>
    new DomainError('unprocessable', 'face_too_small', 'The face is too small or too far away. Come closer to the camera.', {
      sizePx,
      min,
    }),
  faceTurned: (yaw: number, pitch: number, roll: number) =>
    new DomainError('unprocessable', 'face_turned', 'The face is turned away. Look straight at the camera.', { yaw, pitch, roll }),
  faceBlurred: (sharpness: number, min: number) =>
    new DomainError('unprocessable', 'face_blurred', 'The image of the face is blurred. Hold still, or clean the camera.', {
      sharpness,
      min,
    }),
  faceTooDark: (brightness: number, min: number) =>
    new DomainError('unprocessable', 'face_too_dark', 'The face is too dark. Find more light or face the light.', { brightness, min }),
  faceTooBright: (brightness: number, max: number) =>
    new DomainError('unprocessable', 'face_too_bright', 'The face is over-exposed. Move away from direct light.', { brightness, max }),
  faceCutOff: () =>
    new DomainError('unprocessable', 'face_cut_off', 'Part of the face is outside the picture. Centre your face in the frame.'),
  busy: (queued: number) =>
    new DomainError('busy', 'face_engine_busy', 'The face engine is busy. Try again in a moment.', { queued }),
  closed: () => new DomainError('unavailable', 'face_engine_closed', 'The face engine has been shut down.'),
  modelMismatch: (a: string, b: string) =>
    new DomainError('conflict', 'face_model_mismatch', `Embeddings of different models cannot be compared (${a} vs ${b}).`, { a, b }),
  calibrationMissing: (model: string) =>
    new DomainError('unavailable', 'face_calibration_missing', `No calibration file for the face model ${model}; run npm run bench:face.`, {
      model,
    }),
};

/** The codes the analysis can refuse an image with, in the order the checks run. */
export const FACE_REFUSAL_CODES = [
  'image_empty',
  'image_too_large',
  'image_dimensions_too_large',
  'image_undecodable',
  'no_face',
  'multiple_faces',
  'face_too_small',
  'face_cut_off',
  'face_turned',
  'face_blurred',
  'face_too_dark',
  'face_too_bright',
] as const;
export type FaceRefusalCode = (typeof FACE_REFUSAL_CODES)[number];
