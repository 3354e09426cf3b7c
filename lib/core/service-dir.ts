import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The bundled service folder (the container build context), found by walking up from this file:
 * works from source (`lib/core`), from compiled output (`dist/lib/core`) and from an installed
 * package (`node_modules/tbo-deploy/dist/lib/core`).
 */
export function serviceDirectory(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'service');
    const manifest = join(candidate, 'package.json');
    if (existsSync(join(candidate, 'Dockerfile')) && existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (name === 'tbo-service') return candidate;
    }
    if (dirname(dir) === dir) throw new Error(`tbo-deploy: cannot find the bundled service folder above ${from}`);
  }
}

/** Paths the container image build must not upload. */
export const SERVICE_BUILD_EXCLUDES = ['node_modules', 'dist', '*.log', '.env*'] as const;
