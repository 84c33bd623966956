// echor 1.0.0: the echo channel written as a plain reducer (xstate `fromTransition`) instead of
// a state machine, to show what the runtime costs without a machine's transition algorithm.
import { type EventObject, fromTransition } from 'xstate';
// Only a type import of relup, like the chat example: the compiled runtime loads this module alone.
import type { ServiceDefinition } from '../../../../src/index.ts';

type EchoEvent = { type: 'echo'; data?: unknown } | { type: 'tick'; data?: unknown };

const channel = fromTransition(
  (state: { n: number }, event: EchoEvent, scope) => {
    if (event.type === 'tick') return { n: state.n + 1 };
    if (event.type === 'echo') scope.emit({ type: 'reply', ok: true, data: event.data } as EventObject);
    return state;
  },
  { n: 0 },
);

export default { name: 'echor', version: '1.0.0', channel } satisfies ServiceDefinition;
