import { join } from 'node:path';

/**
 * Set to `true` by service/build.mjs (esbuild `define`) in the bundled service; undeclared (so
 * `typeof` says "undefined") when the TypeScript sources run under jest or tsx.
 */
declare const TBO_BUNDLED: boolean | undefined;

/**
 * Loads an optional part of the service: the module `src/optional/<name>.ts`, which is not part of
 * the main bundle and is evaluated only by the first call that asks for it (later calls get the
 * same module from require's cache). A part that is off in a deployment (tracing without an OTLP
 * endpoint, error reporting without a DSN …) costs neither start-up time nor memory there.
 *
 * In the bundled service (`dist/`), service/build.mjs builds every `src/optional/<name>.ts` as its
 * own file, `dist/optional-<name>.js`, next to the main bundle, which requires it at run time by
 * path (a path esbuild cannot follow, so it stays out of the main bundle). From the TypeScript
 * sources (jest, tsx), the module is required from `src/optional/` as usual.
 *
 * @typeParam T - the module's exports, as its caller uses them (declare it with `typeof import(...)`
 *   in a type position only: a value import would pull the module into the main bundle).
 * @param name - the module's file name in `src/optional/`, without extension (e.g. `"tracing"`).
 * @returns the module's exports.
 * @throws Error when no such module exists (a build without it, or a misspelt name).
 */
export function loadOptional<T>(name: string): T {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`loadOptional: name must be lower-case letters, digits and "-" (a file in src/optional/), got "${name}"`);
  const bundled = typeof TBO_BUNDLED !== 'undefined' && TBO_BUNDLED;
  // A computed path (not a literal or template): esbuild leaves the require alone. An `import()`
  // would not do: the caller needs the module synchronously, at start-up.
  const path = bundled ? join(__dirname, `optional-${name}.js`) : join(__dirname, 'optional', name);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a run-time load by design (see above)
  return require(path) as T;
}
