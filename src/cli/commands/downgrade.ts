import type { Command } from 'commander';
import { run } from './context.ts';
import { allOption, modeOption, nodeOption, toOption } from './options.ts';
import { type TransitionOptions, transition } from './transition.ts';

/** `relupctl downgrade --to V (--node N | --all)`: runs the down plan of the relup back to an older release. */
export function registerDowngrade(program: Command): void {
  program
    .command('downgrade')
    .description('downgrade a node, or the cluster (node by node), to an older release')
    .addOption(toOption())
    .addOption(nodeOption('the node to downgrade'))
    .addOption(allOption())
    .addOption(modeOption())
    .action((opts: TransitionOptions, cmd: Command) => run(cmd, (ctl) => transition(ctl, 'downgrade', opts)));
}
