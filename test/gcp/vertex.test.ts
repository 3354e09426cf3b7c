/**
 * TboCloudRunService with routes on Vertex AI: the API enabled, the service account granted exactly
 * the predict permission (or the role asked for) on the Vertex project, the location and project in
 * the environment the service reads, and no Anthropic key secret when no route calls the public API.
 */
import 'cdktf/lib/testing/adapters/jest';
import { ProjectIamCustomRole } from '@cdktf/provider-google/lib/project-iam-custom-role';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';
import { AnnotationMetadataEntryType, TerraformVariable, Testing } from 'cdktf';
import { SECRET_ENV, TboConfigValidationError, type TboServiceConfig } from '../../lib/core';
import { TboCloudRunService, VERTEX_API_SERVICE, VERTEX_PREDICT_PERMISSION, VERTEX_USER_ROLE, type TboCloudRunServiceProps } from '../../lib/gcp';
import { loadConfig } from '../../service/src/config/load';
import { BASE, envByName, NAME, onlyResource, parse, resourcesOf, synthTbo, validationError } from './support';

Testing.setupJest();

/** Every tier on Vertex AI: Claude through rawPredict, Gemini through the OpenAI-compatible endpoint. */
const ALL_VERTEX: TboServiceConfig = {
  modelsFast: 'vertex:claude-haiku-4-5,vertex-openai:gemini-2.5-flash',
  modelsBalanced: 'vertex:claude-sonnet-4-5',
  modelsStrongest: 'vertex:claude-opus-4-1,vertex-openai:gemini-2.5-pro',
};

const ids = (json: string, type: string) => resourcesOf(json, type).map(([id]) => id);
const dependsOn = (json: string) => (onlyResource(json, 'google_cloud_run_v2_service') as { depends_on: string[] }).depends_on;

function synthWithConstruct(props: Partial<TboCloudRunServiceProps>): { tbo: TboCloudRunService; json: string } {
  let tbo!: TboCloudRunService;
  const json = Testing.synthScope((scope) => {
    tbo = new TboCloudRunService(scope, 'tbo', { ...BASE, ...props });
  });
  return { tbo, json };
}

describe('TboCloudRunService: every route on Vertex AI (defaults)', () => {
  const { tbo, json } = synthWithConstruct({ config: ALL_VERTEX, alerts: false });
  const [[saId]] = resourcesOf(json, 'google_service_account');
  const member = `serviceAccount:\${google_service_account.${saId}.email}`;

  test('enables aiplatform.googleapis.com in the project, and never disables it on destroy', () => {
    expect(json).toHaveResourceWithProperties(ProjectService, { project: 'my-project', service: VERTEX_API_SERVICE, disable_on_destroy: false });
    expect(resourcesOf(json, 'google_project_service')).toHaveLength(1);
  });

  test('creates a custom role holding aiplatform.endpoints.predict and nothing else', () => {
    const role = onlyResource(json, 'google_project_iam_custom_role');
    expect(role).toMatchObject({ project: 'my-project', role_id: `${NAME.replace(/-/g, '_')}.vertexPredict`, permissions: [VERTEX_PREDICT_PERMISSION], stage: 'GA' });
    expect(role.permissions).toEqual(['aiplatform.endpoints.predict']);
  });

  test('grants that role on the project to the service account, and only that', () => {
    const [roleId] = ids(json, 'google_project_iam_custom_role');
    const grant = onlyResource(json, 'google_project_iam_member');
    expect(grant).toEqual({ project: 'my-project', role: `\${google_project_iam_custom_role.${roleId}.name}`, member });
    expect(tbo.vertexAccess?.role).toBeDefined();
  });

  test('the first revision waits for the grant and the API', () => {
    const [grantId] = ids(json, 'google_project_iam_member');
    const [apiId] = ids(json, 'google_project_service');
    expect(dependsOn(json)).toEqual(expect.arrayContaining([`google_project_iam_member.${grantId}`, `google_project_service.${apiId}`]));
  });

  test('the environment names the Vertex AI location and project, and the routes', () => {
    const env = envByName(json);
    expect(env.TBO_VERTEX_REGION.value).toBe('global');
    expect(env.TBO_VERTEX_PROJECT.value).toBe('my-project');
    expect(env.TBO_MODELS_FAST.value).toBe(ALL_VERTEX.modelsFast);
    expect(env.TBO_MODELS_STRONGEST.value).toBe(ALL_VERTEX.modelsStrongest);
  });

  test('the service itself accepts the rendered environment', () => {
    // Without Memorystore, every value is known at synth (no deploy-time references).
    const { tbo: plain } = synthWithConstruct({ config: ALL_VERTEX, alerts: false, redis: false });
    const config = loadConfig({ ...plain.environment, TBO_CONFIG_FILE: '' });
    expect(config).toMatchObject({ vertexRegion: 'global', vertexProject: 'my-project', modelsBalanced: 'vertex:claude-sonnet-4-5' });
  });

  test('no Anthropic API key: no secret, no grant on it, no env var, no fill command', () => {
    const secretIds = resourcesOf(json, 'google_secret_manager_secret').map(([, s]) => s.secret_id);
    expect(secretIds).not.toContain(`${NAME}-anthropic-api-key`);
    expect(secretIds.sort()).toEqual([`${NAME}-api-keys`, `${NAME}-cache-signing-key`, `${NAME}-jwt-secret-key`, `${NAME}-redis-auth`].sort());
    expect(envByName(json)[SECRET_ENV.anthropicApiKey]).toBeUndefined();
    expect(Object.keys(parse(json).output?.tbo_secret_commands.value as object).sort()).toEqual(['JWT_SECRET_KEY', 'TBO_API_KEYS']);
    expect(tbo.secrets.anthropicApiKey).toBeUndefined();
    expect(tbo.resolvedProps.anthropicApiKey).toBe(false);
  });

  test('no synth warning', () => {
    expect(tbo.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.WARN)).toEqual([]);
  });
});

describe('TboCloudRunService: vertex options', () => {
  test('region, another project and the predefined role: the grant and the API are in that project', () => {
    const json = synthTbo({ config: ALL_VERTEX, vertex: { region: 'us-east5', project: 'models-prod', role: VERTEX_USER_ROLE } });
    const [[saId]] = resourcesOf(json, 'google_service_account');
    expect(onlyResource(json, 'google_project_iam_member')).toEqual({ project: 'models-prod', role: 'roles/aiplatform.user', member: `serviceAccount:\${google_service_account.${saId}.email}` });
    expect(json).toHaveResourceWithProperties(ProjectService, { project: 'models-prod', service: VERTEX_API_SERVICE });
    expect(json).not.toHaveResource(ProjectIamCustomRole);
    expect(envByName(json).TBO_VERTEX_REGION.value).toBe('us-east5');
    expect(envByName(json).TBO_VERTEX_PROJECT.value).toBe('models-prod');
  });

  test('config.vertexRegion and config.vertexProject work as well', () => {
    const json = synthTbo({ config: { ...ALL_VERTEX, vertexRegion: 'europe-west1', vertexProject: 'models-eu' } });
    expect(envByName(json).TBO_VERTEX_REGION.value).toBe('europe-west1');
    expect(onlyResource(json, 'google_project_iam_member').project).toBe('models-eu');
  });

  test('an existing custom role, and the API left to the platform team', () => {
    const json = synthTbo({ config: ALL_VERTEX, vertex: { role: 'organizations/123456789/roles/vertexPredict', enableApi: false } });
    expect(onlyResource(json, 'google_project_iam_member').role).toBe('organizations/123456789/roles/vertexPredict');
    expect(json).not.toHaveResource(ProjectService);
    expect(json).not.toHaveResource(ProjectIamCustomRole);
  });

  test('customRoleId names the custom role', () => {
    const json = synthTbo({ config: ALL_VERTEX, vertex: { customRoleId: 'tboVertexPredict2' } });
    expect(onlyResource(json, 'google_project_iam_custom_role').role_id).toBe('tboVertexPredict2');
  });

  test('without a project prop, the provider\'s project (google_client_config) is the Vertex project', () => {
    const json = synthTbo({ project: undefined, config: ALL_VERTEX });
    const [clientConfig] = Object.keys(parse(json).data?.google_client_config ?? {});
    const project = `\${data.google_client_config.${clientConfig}.project}`;
    expect(onlyResource(json, 'google_project_iam_member').project).toBe(project);
    expect(onlyResource(json, 'google_project_service').project).toBe(project);
    expect(envByName(json).TBO_VERTEX_PROJECT.value).toBe(project);
  });

  test('deploy-time values (Terraform variables) reach the grant and the environment as references', () => {
    const json = Testing.synthScope((scope) => {
      const location = new TerraformVariable(scope, 'vertex_location', { type: 'string' });
      const project = new TerraformVariable(scope, 'vertex_project', { type: 'string' });
      new TboCloudRunService(scope, 'tbo', { ...BASE, config: ALL_VERTEX, vertex: { region: location.stringValue, project: project.stringValue } });
    });
    expect(envByName(json).TBO_VERTEX_REGION.value).toBe('${var.vertex_location}');
    expect(envByName(json).TBO_VERTEX_PROJECT.value).toBe('${var.vertex_project}');
    expect(onlyResource(json, 'google_project_iam_member').project).toBe('${var.vertex_project}');
  });

  test('a mixed deployment (Vertex first, the public API as fallback) gets both the grant and the key', () => {
    const json = synthTbo({ config: { modelsBalanced: 'vertex:claude-sonnet-4-5,anthropic:claude-sonnet-4-5' } });
    expect(json).toHaveResource(ProjectIamMember);
    expect(envByName(json)[SECRET_ENV.anthropicApiKey].value_source?.secret_key_ref.version).toBe('latest');
  });
});

describe('TboCloudRunService: the Anthropic key follows the routes', () => {
  test('the default routes call the Anthropic API: the key secret is made, and nothing for Vertex AI', () => {
    const json = synthTbo();
    expect(resourcesOf(json, 'google_secret_manager_secret').map(([, s]) => s.secret_id)).toContain(`${NAME}-anthropic-api-key`);
    expect(json).not.toHaveResource(ProjectService);
    expect(json).not.toHaveResource(ProjectIamMember);
    expect(json).not.toHaveResource(ProjectIamCustomRole);
    expect(envByName(json).TBO_VERTEX_PROJECT).toBeUndefined();
  });

  test('anthropicApiKey: true keeps the key with every route on Vertex (model lists and batches use the public API)', () => {
    const json = synthTbo({ config: ALL_VERTEX, anthropicApiKey: true });
    expect(resourcesOf(json, 'google_secret_manager_secret').map(([, s]) => s.secret_id)).toContain(`${NAME}-anthropic-api-key`);
  });

  test('an existing key secret is still injected with every route on Vertex', () => {
    const json = synthTbo({ config: ALL_VERTEX, existingAnthropicApiKeySecret: 'anthropic-key' });
    expect(envByName(json)[SECRET_ENV.anthropicApiKey].value_source?.secret_key_ref.secret).toBe('anthropic-key');
  });

  test('vertex given while no route uses Vertex AI: a warning, and nothing granted', () => {
    const { tbo, json } = synthWithConstruct({ vertex: { region: 'us-east5' }, alerts: false });
    expect(json).not.toHaveResource(ProjectIamMember);
    const warnings = tbo.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.WARN).map((m) => String(m.data));
    expect(warnings).toEqual([expect.stringContaining('vertex: no route uses vertex: or vertex-openai:')]);
  });
});

describe('TboCloudRunService: Vertex AI validation', () => {
  test.each([
    [{ vertex: { region: 'mars-base' } }, "vertex.region: received \"mars-base\"; must be 'global', the multi-regions 'us' or 'eu', or a Vertex AI region such as us-east5"],
    [{ vertex: { region: 'us-east5' }, config: { ...ALL_VERTEX, vertexRegion: 'europe-west1' } }, 'vertex.region: received "us-east5"; differs from config.vertexRegion ("europe-west1"); give one of the two'],
    [{ vertex: { project: 'My_Project' } }, 'vertex.project: received "My_Project"; must be a Google Cloud project id'],
    [{ vertex: { role: 'roles/editor' as never } }, "vertex.role: received \"roles/editor\"; accepted values: 'predictor' (a custom role with only aiplatform.endpoints.predict), 'roles/aiplatform.user'"],
    [{ vertex: { role: 'projects/other-project/roles/predict' as const } }, 'vertex.role: received "projects/other-project/roles/predict"; a project custom role can be granted only in its own project (other-project), and the Vertex AI project is my-project'],
    [{ vertex: { role: VERTEX_USER_ROLE, customRoleId: 'x.y.z' } }, "vertex.customRoleId: received \"x.y.z\"; applies only to vertex.role 'predictor'"],
    [{ vertex: { customRoleId: 'has-hyphens' } }, 'vertex.customRoleId: received "has-hyphens"; must be 3 to 64 of A-Z a-z 0-9 _ .'],
    [{ project: 'Bad Project' }, 'project: received "Bad Project"; must be a Google Cloud project id'],
  ] as [Partial<TboCloudRunServiceProps>, string][])('%j', (props, message) => {
    const error = validationError({ config: ALL_VERTEX, ...props });
    expect(error).toContain(`TboCloudRunService: ${message}`);
  });

  test('anthropicApiKey: false while routes call the Anthropic API names the routes', () => {
    const error = validationError({ anthropicApiKey: false });
    expect(error).toContain('TboCloudRunService: anthropicApiKey: received false; routes anthropic:claude-haiku-4-5, anthropic:claude-sonnet-4-5, anthropic:claude-opus-4-1');
    expect(error).toContain('route those models to vertex:');
  });

  test('anthropicApiKey: false with an existing key secret is a contradiction', () => {
    expect(validationError({ config: ALL_VERTEX, anthropicApiKey: false, existingAnthropicApiKeySecret: 'anthropic-key' })).toContain(
      'existingAnthropicApiKeySecret: received "anthropic-key"; cannot be combined with anthropicApiKey: false',
    );
  });

  test('errors are TboConfigValidationError, and a bad vertex option is caught even before any route uses it', () => {
    expect(() => synthTbo({ vertex: { region: 'nowhere' } })).toThrow(TboConfigValidationError);
  });
});
