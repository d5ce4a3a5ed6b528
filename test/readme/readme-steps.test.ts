/**
 * Every step of README.md, run as written against a stack started the way "Run it" says, so the
 * README cannot drift from the product. Shell commands run in bash (the CLI ones in a terminal,
 * tmux, as a newcomer sees them, with `catalytic` on the PATH); their output is compared with the
 * README's `# …` lines (see expected-output.ts for what counts as a pattern). The SDK example is
 * saved to a file and run with tsx. Steps that cannot run here are named in NOT_RUN, with why.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestEnvironment } from '../support/context.ts';
import { type Bindings, compareOutput } from './expected-output.ts';
import { runScript, type ScriptProcess } from './npm-script.ts';
import { codeBlocks, shellSteps, type Step } from './readme-blocks.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/catalytic.js');
const README = await readFile(join(ROOT, 'README.md'), 'utf8');
const blocks = codeBlocks(README);
const blockUnder = (heading: string, lang = 'sh') => {
  const block = blocks.find((b) => b.heading === heading && b.lang === lang);
  if (!block) throw new Error(`README.md has no ${lang} block under "${heading}"`);
  return block;
};

/** README steps this test does not run, and why. */
const NOT_RUN: Record<string, string> = {
  'npm ci': 'reinstalls node_modules, which the test runs from; `npm start` is run as package.json says',
  'npm test': 'the whole suite, this file included',
};

const run = promisify(execFile);
const env = useTestEnvironment({ LOG_LEVEL: 'info', KERNEL_THREADS: '1', WORKER_CONCURRENCY: '2', DATABASE_POOL_MAX: '4' });
const bindings: Bindings = new Map();
let stack: ScriptProcess;
let apiUrl: string;
let dir: string;
const socket = `catalytic-readme-${randomBytes(4).toString('hex')}`;
const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args]);
/** What the README's `localhost:8000` is in this run. */
let substitutions: Array<[string, string]>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'catalytic-readme-'));
  // `catalytic` on the PATH, as `npm link` would put it.
  await writeFile(join(dir, 'catalytic'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  await chmod(join(dir, 'catalytic'), 0o755);
  // `npm start`, on a free port: the API listens where the default host would put it.
  const { HOST: _host, ...stackEnv } = env.env;
  stack = runScript('start', { ...stackEnv, PORT: '0' });
  const line = await stack.waitForLine(/running at http:\/\/localhost:\d+/, 60_000);
  apiUrl = /(http:\/\/localhost:\d+)/.exec(line)![1]!;
  substitutions = [['http://localhost:8000', apiUrl], ['localhost:8000', apiUrl.replace('http://', '')]];
  // A session that outlives the steps' sessions: tmux exits when its last session ends, and a
  // new-session racing that exit fails with "server exited unexpectedly".
  await tmux('new-session', '-d', '-s', 'keep', 'sleep 3600');
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await tmux('kill-server').catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const substitute = (command: string) =>
  [...substitutions, ...bindings].reduce((text, [from, to]) => text.replaceAll(from, to), command);

/** The CLI's environment: the stack's URL, a fresh home for the credentials file. */
const cliEnv = () => ({ PATH: `${dir}:${process.env.PATH ?? ''}`, HOME: dir, CATALYTIC_URL: apiUrl, CATALYTIC_CONFIG: join(dir, 'credentials.json') });

/** Runs a command in bash without a terminal; stdout, stderr and exit code. */
function inBash(command: string, extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd: ROOT, env: { ...cliEnv(), ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** A command in a new 200x50 terminal, from start to `EXIT=<code>`; `interact` acts on the screen meanwhile. */
async function inTerminal(command: string, interact?: (screen: () => Promise<string>, keys: (...k: string[]) => Promise<unknown>) => Promise<void>) {
  const session = `s${randomBytes(3).toString('hex')}`;
  const e = Object.entries(cliEnv()).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  await tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '50', '-c', dir, ...e, 'bash', '-c', `export PATH="${dir}:$PATH"\n${command}\necho EXIT=$?; sleep 600`);
  const screen = async () => (await tmux('capture-pane', '-p', '-J', '-S', '-', '-t', session)).stdout;
  const keys = (...k: string[]) => tmux('send-keys', '-t', session, ...k);
  if (interact) await interact(screen, keys);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = await screen();
    const exit = /^EXIT=(\d+)$/m.exec(text);
    if (exit) {
      const lines = text.slice(0, exit.index).split('\n').map((l) => l.trimEnd());
      while (lines.at(-1) === '') lines.pop();
      await tmux('kill-session', '-t', session);
      return { code: Number(exit[1]), lines };
    }
    if (Date.now() > deadline) throw new Error(`${command} did not finish:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One bash process for several commands, so variables carry over; each command's output and exit code. */
function bashSession() {
  const child = spawn('bash', [], { cwd: dir, env: cliEnv(), stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  return {
    async run(command: string): Promise<{ code: number; output: string }> {
      const mark = `@@${randomBytes(6).toString('hex')}@@`;
      const start = out.length;
      child.stdin.write(`${command}\necho "${mark} $?"\n`);
      const deadline = Date.now() + 30_000;
      for (;;) {
        const done = new RegExp(`${mark} (\\d+)\n`).exec(out.slice(start));
        if (done) return { code: Number(done[1]), output: out.slice(start, start + done.index).trim() };
        if (Date.now() > deadline) throw new Error(`${command} did not finish:\n${out.slice(start)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => child.kill(),
  };
}

const waitForScreen = async (screen: () => Promise<string>, pattern: RegExp) => {
  const deadline = Date.now() + 30_000;
  while (!pattern.test(await screen())) {
    if (Date.now() > deadline) throw new Error(`never showed ${pattern}:\n${await screen()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

const expectOutput = (step: Step, lines: string[]) => {
  const difference = compareOutput(step.expected, lines, bindings, substitutions);
  expect(difference, step.command).toBeNull();
};

describe('Run it', () => {
  it('npm ci && npm start: the start script brings up the stack and says where the API is', () => {
    const steps = shellSteps(blockUnder('Run it'));
    expect(steps.map((s) => s.command.replace(/\s+#.*$/, ''))).toEqual(['npm ci && npm start']);
    expect(Object.keys(NOT_RUN)).toContain('npm ci');
    expect(apiUrl).toMatch(/^http:\/\/localhost:\d+$/);
  });

  it('curl /health answers as the README shows', async () => {
    const steps = shellSteps(blocks.filter((b) => b.heading === 'Run it')[1]!);
    expect(steps).toHaveLength(1);
    const { code, stdout } = await inBash(substitute(steps[0]!.command));
    expect(code).toBe(0);
    expectOutput(steps[0]!, stdout.split('\n').filter((l) => l !== ''));
  });
});

describe('Use it', () => {
  let apiKey = '';

  it('the CLI steps, in a terminal', async () => {
    const steps = shellSteps(blockUnder('The CLI'));
    let jobId = '';
    for (const step of steps) {
      const command = substitute(step.command.replaceAll('<id>', jobId));
      const name = command.replace(/\s+#.*$/, '');
      if (name.startsWith('catalytic register')) {
        const { code, lines } = await inTerminal(command, async (screen, keys) => {
          await waitForScreen(screen, /^Password: ?$/m);
          await keys('Lattice-Walk-7-Quokka!', 'Enter');
        });
        expect(code, lines.join('\n')).toBe(0);
        expectOutput(step, lines);
      } else if (name.startsWith('catalytic email verify')) {
        // The link of the address-check mail, which `npm start` writes to its log (MAIL_TRANSPORT=log).
        const line = await stack.waitForLine(/\/account\/verify-email#token=cev_/, 30_000);
        const link = /(http:\/\/[^\s"\\]+\/account\/verify-email#token=cev_[^\s"\\]+)/.exec(line)?.[1];
        expect(link, line).toBeDefined();
        const { code, lines } = await inTerminal(command.replace('<link>', link ?? ''));
        expect(code, lines.join('\n')).toBe(0);
      } else if (name.startsWith('catalytic webhooks listen')) {
        // Prints each signed event until Ctrl-C.
        const { code, lines } = await inTerminal(command, async (screen, keys) => {
          await waitForScreen(screen, /^Listening on http:\/\/\S+ \(endpoint [0-9a-f-]{36}\)/m);
          await keys('C-c');
        });
        expect(code, lines.join('\n')).toBe(0);
      } else {
        const { code, lines } = await inTerminal(command);
        const output = lines.join('\n');
        if (name.startsWith('catalytic jobs cancel')) {
          // As the README says: the job above has finished by now.
          expect(step.command).toMatch(/a finished one is a 409 \(exit 1\)/);
          expect(code, output).toBe(1);
          expect(output).toMatch(/already finished.*\(HTTP 409 job_finished\)/);
        } else expect(code, `${command}\n${output}`).toBe(0);
        if (step.expected.length > 0) expectOutput(step, lines);
        if (name.includes('| jq .result.count')) expect(lines.at(-1)).toMatch(/^\d+$/);
        if (/catalytic submit \S+ (?!.*--wait)/.test(name)) jobId = /Submitted job ([0-9a-f-]{36})/.exec(output)?.[1] ?? '';
        if (name.startsWith('catalytic submit diffusion')) expect(jobId, output).not.toBe('');
        if (name.startsWith('catalytic api-keys create')) apiKey = /^key\s+(ck_\S+)$/m.exec(output)?.[1] ?? '';
      }
    }
    expect(steps.map((s) => s.command.split(/\s+/).slice(0, 3).join(' '))).toContain('catalytic logout');
    expect(apiKey).not.toBe('');
    // Each command is a new Node process loading TypeScript: about a second of CPU apiece.
  }, 180_000);

  it('the HTTP steps, in one bash session', { timeout: 60_000 }, async () => {
    const steps = shellSteps(blockUnder('The HTTP API'));
    const shell = bashSession();
    try {
      const outputs: string[] = [];
      for (const step of steps) {
        const { code, output } = await shell.run(substitute(step.command));
        expect(code, `${step.command}\n${output}`).toBe(0);
        outputs.push(output);
        // `curl -s` prints the body only: the status the README puts first is not in the output.
        if (step.expected.length > 0) expectOutput({ ...step, expected: step.expected.map((l) => l.replace(/^\d{3} /, '')) }, output.split('\n'));
      }
      expect(JSON.parse(outputs[0]!)).toMatchObject({ tenant: expect.any(Object), user: expect.any(Object), tokens: expect.any(Object) });
      // The poll, with the id the submit printed in place of the README's `4e65f14c-…`.
      expect(steps.at(-1)!.command).toContain('4e65f14c-…');
      expect(JSON.parse(outputs.at(-1)!)).toMatchObject({ id: bindings.get('4e65f14c-…'), type: 'components' });
    } finally {
      shell.close();
    }
  });

  it('the SDK example, saved to a file and run with tsx', { timeout: 60_000 }, async () => {
    expect(apiKey, 'the CLI steps create the key').not.toBe('');
    const [block] = blocks.filter((b) => b.heading === 'The SDK' && b.lang === 'ts');
    // Inside the checkout, where `catalytic/client` resolves as it does for the package's users.
    const file = join(ROOT, 'test/readme', `.sdk-example-${randomBytes(4).toString('hex')}.ts`);
    await writeFile(file, block!.lines.join('\n'));
    try {
      const { code, stdout, stderr } = await inBash(`"${process.execPath}" --import tsx "${file}"`, { CATALYTIC_API_KEY: apiKey });
      expect(code, stderr).toBe(0);
      expect(stdout).toMatch(/^completed 1$/m);
      expect(stdout).toMatch(/reachable: true/);
      expect(stdout).toMatch(/^404 not_found /m);
    } finally {
      await rm(file, { force: true });
    }
  });
});

describe('Test it', () => {
  it('npm test is the step not run here', () => {
    const steps = shellSteps(blockUnder('Test it'));
    expect(steps.map((s) => s.command)).toEqual(['npm test']);
    expect(Object.keys(NOT_RUN)).toContain('npm test');
  });
});

describe('nothing left out', () => {
  it('every code block of the README is one of those above', () => {
    expect(blocks.map((b) => `${b.heading}/${b.lang}`)).toEqual(['Run it/sh', 'Run it/sh', 'The CLI/sh', 'The HTTP API/sh', 'The SDK/ts', 'Test it/sh']);
  });
});
