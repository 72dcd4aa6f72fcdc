/**
 * What a server process costs, read from /proc (Linux): its CPU time and resident memory, together with
 * every process under it (a cluster's workers are the primary's children).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second, the unit of utime and stime in /proc/<pid>/stat (`getconf CLK_TCK`, 100 nearly everywhere). */
export const CLOCK_TICKS = (() => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
})();

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses): field 3 (state) first. */
function statFields(pid: number): string[] | undefined {
  const stat = readOrEmpty(`/proc/${pid}/stat`);
  const end = stat.lastIndexOf(')');
  return end < 0 ? undefined : stat.slice(end + 2).split(' ');
}

/** The process's children, from every thread's children list (or, without those files, every process's parent). */
function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  if (existsSync(`/proc/${pid}/task/${pid}/children`)) {
    return tasks.flatMap((task) => readOrEmpty(`/proc/${pid}/task/${task}/children`).trim().split(/\s+/).filter(Boolean).map(Number));
  }
  // No children files (a kernel without CONFIG_PROC_CHILDREN): ask every process for its parent.
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((candidate) => Number(statFields(candidate)?.[1]) === pid);
}

/** The process and every process under it, alive now. */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let index = 0; index < tree.length; index += 1) tree.push(...childrenOf(tree[index]!));
  return tree;
}

/** CPU time (user + system) one process has used so far, in microseconds; undefined once it has ended. */
export function processCpuMicroseconds(pid: number): number | undefined {
  const fields = statFields(pid);
  // utime and stime: fields 14 and 15 of stat, 11 and 12 after the state (field 3).
  return fields ? ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS : undefined;
}

/** CPU time the process tree has used so far, in microseconds: user + system, and system alone. Processes that already ended are not counted. */
export function cpuMicroseconds(pid: number): { total: number; system: number } {
  let user = 0;
  let system = 0;
  for (const member of processTree(pid)) {
    const fields = statFields(member);
    if (!fields) continue;
    user += Number(fields[11]);
    system += Number(fields[12]);
  }
  return { total: ((user + system) * 1_000_000) / CLOCK_TICKS, system: (system * 1_000_000) / CLOCK_TICKS };
}

/** CPU time of each of these processes (those still running), in microseconds. */
export function cpuOfEach(pids: readonly number[]): Map<number, number> {
  return new Map(pids.flatMap((pid) => {
    const cpu = processCpuMicroseconds(pid);
    return cpu === undefined ? [] : [[pid, cpu] as [number, number]];
  }));
}

/** CPU time the processes of `after` used since `before` (a process new in `after` counts from its start). */
export function cpuSince(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const [pid, cpu] of after) total += cpu - (before.get(pid) ?? 0);
  return total;
}

/** Resident memory of the process tree, in MB. */
export function residentMegabytes(pid: number): number {
  let kilobytes = 0;
  for (const member of processTree(pid)) {
    const match = readOrEmpty(`/proc/${member}/status`).match(/VmRSS:\s+(\d+) kB/);
    if (match) kilobytes += Number(match[1]);
  }
  return kilobytes / 1024;
}
