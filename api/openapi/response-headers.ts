/**
 * Response headers the document declares: the ones many answers share live once under
 * `components.headers` (registered by `createOpenApiRegistry`) and answers reference them.
 */

/** A response header as OpenAPI declares it. */
export interface ResponseHeader {
  description: string;
  schema: { type: 'string' | 'integer'; enum?: string[] };
  /** Sent on every answer it is declared for. */
  required?: boolean;
}

/** The headers answers share, declared once under `components.headers` and referenced. */
export const SHARED_RESPONSE_HEADERS = {
  'X-Request-Id': {
    description: 'The request id (the one sent, or a new one); logs carry it',
    schema: { type: 'string' },
    required: true,
  },
  'RateLimit-Limit': { description: 'Requests allowed in the window', schema: { type: 'integer' } },
  'RateLimit-Remaining': { description: 'Requests left in the window', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'Seconds until the window resets', schema: { type: 'integer' } },
  'RateLimit-Policy': { description: 'The window as `<limit>;w=<seconds>`', schema: { type: 'string' } },
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } },
  Location: { description: 'Where the created resource (or the job) is', schema: { type: 'string' } },
} as const satisfies Record<string, ResponseHeader>;

/** A reference to a shared header. */
export function headerRef(name: keyof typeof SHARED_RESPONSE_HEADERS): { $ref: string } {
  return { $ref: `#/components/headers/${name}` };
}
