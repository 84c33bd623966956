import { type Command, Option } from 'commander';
import { decode, encode } from '../../nats/codec.ts';
import { raiseIfError } from '../../nats/reply.ts';
import { pairSubjects } from '../../redundancy/pair-control.ts';
import type { PairStatus } from '../../redundancy/pair-runner.ts';
import { run } from './context.ts';
import { nodeId, nodeOption } from './options.ts';

/** `relupctl pair status|failover|scan|undeploy --service S --node N`: one node's side of a redundant pair. */
export function registerPair(program: Command): void {
  program
    .command('pair')
    .description('a redundant pair: status, forced failover, scan on/off, undeploy (one node side)')
    .argument('<op>', 'status, failover, scan or undeploy')
    .argument('[scan]', 'for scan: on or off')
    .addOption(
      new Option('--service <name>', 'the redundant service').argParser(nodeId).makeOptionMandatory(),
    )
    .addOption(
      nodeOption('the node of the pair to ask (failover and scan: the active)').makeOptionMandatory(),
    )
    .action((op: string, scan: string | undefined, opts: { service: string; node: string }, cmd: Command) =>
      run(cmd, async (ctl) => {
        if (!['status', 'failover', 'scan', 'undeploy'].includes(op))
          ctl.usage(`op must be status, failover, scan or undeploy, not ${op}`);
        if (op === 'scan' && scan !== 'on' && scan !== 'off') ctl.usage('scan needs on or off');
        const nc = await ctl.nc();
        const subject = pairSubjects(ctl.opts.prefix).control(opts.service, opts.node);
        const msg = await nc.request(subject, encode(op === 'scan' ? { op, scan } : { op }), {
          timeout: ctl.timeout(30_000),
        });
        const { status } = raiseIfError(decode(msg.data)) as { status: PairStatus };
        if (ctl.json) ctl.printJson(status);
        else
          ctl.print(
            `${status.service} on ${status.node} (${status.role}, ${status.mode}): ${status.state}, term ${status.term}, holder ${status.holder ?? '-'}`,
          );
        return 0;
      }),
    );
}
