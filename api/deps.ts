/** Builds the API's collaborators once per process. */
import type { Runtime } from '../shared/runtime.ts';
import { apiKeyVerifier } from './auth/authenticate.ts';
import type { ApiDeps } from './state.ts';

export function createApiDeps(runtime: Runtime): ApiDeps {
  const partial: ApiDeps = { runtime, verifiers: [] };
  return { ...partial, verifiers: [apiKeyVerifier(partial)] };
}
