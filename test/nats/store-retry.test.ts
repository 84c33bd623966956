import { describe, expect, it } from 'vitest';
import { RelupError } from '../../src/errors.ts';
import { retryStore } from '../../src/nats/store-retry.ts';

describe('retryStore', () => {
  it('retries a write failing with STORE_FAILED or TIMEOUT until it succeeds', async () => {
    const codes = ['STORE_FAILED', 'TIMEOUT', 'STORE_FAILED'];
    let calls = 0;
    const value = await retryStore(async () => {
      const code = codes[calls++];
      if (code) throw new RelupError(code as 'STORE_FAILED', 'jetstream is not enabled');
      return 'stored';
    });
    expect(value).toBe('stored');
    expect(calls).toBe(4);
  });

  it('gives up after its time with the last failure, and never retries other failures', async () => {
    let calls = 0;
    await expect(
      retryStore(async () => {
        calls++;
        throw new RelupError('STORE_FAILED', 'still down');
      }, 500),
    ).rejects.toMatchObject({ code: 'STORE_FAILED' });
    expect(calls).toBeGreaterThan(1);
    calls = 0;
    await expect(
      retryStore(async () => {
        calls++;
        throw new RelupError('CONFLICT', 'moved');
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(calls).toBe(1);
  });
});
