import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every file under a directory, recursively. */
export function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? allFiles(path) : [path];
  });
}

/** The files under a directory whose bytes contain the text. */
export function filesContaining(dir: string, text: string): string[] {
  const needle = Buffer.from(text);
  return allFiles(dir).filter((file) => readFileSync(file).includes(needle));
}
