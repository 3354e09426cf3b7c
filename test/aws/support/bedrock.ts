import type { Synthesized } from './synth';

/** A template value as text: a string, or an `Fn::Join` of strings and `Ref`s written as `${Ref}` (e.g. `${AWS::Partition}`). */
export function cfnText(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if (node && 'Fn::Join' in node) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(cfnText).join(separator);
  }
  if (node && 'Ref' in node) return `\${${String(node.Ref)}}`;
  throw new Error(`not a string, Fn::Join or Ref: ${JSON.stringify(value)}`);
}

/** One IAM policy statement as the template holds it. */
export interface CfnStatement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** Every statement of every `AWS::IAM::Policy` in the template, with the policy's logical id. */
export function policyStatements(json: Synthesized['json']): { policy: string; roles: unknown; statement: CfnStatement }[] {
  return Object.entries(json.Resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
    .flatMap(([policy, r]) => {
      const props = r.Properties as { PolicyDocument: { Statement: CfnStatement[] }; Roles?: unknown };
      return props.PolicyDocument.Statement.map((statement) => ({ policy, roles: props.Roles, statement }));
    });
}

/** The statements that allow any `bedrock:` action. */
export function bedrockStatements(json: Synthesized['json']): { policy: string; roles: unknown; statement: CfnStatement }[] {
  return policyStatements(json).filter(({ statement }) => [statement.Action].flat().some((a) => a.startsWith('bedrock:')));
}

/** The resources of a statement as sorted text ARNs. */
export function resourceArns(statement: CfnStatement): string[] {
  return [statement.Resource].flat().map(cfnText).sort();
}

/** `arn:${AWS::Partition}:bedrock:<region>::foundation-model/<id>` as `cfnText` writes it. */
export const modelArn = (region: string, id: string): string => `arn:\${AWS::Partition}:bedrock:${region}::foundation-model/${id}`;
/** `arn:${AWS::Partition}:bedrock:<region>:${AWS::AccountId}:inference-profile/<id>` as `cfnText` writes it. */
export const profileArn = (region: string, id: string): string => `arn:\${AWS::Partition}:bedrock:${region}:\${AWS::AccountId}:inference-profile/${id}`;
