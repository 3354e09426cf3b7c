import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ADMIN_PORT } from '../core';
import { acknowledge } from './nag';

const ANYWHERE = ['0.0.0.0/0', '::/0'];

/** A peer's unique id: the CIDR range of `ec2.Peer.ipv4(…)` / `ipv6(…)`, a security group's construct address; undefined for a service. */
function peerId(scraper: ec2.IConnectable): string | undefined {
  return (scraper as Partial<ec2.IPeer>).uniqueId;
}

/**
 * Why a scraper may not reach the admin port, or undefined when it may. The admin listener answers
 * without authentication, so it is opened only to what the user names, never to anywhere.
 */
export function scraperProblem(scraper: ec2.IConnectable): { received: string; accepted: string } | undefined {
  const id = peerId(scraper);
  if (id === undefined || !ANYWHERE.includes(id)) return undefined;
  return {
    received: id,
    accepted: `the admin port (${ADMIN_PORT}) answers /metrics and /health/details without authentication: name the scrapers (a security group, a service, or a narrower CIDR range), never anywhere`,
  };
}

/**
 * Lets a scraper (a Prometheus task, an ADOT collector) reach the service's admin port. The rule
 * goes on the tasks' security group (and, for a security group in the app that restricts egress, an
 * egress rule on it).
 */
export function allowAdminPortFrom(serviceSecurityGroup: ec2.SecurityGroup, scraper: ec2.IConnectable): void {
  serviceSecurityGroup.connections.allowFrom(scraper, ec2.Port.tcp(ADMIN_PORT), 'Metrics scrapers to the admin port (/metrics, /health/details)');
  const id = peerId(scraper);
  if (id !== undefined && Token.isUnresolved(id)) {
    acknowledge(
      serviceSecurityGroup,
      'AwsSolutions-EC23',
      `The admin port ${ADMIN_PORT} is open to a scraper's CIDR range that is a deploy-time value cdk-nag cannot resolve, so it reports ` +
        'the rule as unevaluated; metricsScrapers refuses 0.0.0.0/0 and ::/0, which are literals, so the range is never anywhere.',
    );
  }
}
