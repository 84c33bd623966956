import type { Instruction } from './instruction.ts';
import { apply } from './instructions/apply.ts';
import { checkAcceptors } from './instructions/check-acceptors.ts';
import { checkChannels } from './instructions/check-channels.ts';
import { codeChange } from './instructions/code-change.ts';
import { disconnectClients } from './instructions/disconnect-clients.ts';
import { grace } from './instructions/grace.ts';
import { info } from './instructions/info.ts';
import { load } from './instructions/load.ts';
import { loadObjectCode } from './instructions/load-object-code.ts';
import { maintenance } from './instructions/maintenance.ts';
import { notifyClients } from './instructions/notify-clients.ts';
import { pointOfNoReturn } from './instructions/point-of-no-return.ts';
import { preflightCodeChange } from './instructions/preflight-code-change.ts';
import { resume } from './instructions/resume.ts';
import { resumeAcceptors } from './instructions/resume-acceptors.ts';
import { resumeChannels } from './instructions/resume-channels.ts';
import { sleep } from './instructions/sleep.ts';
import { startService } from './instructions/start-service.ts';
import { stopService } from './instructions/stop-service.ts';
import { suspend } from './instructions/suspend.ts';
import { suspendAcceptors } from './instructions/suspend-acceptors.ts';
import { suspendChannels } from './instructions/suspend-channels.ts';
import { switchOver } from './instructions/switch-over.ts';

/** The instructions every registry starts with, in the order a standard plan uses them. */
export const BUILTIN_INSTRUCTIONS: readonly Instruction[] = [
  checkAcceptors,
  checkChannels,
  loadObjectCode,
  preflightCodeChange,
  pointOfNoReturn,
  switchOver,
  suspendAcceptors,
  suspendChannels,
  suspend,
  load,
  codeChange,
  resume,
  resumeChannels,
  resumeAcceptors,
  startService,
  stopService,
  apply,
  sleep,
  info,
  notifyClients,
  grace,
  disconnectClients,
  maintenance,
];
