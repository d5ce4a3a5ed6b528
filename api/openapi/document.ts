/**
 * The OpenAPI 3.1 document, generated from the registry every route was declared in (by
 * `defineRoute`, from the same zod schemas that validate requests).
 */
import { OpenApiGeneratorV31, type OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Config } from '../../shared/config.ts';
import { VERSION } from '../../shared/version.ts';
import { describeOptionalDefaults } from './optional-defaults.ts';

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

const DESCRIPTION = `Submit lattice jobs (shortest paths, connected components, diffusion, distance fields, minimum-cost paths
and percolation curves on d-dimensional grids),
follow their progress and fetch their results. Authenticate with an access token from \`/auth/login\`
or an API key (\`ck_…\`) as \`Authorization: Bearer …\`. Errors are RFC 9457 \`application/problem+json\`
documents whose \`type\` links to \`/problems/{code}\`.`;

/** Not open source (package.json: UNLICENSED); SPDX names such a licence with a `LicenseRef-`. */
const LICENSE = { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' };

/** The operation groups, in the order a user learns the API. */
export const API_TAGS: ReadonlyArray<readonly [name: string, description: string]> = [
  ['Jobs', 'Submit jobs, follow them, fetch their results'],
  ['Batches', 'Submit many jobs at once and follow them as one batch'],
  ['Lattices', 'Store lattices to run many jobs on'],
  ['Webhooks', 'Endpoints that receive signed job events, and their deliveries'],
  ['Account', 'Sign-up, sign-in, passwords, API keys, plans, subscription and usage'],
  ['Team', 'Members, their roles, and invitations'],
  ['Operations', 'Health, readiness, metrics and this document'],
  ['Account pages', 'The HTML pages the links in mails open (password reset, invitations, address checks)'],
  ['Operators', 'Platform operators only: plan requests'],
];

export function buildOpenApiDocument(registry: OpenAPIRegistry, config: Config): OpenApiDocument {
  const generator = new OpenApiGeneratorV31(registry.definitions);
  const document = generator.generateDocument({
    openapi: '3.1.0',
    info: { title: 'Catalytic API', version: VERSION, description: DESCRIPTION, license: LICENSE },
    // Relative unless the deployment says where it is reachable, so the document works behind any proxy.
    servers: [{ url: config.PUBLIC_URL ? config.PUBLIC_URL.replace(/\/$/, '') : '/' }],
    // In the order a user learns the API: Swagger UI lists the groups this way.
    tags: API_TAGS.map(([name, description]) => ({ name, description })),
  });
  // So that generated clients do not make the API's defaults required (optional-defaults.ts).
  return describeOptionalDefaults(document);
}
