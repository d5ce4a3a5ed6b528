/**
 * The committed WebAssembly binaries are what their committed text assembles to: a change to a
 * .wat file that was not reassembled (node --import tsx worker/kernels/wasm/assemble.ts) fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WASM_DIR, assemble, watSources } from '../../worker/kernels/wasm/assemble.ts';

describe('WebAssembly kernels', () => {
  it('has a source for every kernel', () => {
    expect(watSources()).toContain('diffusion-stencil.wat');
  });

  it.each(watSources())('%s matches its committed binary', async (name) => {
    const committed = new Uint8Array(readFileSync(WASM_DIR + name.replace(/\.wat$/, '.wasm')));
    expect(Buffer.from(await assemble(name)).equals(Buffer.from(committed))).toBe(true);
  });
});
