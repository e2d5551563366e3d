// The one error mapper: a Refusal becomes the status, headers and `error` text npm prints; Fastify's own
// errors (body too large, bad JSON, a body that fails its route schema) become refusals first; anything else
// is a logged 500.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { Refusal, reasons, type ReasonId } from '../domain/reasons.ts';
import { metricsOf } from '../services/metrics.ts';
import { baseUrl } from './base-url.ts';
import { unavailablePart } from '../store/outage.ts';

/** The router's limit on one path parameter (a package name, a token, a session id). */
export const MAX_PARAM_LENGTH = 2048;

export function refusalOf(err: unknown, maxBody: number): Refusal | undefined {
  if (err instanceof Refusal) return err;
  const e = err as FastifyError;
  if (e?.validation) return schemaRefusal(e.validation, e.validationContext, e.message);
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new Refusal('body-too-large', { limit: maxBody });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new Refusal('bad-json', { detail: e.message });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new Refusal('invalid-request', { detail: 'Unsupported content type; send application/json' });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new Refusal('invalid-request', { detail: 'Content-Length does not match the body' });
    case 'FST_ERR_BAD_URL':
      return new Refusal('bad-url');
    // Longer than any name or id: like any URL that matches no route.
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new Refusal('route-not-found');
  }
  if (e instanceof SyntaxError && (e as { statusCode?: number }).statusCode === 400)
    return new Refusal('bad-json', { detail: e.message });
  if (e?.statusCode === 415) return new Refusal('invalid-request', { detail: 'Unsupported content type or encoding' });
  return outageRefusal(err);
}

/** A database or blob store that did not answer: a 503 naming it (npm retries it), not a bare 500. */
export function outageRefusal(err: unknown): Refusal | undefined {
  const part = unavailablePart(err);
  return part ? new Refusal('store-unavailable', { part }) : undefined;
}

type SchemaError = FastifySchemaValidationError & { params: Record<string, unknown> };

/** A body that is not the JSON object a route takes is bad JSON, as before schemas; any other mismatch is a
 *  field that is missing or malformed, named in the detail (schemaDetail). */
function schemaRefusal(errors: FastifySchemaValidationError[], part: string | undefined, detail: string): Refusal {
  const root = errors.find((x) => x.instancePath === '' && x.keyword === 'type') as SchemaError | undefined;
  if (part === 'body' && root?.params.type === 'object' && errors.every((x) => x.instancePath === '')) {
    return new Refusal('bad-json', { detail: 'expected a JSON object' });
  }
  return new Refusal('invalid-request', { detail });
}

const WORDS: Record<string, string> = {
  object: 'an object',
  array: 'a list',
  string: 'a string',
  boolean: 'true or false',
  number: 'a number',
  integer: 'a whole number',
  null: 'null',
};
const WHERE: Record<string, string> = {
  body: '',
  querystring: 'query parameter ',
  params: 'URL part ',
  headers: 'header ',
};

/** Fastify's schemaErrorFormatter: one sentence in npm's field names, e.g. `"expires" must be a number or a string`. */
export function schemaDetail(errors: FastifySchemaValidationError[], part: string): Error {
  const all = errors as SchemaError[];
  const first = all.find((x) => x.keyword !== 'anyOf') ?? all[0];
  const at =
    first.keyword === 'required' ? `${first.instancePath}/${String(first.params.missingProperty)}` : first.instancePath;
  const field = at
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  const where = field ? `${WHERE[part] ?? ''}"${field}"` : part === 'body' ? 'the body' : part;
  if (first.keyword === 'required') return new Error(`${where} is required`);
  const phrases = all
    .filter((x) => x.instancePath === first.instancePath && x.keyword !== 'anyOf')
    .map((x) => {
      if (x.keyword === 'type') return WORDS[String(x.params.type)] ?? String(x.params.type);
      if (x.keyword === 'enum') return `one of ${(x.params.allowedValues as unknown[]).join(', ')}`;
      if (x.keyword === 'pattern' && x.params.pattern === '^[0-9]{1,9}$') return 'a whole number';
      return x.message?.replace(/^must be /, '') ?? 'valid';
    });
  // null is npm's "unset": worth saying only when nothing else is allowed.
  const shown = phrases.length > 1 ? phrases.filter((w) => w !== 'null') : phrases;
  const list = shown.length > 1 ? `${shown.slice(0, -1).join(', ')} or ${shown.at(-1)}` : shown[0];
  return new Error(/^(must|is|has) /.test(list) ? `${where} ${list}` : `${where} must be ${list}`);
}

/** A Bearer challenge refusing a token that was sent also says why (RFC 6750 §3, `invalid_token`): clients that
 *  print no body of a 401 print this header (npm-registry-fetch's "Unable to authenticate, need: …", which
 *  pnpm's publish shows). A missing credential (auth-required) gets the bare challenge, as the RFC asks. */
function challenge(id: ReasonId, scheme: string, error: string): string {
  if (!scheme.startsWith('Bearer ') || id === 'auth-required') return scheme;
  // A quoted-string of printable ASCII without quotes or backslashes (the RFC's error_description characters),
  // short enough for any client's header limit: a claim value quoted in the text can be long; the body has it all.
  const printable = error.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?');
  const description = printable.length > 400 ? `${printable.slice(0, 399)}~` : printable;
  return `${scheme}, error="invalid_token", error_description="${description}"`;
}

/** What a refusal's body says in `error`: its text and its help page. */
export function refusalText(req: FastifyRequest, r: Refusal): string {
  // A plain 404 says nothing more than npm's own "Not found", so it reveals nothing.
  if (r.reason === 'not-found' || r.reason === 'route-not-found') return 'Not found';
  return `${r.message} (${baseUrl(req)}/-/help/${r.reason})`;
}

export function sendRefusal(
  req: FastifyRequest,
  reply: FastifyReply,
  r: Refusal,
  extra: Record<string, unknown> = {},
): FastifyReply {
  const reason = reasons[r.reason];
  metricsOf(req.server.tessera.ctx.store)?.refusals.inc({ reason: r.reason });
  const help = `${baseUrl(req)}/-/help/${r.reason}`;
  reply.code(reason.status);
  reply.header('x-tessera-reason', r.reason);
  reply.header('cache-control', 'no-store');
  const error = refusalText(req, r);
  if ('wwwAuthenticate' in reason && reason.wwwAuthenticate) {
    reply.header('www-authenticate', challenge(r.reason, reason.wwwAuthenticate, error));
  }
  if ('notice' in reason && reason.notice) reply.header('npm-notice', reason.notice);
  // npm prints `error`; its OIDC code logs `message`: send both.
  return reply.type('application/json').send({ error, message: error, reason: r.reason, help, ...extra });
}

/**
 * Errors Node's HTTP parser meets before there is a request (a timeout, oversized headers, garbage):
 * Fastify hands over only the socket, so the refusal is written as raw HTTP, with its reason all the same.
 */
export function clientErrorRefusal(
  err: NodeJS.ErrnoException,
  socket: Socket,
  requestTimeoutMs: number,
  publicUrl: string | null,
): ReasonId | undefined {
  if (err.code === 'ECONNRESET' || socket.destroyed) return undefined;
  const r =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new Refusal('request-timeout', { seconds: Math.round(requestTimeoutMs / 1000) })
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new Refusal('headers-too-large')
        : new Refusal('invalid-request', { detail: 'Malformed HTTP request' });
  const help = `${(publicUrl ?? '').replace(/\/+$/, '')}/-/help/${r.reason}`;
  const error = `${r.message} (${help})`;
  const body = JSON.stringify({ error, message: error, reason: r.reason, help });
  // A response already under way on this socket cannot be replaced by another.
  const busy = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (socket.writable && !busy) {
    socket.write(
      `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status]}\r\nx-tessera-reason: ${r.reason}\r\n` +
        `cache-control: no-store\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
  return r.reason;
}
