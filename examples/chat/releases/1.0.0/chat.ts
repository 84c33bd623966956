// chat 1.0.0: a room actor per room (named `chat.room.<room>`, one owner in the cluster) and a
// channel actor per member session. Room state: { seq, messages, members }.
import { assign, createMachine, emit } from 'xstate';
// Only a type import of relup: a release module must load from any folder, and the loader
// checks the definition with defineService itself.
import type { ServiceDefinition } from '../../../../src/index.ts';

const HISTORY = 500;

interface Message {
  seq: number;
  user: string;
  text: string;
}

interface RoomContext {
  name: string;
  seq: number;
  messages: Message[];
  members: Record<string, string>;
}

type RoomEvent =
  | { type: 'join'; session: string; user: string }
  | { type: 'part'; session: string }
  | { type: 'say'; user: string; text: string }
  | { type: 'history'; since?: number };

const room = createMachine({
  types: {} as { context: RoomContext; events: RoomEvent; input: { name: string } },
  id: 'chat-room',
  context: ({ input }) => ({ name: input.name, seq: 0, messages: [], members: {} }),
  on: {
    join: {
      actions: [
        assign({ members: ({ context, event }) => ({ ...context.members, [event.session]: event.user }) }),
        emit({ type: 'reply', ok: true }),
      ],
    },
    part: {
      actions: assign({
        members: ({ context, event }) => {
          const { [event.session]: _gone, ...rest } = context.members;
          return rest;
        },
      }),
    },
    say: {
      actions: [
        assign(({ context, event }) => {
          const seq = context.seq + 1;
          const messages = [...context.messages, { seq, user: event.user, text: event.text }];
          return { seq, messages: messages.length > HISTORY ? messages.slice(-HISTORY) : messages };
        }),
        emit(({ context }) => ({ type: 'reply', ok: true, seq: context.seq })),
        emit(({ context }) => {
          const m = context.messages[context.messages.length - 1] as Message;
          return { type: 'push', to: Object.keys(context.members), message: { type: 'message', ...m } };
        }),
      ],
    },
    history: {
      actions: emit(({ context, event }) => ({
        type: 'reply',
        ok: true,
        messages: context.messages.filter((m) => m.seq > (event.since ?? 0)),
      })),
    },
  },
});

interface ChannelContext {
  user: string;
  room: string;
  session: string;
}

type ChannelEvent =
  | { type: 'say'; text?: unknown }
  | { type: 'history'; since?: unknown }
  | { type: 'session.closed' };

const roomOf = (c: ChannelContext) => `chat.room.${c.room}`;

const channel = createMachine({
  types: {} as { context: ChannelContext; events: ChannelEvent; input: ChannelContext },
  id: 'chat-channel',
  context: ({ input }) => ({ user: input.user, room: input.room, session: input.session }),
  entry: emit(({ context }) => ({
    type: 'forward',
    to: roomOf(context),
    event: { type: 'join', session: context.session, user: context.user },
  })),
  on: {
    say: [
      {
        guard: ({ event }) =>
          typeof event.text !== 'string' || event.text.length === 0 || event.text.length > 4000,
        actions: emit({
          type: 'reply',
          ok: false,
          error: { code: 'BAD_MESSAGE', message: 'say needs a text of 1 to 4000 characters' },
        }),
      },
      {
        actions: emit(({ context, event }) => ({
          type: 'forward',
          to: roomOf(context),
          event: { type: 'say', user: context.user, text: event.text },
        })),
      },
    ],
    history: [
      {
        guard: ({ event }) => event.since !== undefined && typeof event.since !== 'number',
        actions: emit({
          type: 'reply',
          ok: false,
          error: { code: 'BAD_MESSAGE', message: 'since must be a number' },
        }),
      },
      {
        actions: emit(({ context, event }) => ({
          type: 'forward',
          to: roomOf(context),
          event: { type: 'history', since: event.since },
        })),
      },
    ],
    'session.closed': {
      actions: emit(({ context }) => ({
        type: 'send',
        to: roomOf(context),
        event: { type: 'part', session: context.session },
      })),
    },
  },
});

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

export default {
  name: 'chat',
  version: '1.0.0',
  channel,
  actors: { room },
  accept(connect) {
    const { user, room } = connect;
    if (typeof user !== 'string' || user.length === 0 || user.length > 64)
      throw new Error('user must be 1 to 64 characters');
    if (typeof room !== 'string' || !NAME.test(room)) throw new Error('room must match [A-Za-z0-9_-]{1,64}');
    return { user, room };
  },
} satisfies ServiceDefinition;
