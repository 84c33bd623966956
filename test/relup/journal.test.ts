import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { runUpgrade } from '../../src/relup/executor.ts';
import type { Instruction, Plan, Step } from '../../src/relup/instruction.ts';
import { type ActiveUpgrade, type Journal, openJournal } from '../../src/relup/journal.ts';
import type { UpgradeRuntime } from '../../src/relup/runtime.ts';
import type { StepReport, UpgradeProgress } from '../../src/relup/upgrade-report.ts';
import { useNats } from '../helpers/nats-fixture.ts';

let buckets = 0;
/** A fresh bucket per test, so tests share one server but no state. */
const bucket = () => `relup_journal_t${++buckets}`;

// The instructions here never touch the node; only the executor's error paths would log.
const runtime = { log: () => {} } as unknown as UpgradeRuntime;

const step = (op: string): Step => ({ id: op, op, args: {}, origin: 'test' });

const plan: Plan = {
  release: 'chat',
  from: '1.0.0',
  to: '1.1.0',
  direction: 'up',
  before: [step('check')],
  after: [step('point_of_no_return'), step('suspend'), step('resume')],
};

interface Seen {
  op: string;
  active: ActiveUpgrade | undefined;
  journaled: [string, string, boolean][];
}

/**
 * Instructions that read the journal while they run: what a node dying at that moment would
 * find once the writes asked for so far are stored (after the point of no return they are
 * pipelined, not awaited per step).
 */
function probing(journal: Journal, id: string, seen: Seen[], fail?: string) {
  const probe = async (op: string) => {
    await journal.flushed();
    const report = await journal.get(id);
    seen.push({
      op,
      active: await journal.active(),
      journaled: (report?.steps ?? []).map((s) => [s.id, s.result, s.undone ?? false]),
    });
  };
  return (op: string): Instruction => ({
    name: op,
    description: op,
    effects: op === 'check' ? 'none' : 'node',
    // As the built-in suspend and resume declare it.
    ...(op === 'suspend' && { pause: 'starts' as const }),
    ...(op === 'resume' && { pause: 'ends' as const }),
    validate: () => [],
    async run() {
      await probe(op);
      if (op === fail) throw new Error(`${op} broke`);
      return { result: 'ok' };
    },
    ...(op !== 'point_of_no_return' && {
      async undo() {
        await probe(`undo ${op}`);
      },
    }),
  });
}

describe('upgrade journal', () => {
  const nats = useNats();

  it('journals every step before it runs, shows the active upgrade and clears it at the end', async () => {
    const journal = await openJournal(await nats.connect(), 'n1', { bucket: bucket() });
    const seen: Seen[] = [];
    const report = await runUpgrade({
      id: 'u1',
      plan,
      instructions: probing(journal, 'u1', seen),
      runtime,
      journal,
    });

    expect(seen).toEqual([
      {
        op: 'check',
        active: { id: 'u1', state: 'checking', passedPonr: false },
        journaled: [['check', 'running', false]],
      },
      {
        op: 'point_of_no_return',
        active: { id: 'u1', state: 'checking', passedPonr: false },
        journaled: [
          ['check', 'ok', false],
          ['point_of_no_return', 'running', false],
        ],
      },
      {
        op: 'suspend',
        active: { id: 'u1', state: 'suspending', passedPonr: true },
        journaled: [
          ['check', 'ok', false],
          ['point_of_no_return', 'ok', false],
          ['suspend', 'running', false],
        ],
      },
      {
        op: 'resume',
        active: { id: 'u1', state: 'resuming', passedPonr: true },
        journaled: [
          ['check', 'ok', false],
          ['point_of_no_return', 'ok', false],
          ['suspend', 'ok', false],
          ['resume', 'running', false],
        ],
      },
    ]);
    expect(report.outcome).toBe('done');
    expect(await journal.active()).toBeUndefined();
    expect(await journal.get('u1')).toEqual(report);
  });

  it('journals a rollback and its final report', async () => {
    const journal = await openJournal(await nats.connect(), 'n2', { bucket: bucket() });
    const seen: Seen[] = [];
    const report = await runUpgrade({
      id: 'u2',
      plan,
      instructions: probing(journal, 'u2', seen, 'resume'),
      runtime,
      journal,
    });

    expect(report.outcome).toBe('rolled_back');
    expect(seen.map((s) => [s.op, s.active?.state, s.active?.passedPonr])).toEqual([
      ['check', 'checking', false],
      ['point_of_no_return', 'checking', false],
      ['suspend', 'suspending', true],
      ['resume', 'resuming', true],
      ['undo suspend', 'rolling_back', true],
      ['undo check', 'rolling_back', true],
    ]);
    expect(seen.at(-1)?.journaled).toEqual([
      ['check', 'ok', false],
      ['point_of_no_return', 'ok', false],
      ['suspend', 'ok', true],
      ['resume', 'failed', false],
    ]);
    expect(await journal.active()).toBeUndefined();
    expect(await journal.get('u2')).toMatchObject({
      outcome: 'rolled_back',
      passedPonr: true,
      error: { details: { step: 'resume' } },
    });
  });

  it('tells a node that boots after dying past the point of no return', async () => {
    const name = bucket();
    const nc = await nats.connect();
    const dying = await openJournal(nc, 'n3', { bucket: name });
    const done = (id: string): StepReport => ({ id, op: id, phase: 'after', result: 'ok', durationMs: 1 });
    const progress = (
      state: UpgradeProgress['state'],
      passedPonr: boolean,
      steps: StepReport[],
    ): UpgradeProgress => ({
      id: 'u3',
      release: 'chat',
      from: '1.0.0',
      to: '1.1.0',
      direction: 'up',
      state,
      passedPonr,
      steps,
      startedAt: new Date().toISOString(),
    });
    await dying.begin(progress('checking', false, []));
    await dying.step(
      progress('suspending', true, [done('point_of_no_return'), { ...done('suspend'), result: 'running' }]),
    );
    await nc.close();

    const booted = await openJournal(await nats.connect(), 'n3', { bucket: name });
    expect(await booted.active()).toEqual({ id: 'u3', state: 'suspending', passedPonr: true });
    expect(await booted.get('u3')).toMatchObject({
      state: 'suspending',
      steps: [
        { id: 'point_of_no_return', result: 'ok' },
        { id: 'suspend', result: 'running' },
      ],
    });
    const other = await openJournal(await nats.connect(), 'n4', { bucket: name });
    expect(await other.active()).toBeUndefined();
    expect(await other.get('u3')).toBeUndefined();
  });

  it('refuses ids that are not subject-safe', async () => {
    const nc = await nats.connect();
    await expect(openJournal(nc, 'n.1', { bucket: bucket() })).rejects.toMatchObject({
      code: 'NOT_SUBJECT_SAFE',
    });
    const journal = await openJournal(nc, 'n5', { bucket: bucket() });
    await expect(journal.get('a.b')).rejects.toMatchObject({ code: 'NOT_SUBJECT_SAFE' });
  });

  it('keeps a bounded history: the oldest reports go when an upgrade ends, with no markers left', async () => {
    const name = bucket();
    const nc = await nats.connect();
    const journal = await openJournal(nc, 'n6', { bucket: name, keep: 3 });
    for (let i = 1; i <= 5; i++) {
      const progress: UpgradeProgress = {
        id: `h${i}`,
        release: 'chat',
        from: '1.0.0',
        to: '1.1.0',
        direction: 'up',
        state: 'checking',
        passedPonr: false,
        steps: [],
        startedAt: new Date().toISOString(),
      };
      await journal.begin(progress);
      await journal.end({ ...progress, outcome: 'done', endedAt: new Date().toISOString(), durationMs: 1 });
    }
    expect((await journal.history()).map((r) => r.id)).toEqual(['h3', 'h4', 'h5']);
    expect(await journal.get('h1')).toBeUndefined();
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(`KV_${name}`, { subjects_filter: `$KV.${name}.upgrade.n6.>` });
    expect(Object.keys(info.state.subjects ?? {}).sort()).toEqual(
      ['h3', 'h4', 'h5'].map((id) => `$KV.${name}.upgrade.n6.${id}`),
    );
    await expect(openJournal(nc, 'n7', { bucket: name, keep: 0 })).rejects.toMatchObject({
      code: 'BAD_OPTIONS',
    });
  });
});
