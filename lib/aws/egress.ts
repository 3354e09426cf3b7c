import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { ServiceConfig } from '../core';

/** The TCP port of an http(s) URL. */
function urlPort(url: string): number {
  const { port, protocol } = new URL(url);
  return port ? Number(port) : protocol === 'https:' ? 443 : 80;
}

/**
 * What the tasks may reach, instead of everything: HTTPS (the model APIs and the AWS APIs the task
 * needs: ECR, Secrets Manager, CloudWatch Logs) and the ports of any other upstream base URL in the
 * config. Redis is added by the Redis wiring (to its security group, or its port when it has none).
 */
export function restrictServiceEgress(securityGroup: ec2.SecurityGroup, config: ServiceConfig): void {
  const ports = new Set([443, urlPort(config.anthropicBaseUrl), urlPort(config.openaiBaseUrl)]);
  for (const port of [...ports].sort((a, b) => a - b)) {
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), port === 443 ? 'HTTPS: model APIs and AWS APIs' : 'upstream base URL port');
  }
}
