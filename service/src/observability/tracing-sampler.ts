/**
 * The sampler named by OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (OpenTelemetry environment
 * variable specification). @opentelemetry/sdk-trace 3.x no longer reads them (it reads no
 * environment variable at all; sdk-node does, and the service does not use sdk-node), so they are
 * parsed here. Part of the tracing bundle.
 */
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace';

/** The samplers this service accepts (the specification's, without the Jaeger-remote and X-Ray ones). */
export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
const DEFAULT_SAMPLER = 'parentbased_always_on';

/**
 * The sampler of an environment; an unknown name or a ratio outside 0–1 is reported through `warn`
 * (naming the variable and the accepted values) and replaced by the specification's default.
 */
export function samplerFrom(env: NodeJS.ProcessEnv, warn: (message: string) => void): Sampler {
  let name = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || DEFAULT_SAMPLER;
  if (!(SAMPLERS as readonly string[]).includes(name)) {
    warn(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')}; got "${name.slice(0, 64)}", using ${DEFAULT_SAMPLER}`);
    name = DEFAULT_SAMPLER;
  }
  const ratio = () => {
    const raw = env.OTEL_TRACES_SAMPLER_ARG?.trim();
    if (!raw) return 1;
    const value = Number(raw);
    if (Number.isFinite(value) && value >= 0 && value <= 1) return value;
    warn(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 for ${name}; got "${raw.slice(0, 64)}", using 1`);
    return 1;
  };
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
