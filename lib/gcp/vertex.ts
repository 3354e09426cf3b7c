import { ProjectIamCustomRole } from '@cdktf/provider-google/lib/project-iam-custom-role';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';
import { Fn, Token, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { resolveVertexLocation, routesToVertex, type PropValidator, type TboServiceConfig, type TboVertexLocation } from '../core';

/** The API every Vertex AI call goes through; the construct enables it when a route uses Vertex AI. */
export const VERTEX_API_SERVICE = 'aiplatform.googleapis.com';
/**
 * The one permission the service's Vertex AI calls check: `rawPredict` and `streamRawPredict` (Claude)
 * and the OpenAI-compatible `endpoints/openapi/chat/completions` (Gemini) each require
 * `aiplatform.endpoints.predict` (Vertex AI REST reference, "IAM Permissions" of each method).
 */
export const VERTEX_PREDICT_PERMISSION = 'aiplatform.endpoints.predict';
/** Google's predefined Vertex AI User role (holds the predict permission and much more). */
export const VERTEX_USER_ROLE = 'roles/aiplatform.user';
/** `vertex.role` value for the custom role this construct creates, holding {@link VERTEX_PREDICT_PERMISSION} only. */
export const VERTEX_PREDICTOR_ROLE = 'predictor';
/** Suffix of the custom role's id after the service name (`<serviceName>` with `_` for `-`). */
export const VERTEX_PREDICTOR_ROLE_SUFFIX = '.vertexPredict';

/**
 * The role the service account gets on the Vertex AI project: `'predictor'` (a project custom role
 * made here with only `aiplatform.endpoints.predict`), Google's `'roles/aiplatform.user'`, or an
 * existing custom role by name (`projects/P/roles/R` in the Vertex project, or `organizations/O/roles/R`).
 */
export type TboVertexRole = 'predictor' | 'roles/aiplatform.user' | `projects/${string}/roles/${string}` | `organizations/${string}/roles/${string}`;

/**
 * Vertex AI for the `vertex` and `vertex-openai` routes (`vertex` of `TboCloudRunService`): where the
 * service calls it and how its service account is granted access. Applies only when a route uses
 * `vertex:` or `vertex-openai:`.
 */
export interface TboVertexOptions extends TboVertexLocation {
  /**
   * Project whose Vertex AI the service calls (`TBO_VERTEX_PROJECT`), where the grant is made and the
   * API enabled. Same as `config.vertexProject`; give one of the two.
   * @default - config.vertexProject, else the construct's `project` (else the provider's project)
   */
  readonly project?: string;
  /**
   * The role granted to the service's account on that project (`google_project_iam_member`).
   * `'predictor'` creates a project custom role holding only `aiplatform.endpoints.predict` (the deployer
   * needs `iam.roles.create`, e.g. Role Administrator); `'roles/aiplatform.user'` grants Google's Vertex
   * AI User role, which can also create and delete Vertex AI resources; or give an existing custom role.
   * @default 'predictor'
   */
  readonly role?: TboVertexRole;
  /**
   * Id of the custom role `'predictor'` creates (3 to 64 of `A-Z a-z 0-9 _ .`). A deleted custom role's id
   * stays taken for up to 37 days (Terraform undeletes it within the first 7): set another id to recreate
   * the deployment in between.
   * @default - `<serviceName>.vertexPredict`, hyphens as underscores (e.g. `tbo_gcp_tbo_1a2b3c.vertexPredict`)
   */
  readonly customRoleId?: string;
  /**
   * Enable `aiplatform.googleapis.com` on the project (`google_project_service`, left enabled on destroy:
   * other workloads may use it). Set false where a platform team manages the project's APIs.
   * @default true
   */
  readonly enableApi?: boolean;
}

/** `vertex` with its defaults applied, for a deployment that routes to Vertex AI. */
export interface ResolvedVertexAccess {
  /** `TBO_VERTEX_REGION`. */
  readonly region: string;
  /** The Vertex AI project when known from the props or config; undefined: the construct's (or provider's) project. */
  readonly project: string | undefined;
  readonly role: TboVertexRole;
  /** Id of the custom role to create, with role 'predictor'. */
  readonly customRoleId: string | undefined;
  readonly enableApi: boolean;
}

const CUSTOM_ROLE_ID = /^[A-Za-z0-9_.]{3,64}$/;
const ROLE_NAME = /^(projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]|organizations\/\d{1,20})\/roles\/[A-Za-z0-9_.]{3,64}$/;
const known = (value: unknown): boolean => value !== undefined && !Token.isUnresolved(value);

/** The default custom role id of a service: `<serviceName>.vertexPredict`, hyphens as underscores. */
export function defaultVertexRoleId(serviceName: string): string {
  const base = Token.isUnresolved(serviceName) ? Fn.replace(serviceName, '-', '_') : serviceName.replace(/-/g, '_');
  return `${base}${VERTEX_PREDICTOR_ROLE_SUFFIX}`;
}

/**
 * Checks `vertex` and applies its defaults. Returns undefined when no route uses Vertex AI (the
 * options are still checked, so a typo never waits for the day a route moves there). `project` is
 * the construct's `project` prop (the default Vertex project).
 */
export function resolveVertexAccess(
  v: PropValidator,
  option: TboVertexOptions | undefined,
  config: TboServiceConfig | undefined,
  serviceName: string,
  project: string | undefined,
): ResolvedVertexAccess | undefined {
  const location = resolveVertexLocation(v, option, config, 'vertex', (s) => Token.isUnresolved(s));
  const role = option?.role ?? VERTEX_PREDICTOR_ROLE;
  if (known(role)) {
    v.check(role === VERTEX_PREDICTOR_ROLE || role === VERTEX_USER_ROLE || ROLE_NAME.test(role), 'vertex.role', role,
      `accepted values: '${VERTEX_PREDICTOR_ROLE}' (a custom role with only ${VERTEX_PREDICT_PERMISSION}), '${VERTEX_USER_ROLE}', or an existing custom role projects/PROJECT/roles/ID or organizations/ORG/roles/ID`);
  }
  const vertexProject = location.project ?? project;
  const roleProject = /^projects\/([^/]+)\//.exec(role)?.[1];
  if (roleProject !== undefined && known(vertexProject)) {
    v.check(roleProject === vertexProject, 'vertex.role', role, `a project custom role can be granted only in its own project (${roleProject}), and the Vertex AI project is ${vertexProject}; use a role of ${vertexProject} or an organization role`);
  }
  if (option?.customRoleId !== undefined) {
    v.check(role === VERTEX_PREDICTOR_ROLE, 'vertex.customRoleId', option.customRoleId, `applies only to vertex.role '${VERTEX_PREDICTOR_ROLE}' (the role this construct creates); remove it`);
    if (known(option.customRoleId)) v.check(CUSTOM_ROLE_ID.test(option.customRoleId), 'vertex.customRoleId', option.customRoleId, 'must be 3 to 64 of A-Z a-z 0-9 _ .');
  }
  if (!routesToVertex(config ?? {})) return undefined;
  return {
    region: location.region,
    project: location.project,
    role,
    customRoleId: role === VERTEX_PREDICTOR_ROLE ? (option?.customRoleId ?? defaultVertexRoleId(serviceName)) : undefined,
    enableApi: option?.enableApi ?? true,
  };
}

/** Properties of {@link TboVertexAccess}. */
export interface TboVertexAccessProps {
  /** The resolved `vertex` options. */
  readonly access: ResolvedVertexAccess;
  /** The Vertex AI project (a literal or a reference, e.g. the provider's project from `google_client_config`). */
  readonly project: string;
  /** The IAM member granted access (`serviceAccount:<email>`). */
  readonly member: string;
  /** The service name, for the custom role's title. */
  readonly serviceName: string;
}

/**
 * What a deployment that routes to Vertex AI needs in its project: the Vertex AI API enabled, and the
 * service's account granted the role that lets it call the models (by default a custom role holding
 * only `aiplatform.endpoints.predict`). The Claude models themselves are enabled once per project in
 * Model Garden by someone who may accept their terms; nothing here can do that.
 */
export class TboVertexAccess extends Construct {
  /** `aiplatform.googleapis.com` enabled on the project. @default - undefined with `vertex.enableApi: false` */
  readonly apiService?: ProjectService;
  /** The custom role holding only `aiplatform.endpoints.predict`. @default - undefined unless `vertex.role` is 'predictor' */
  readonly customRole?: ProjectIamCustomRole;
  /** The project-level grant of the role to the service's account. */
  readonly grant: ProjectIamMember;
  /** The role granted (the custom role's `projects/P/roles/ID`, or the role given). */
  readonly role: string;
  /** What must exist before the service's first revision calls Vertex AI. */
  readonly prerequisites: readonly ITerraformDependable[];

  constructor(scope: Construct, id: string, props: TboVertexAccessProps) {
    super(scope, id);
    const { access, project } = props;
    if (access.enableApi) {
      this.apiService = new ProjectService(this, 'Api', { project, service: VERTEX_API_SERVICE, disableOnDestroy: false });
    }
    if (access.role === VERTEX_PREDICTOR_ROLE) {
      this.customRole = new ProjectIamCustomRole(this, 'PredictorRole', {
        project,
        roleId: access.customRoleId!,
        title: `TBO ${props.serviceName} Vertex AI predictor`,
        description: `Online prediction only (${VERTEX_PREDICT_PERMISSION}): lets the TBO gateway call the Claude and Gemini models enabled in this project's Vertex AI.`,
        permissions: [VERTEX_PREDICT_PERMISSION],
        stage: 'GA',
      });
      this.role = this.customRole.name;
    } else {
      this.role = access.role;
    }
    this.grant = new ProjectIamMember(this, 'Grant', { project, role: this.role, member: props.member });
    this.prerequisites = [this.grant, ...(this.apiService ? [this.apiService] : [])];
  }
}
