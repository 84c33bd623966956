#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so release modules written in TypeScript load too.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/relup.ts');
await main();
