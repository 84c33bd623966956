import { type Command, InvalidArgumentError, Option } from 'commander';
import { startObserveServer } from '../observe/observe-server.ts';
import { run } from './context.ts';
import { duration } from './options.ts';

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) throw new InvalidArgumentError('must be a port, 0 to 65535');
  return n;
}

/**
 * `relupctl observe [--port N] [--actions]`: serves the operator's live page on 127.0.0.1 until
 * interrupted. Read-only unless `--actions`; actions are signed like every relupctl command.
 */
export function registerObserve(program: Command): void {
  program
    .command('observe')
    .description('serve a live web page of the cluster, its releases and upgrades on localhost')
    .addOption(new Option('--port <port>', 'port on 127.0.0.1 (0: a free one)').argParser(port).default(8099))
    .option(
      '--actions',
      'let the page upgrade, check, make permanent and switch maintenance (default read-only)',
    )
    .addOption(
      new Option('--poll <duration>', 'how often to ask for statuses').argParser(duration).default(1000),
    )
    .action((opts: { port: number; actions?: boolean; poll: number }, cmd: Command) =>
      run(cmd, async (ctl) => {
        const server = await startObserveServer(await ctl.client(), {
          port: opts.port,
          actions: opts.actions === true,
          pollMs: opts.poll,
        });
        ctl.print(
          `observe: ${server.url} (${opts.actions ? 'actions enabled' : 'read-only'}; Ctrl-C to stop)`,
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.stop();
        return 0;
      }),
    );
}
