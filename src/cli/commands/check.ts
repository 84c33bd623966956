import type { Command } from 'commander';
import { run } from './context.ts';
import { allOption, nodeOption, toOption } from './options.ts';
import { type TransitionOptions, transition } from './transition.ts';

/** `relupctl check --to V (--node N | --all)`: runs an upgrade's checks and undoes them; changes nothing. */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('run the steps before the point of no return, then undo them: would the upgrade pass?')
    .addOption(toOption())
    .addOption(nodeOption('the node to check'))
    .addOption(allOption())
    .action((opts: Omit<TransitionOptions, 'mode'>, cmd: Command) =>
      run(cmd, (ctl) => transition(ctl, 'check', { ...opts, mode: 'rolling' })),
    );
}
