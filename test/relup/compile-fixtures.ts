import type { BulkResult } from '../../src/actors/bulk-result.ts';
import { RelupError } from '../../src/errors.ts';
import { type CompiledRelup, compileRelup } from '../../src/relup/compile.ts';
import type { Plan, Step } from '../../src/relup/instruction.ts';
import type { Registry } from '../../src/relup/registry.ts';
import type { ReleaseInfo } from '../../src/relup/release-info.ts';
import type { CodeChangeRequest, UpgradeRuntime } from '../../src/relup/runtime.ts';

/** A fake sha256 made of one repeated hex digit. */
export const sha = (digit: string): string => digit.repeat(64);

/** Release chat 1.0.0: services chat 2.0.0 and legacy 0.9.0 (service versions differ from the release's on purpose). */
export const v100: ReleaseInfo = {
  name: 'chat',
  version: '1.0.0',
  services: [
    { name: 'chat', version: '2.0.0', module: 'services/chat.ts' },
    { name: 'legacy', version: '0.9.0', module: 'services/legacy.ts' },
  ],
  files: { 'services/chat.ts': sha('a'), 'services/legacy.ts': sha('b') },
};

/** The migration scripts the tests' relups apply; release 1.1.0 ships them. */
const SCRIPTS = [
  'migrations/backfill.ts',
  'migrations/unbackfill.ts',
  'migrations/stats.ts',
  'migrations/a.ts',
  'migrations/b.ts',
  'migrations/x.ts',
  'm/1.ts',
  'm/3.ts',
];

/** Release chat 1.1.0: chat 2.1.0 changed, legacy gone, presence 0.1.0 new, and the migration scripts. */
export const v110: ReleaseInfo = {
  name: 'chat',
  version: '1.1.0',
  services: [
    { name: 'chat', version: '2.1.0', module: 'services/chat.ts' },
    { name: 'presence', version: '0.1.0', module: 'services/presence.ts' },
  ],
  files: {
    'services/chat.ts': sha('c'),
    'services/presence.ts': sha('d'),
    ...Object.fromEntries(SCRIPTS.map((file) => [file, sha('e')])),
  },
};

/** chat 1.0.1: the same services and code as 1.0.0, so nothing needs covering. */
export const v101: ReleaseInfo = { ...v100, version: '1.0.1' };

/** A relup file for chat between two versions with the given `up:` lines (indented by the caller). */
export function relupYaml(up: string, rest = '', from = '1.0.0', to = '1.1.0'): string {
  return `release: chat\nfrom: ${from}\nto: ${to}\nup:\n${up}\n${rest}`;
}

/** Compiles relup text between 1.0.0 and 1.1.0 unless other releases are given. */
export function compile(
  source: string,
  opts: { from?: ReleaseInfo; to?: ReleaseInfo; registry?: Registry } = {},
): CompiledRelup {
  return compileRelup({
    source,
    file: 'relups/chat/test.yaml',
    fromManifest: opts.from ?? v100,
    toManifest: opts.to ?? v110,
    ...(opts.registry ? { registry: opts.registry } : {}),
  });
}

/** Steps as `op target` strings, for readable expectations. */
export function ops(steps: readonly Step[]): string[] {
  return steps.map((s) => (s.target === undefined ? s.op : `${s.op} ${s.target}`));
}

/** Every step of a plan as `op target`. */
export function planOps(plan: Plan): string[] {
  return ops([...plan.before, ...plan.after]);
}

/** Runs fn and returns the RelupError it throws (fails the test when it throws nothing else). */
export function relupError(fn: () => unknown): RelupError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RelupError) return err;
    throw err;
  }
  throw new Error('expected a RelupError');
}

/** An UpgradeRuntime double that records each call as `method arg…`; failures are scripted. */
export class RecordingRuntime implements UpgradeRuntime {
  readonly calls: string[] = [];
  readonly logs: string[] = [];
  /** What the next bulk suspensions return. */
  bulk: BulkResult = { result: 'ok', count: 3 };
  /** Modules whose apply throws. */
  failing = new Set<string>();
  private readonly versions = new Map<string, string>();

  async checkAcceptors() {
    this.calls.push('checkAcceptors');
  }
  async checkChannels() {
    this.calls.push('checkChannels');
  }
  async suspendAcceptors() {
    this.calls.push('suspendAcceptors');
  }
  async resumeAcceptors() {
    this.calls.push('resumeAcceptors');
  }
  async suspendChannels(timeoutMs: number) {
    this.calls.push(`suspendChannels ${timeoutMs}`);
    return this.bulk;
  }
  async resumeChannels() {
    this.calls.push('resumeChannels');
  }
  async loadObjectCode(service: string, version: string) {
    this.calls.push(`loadObjectCode ${service} ${version}`);
  }
  async unloadObjectCode(service: string, version: string) {
    this.calls.push(`unloadObjectCode ${service} ${version}`);
  }
  async suspendService(service: string, timeoutMs: number) {
    this.calls.push(`suspendService ${service} ${timeoutMs}`);
    return this.bulk;
  }
  async resumeService(service: string) {
    this.calls.push(`resumeService ${service}`);
  }
  async switchCode(service: string, version: string) {
    this.calls.push(`switchCode ${service} ${version}`);
    this.versions.set(service, version);
  }
  async codeChange(service: string, req: CodeChangeRequest) {
    this.calls.push(
      `codeChange ${service} ${req.direction} ${req.from}->${req.to} ${JSON.stringify(req.extra)}`,
    );
  }
  async preflightCodeChange(service: string, req: CodeChangeRequest) {
    this.calls.push(`preflightCodeChange ${service} ${req.direction} ${req.from}->${req.to}`);
  }
  async startService(service: string, version: string) {
    this.calls.push(`startService ${service} ${version}`);
    this.versions.set(service, version);
  }
  async switchOver(service: string) {
    this.calls.push(`switchOver ${service}`);
    return false;
  }

  async stopService(service: string) {
    this.calls.push(`stopService ${service}`);
    this.versions.delete(service);
  }
  async apply(module: string, args: Record<string, unknown>, direction: 'up' | 'down') {
    this.calls.push(`apply ${module} ${direction} ${JSON.stringify(args)}`);
    if (this.failing.has(module)) throw new Error(`${module} broke`);
  }
  async barrier() {}
  async notifyClients(message: string) {
    this.calls.push(`notifyClients ${message}`);
    return 0;
  }
  async grace(ms: number) {
    this.calls.push(`grace ${ms}`);
  }
  async disconnectClients(reason: string) {
    this.calls.push(`disconnectClients ${reason}`);
    return 0;
  }
  async maintenance(on: boolean) {
    this.calls.push(`maintenance ${on ? 'on' : 'off'}`);
  }
  serviceVersion(service: string) {
    return this.versions.get(service);
  }
  log(message: string) {
    this.logs.push(message);
  }
}
