/**
 * Camera frames as web apps and terminals send them: JPEG in base64 with the client's capture
 * time. Client clocks drift, so times are moved onto the server's clock by the offset between the
 * client's `sent_at` and the moment the request arrived.
 */
import { DomainError } from '../../platform/index.ts';

/** A dense answer: 10 to 15 frames a second through a challenge of up to 10 s (see docs/device-protocol.md). */
export const MAX_FRAMES = 150;

export const framesSchema = {
  sent_at: { type: 'integer', minimum: 0, description: 'Client clock, epoch ms, when the request was sent.' },
  frames: {
    type: 'array',
    minItems: 1,
    maxItems: MAX_FRAMES,
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['at', 'jpeg'],
      properties: {
        at: { type: 'integer', minimum: 0, description: 'Client clock, epoch ms, when the frame was captured.' },
        jpeg: { type: 'string', maxLength: 700_000, description: 'The frame as JPEG, base64.' },
      },
    },
  },
} as const;

export interface WireFrames {
  sent_at: number;
  frames: { at: number; jpeg: string }[];
}

export function toFrames(body: WireFrames, serverNow: number): { at: number; image: Uint8Array }[] {
  const offset = serverNow - body.sent_at;
  return body.frames.map((f) => {
    if (f.at > body.sent_at) throw new DomainError('invalid', 'frames_invalid', 'A frame cannot be captured after the request was sent.');
    const image = Buffer.from(f.jpeg, 'base64');
    if (image.length === 0) throw new DomainError('invalid', 'frames_invalid', 'A frame is empty or not base64.');
    return { at: f.at + offset, image };
  });
}
