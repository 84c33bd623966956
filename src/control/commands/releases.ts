import { listReleases } from '../../release/manifest.ts';
import { defineCommand } from '../command-registry.ts';
import { noArgs } from '../command-schema.ts';

/** `releases`: the versions on disk, the running one, the cluster's permanent one and the history. */
export const releasesCommand = defineCommand('releases', noArgs, async ({ node }) => {
  const [available, permanent, history] = await Promise.all([
    listReleases(node.releasesDir),
    node.store.permanent(),
    node.store.history(),
  ]);
  return { node: node.id, running: node.release.version, available, permanent: permanent ?? null, history };
});
