export * from './guidance.ts';
export * from './camera.ts';
export { createDetector, FACE_ASSETS, type Detector, type DetectorOptions } from './detector.ts';
export { CameraSession, CaptureTimeout, STREAM } from './session.ts';
