import { RelupError } from '../../errors.ts';
import { defineCommand } from '../command-registry.ts';
import { makePermanentArgs } from '../command-schema.ts';

/**
 * `make_permanent { version, expectedRevision? }`: the release this node runs becomes the one
 * the cluster boots. Only the running version may be made permanent from a node, so nobody
 * makes permanent a release no node has proven by running it, and never while an upgrade runs.
 */
export const makePermanentCommand = defineCommand(
  'make_permanent',
  makePermanentArgs,
  async ({ node, args }) => {
    // Mid-upgrade the release the node ends on is not known yet: the permanent one must not drift from it.
    const upgrading = node.upgrading;
    if (upgrading !== undefined)
      throw new RelupError('BUSY', `upgrade ${upgrading} is running: make_permanent waits until it ends`, {
        running: upgrading,
      });
    const running = node.release.version;
    if (args.version !== running)
      throw new RelupError('BAD_COMMAND', `node ${node.id} runs ${running}, not ${args.version}`, {
        running,
        version: args.version,
      });
    const previous = await node.store.permanent();
    const revision = await node.store.makePermanent(args.version, args.expectedRevision);
    await node.store.record({
      node: node.id,
      action: 'made_permanent',
      ...(previous && { from: previous.version }),
      to: args.version,
    });
    return { version: args.version, revision, previous: previous?.version ?? null };
  },
);
