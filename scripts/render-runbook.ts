/**
 * Writes RUNBOOK.md (recovery and rollback per target, and the guide's backup and DR steps mapped)
 * from its one definition in lib/core/runbook*.ts. `npm run docs` runs it; test/core/runbook.test.ts
 * fails when the committed file differs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderRunbookDocument, TBO_RUNBOOKS } from '../lib/core/runbook';

export const RUNBOOK = join(__dirname, '..', 'RUNBOOK.md');

/** The text RUNBOOK.md must hold. */
export function renderRunbookFile(): string {
  return renderRunbookDocument(TBO_RUNBOOKS);
}

/** Writes RUNBOOK.md. */
export function writeRunbook(): void {
  writeFileSync(RUNBOOK, renderRunbookFile());
}

if (require.main === module) writeRunbook();
