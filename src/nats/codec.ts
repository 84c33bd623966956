import { RelupError } from '../errors.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a value as JSON bytes for a NATS payload. */
export function encode(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Decodes a JSON payload; anything else is a BAD_MESSAGE error that says why. */
export function decode<T = unknown>(data: Uint8Array): T {
  const text = decoder.decode(data);
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new RelupError('BAD_MESSAGE', `payload is not JSON: ${(err as Error).message}`, {
      payload: text.slice(0, 200),
    });
  }
}
