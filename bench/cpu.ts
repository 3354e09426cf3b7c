/** CPU and memory counters from /proc, and the facts about the machine a result depends on. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';

let ticks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, 100 on Linux). */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** CPU time of a whole process (all threads), in microseconds. */
export interface CpuTime {
  readonly user: number;
  readonly system: number;
}

/** utime and stime of a whole process (all threads), in microseconds, from /proc/<pid>/stat. */
export function procCpu(pid: number): CpuTime {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm)" start at field 3 (state); utime is field 14, stime field 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(fields[11]) * 1e6) / clockTicks(), system: (Number(fields[12]) * 1e6) / clockTicks() };
}

/** A `kB` line of /proc/<pid>/status (VmRSS, VmHWM, …), in bytes. */
export function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(match[1]) * 1024;
}

/** Whole-machine CPU jiffies (all cores) from the first line of /proc/stat. */
export interface MachineCpu {
  /** Jiffies summed over all cores. */
  readonly total: number;
  readonly idle: number;
  readonly steal: number;
  readonly cores: number;
}

export function machineCpu(): MachineCpu {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const cores = lines.filter((l) => /^cpu\d+ /.test(l)).length;
  const v = lines[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice (guest* already in user/nice)
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { total, idle: (v[3] ?? 0) + (v[4] ?? 0), steal: v[7] ?? 0, cores };
}

/** Busy and steal shares of all cores between two readings, in percent. */
export function machineLoad(a: MachineCpu, b: MachineCpu): { readonly busyPct: number; readonly stealPct: number } {
  const total = b.total - a.total || 1;
  return { busyPct: (100 * (total - (b.idle - a.idle))) / total, stealPct: (100 * (b.steal - a.steal)) / total };
}

export interface MachineFacts {
  readonly cpuModel: string;
  readonly cores: number;
  readonly availableParallelism: number;
  readonly cgroupCpuMax: string | undefined;
  readonly memTotalMiB: number;
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly kernel: string;
  readonly clockTicks: number;
  readonly loadAvgAtStart: readonly number[];
}

export function machineFacts(): MachineFacts {
  let cgroupCpuMax: string | undefined;
  try {
    cgroupCpuMax = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim();
  } catch {
    cgroupCpuMax = undefined;
  }
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    cgroupCpuMax,
    memTotalMiB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    clockTicks: clockTicks(),
    loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
