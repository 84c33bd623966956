import type { Command } from 'commander';
import { eventLine } from '../progress-lines.ts';
import { run } from './context.ts';
import { nodeOption } from './options.ts';

const ENDED = new Set(['done', 'aborted', 'rolled_back', 'failed']);

/**
 * `relupctl events [--node N] [--follow]`: prints node events as they happen. Without --follow it
 * stops once every upgrade it saw start has ended; with it, on Ctrl-C. `--json` prints one JSON object per line.
 */
export function registerEvents(program: Command): void {
  program
    .command('events')
    .description(
      'print upgrade events (every node without --node) until the upgrades seen end, or forever with --follow',
    )
    .addOption(nodeOption('the node to follow (default: every node)'))
    .option('--follow', 'keep printing until interrupted')
    .action((opts: { node?: string; follow?: boolean }, cmd: Command) =>
      run(cmd, async (ctl) => {
        const client = await ctl.client();
        const events = client.events(opts.node ?? '*');
        await events.ready;
        const stop = () => events.close();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        const running = new Set<string>();
        try {
          for await (const e of events) {
            if (ctl.json) process.stdout.write(`${JSON.stringify(e)}\n`);
            else ctl.print(eventLine(e));
            // Lifecycle events (commands received, …) belong to no upgrade and end nothing.
            if (opts.follow || typeof e.upgrade !== 'string') continue;
            const key = `${e.node}/${e.upgrade}`;
            if (e.type === 'state' && typeof e.state === 'string' && ENDED.has(e.state)) {
              running.delete(key);
              if (running.size === 0) break;
            } else running.add(key);
          }
        } finally {
          events.close();
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
        return 0;
      }),
    );
}
