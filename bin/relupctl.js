#!/usr/bin/env node
// Runs the TypeScript sources through tsx, like bin/relup.js.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/relupctl.ts');
await main();
