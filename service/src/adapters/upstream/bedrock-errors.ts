/**
 * Amazon Bedrock Runtime's errors in the Anthropic API's shape. Bedrock (a restJson1 AWS service)
 * names an error in the `x-amzn-errortype` header (`ThrottlingException:http://internal.amazon.com/coral/…`)
 * and its JSON body (`{"message": "…"}`, sometimes `__type`/`code`), with the HTTP status of the
 * shape; in a response stream the same errors arrive as `:message-type: exception` events. See
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html#API_runtime_InvokeModel_Errors
 * and https://docs.aws.amazon.com/bedrock/latest/userguide/troubleshooting-api-error-codes.html.
 */
import { loadRestJsonErrorCode } from '@smithy/core/protocols';
import type { ErrorKind } from '../../errors';
import { anthropic } from '../../protocols/anthropic';
import { isObject } from '../../protocols/types';

/**
 * Seconds a client is told to wait after Bedrock throttles (`ThrottlingException`,
 * `ServiceQuotaExceededException`): Bedrock sends no `retry-after`, and the AWS SDKs retry
 * throttled calls after an exponential backoff whose first steps are about a second
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html). The dispatcher
 * backs off its own calls to the model for as long.
 */
export const DEFAULT_THROTTLE_RETRY_AFTER_SECONDS = 1;

/** Longest piece of Bedrock's own message quoted in ours. */
const MAX_QUOTED_CHARS = 1000;

/** The call an error message talks about. */
export interface BedrockCall {
  /** The model id in the URL (a foundation model, an inference profile or an ARN). */
  readonly model: string;
  readonly region: string;
  /** True for `InvokeModelWithResponseStream`. */
  readonly stream: boolean;
}

/** A Bedrock error as the Anthropic API would have sent it. */
export interface AnthropicError {
  readonly status: number;
  readonly kind: ErrorKind;
  readonly message: string;
  /** Seconds, for the `retry-after` header (throttling only). */
  readonly retryAfter?: string;
}

/** The IAM action a call needs. */
export function iamAction(stream: boolean): string {
  return stream ? 'bedrock:InvokeModelWithResponseStream' : 'bedrock:InvokeModel';
}

/**
 * The error code of a Bedrock error response, read as the AWS SDK reads restJson1 errors: the
 * `x-amzn-errortype` header, else the body's `code` or `__type` (namespace and URI suffix removed).
 */
export function errorCode(headers: Readonly<Record<string, string | string[] | undefined>>, body: unknown): string | undefined {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') flat[name] = value;
  return loadRestJsonErrorCode({ statusCode: 0, headers: flat }, isObject(body) ? body : undefined);
}

/** The `message` (or `Message`) of a Bedrock error body. */
export function errorMessage(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  const message = body.message ?? body.Message;
  return typeof message === 'string' ? message : undefined;
}

/** The credential failures AWS answers before the service sees the call (SigV4 and STS). */
const CREDENTIAL_ERRORS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'ExpiredTokenException',
  'MissingAuthenticationTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
]);

/**
 * Maps a Bedrock error (its code, HTTP status and message) to what the Anthropic API says in the
 * same situation: throttling → 429 `rate_limit_error` with `retry-after`; a bad request → 400
 * `invalid_request_error` with Bedrock's message; a denied call → 403 `permission_error` naming
 * the IAM action, the model and the region; an unknown model → 404; a model not ready or the
 * service unavailable → 529 `overloaded_error`; a model timeout → 504 `timeout_error`; an
 * internal or model failure → 500 `api_error`; rejected AWS credentials → 401 `authentication_error`
 * about the service's own identity.
 */
export function anthropicError(code: string | undefined, status: number, awsMessage: string | undefined, call: BedrockCall, retryAfter?: string): AnthropicError {
  const said = quote(awsMessage);
  const where = `${call.model} in ${call.region}`;
  switch (code) {
    case 'ThrottlingException':
    case 'ServiceQuotaExceededException':
      return { status: 429, kind: 'rate_limit', message: `Amazon Bedrock is throttling ${where} (${code})${said ? `: ${said}` : ''}`, retryAfter: retryAfter ?? String(DEFAULT_THROTTLE_RETRY_AFTER_SECONDS) };
    case 'ValidationException':
      return { status: 400, kind: 'invalid_request', message: said || `Amazon Bedrock rejected the request for ${where} (ValidationException)` };
    case 'AccessDeniedException':
      return { status: 403, kind: 'permission', message: accessDenied(call, said) };
    case 'ResourceNotFoundException':
      return { status: 404, kind: 'not_found', message: `Amazon Bedrock has no model ${where}${said ? `: ${said}` : ''}; check the model id (TBO_BEDROCK_MODEL_IDS, TBO_BEDROCK_CROSS_REGION) and that the model is offered in that region` };
    case 'ModelNotReadyException':
    case 'ServiceUnavailableException':
      return { status: 529, kind: 'overloaded', message: `Amazon Bedrock cannot serve ${where} right now (${code})${said ? `: ${said}` : ''}` };
    case 'ModelTimeoutException':
      return { status: 504, kind: 'timeout', message: `Amazon Bedrock timed out running ${where} (ModelTimeoutException)${said ? `: ${said}` : ''}` };
    case 'InternalServerException':
    case 'InternalFailure':
    case 'ModelErrorException':
    case 'ModelStreamErrorException':
      return { status: 500, kind: 'upstream_unavailable', message: `Amazon Bedrock failed running ${where} (${code})${said ? `: ${said}` : ''}` };
    default:
      if (code && CREDENTIAL_ERRORS.has(code)) {
        return {
          status: 401,
          kind: 'authentication',
          message: `Amazon Bedrock rejected this service's AWS credentials (${code})${said ? `: ${said}` : ''}; the operator must give the service a valid AWS identity (on ECS its task role; elsewhere the AWS SDK's standard credential chain)`,
        };
      }
      return byStatus(code, status, said, call);
  }
}

/** An error whose code is unknown (or absent, e.g. from a proxy): by its HTTP status. */
function byStatus(code: string | undefined, status: number, said: string, call: BedrockCall): AnthropicError {
  const what = `Amazon Bedrock answered ${status}${code ? ` (${code})` : ''} for ${call.model} in ${call.region}${said ? `: ${said}` : ''}`;
  if (status === 403) return { status, kind: 'permission', message: accessDenied(call, said) };
  if (status === 429) return { status, kind: 'rate_limit', message: what, retryAfter: String(DEFAULT_THROTTLE_RETRY_AFTER_SECONDS) };
  if (status === 401) return { status, kind: 'authentication', message: what };
  if (status === 404) return { status, kind: 'not_found', message: what };
  if (status === 413) return { status, kind: 'request_too_large', message: what };
  if (status === 408 || status === 504) return { status: 504, kind: 'timeout', message: what };
  if (status === 503) return { status: 529, kind: 'overloaded', message: what };
  if (status >= 500) return { status, kind: 'upstream_unavailable', message: what };
  return { status: 400, kind: 'invalid_request', message: what };
}

/** A denied call: which permission on which model, and the two things that grant it. */
function accessDenied(call: BedrockCall, said: string): string {
  const action = iamAction(call.stream);
  return `Amazon Bedrock denied ${action} on ${call.model} in ${call.region}. Grant this service's role ${action} on that model `
    + '(the modelAccess prop of the TBO constructs does; an inference profile needs the profile and the foundation model in each of its regions) '
    + `and enable access to the model in the Amazon Bedrock console (Model access) of that account and region.${said ? ` Bedrock said: ${said}` : ''}`;
}

/**
 * Bedrock's message, quoted: whitespace collapsed, capped, and with the account's identities taken
 * out (an AccessDenied names the role's ARN and account id; tenants of a shared gateway need not
 * learn them).
 */
function quote(message: string | undefined): string {
  if (!message) return '';
  const clean = message
    .replace(/arn:aws[a-z-]*:(?:sts|iam)::\d{12}:\S+/g, "(this service's role)")
    .replace(/(arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:)\d{12}(:)/g, '$1(account)$2')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > MAX_QUOTED_CHARS ? `${clean.slice(0, MAX_QUOTED_CHARS)}…` : clean;
}

/** The Anthropic error body of an error, with Bedrock's request id when there is one. */
export function anthropicErrorBody(error: AnthropicError, requestId: string | undefined): string {
  return JSON.stringify(anthropic.errorBody(error.kind, error.message, { requestId }));
}

/** The Anthropic stream's `error` event of an error (what the API sends when a stream fails midway). */
export function anthropicErrorFrame(error: AnthropicError): string {
  return anthropic.streamErrorFrame(error.kind, error.message);
}

/** The code of an in-stream exception: its `:exception-type` is the union member (`throttlingException`). */
export function streamExceptionCode(exceptionType: string): string {
  return exceptionType.charAt(0).toUpperCase() + exceptionType.slice(1);
}
