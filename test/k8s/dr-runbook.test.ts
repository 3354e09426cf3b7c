/**
 * TboKubernetesDrRunbook: the guide's `dr-runbook` ConfigMap, rendered from the same definitions as
 * RUNBOOK.md with the deployment's names in every command, valid for kubernetes-models.
 */
import 'cdktf/lib/testing/adapters/jest';
import { TerraformStack, Testing } from 'cdktf';
import { K8S_RUNBOOK, placeholdersOf, renderProcedureDocument, RUNBOOK_OUTPUTS, variablesOf } from '../../lib/core/runbook';
import { DR_RUNBOOK_KEYS, drRunbookValues, TboKubernetesDrRunbook, type TboKubernetesDrRunbookProps } from '../../lib/k8s/dr-runbook';
import { manifestsFromSynth } from './support/manifest';
import { validateManifest } from './support/validate-manifest';

const FULL: TboKubernetesDrRunbookProps = {
  namespace: 'tbo-system',
  instanceName: 'tbo',
  labels: { 'app.kubernetes.io/part-of': 'tbo' },
  deploymentName: 'tbo-service',
  secretName: 'tbo-secrets',
  secretCreateCommand: 'kubectl -n tbo-system create secret generic tbo-secrets --from-literal=anthropic-key="$ANTHROPIC_API_KEY"',
  redisStatefulSetName: 'tbo-redis',
  redisDataClaimName: 'data-tbo-redis-0',
  backupCronJobName: 'tbo-backup',
  backupClaimName: 'tbo-backup',
  internalUrl: 'http://tbo-service.tbo-system.svc',
};

/** Synthesizes the construct in a stack `prod-k8s` and returns it with the synthesized JSON. */
function synth(props: TboKubernetesDrRunbookProps): { runbook: TboKubernetesDrRunbook; json: string } {
  const stack = new TerraformStack(Testing.app(), 'prod-k8s');
  const runbook = new TboKubernetesDrRunbook(stack, 'DrRunbook', props);
  return { runbook, json: Testing.synth(stack) };
}

/** The commands of a rendered document: the lines of its ```sh blocks that are not comments. */
function commandLines(doc: string): string[] {
  return [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1].split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')));
}

describe('TboKubernetesDrRunbook, every name given', () => {
  let runbook: TboKubernetesDrRunbook;
  let json: string;
  beforeAll(() => ({ runbook, json } = synth(FULL)));

  it('is the ConfigMap `<name>-dr-runbook` in the namespace, with recovery.md and rollback.md, valid for kubernetes-models', () => {
    const mapped = manifestsFromSynth(json);
    expect(mapped.map((m) => m.manifest.kind)).toEqual(['ConfigMap']);
    const { manifest } = mapped[0];
    expect(() => validateManifest(manifest)).not.toThrow();
    expect(manifest.metadata).toEqual({ name: 'tbo-dr-runbook', namespace: 'tbo-system', labels: { 'app.kubernetes.io/part-of': 'tbo' } });
    expect(Object.keys(manifest.data as Record<string, string>).sort()).toEqual([DR_RUNBOOK_KEYS.recovery, DR_RUNBOOK_KEYS.rollback]);
    expect(runbook.name).toBe('tbo-dr-runbook');
  });

  it('holds exactly the Kubernetes steps of RUNBOOK.md, rendered from lib/core with these names (stack id included)', () => {
    const values = drRunbookValues(FULL, 'tbo-dr-runbook', 'prod-k8s');
    const data = manifestsFromSynth(json)[0].manifest.data as Record<string, string>;
    expect(data[DR_RUNBOOK_KEYS.recovery]).toBe(renderProcedureDocument(K8S_RUNBOOK, 'recovery', values));
    expect(data[DR_RUNBOOK_KEYS.rollback]).toBe(renderProcedureDocument(K8S_RUNBOOK, 'rollback', values));
    for (const step of [...K8S_RUNBOOK.recovery, ...K8S_RUNBOOK.rollback]) expect(Object.values(data).join('\n')).toContain(step.title);
  });

  it('leaves no output placeholder and no name of the deployment blank: commands run as written', () => {
    const lines = Object.values(runbook.documents).flatMap(commandLines);
    expect(lines.length).toBeGreaterThan(30);
    expect(lines.flatMap(placeholdersOf)).toEqual([]);
    const operatorChoices = new Set([...K8S_RUNBOOK.recovery, ...K8S_RUNBOOK.rollback].flatMap((s) => (s.inputs ?? []).map((i) => i.name)));
    // What remains are the operator's choices (the backup, the commit) and what the Secret's command reads.
    expect(lines.flatMap(variablesOf).filter((v) => !operatorChoices.has(v) && v !== 'ANTHROPIC_API_KEY')).toEqual([]);
    expect(lines.flatMap(variablesOf)).not.toContain('REDIS_STATEFULSET');
    expect(lines).toEqual(
      expect.arrayContaining([
        'kubectl -n tbo-system rollout undo deployment/tbo-service',
        'kubectl -n tbo-system get cronjob tbo-backup',
        'kubectl -n tbo-system scale statefulset "tbo-redis" --replicas=0',
        'kubectl -n tbo-system delete pvc "data-tbo-redis-0"',
        FULL.secretCreateCommand,
        'npx cdktf deploy prod-k8s',
      ]),
    );
    expect(runbook.documents[DR_RUNBOOK_KEYS.recovery]).not.toContain('Still to fill in');
  });
});

describe('TboKubernetesDrRunbook, only the required names', () => {
  it('keeps the blanks it cannot fill, lists them first, and never invents a name', () => {
    const { runbook } = synth({ namespace: 'apps', instanceName: 'gw', deploymentName: 'gw-service', secretName: 'gw-secrets' });
    const recovery = runbook.documents[DR_RUNBOOK_KEYS.recovery];
    expect(recovery).toMatch(/Still to fill in: .*`<redis_backup_cronjob>`/);
    expect(recovery).toContain('`<secret_create_command>`');
    expect(recovery).toContain('kubectl -n apps scale statefulset "$REDIS_STATEFULSET" --replicas=0');
    expect(recovery).toContain('- `REDIS_STATEFULSET`:');
    const left = new Set(Object.values(runbook.documents).flatMap(commandLines).flatMap(placeholdersOf));
    expect([...left].sort()).toEqual(['redis_backup_cronjob', 'secret_create_command']);
    expect([...left].every((name) => RUNBOOK_OUTPUTS.k8s.some((o) => o.name === name))).toBe(true);
  });
});
