#!/usr/bin/env node
// The node and its commands: the compiled runtime when built, else the sources (see runtime.js).
import { run } from './runtime.js';

await run('relup');
