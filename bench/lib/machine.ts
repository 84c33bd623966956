import { spawnSync } from 'node:child_process';
import { arch, cpus, platform, totalmem } from 'node:os';

/** The machine a run happened on, as one line and as fields for results.json. */
export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  natsServer: string;
  os: string;
  memoryGb: number;
}

/** Describes this machine: cpu model, cores, node and nats-server versions. */
export function machine(): Machine {
  const list = cpus();
  const r = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  const natsServer = r.error
    ? 'not installed'
    : (r.stdout || r.stderr).trim().replace(/^nats-server:\s*/, '');
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    node: process.version,
    natsServer,
    os: `${platform()} ${arch()}`,
    memoryGb: Math.round(totalmem() / 2 ** 30),
  };
}

/** The machine line written at the top of BENCHMARKS.md. */
export function machineLine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB RAM, ${m.os}, node ${m.node}, nats-server ${m.natsServer}`;
}
