/** Checks shared by the prop validators: deploy-time tokens, DNS names, quantities, requests and limits, NetworkPolicy peers. */
import { isIP } from 'node:net';
import { Token } from 'cdktf';
import type { PropValidator } from '../core';
import { quantity, resolveResources, type ResolvedResources } from './plan';
import type { TboContainerResources, TboNetworkPeer, TboResourceQuantities } from './props';
import { parseQuantity } from './quantity';

/** A DNS label (RFC 1123, starting with a letter): namespace and object names. */
export const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** A DNS subdomain: Secret, StorageClass and claim names. */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A value known at synth (not a deploy-time token), so it can be checked. */
export const known = (value: string | undefined): value is string => value !== undefined && !Token.isUnresolved(value);

/** CPU and memory are Kubernetes quantities. */
export function quantities(v: PropValidator, prop: string, given: TboResourceQuantities | undefined): void {
  for (const resource of ['cpu', 'memory'] as const) {
    const value = given?.[resource];
    if (known(value)) v.check(parseQuantity(value) !== undefined, `${prop}.${resource}`, value, 'must be a Kubernetes quantity such as 250m, 0.5, 512Mi or 1Gi');
  }
}

/** Requests and limits are quantities, requests within limits; the resolved values, or undefined when some are not known at synth. */
export function resources(v: PropValidator, prop: string, given: TboContainerResources | undefined, defaults: ResolvedResources): ResolvedResources | undefined {
  quantities(v, `${prop}.requests`, given?.requests);
  quantities(v, `${prop}.limits`, given?.limits);
  const resolved = resolveResources(given, defaults);
  const all = [...Object.values(resolved.requests), ...Object.values(resolved.limits)];
  if (!all.every((q) => known(q) && parseQuantity(q) !== undefined)) return undefined;
  for (const resource of ['cpu', 'memory'] as const) {
    const [req, lim] = [resolved.requests[resource], resolved.limits[resource]];
    v.check(quantity(req) <= quantity(lim), `${prop}.requests.${resource}`, req, `must not exceed ${prop}.limits.${resource} (${lim})`);
  }
  return resolved;
}

/** An IPv4 or IPv6 CIDR block such as 10.0.0.0/16 or fd00::/8. */
export function isCidr(text: string): boolean {
  const [address, prefix, ...rest] = text.split('/');
  const family = isIP(address ?? '');
  if (rest.length || family === 0 || prefix === undefined || !/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** A NetworkPolicy peer: selectors with labels, or a valid ipBlock, not both. */
export function validatePeer(v: PropValidator, prop: string, peer: TboNetworkPeer): void {
  const selectors = peer.namespaceLabels !== undefined || peer.podLabels !== undefined;
  v.check(selectors !== (peer.ipBlock !== undefined), prop, peer, 'give namespaceLabels and/or podLabels, or ipBlock (one kind, as in a NetworkPolicy peer)');
  for (const key of ['namespaceLabels', 'podLabels'] as const) {
    const labels = peer[key];
    if (labels !== undefined) v.check(Object.keys(labels).length > 0, `${prop}.${key}`, labels, 'must name at least one label (an empty selector matches everything)');
  }
  const block = peer.ipBlock;
  if (!block) return;
  if (known(block.cidr)) v.check(isCidr(block.cidr), `${prop}.ipBlock.cidr`, block.cidr, 'must be an IPv4 or IPv6 CIDR block such as 10.0.0.0/16');
  for (const [i, except] of (block.except ?? []).entries()) {
    if (known(except)) v.check(isCidr(except), `${prop}.ipBlock.except[${i}]`, except, 'must be an IPv4 or IPv6 CIDR block inside ipBlock.cidr');
  }
}
