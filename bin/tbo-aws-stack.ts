import { App, Stack, Validations, type AppProps, type StackProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { TboFargateService, type TboFargateServiceProps } from '../lib/aws';

export interface TboAwsStackProps extends StackProps {
  /** Props of the gateway construct. @default - every default */
  readonly tbo?: TboFargateServiceProps;
}

/** The example stack: the TBO gateway with every default, environment-agnostic (no account or region). */
export class TboAwsStack extends Stack {
  readonly tbo: TboFargateService;

  constructor(scope: Construct, id: string, props: TboAwsStackProps = {}) {
    super(scope, id, { description: 'TBO LLM gateway on ECS Fargate with ElastiCache Redis (tbo-deploy)', ...props });
    this.tbo = new TboFargateService(this, 'Tbo', props.tbo);
  }
}

/** The CDK app of `cdk.json`: `TboAwsStack` checked by cdk-nag's AwsSolutions pack (a finding fails the synth). */
export function createTboAwsApp(props: AppProps = {}): App {
  const app = new App(props);
  new TboAwsStack(app, 'TboAwsStack');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}
