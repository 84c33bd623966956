import { jetstreamManager } from '@nats-io/jetstream';
import type { ServerInfo } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { detectReplicas, parseReplicas, replicasFor } from '../../src/nats/replicas.ts';
import { openReleaseObjects } from '../../src/release/object-store.ts';
import { openJournal } from '../../src/relup/journal.ts';
import { useNats } from '../helpers/nats-fixture.ts';

const info = (extra: Partial<ServerInfo>) => ({ server_id: 'x', version: '2.9.10', ...extra }) as ServerInfo;

describe('replica count of relup buckets', () => {
  const nats = useNats();

  it('is 1 on a single server, and the buckets are created R1', async () => {
    const nc = await nats.connect();
    expect(nc.info?.cluster).toBeUndefined();
    expect(replicasFor(nc)).toBe(1);
    await openJournal(nc, 'r1', { bucket: 'replicas_journal' });
    await openReleaseObjects(nc, { bucket: 'replicas_objects' });
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info('KV_replicas_journal')).config.num_replicas).toBe(1);
    expect((await jsm.streams.info('OBJ_replicas_objects')).config.num_replicas).toBe(1);
  });

  it('a configured count wins over detection; more copies than servers fail with STORE_FAILED', async () => {
    const nc = await nats.connect();
    expect(replicasFor(nc, 3)).toBe(3);
    await expect(openJournal(nc, 'r3', { bucket: 'replicas_r3', replicas: 3 })).rejects.toMatchObject({
      code: 'STORE_FAILED',
    });
  });

  it('counts the servers a clustered server advertises, at most 3', () => {
    expect(detectReplicas(undefined)).toBe(1);
    expect(detectReplicas(info({}))).toBe(1);
    expect(detectReplicas(info({ cluster: 'c', connect_urls: ['a:1'] }))).toBe(1);
    expect(detectReplicas(info({ cluster: 'c', connect_urls: ['a:1', 'b:1'] }))).toBe(2);
    expect(detectReplicas(info({ cluster: 'c', connect_urls: ['a:1', 'b:1', 'c:1', 'd:1', 'e:1'] }))).toBe(3);
    // A cluster that hides its URLs: assume three, so a smaller one fails loudly instead of keeping one copy.
    expect(detectReplicas(info({ cluster: 'c' }))).toBe(3);
  });

  it('refuses a configured count that is not an integer from 1 to 5 with BAD_OPTIONS', () => {
    expect(parseReplicas('3')).toBe(3);
    expect(parseReplicas(5)).toBe(5);
    for (const bad of ['0', '6', 'three', '', '1.5', 2.5, -1])
      expect(() => parseReplicas(bad), String(bad)).toThrowError(
        expect.objectContaining({ code: 'BAD_OPTIONS' }),
      );
  });
});
