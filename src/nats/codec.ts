import { Buffer } from 'node:buffer';
import { RelupError } from '../errors.ts';

const decoder = new TextDecoder();

/**
 * Encodes a value as JSON bytes for a NATS payload (nothing for a value JSON leaves out).
 * Buffer.from rather than TextEncoder: it takes small payloads from Node's shared pool, where
 * TextEncoder allocates a buffer for each (measured 0.15 µs against 1 µs for a 120-byte reply).
 */
export function encode(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value) ?? '');
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
