#!/usr/bin/env node
// The operator's command line: the compiled runtime when built, else the sources (see runtime.js).
import { run } from './runtime.js';

await run('relupctl');
