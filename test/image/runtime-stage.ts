/**
 * The image's runtime stage rebuilt on this machine without a Docker engine, from what
 * service/Dockerfile says (dockerfile.ts), so a change to the Dockerfile changes the reproduction:
 * - a temporary root folder stands for the image's `/`; WORKDIR creates its folder root-owned (0755;
 *   dockerfile.ts refuses a WORKDIR after USER, which BuildKit would create owned by that user);
 * - each COPY copies as Docker does (a folder's contents into the destination, a file into a
 *   destination ending in `/`), owned by `--chown` (else root), with `--chmod` when given, else the
 *   modes the build stage (root, umask 022) gives: 0644 files, 0755 folders. `--from=<stage>` paths
 *   under that stage's WORKDIR come from the same paths under service/ after its build (the build
 *   stage's WORKDIR holds the context's files and `npm run build`'s dist/); paths without --from
 *   come from service/ (the build context);
 * - the official node image's PATH holds `node` (/usr/local/bin/node, here a link to the pinned
 *   binary) and its `node` user is uid/gid 1000 with HOME /home/node;
 * - processes start as USER, in WORKDIR, with the stage's ENV (plus what a `docker run -e` adds).
 * A stage with an instruction this does not model (RUN, ADD, ENTRYPOINT, VOLUME, …) is refused.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { stageNamed, type CopyLine, type ParsedDockerfile, type Stage } from './dockerfile';

export interface ImageUser {
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

/** The accounts of the official node images' /etc/passwd and /etc/group that USER or --chown may name. */
export const NODE_IMAGE_USERS: Readonly<Record<string, ImageUser>> = {
  root: { uid: 0, gid: 0, home: '/root' },
  node: { uid: 1000, gid: 1000, home: '/home/node' },
};
/** PATH of the official node images; node is /usr/local/bin/node. */
const NODE_IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** `user[:group]` as USER / --chown take it: names of the node image, or numbers. */
export function imageUser(spec: string): ImageUser {
  const [user, group] = spec.split(':');
  const id = (name: string, kind: 'uid' | 'gid') => {
    if (/^\d+$/.test(name)) return Number(name);
    const known = NODE_IMAGE_USERS[name];
    if (!known) throw new Error(`the node image has no ${kind === 'uid' ? 'user' : 'group'} ${name} (known: ${Object.keys(NODE_IMAGE_USERS).join(', ')})`);
    return known[kind];
  };
  const uid = id(user, 'uid');
  const home = Object.values(NODE_IMAGE_USERS).find((u) => u.uid === uid)?.home ?? '/';
  return { uid, gid: group === undefined ? (NODE_IMAGE_USERS[user]?.gid ?? uid) : id(group, 'gid'), home };
}

export interface ReproducedStage {
  /** The image's `/`. */
  readonly root: string;
  /** WORKDIR, on this machine. */
  readonly workdir: string;
  readonly user: ImageUser;
  readonly stage: Stage;
  /** The environment a container process gets: the stage's ENV, the image's PATH and HOME, then `extra` (as `docker run -e`). */
  env(extra?: Readonly<Record<string, string>>): Record<string, string>;
  /** Starts `argv` (argv[0] resolved on the image's PATH) as the image's user in its WORKDIR. */
  run(argv: readonly string[], extra?: Readonly<Record<string, string>>, stdio?: StdioOptions): ChildProcess;
  remove(): void;
}

export interface ReproduceOptions {
  /** The build context, and the build stage's WORKDIR after its build: service/. */
  readonly contextDir: string;
  /** The node binary that stands for the image's /usr/local/bin/node. */
  readonly nodeBinary: string;
}

/** Copies a file or a folder's contents as COPY does, with the given owner and modes, creating `to`'s folders. */
function copyInto(from: string, to: string, owner: ImageUser, chmod: number | undefined): void {
  const mkdir = (dir: string) => {
    if (existsSync(dir)) return;
    mkdir(posix.dirname(dir));
    mkdirSync(dir);
    chownSync(dir, owner.uid, owner.gid);
    chmodSync(dir, chmod ?? 0o755);
  };
  if (statSync(from).isDirectory()) {
    mkdir(to);
    for (const entry of readdirSync(from)) copyInto(join(from, entry), join(to, entry), owner, chmod);
    return;
  }
  mkdir(posix.dirname(to));
  copyFileSync(from, to);
  chownSync(to, owner.uid, owner.gid);
  chmodSync(to, chmod ?? (statSync(from).mode & 0o111 ? 0o755 : 0o644));
}

/** Where a COPY source comes from on this machine. */
function sourceOf(copy: CopyLine, source: string, dockerfile: ParsedDockerfile, options: ReproduceOptions): string {
  if (copy.from === undefined) return join(options.contextDir, source);
  const stage = stageNamed(dockerfile, copy.from);
  const inStage = posix.resolve(stage.workdir, source);
  if (!inStage.startsWith(`${stage.workdir}/`)) throw new Error(`COPY --from=${copy.from} ${source}: only paths under that stage's WORKDIR (${stage.workdir}) are reproduced`);
  return join(options.contextDir, inStage.slice(stage.workdir.length + 1));
}

/** Rebuilds the final stage of `dockerfile` in a new temporary folder. */
export function reproduceRuntimeStage(dockerfile: ParsedDockerfile, options: ReproduceOptions): ReproducedStage {
  const stage = dockerfile.final;
  if (stage.unmodelled.length > 0) throw new Error(`the runtime stage has instructions test/image/runtime-stage.ts does not reproduce: ${stage.unmodelled.join(', ')}`);
  if (stage.cmd === undefined) throw new Error('the runtime stage has no CMD');
  const root = mkdtempSync(join(tmpdir(), 'tbo-image-'));
  chmodSync(root, 0o755);
  const onMachine = (pathInImage: string) => join(root, pathInImage);
  const user = imageUser(stage.user ?? 'root');
  const rootUser = NODE_IMAGE_USERS.root;

  // The base image's parts the stage relies on: node on PATH, the node user's home.
  mkdirSync(onMachine('/usr/local/bin'), { recursive: true, mode: 0o755 });
  symlinkSync(options.nodeBinary, onMachine('/usr/local/bin/node'));
  mkdirSync(onMachine(NODE_IMAGE_USERS.node.home), { recursive: true, mode: 0o755 });
  chownSync(onMachine(NODE_IMAGE_USERS.node.home), NODE_IMAGE_USERS.node.uid, NODE_IMAGE_USERS.node.gid);
  mkdirSync(onMachine(stage.workdir), { recursive: true });
  chmodSync(onMachine(stage.workdir), 0o755);

  for (const copy of stage.copies) {
    const owner = copy.chown === undefined ? rootUser : imageUser(copy.chown);
    const chmod = copy.chmod === undefined ? undefined : parseInt(copy.chmod, 8);
    const intoFolder = copy.destination.endsWith('/') || copy.sources.length > 1;
    for (const source of copy.sources) {
      const from = sourceOf(copy, source, dockerfile, options);
      const to = statSync(from).isDirectory() || !intoFolder ? copy.destination : posix.join(copy.destination, basename(source));
      copyInto(from, onMachine(to.replace(/\/$/, '')), owner, chmod);
    }
  }

  const imagePathDirs = (stage.env.PATH ?? NODE_IMAGE_PATH).split(':');
  const resolve = (command: string) => {
    if (command.includes('/')) return onMachine(posix.resolve(stage.workdir, command));
    const dir = imagePathDirs.find((d) => existsSync(onMachine(posix.join(d, command))));
    if (dir === undefined) throw new Error(`the reproduced image has no ${command} on its PATH (it holds node only)`);
    return onMachine(posix.join(dir, command));
  };
  const { PATH: _imagePath, ...stageEnv } = stage.env; // PATH: mapped onto this machine's copy below
  const env = (extra: Readonly<Record<string, string>> = {}) => ({
    HOME: onMachine(user.home),
    ...stageEnv,
    PATH: imagePathDirs.map((d) => onMachine(d)).join(':'),
    ...extra,
  });
  return {
    root,
    workdir: onMachine(stage.workdir),
    user,
    stage,
    env,
    run: (argv, extra = {}, stdio = ['ignore', 'pipe', 'pipe']) =>
      spawn(resolve(argv[0]), argv.slice(1), { cwd: onMachine(stage.workdir), env: env(extra), uid: user.uid, gid: user.gid, stdio }),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
