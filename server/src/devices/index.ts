export { createDevicesService, DEFAULT_DEVICES_CONFIG } from './service.ts';
export type {
  AuthenticatedDevice,
  DeviceRequest,
  DevicesConfig,
  DevicesService,
  DevicesServiceDeps,
  IssuedActivationCode,
  PrecheckedRequest,
  Terminal,
} from './service.ts';
export type { TerminalStatus } from './repo.ts';
export { DeviceRepo } from './repo.ts';
export { deviceMigrations } from './migrations.ts';
export { parseDevicePublicKey, verifyDeviceSignature } from './keys.ts';
export { DEVICE_ERROR_CODES } from './errors.ts';
