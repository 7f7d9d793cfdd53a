import { formatDuration } from '../../util/format.js';
import type { CheckContext, CheckResult } from '../../core/contracts.js';
import type { Settings } from './config.js';
import { findCoreFiles } from '../../snapshot/coreFiles.js';
import { plural } from './indicator.js';
import { judge, listSome, thresholdText, type Thresholds } from './judge.js';
import { findTooOld, findZombies, tooOldAfterMs } from '../../snapshot/nlserverProcesses.js';
import { readShm } from '../../snapshot/shm.js';

// The indicators measured as a count: core files, orphaned shared memory, processes too old, zombies.

export async function coreFilesResult(procRoot: string, installDir: string, coreDirs: string[], levels: Thresholds): Promise<CheckResult> {
  const cores = await findCoreFiles({ procRoot, installDir, extraDirs: coreDirs });
  if (cores.kind === 'piped') return { state: 'ok', message: `core dumps are piped to ${cores.handler}; not counted` };
  if (cores.kind === 'uncountable') return { state: 'ok', message: `${cores.reason}; not counted` };
  const judgement = judge(cores.files.length, levels);
  const where = cores.files.length === 0 ? `in ${cores.dirs.join(', ')}` : `(${listSome(cores.files)})`;
  return {
    state: judgement.state,
    message: `${plural(cores.files.length, 'core file')} ${where}, ${thresholdText(judgement)}`,
    values: { system_core_files: cores.files.length },
  };
}

export async function shmResult(procRoot: string, levels: Thresholds): Promise<CheckResult> {
  const shm = await readShm(procRoot);
  const judgement = judge(shm.orphaned.length, levels);
  const ids = shm.orphaned.length === 0 ? '' : ` (shmid ${listSome(shm.orphaned.map((segment) => String(segment.shmid)))})`;
  return {
    state: judgement.state,
    message: `${plural(shm.orphaned.length, 'orphaned shared memory segment')}${ids} of ${shm.segments}, ${thresholdText(judgement)}`,
    values: { system_shm_segments: shm.segments, system_shm_segments_orphaned: shm.orphaned.length },
  };
}

export async function tooOldResult(ctx: CheckContext, levels: Settings['processesTooOld']): Promise<CheckResult> {
  const maxAgeMs = tooOldAfterMs(levels.grace);
  const old = findTooOld(await ctx.snapshot.processes(), ctx.now(), maxAgeMs);
  const judgement = judge(old.length, levels);
  const which = old.length === 0 ? '' : ` (${listSome(old.map((p) => `${p.label} pid ${p.pid} up ${formatDuration(p.ageMs)}`))})`;
  return {
    state: judgement.state,
    message: `${plural(old.length, 'nlserver process', 'nlserver processes')} running longer than ${formatDuration(maxAgeMs)}${which}, ${thresholdText(judgement)}`,
    values: { system_processes_too_old: old.length },
  };
}

export async function zombiesResult(ctx: CheckContext, levels: Thresholds): Promise<CheckResult> {
  const zombies = findZombies(await ctx.snapshot.processes());
  const judgement = judge(zombies.campaign.length, levels);
  const pids = zombies.campaign.length === 0 ? '' : ` (pid ${listSome(zombies.campaign.map((p) => String(p.pid)))})`;
  const others = zombies.others === 0 ? '' : `; ${plural(zombies.others, 'other zombie')} on the host, not Campaign's, not counted`;
  return {
    state: judgement.state,
    message: `${plural(zombies.campaign.length, 'zombie nlserver process', 'zombie nlserver processes')}${pids}, ${thresholdText(judgement)}${others}`,
    values: { system_zombie_processes: zombies.campaign.length },
  };
}
