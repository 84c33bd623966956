import type { Command } from 'commander';
import { run } from './context.ts';
import { nodeOption } from './options.ts';
import { renderValue } from './render.ts';

/** `relupctl releases [--node N]`: the releases a node has, runs and holds permanent (every node without --node). */
export function registerReleases(program: Command): void {
  program
    .command('releases')
    .description('list the releases of a node: on disk, running, permanent (every node without --node)')
    .addOption(nodeOption('the node to ask (default: every node)'))
    .action((opts: { node?: string }, cmd: Command) =>
      run(cmd, async (ctl) => {
        const client = await ctl.client();
        const timeoutMs = ctl.timeout(5000);
        const nodes = opts.node ? [opts.node] : (await client.discover()).map((s) => s.node);
        const results = await Promise.all(
          nodes.map(async (node) => ({
            node,
            releases: await client.request(node, 'releases', {}, { timeoutMs }),
          })),
        );
        if (ctl.json) ctl.printJson(opts.node ? results[0]?.releases : results);
        else if (results.length === 0) ctl.print('no node answered discovery');
        else ctl.print(results.map((r) => `${r.node}:\n${indent(renderValue(r.releases))}`).join('\n'));
        return 0;
      }),
    );
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
