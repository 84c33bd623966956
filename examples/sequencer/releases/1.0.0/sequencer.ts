// sequencer 1.0.0: numbers handed out strictly in order, once in the cluster. One named actor
// (`sequencer.counter.main`) holds the last number; a client's channel forwards `next` to it.
// The release declares the service redundant: only the active node of its pair serves it, so
// no two nodes ever hand out the same number, and a failover goes on from the stored one.
import { appendFileSync } from 'node:fs';
import { assign, createMachine, emit } from 'xstate';
// Only a type import of relup: a release module must load from any folder.
import type { PairHookContext, ServiceDefinition } from '../../../../src/index.ts';

const counter = createMachine({
  types: {} as { context: { last: number }; events: { type: 'next' } },
  id: 'sequencer-counter',
  context: { last: 0 },
  on: {
    next: {
      actions: [
        assign({ last: ({ context }) => context.last + 1 }),
        emit(({ context }) => ({ type: 'reply', ok: true, n: context.last })),
      ],
    },
  },
});

const channel = createMachine({
  types: {} as { events: { type: 'next' } | { type: 'session.closed' } },
  id: 'sequencer-channel',
  on: {
    next: { actions: emit({ type: 'forward', to: 'sequencer.counter.main', event: { type: 'next' } }) },
  },
});

// Each hook run is one line `node hook:reason term` in SEQUENCER_HOOK_LOG, written before the
// hook returns (so it survives a SIGKILL of the node right after).
const logHook = (ctx: PairHookContext) => {
  const file = process.env.SEQUENCER_HOOK_LOG;
  if (file) appendFileSync(file, `${ctx.node} ${ctx.hook}:${ctx.reason} ${ctx.term}\n`);
};

export default {
  name: 'sequencer',
  version: '1.0.0',
  channel,
  actors: { counter },
  clientEvents: new Set(['next']),
  redundancy: { startup: logHook, shutdown: logHook, onScan: logHook, offScan: logHook },
} satisfies ServiceDefinition;
