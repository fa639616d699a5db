export * from './guidance.ts';
export * from './camera.ts';
export { createDetector, type Detector, type DetectorOptions } from './detector.ts';
