import type { Command } from 'commander';
import type { NodeStatus } from '../../node/node-types.ts';
import { run } from './context.ts';
import { nodeOption } from './options.ts';
import { renderStatuses } from './render.ts';

/** `relupctl status [--node N]`: one node's status, or every node's by discovery. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("show a node's release, services, sessions and upgrades (every node without --node)")
    .addOption(nodeOption('the node to ask (default: every node)'))
    .action((opts: { node?: string }, cmd: Command) =>
      run(cmd, async (ctl) => {
        const client = await ctl.client();
        const statuses = opts.node
          ? [await client.request<NodeStatus>(opts.node, 'status', {}, { timeoutMs: ctl.timeout(5000) })]
          : await client.discover({ maxWaitMs: ctl.timeout(3000) });
        if (ctl.json) ctl.printJson(opts.node ? statuses[0] : statuses);
        else ctl.print(statuses.length > 0 ? renderStatuses(statuses) : 'no node answered discovery');
        return 0;
      }),
    );
}
