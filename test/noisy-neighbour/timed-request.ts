/** A request to the API with its time and status, for the noisy-neighbour suite's two clients. */

export interface TimedInit {
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface TimedAnswer {
  status: number;
  ms: number;
  text: string;
}

/** Network failures and answers slower than the timeout (10 s) count as status 0. */
export async function timedRequest(baseUrl: string, path: string, init: TimedInit = {}): Promise<TimedAnswer> {
  const started = performance.now();
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
      body: init.body,
      signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
    });
    const text = await response.text();
    return { status: response.status, ms: performance.now() - started, text };
  } catch {
    return { status: 0, ms: performance.now() - started, text: '' };
  }
}
