import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/nats/codec.ts';
import { useNats } from '../helpers/nats-fixture.ts';

describe('test nats-server', () => {
  const nats = useNats();

  it('runs a real server with JetStream on', async () => {
    const nc = await nats.connect();
    expect(nc.info?.jetstream).toBe(true);
    const sub = nc.subscribe('t.echo', { max: 1 });
    (async () => {
      for await (const m of sub) m.respond(m.data);
    })();
    const r = await nc.request('t.echo', encode({ hi: 1 }));
    expect(decode(r.data)).toEqual({ hi: 1 });
  });

  it('decode refuses a non-JSON payload with BAD_MESSAGE', () => {
    expect(() => decode(new TextEncoder().encode('{nope'))).toThrowError(
      expect.objectContaining({ code: 'BAD_MESSAGE' }),
    );
  });
});
