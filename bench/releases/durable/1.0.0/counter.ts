// The durability benchmark's service: a channel that counts `echo` requests and replies with the
// count, so every request changes state. Three services run it with three durability contracts.
import { assign, createMachine, emit } from 'xstate';
import type { ServiceDefinition } from '../../../../src/index.ts';

const channel = createMachine({
  types: {} as { context: { n: number }; events: { type: 'echo'; data?: unknown } },
  id: 'counter-channel',
  context: { n: 0 },
  on: {
    echo: {
      actions: [
        assign({ n: ({ context }) => context.n + 1 }),
        emit(({ context }) => ({ type: 'reply', ok: true, n: context.n })),
      ],
    },
  },
});

/** The counter service under a name. */
export function counterService(name: string): ServiceDefinition {
  return { name, version: '1.0.0', channel };
}
