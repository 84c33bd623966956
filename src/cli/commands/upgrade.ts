import { type Command, Option } from 'commander';
import { run } from './context.ts';
import { allOption, duration, modeOption, nodeOption, toOption } from './options.ts';
import { type TransitionOptions, transition } from './transition.ts';

/** `relupctl upgrade --to V (--node N | --all [--mode rolling|barrier])`: a hot upgrade with live progress. */
export function registerUpgrade(program: Command): void {
  program
    .command('upgrade')
    .description('upgrade a node, or the cluster, to a release while it keeps serving')
    .addOption(toOption())
    .addOption(nodeOption('the node to upgrade'))
    .addOption(allOption())
    .addOption(modeOption())
    .addOption(
      new Option(
        '--barrier-timeout <duration>',
        'barrier mode: how long nodes wait for each other (default 30s)',
      ).argParser(duration),
    )
    .action((opts: TransitionOptions, cmd: Command) => run(cmd, (ctl) => transition(ctl, 'upgrade', opts)));
}
