import { Annotations, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { IConstruct } from 'constructs';
import type { ServiceConfig } from '../core';

/** The TCP port of an http(s) URL. */
function urlPort(url: string): number {
  const { port, protocol } = new URL(url);
  return port ? Number(port) : protocol === 'https:' ? 443 : 80;
}

/**
 * What the tasks may reach, instead of everything: HTTPS (the model APIs, Bedrock Runtime or its
 * VPC endpoint, the AWS APIs the task needs: ECR, Secrets Manager, CloudWatch Logs, X-Ray; and
 * Sentry's ingest) and the ports of any other URL the service calls: upstream base URLs, Bedrock
 * and Vertex endpoints, the Pushgateway (`config.prometheusGateway`) and the OTLP collector
 * (`otlpEndpoint`). Redis is added by the Redis wiring (to its security group, or its port when it
 * has none). A URL known only at deploy gets no rule, and a synth warning on `scope`.
 */
export function restrictServiceEgress(scope: IConstruct, securityGroup: ec2.SecurityGroup, config: ServiceConfig, otlpEndpoint?: string): void {
  const upstreams = [config.anthropicBaseUrl, config.openaiBaseUrl, config.bedrockEndpoint, config.vertexEndpoint].filter((u): u is string => u !== undefined);
  const telemetry = [config.prometheusGateway, otlpEndpoint].filter((u): u is string => u !== undefined);
  if ([...upstreams, ...telemetry].some((u) => Token.isUnresolved(u))) {
    Annotations.of(scope).addWarningV2(
      'tbo-deploy:egressDeployTimeUrl',
      'a URL the service calls (tracing.otlpEndpoint or a config URL) is known only at deploy, so no egress rule opens its port; ' +
        'add one with serviceSecurityGroup.addEgressRule when it is not 443.',
    );
  }
  const ports = new Map<number, string>([[443, 'HTTPS: model APIs and AWS APIs']]);
  const add = (urls: string[], description: string) => {
    for (const url of urls.filter((u) => !Token.isUnresolved(u))) if (!ports.has(urlPort(url))) ports.set(urlPort(url), description);
  };
  add(upstreams, 'upstream base URL port');
  add(telemetry, 'Pushgateway or OTLP collector port');
  for (const [port, description] of [...ports].sort(([a], [b]) => a - b)) securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), description);
}
