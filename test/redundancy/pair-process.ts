// A node process running one side of a redundant pair, for tests that kill, stop and pause it.
// Hook runs are recorded in a JetStream stream and acknowledged before the hook returns, so the
// evidence survives a SIGKILL; while it may act, it publishes work stamped with its term.
import { jetstream } from '@nats-io/jetstream';
import { encode } from '../../src/nats/codec.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { stampTerm } from '../../src/nats/term-header.ts';
import { PairControl } from '../../src/redundancy/pair-control.ts';
import type { RedundancyMode } from '../../src/redundancy/pair-machine.ts';
import { type HookContext, PairRunner } from '../../src/redundancy/pair-runner.ts';

const env = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is required`);
  return v;
};
const service = env('PAIR_SERVICE');
const node = env('PAIR_NODE');
const nc = await connectNats({ servers: env('PAIR_NATS'), name: node });
const js = jetstream(nc);
let n = 0;
const record = async (ctx: HookContext) => {
  const id = `${service}.${node}.${process.pid}.${++n}`;
  await js.publish(`pairtest.hooks.${service}`, encode({ ...ctx, pid: process.pid }), { msgID: id });
};
const runner = await PairRunner.start(
  nc,
  {
    service,
    node,
    primary: 's1',
    backup: 's2',
    mode: env('PAIR_MODE') as RedundancyMode,
    timing: JSON.parse(env('PAIR_TIMING')),
    hooks: { startup: record, shutdown: record, onScan: record, offScan: record },
    onTransition: (e) => PairControl.publish(nc, e),
  },
  env('PAIR_REASON') as 'deploy' | 'restart',
);
PairControl.serve(nc, () => runner, service, node);
let seq = 0;
setInterval(() => {
  const fence = runner.fence();
  if (fence?.canAct())
    nc.publish(`pairtest.work.${service}`, encode({ node, pid: process.pid, seq: ++seq }), {
      headers: stampTerm(fence),
    });
}, 20);
process.on('SIGTERM', () => {
  void runner.shutdown().then(async () => {
    await nc.drain();
    process.exit(0);
  });
});
process.stdout.write('ready\n');
