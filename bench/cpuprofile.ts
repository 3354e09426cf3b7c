/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, self and inclusive time
 * per package (express, pino, zod, …, TBO's own files, node internals), and inclusive time of
 * TBO's own functions. Idle samples are excluded from the percentages.
 */
interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Row {
  readonly name: string;
  readonly ms: number;
  readonly pct: number;
}

/** Where a native function (a syscall wrapper like writev) was called from. */
export interface NativeCallers {
  readonly name: string;
  readonly ms: number;
  readonly callers: readonly Row[];
}

export interface ProfileSummary {
  readonly sampledMs: number;
  readonly idleMs: number;
  readonly busyMs: number;
  readonly topSelf: readonly Row[];
  readonly selfByPackage: readonly Row[];
  readonly inclusiveByPackage: readonly Row[];
  readonly tboInclusive: readonly Row[];
  readonly nativeCallers: readonly NativeCallers[];
}

/** Which package (or part of node) a frame belongs to. */
export function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : 'native/builtin';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/').slice(0, 2).join('/')}`;
  const dist = url.indexOf('/service/dist/');
  if (dist >= 0) return `tbo:${url.slice(dist + '/service/dist/'.length)}`;
  return url;
}

function frameName(frame: CallFrame): string {
  const file = frame.url.replace(/^.*\/node_modules\//, '').replace(/^.*\/service\/dist\//, 'tbo:').replace(/^file:\/\//, '');
  return `${frame.functionName || '(anonymous)'} ${file ? `${file}:${frame.lineNumber + 1}` : ''}`.trim();
}

function rows(map: Map<string, number>, busyUs: number, top: number): Row[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / busyUs }));
}

export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const selfPkg = new Map<string, number>();
  const inclPkg = new Map<string, number>();
  const tboIncl = new Map<string, number>();
  const callers = new Map<string, Map<string, number>>();
  let sampled = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    sampled += us;
    if (node.callFrame.functionName === '(idle)') {
      idle += us;
      return;
    }
    const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + us);
    add(self, frameName(node.callFrame));
    add(selfPkg, packageOf(node.callFrame));
    if (packageOf(node.callFrame) === 'native/builtin') {
      const chain: string[] = [];
      for (let cur = parent.get(id); cur !== undefined && chain.length < 4; cur = parent.get(cur)) {
        const frame = byId.get(cur)?.callFrame;
        if (!frame || frame.functionName === '(root)') break;
        if (frame.url.startsWith('node:internal/') || frame.url.startsWith('node:net')) continue; // skip stream plumbing
        chain.push(frameName(frame));
      }
      const k = node.callFrame.functionName;
      if (!callers.has(k)) callers.set(k, new Map());
      add(callers.get(k)!, chain.join(' < ') || '(no JS caller)');
    }
    const pkgs = new Set<string>();
    const fns = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (!frame || frame.functionName === '(root)') continue;
      const pkg = packageOf(frame);
      pkgs.add(pkg.startsWith('tbo:') ? 'tbo (service/dist)' : pkg);
      if (pkg.startsWith('tbo:')) fns.add(frameName(frame));
    }
    for (const p of pkgs) add(inclPkg, p);
    for (const f of fns) add(tboIncl, f);
  });
  const busy = sampled - idle || 1;
  return {
    sampledMs: sampled / 1000,
    idleMs: idle / 1000,
    busyMs: busy / 1000,
    topSelf: rows(self, busy, top),
    selfByPackage: rows(selfPkg, busy, top),
    inclusiveByPackage: rows(inclPkg, busy, top),
    tboInclusive: rows(tboIncl, busy, top),
    nativeCallers: [...callers.entries()]
      .map(([name, m]) => ({ name, ms: [...m.values()].reduce((a, b) => a + b, 0) / 1000, callers: rows(m, busy, 4) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 4),
  };
}
