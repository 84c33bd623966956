// chat 1.1.0: rooms get a topic. Room state changes shape: { seq, messages, members } becomes
// { lastSeq, log, members, topic } and every logged message carries the topic it was said
// under. codeChange migrates live rooms both ways; the client protocol only grows.
import { assign, createMachine, emit } from 'xstate';
// Only a type import of relup: a release module must load from any folder, and the loader
// checks the definition with defineService itself.
import type { ServiceDefinition } from '../../../../src/index.ts';

const HISTORY = 500;

interface Message {
  seq: number;
  user: string;
  text: string;
  topic: string;
}

interface RoomContext {
  name: string;
  lastSeq: number;
  log: Message[];
  members: Record<string, string>;
  topic: string;
}

/** The 1.0.0 room state, for codeChange. */
interface RoomContextV1 {
  name: string;
  seq: number;
  messages: Omit<Message, 'topic'>[];
  members: Record<string, string>;
}

const DEFAULT_TOPIC = 'general';

type RoomEvent =
  | { type: 'join'; session: string; user: string }
  | { type: 'part'; session: string }
  | { type: 'say'; user: string; text: string }
  | { type: 'topic'; text: string }
  | { type: 'history'; since?: number };

const room = createMachine({
  types: {} as { context: RoomContext; events: RoomEvent; input: { name: string } },
  id: 'chat-room',
  context: ({ input }) => ({ name: input.name, lastSeq: 0, log: [], members: {}, topic: DEFAULT_TOPIC }),
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
          const lastSeq = context.lastSeq + 1;
          const log = [
            ...context.log,
            { seq: lastSeq, user: event.user, text: event.text, topic: context.topic },
          ];
          return { lastSeq, log: log.length > HISTORY ? log.slice(-HISTORY) : log };
        }),
        emit(({ context }) => ({ type: 'reply', ok: true, seq: context.lastSeq })),
        emit(({ context }) => {
          const m = context.log[context.log.length - 1] as Message;
          return { type: 'push', to: Object.keys(context.members), message: { type: 'message', ...m } };
        }),
      ],
    },
    topic: {
      actions: [
        assign({ topic: ({ event }) => event.text }),
        emit(({ context }) => ({ type: 'reply', ok: true, topic: context.topic })),
        emit(({ context }) => ({
          type: 'push',
          to: Object.keys(context.members),
          message: { type: 'topic', topic: context.topic },
        })),
      ],
    },
    history: {
      actions: emit(({ context, event }) => ({
        type: 'reply',
        ok: true,
        messages: context.log.filter((m) => m.seq > (event.since ?? 0)),
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
  | { type: 'topic'; text?: unknown }
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
    topic: [
      {
        guard: ({ event }) =>
          typeof event.text !== 'string' || event.text.length === 0 || event.text.length > 200,
        actions: emit({
          type: 'reply',
          ok: false,
          error: { code: 'BAD_MESSAGE', message: 'topic needs a text of 1 to 200 characters' },
        }),
      },
      {
        actions: emit(({ context, event }) => ({
          type: 'forward',
          to: roomOf(context),
          event: { type: 'topic', text: event.text },
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

/** Room state 1.0.0 → 1.1.0: messages take the topic given by the relup's `extra`. */
function roomUp(c: RoomContextV1, topic: string): RoomContext {
  return {
    name: c.name,
    lastSeq: c.seq,
    log: c.messages.map((m) => ({ ...m, topic })),
    members: c.members,
    topic,
  };
}

/** Room state 1.1.0 → 1.0.0: topics are dropped. */
function roomDown(c: RoomContext): RoomContextV1 {
  return {
    name: c.name,
    seq: c.lastSeq,
    messages: c.log.map(({ topic: _topic, ...m }) => m),
    members: c.members,
  };
}

export default {
  name: 'chat',
  version: '1.1.0',
  channel,
  actors: { room },
  accept(connect) {
    const { user, room } = connect;
    if (typeof user !== 'string' || user.length === 0 || user.length > 64)
      throw new Error('user must be 1 to 64 characters');
    if (typeof room !== 'string' || !NAME.test(room)) throw new Error('room must match [A-Za-z0-9_-]{1,64}');
    return { user, room };
  },
  // Channel state is the same in both versions; rooms change shape.
  codeChange({ snapshot, kind, direction, extra }) {
    if (kind !== 'room') return snapshot;
    const snap = snapshot as { context: unknown };
    const topic = typeof extra.defaultTopic === 'string' ? extra.defaultTopic : DEFAULT_TOPIC;
    const context =
      direction === 'up'
        ? roomUp(snap.context as RoomContextV1, topic)
        : roomDown(snap.context as RoomContext);
    return { ...snap, context };
  },
} satisfies ServiceDefinition;
