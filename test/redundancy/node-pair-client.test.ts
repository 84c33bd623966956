// A client session that resumes by itself (`resumeWithinMs`) across a redundant pair's
// hand-overs, on two real `relup node` processes serving chat as a warm pair: a forced failover
// and a SIGKILL of the active, with no resume written by the caller.
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/services/client.ts';
import { usePairRig } from './node-pair-fixture.ts';

describe('redundancy - a client session that resumes by itself, on two relup node processes', {
  timeout: 120_000,
}, () => {
  const rig = usePairRig();

  it('follows a forced failover and a SIGKILL of the active with every acknowledged message; without the option the request fails UNKNOWN_SESSION', async () => {
    const { pair, nc } = await rig().deployedPair({ mode: 'warm' });
    const s = await Session.open(nc, 'chat', { user: 'ada', room: 'c1' }, { resumeWithinMs: 20_000 });
    const plain = await Session.open(nc, 'chat', { user: 'bo', room: 'c2' });
    expect(await s.request({ type: 'say', text: 'one' })).toEqual({ ok: true, seq: 1 });
    expect(await plain.request({ type: 'say', text: 'one' })).toEqual({ ok: true, seq: 1 });

    await pair.act('forced failover');
    await pair.until({ s1: 'standby', s2: 'active on scan' });
    expect(await s.request({ type: 'say', text: 'two' })).toEqual({ ok: true, seq: 2 });
    await expect(plain.request({ type: 'say', text: 'two' })).rejects.toMatchObject({
      code: 'UNKNOWN_SESSION',
    });

    // The active dies: the request waits out the lease, then the backup restores the session.
    await pair.act('server 2 hard failure');
    expect(await s.request({ type: 'say', text: 'three' })).toEqual({ ok: true, seq: 3 });
    const history = (await s.request({ type: 'history' })) as { messages: { text: string }[] };
    expect(history.messages.map((m) => m.text)).toEqual(['one', 'two', 'three']);
  });
});
