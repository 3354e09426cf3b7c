import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Records a cdk-nag acknowledgement on the construct that needs it, so a user's own AwsSolutions
 * checks see it too. Every reason says why the finding is inherent to this design, not just that
 * it was looked at.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
