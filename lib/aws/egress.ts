import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { ServiceConfig } from '../core';

/** The TCP port of an http(s) URL. */
function urlPort(url: string): number {
  const { port, protocol } = new URL(url);
  return port ? Number(port) : protocol === 'https:' ? 443 : 80;
}

/**
 * What the tasks may reach, instead of everything: HTTPS (the model APIs, Bedrock Runtime or its
 * VPC endpoint, and the AWS APIs the task needs: ECR, Secrets Manager, CloudWatch Logs) and the
 * ports of any other upstream URL in the config (base URLs, Bedrock and Vertex endpoints). Redis is
 * added by the Redis wiring (to its security group, or its port when it has none).
 */
export function restrictServiceEgress(securityGroup: ec2.SecurityGroup, config: ServiceConfig): void {
  const urls = [config.anthropicBaseUrl, config.openaiBaseUrl, config.bedrockEndpoint, config.vertexEndpoint].filter((u): u is string => u !== undefined);
  const ports = new Set([443, ...urls.map(urlPort)]);
  for (const port of [...ports].sort((a, b) => a - b)) {
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), port === 443 ? 'HTTPS: model APIs and AWS APIs' : 'upstream base URL port');
  }
}
