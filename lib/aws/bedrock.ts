import { Annotations, ArnFormat, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { unroutedBedrockGrants, type BedrockResource, type ServiceConfig } from '../core';
import type { ResolvedBedrockAccess } from './model-access';

/** The two Bedrock Runtime actions the service calls: `InvokeModel` and its streaming form. */
export const BEDROCK_INVOKE_ACTIONS = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'] as const;

/** What the task role may invoke for one granted model. */
export interface TboBedrockModelGrant {
  /** The model as `modelAccess.bedrock.models` lists it. */
  readonly model: string;
  /** The id the service invokes it by (`InvokeModel`'s model id: a foundation-model id, an inference-profile id or an ARN). */
  readonly modelId: string;
  /** The ARNs the grant names for it (partition and account as deploy-time values unless the stack's are known). */
  readonly resourceArns: readonly string[];
}

/** The ARN of a grant resource in the stack's partition and account. */
function arnOf(stack: Stack, resource: BedrockResource): string {
  switch (resource.kind) {
    case 'arn':
      return resource.arn;
    case 'foundation-model':
      return stack.formatArn({ service: 'bedrock', region: resource.region, account: '', resource: 'foundation-model', resourceName: resource.modelId, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    case 'inference-profile':
      return stack.formatArn({ service: 'bedrock', region: resource.region, resource: 'inference-profile', resourceName: resource.profileId, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  }
}

/** The grants of `modelAccess.bedrock` with their ARNs. */
export function bedrockModelGrants(scope: Construct, access: ResolvedBedrockAccess): TboBedrockModelGrant[] {
  const stack = Stack.of(scope);
  return access.grants.map((g) => ({ model: g.model, modelId: g.invoked.id, resourceArns: g.resources.map((r) => arnOf(stack, r)) }));
}

/**
 * The task role's Bedrock policy: one statement allowing exactly `bedrock:InvokeModel` and
 * `bedrock:InvokeModelWithResponseStream` on exactly the granted ARNs (no wildcard).
 */
export function grantBedrockInvoke(scope: Construct, role: iam.IRole, grants: readonly TboBedrockModelGrant[]): iam.Policy {
  return new iam.Policy(scope, 'BedrockInvokePolicy', {
    roles: [role],
    statements: [
      new iam.PolicyStatement({
        sid: 'InvokeRoutedBedrockModels',
        effect: iam.Effect.ALLOW,
        actions: [...BEDROCK_INVOKE_ACTIONS],
        resources: [...new Set(grants.flatMap((g) => g.resourceArns))],
      }),
    ],
  });
}

/** A synth warning for each granted model no `bedrock:` route uses: a grant the deployment does not need. */
export function warnUnroutedGrants(scope: Construct, config: ServiceConfig, access: ResolvedBedrockAccess): void {
  for (const model of unroutedBedrockGrants(config, access.grants, access.resolution)) {
    Annotations.of(scope).addWarningV2(
      'tbo-deploy:bedrockGrantUnused',
      `modelAccess.bedrock.models grants ${model}, which no bedrock: route uses (a config tier sets its own routing); remove it from the grant, unless it backs an ARN route (an application inference profile's foundation model)`,
    );
  }
}

/** The Bedrock Runtime interface endpoint and the security group that admits only the tasks. */
export interface TboBedrockEndpoint {
  readonly endpoint: ec2.InterfaceVpcEndpoint;
  readonly securityGroup: ec2.SecurityGroup;
}

/**
 * An interface VPC endpoint for `bedrock-runtime` with private DNS in the task subnets (one per
 * AZ), so `bedrock-runtime.<region>.amazonaws.com` resolves to it and the service needs no
 * endpoint setting; its security group lets only the tasks in, on 443, and nothing out.
 */
export function createBedrockEndpoint(scope: Construct, vpc: ec2.IVpc, subnets: ec2.SubnetSelection, tasks: ec2.ISecurityGroup): TboBedrockEndpoint {
  const securityGroup = new ec2.SecurityGroup(scope, 'BedrockRuntimeEndpointSecurityGroup', {
    vpc,
    description: 'Bedrock Runtime interface endpoint of the TBO gateway: only its tasks in, on 443',
    allowAllOutbound: false,
  });
  securityGroup.addIngressRule(tasks, ec2.Port.tcp(443), 'HTTPS from the TBO tasks');
  const endpoint = new ec2.InterfaceVpcEndpoint(scope, 'BedrockRuntimeEndpoint', {
    vpc,
    service: ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME,
    privateDnsEnabled: true,
    subnets: { ...subnets, onePerAz: true },
    securityGroups: [securityGroup],
    open: false,
  });
  return { endpoint, securityGroup };
}
