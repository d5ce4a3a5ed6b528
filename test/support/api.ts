/**
 * An API server on a free loopback port for the current test file, closed after the file.
 */
import { afterAll, beforeAll } from 'vitest';
import { createApiDeps } from '../../api/deps.ts';
import { ApiServer } from '../../api/server.ts';
import type { ApiDeps } from '../../api/state.ts';
import type { TestEnvironment } from './context.ts';

export interface TestApi {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  deps: ApiDeps;
  server: ApiServer;
  /** fetch against the API with JSON in and out. */
  request(path: string, init?: { method?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
}

export function useTestApi(env: TestEnvironment, overrides: Record<string, string> = {}): TestApi {
  const api = {} as TestApi;
  beforeAll(async () => {
    const deps = createApiDeps(env.runtime(overrides));
    const server = new ApiServer(deps);
    await server.start();
    Object.assign(api, {
      deps,
      server,
      url: `http://127.0.0.1:${server.port}`,
      request(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
        const headers: Record<string, string> = { ...init.headers };
        if (init.body !== undefined) headers['content-type'] ??= 'application/json';
        return fetch(`${api.url}${path}`, {
          method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
          headers,
          body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
        });
      },
    });
  });
  afterAll(async () => {
    await api.server?.close();
  });
  return api;
}
