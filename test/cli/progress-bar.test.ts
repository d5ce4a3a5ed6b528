/**
 * The CLI under a pseudo-terminal (tmux): `submit --wait` draws a live progress bar with state,
 * percent, elapsed time and ETA that reaches 100%, then prints the result table; Ctrl-C asks
 * whether to cancel the job — yes cancels it (exit 3), no leaves it running (exit 130).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalyticClient } from '../../client/index.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { BIN, startWorker } from './stack.ts';

const run = promisify(execFile);
const env = useTestEnvironment();
const api = useTestApi(env);
// One tmux server for this file, on its own socket.
const socket = `catalytic-test-${randomBytes(4).toString('hex')}`;
let tenant: TestTenant;
let client: CatalyticClient;

const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args]);

/** Starts `catalytic <args>` in a new 120x30 tmux window; the shell prints EXIT=<code> after it. */
async function startInTerminal(session: string, args: string[]): Promise<void> {
  const command = `${process.execPath} ${BIN} ${args.join(' ')}; echo EXIT=$?; sleep 120`;
  await tmux(
    'new-session', '-d', '-s', session, '-x', '120', '-y', '30',
    '-e', `CATALYTIC_URL=${api.url}`,
    '-e', `CATALYTIC_API_KEY=${tenant.apiKey}`,
    '-e', 'CATALYTIC_CONFIG=/nonexistent/credentials.json',
    command,
  );
}

async function screen(session: string): Promise<string> {
  return (await tmux('capture-pane', '-p', '-t', session)).stdout;
}

/** Reads the screen every 50 ms until `pattern` shows; returns every distinct screen seen. */
async function waitForScreen(session: string, pattern: RegExp, timeoutMs = 60_000): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await screen(session);
    if (current !== seen.at(-1)) seen.push(current);
    if (pattern.test(current)) return seen;
    if (Date.now() > deadline) throw new Error(`screen never showed ${pattern}:\n${current}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const BAR = /(queued|running|completed|cancelled|failed)\s+\|([█░]{30})\| (\d+)% \| elapsed (\S+) \| ETA (\S+)/;
const JOB_ID = /Submitted job ([0-9a-f-]{36})/;

beforeAll(async () => {
  tenant = await createTestTenant(env.db, { plan: 'professional' });
  client = new CatalyticClient({ baseUrl: api.url, apiKey: tenant.apiKey });
  await startWorker(env);
});

afterAll(async () => {
  await tmux('kill-server').catch(() => undefined);
});

describe('in a terminal', () => {
  it('draws a live progress bar that reaches 100%, then the result table', async () => {
    await startInTerminal('bar', ['submit', 'diffusion', '--shape', '100x100', '--steps', '150000', '--alpha', '0.2', '--source', '30,30=10', '--wait']);
    const screens = await waitForScreen('bar', /EXIT=\d+/);
    const final = screens.at(-1)!;
    expect(final, final).toContain('EXIT=0');

    const bars = screens.map((s) => BAR.exec(s)).filter((m): m is RegExpExecArray => m !== null);
    const running = bars.filter((m) => m[1] === 'running' && Number(m[3]) > 0 && Number(m[3]) < 100);
    expect(running.length, screens.join('\n----\n')).toBeGreaterThan(0);
    // The bar's fill follows the percentage (both are rounded from the same progress, so they may
    // differ by one cell), and an ETA is shown once progress is known.
    for (const m of running) {
      const fill = m[2]!.indexOf('░') === -1 ? 30 : m[2]!.indexOf('░');
      expect(Math.abs(fill - (Number(m[3]) / 100) * 30)).toBeLessThanOrEqual(1);
      expect(m[5]).toMatch(/^(\d+(\.\d)?(ms|s)|\d+m\d\ds|\.\.\.)$/);
    }
    const percents = bars.map((m) => Number(m[3]));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));

    expect(final).toMatch(/completed \|█{30}\| 100% \| elapsed \S+ \| ETA 0s/);
    expect(final).toMatch(/^job [0-9a-f-]{36}\s+diffusion\s+completed/m);
    expect(final).toMatch(/^total heat\s+\d/m);
  });

  it('asks on Ctrl-C whether to cancel; yes cancels the job and exits 3', async () => {
    await startInTerminal('cancel', ['submit', 'diffusion', '--shape', '60x60', '--steps', '500000', '--alpha', '0.2', '--wait']);
    const before = await waitForScreen('cancel', /running\s+\|/);
    const id = JOB_ID.exec(before.at(-1)!)![1]!;
    await tmux('send-keys', '-t', 'cancel', 'C-c');
    await waitForScreen('cancel', new RegExp(`Cancel job ${id}\\? \\[y/N\\]`));
    await tmux('send-keys', '-t', 'cancel', 'y', 'Enter');
    const final = (await waitForScreen('cancel', /EXIT=\d+/)).at(-1)!;
    expect(final, final).toContain('EXIT=3');
    expect(final).toContain(`job ${id} was cancelled`);
    expect(final).toMatch(/cancelled \|[█░]{30}\| \d+%/);
    expect((await client.jobs.get(id)).status).toBe('cancelled');
  });

  it('asks on Ctrl-C whether to cancel; no stops watching, leaves the job running and exits 130', async () => {
    await startInTerminal('detach', ['submit', 'diffusion', '--shape', '60x60', '--steps', '500000', '--alpha', '0.2', '--wait']);
    const before = await waitForScreen('detach', /running\s+\|/);
    const id = JOB_ID.exec(before.at(-1)!)![1]!;
    await tmux('send-keys', '-t', 'detach', 'C-c');
    await waitForScreen('detach', /\[y\/N\]/);
    await tmux('send-keys', '-t', 'detach', 'Enter');
    const final = (await waitForScreen('detach', /EXIT=\d+/)).at(-1)!;
    expect(final, final).toContain('EXIT=130');
    expect(final).toContain(`Stopped watching job ${id}`);
    const job = await client.jobs.get(id);
    expect(job.status).toBe('running');
    await client.jobs.cancel(id);
    expect((await client.jobs.wait(id, { signal: AbortSignal.timeout(20_000) })).status).toBe('cancelled');
  });
});
