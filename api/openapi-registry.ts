/**
 * The OpenAPI registry every route is declared in (by `defineRoute`), so the document at
 * `/openapi.json` is generated from the same zod schemas that validate requests.
 */
import { extendZodWithOpenApi, OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { SHARED_RESPONSE_HEADERS } from './openapi/response-headers.ts';

extendZodWithOpenApi(z);

export const PROBLEM_SCHEMA = z
  .object({
    type: z.string().describe('Stable URI of the problem type; GET it for a description'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    code: z.string().describe('Stable machine-readable code, the last segment of `type`'),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe('Each invalid field, for validation problems'),
  })
  .catchall(z.unknown())
  .openapi('Problem', { description: 'An RFC 9457 problem document' });

/** Creates a registry with the shared components (problem schema, response headers, security schemes). */
export function createOpenApiRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.register('Problem', PROBLEM_SCHEMA);
  for (const [name, header] of Object.entries(SHARED_RESPONSE_HEADERS)) registry.registerComponent('headers', name, header);
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT or API key (ck_…)',
    description: 'An RS256 access token from /auth/login, or an API key from /api/api-keys',
  });
  return registry;
}
