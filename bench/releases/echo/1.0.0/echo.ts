// echo 1.0.0: the benchmarks' channel logic. `echo` replies with what it got; `tick` only
// counts (one-way throughput). No named actors, so a reply never leaves the channel.
import { assign, createMachine, emit } from 'xstate';
// Only a type import of relup, like the chat example: the compiled runtime loads this module alone.
import type { ServiceDefinition } from '../../../../src/index.ts';

const channel = createMachine({
  types: {} as {
    context: { n: number };
    events: { type: 'echo'; data?: unknown } | { type: 'tick'; data?: unknown };
  },
  id: 'echo-channel',
  context: { n: 0 },
  on: {
    echo: { actions: emit(({ event }) => ({ type: 'reply', ok: true, data: event.data })) },
    tick: { actions: assign({ n: ({ context }) => context.n + 1 }) },
  },
});

export default { name: 'echo', version: '1.0.0', channel } satisfies ServiceDefinition;
