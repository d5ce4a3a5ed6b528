/** Questions on the terminal: plain, hidden (passwords) and yes/no, on stderr so stdout stays data. */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/** Whether the user can be asked something (stdin and stderr are terminals). */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/** Thrown when a question is interrupted (Ctrl-C, or its signal aborts). */
export class PromptInterrupted extends Error {
  override name = 'PromptInterrupted';
}

/**
 * Asks one question and resolves with the answer. Ctrl-C during the question, or `signal`
 * aborting, rejects with {@link PromptInterrupted}. With `hidden`, what is typed is not echoed.
 */
export function ask(question: string, options: { hidden?: boolean; signal?: AbortSignal } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    let muted = false;
    const output = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (!muted) process.stderr.write(chunk);
        callback();
      },
    });
    const rl = createInterface({ input: process.stdin, output, terminal: true });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      rl.close();
      if (options.hidden) process.stderr.write('\n');
      fn();
    };
    const onAbort = () => finish(() => reject(new PromptInterrupted('interrupted')));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    rl.on('SIGINT', () => {
      process.stderr.write('\n');
      onAbort();
    });
    rl.on('close', () => finish(() => reject(new PromptInterrupted('input closed'))));
    rl.question(question, (answer) => finish(() => resolve(answer)));
    // Echo the question, then hide the typing.
    muted = Boolean(options.hidden);
  });
}

/** A yes/no question; anything but y or yes is no. */
export async function confirm(question: string, signal?: AbortSignal): Promise<boolean> {
  const answer = await ask(question, { signal });
  return /^\s*y(es)?\s*$/i.test(answer);
}

/** All of stdin as text, without one trailing newline (`--password-stdin`). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
