/**
 * Diffusion's whole field as an artefact, and pictures: the field downloaded raw equals the
 * reference diffusion and the result links to it (a free plan's result says it is the summary
 * only); PNGs of components (every pixel the colour of its cell's label), diffusion (every pixel
 * the heat colour of its cell, the scale under it), a path on a 3-D slice and on an uploaded map
 * (its obstacles read from the map's bits), decoded by a decoder
 * of the tests' own; bad slices, a 3-D lattice without one, a picture past the plan and a job
 * without a picture get clear 4xx; the CLI and the SDK stream the same PNG; Chromium opens a
 * picture through the API and its screenshot shows the path's colour on every cell of the path.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLOUR_BAR_ROWS } from '../../api/pictures/colour-bar.ts';
import { BLOCKED, OPEN, PATH, heatColour, labelColour } from '../../api/pictures/picture-colours.ts';
import { CatalyticClient } from '../../client/index.ts';
import { resolveJob } from '../../shared/lattice/job.ts';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import { refBlocked, refDiffusion } from '../lattice/reference.ts';
import { runCli } from '../cli/stack.ts';
import { json, startWorker, stopWorker, submit, waitForJob } from '../pipeline/support.ts';
import { useTestApi } from '../support/api.ts';
import { useBrowser } from '../support/browser.ts';
import { useTestEnvironment } from '../support/context.ts';
import { decodePng, type DecodedPng, pixelAt } from '../support/png-decode.ts';
import type { CatalyticProcess } from '../support/processes.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { packBits } from './map-files.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
const browser = useBrowser();
let tenant: TestTenant;
let free: TestTenant;
let worker: CatalyticProcess;
const scratch = mkdtempSync(join(tmpdir(), 'catalytic-pictures-'));

beforeAll(async () => {
  tenant = await createTestTenant(env.db, { plan: 'professional' });
  free = await createTestTenant(env.db, { plan: 'free' });
  worker = await startWorker(env);
});

afterAll(async () => {
  await stopWorker(worker);
  rmSync(scratch, { recursive: true, force: true });
});

async function run(body: unknown, headers = tenant.headers): Promise<{ id: string; result: Record<string, unknown> }> {
  const job = await waitForJob(api, headers, (await submit(api, headers, body)).id);
  expect(job.status, JSON.stringify(job)).toBe('completed');
  return { id: job.id, result: job.result! };
}

async function get(path: string, headers: Record<string, string> = tenant.headers): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const response = await fetch(`${api.url}${path}`, { headers });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

async function picture(jobId: string, query = '', headers: Record<string, string> = tenant.headers): Promise<DecodedPng> {
  const answer = await get(`/api/jobs/${jobId}/picture${query}`, headers);
  expect(answer.status, answer.body.toString()).toBe(200);
  expect(answer.headers.get('content-type')).toBe('image/png');
  return decodePng(answer.body);
}

const colour = (paint: (out: Uint8Array, at: number) => void): number[] => {
  const out = new Uint8Array(3);
  paint(out, 0);
  return [...out];
};

describe('diffusion field and pictures', () => {
  const diffusionSpec = { shape: [30, 41], boundary: 'periodic', obstacles: { density: 0.3, seed: 3 } };
  const diffusionParams = { steps: 25, alpha: 0.2, sources: [{ cell: [5, 5], value: 1 }], initial: [{ cell: [20, 30], value: 50 }] };

  it('diffusion keeps its whole float32 field, equal to the reference; its result links to it; a free plan says summary only', async () => {
    const job = await run({ type: 'diffusion', lattice: diffusionSpec, params: diffusionParams, artefacts: ['field'] });
    expect(job.result['field']).toMatchObject({ shape: [30, 41] });
    expect(job.result['artefacts']).toEqual({
      stored: true,
      list: `/api/jobs/${job.id}/artefacts`,
      links: { field: `/api/jobs/${job.id}/artefacts/field?format=npy` },
      picture: `/api/jobs/${job.id}/picture`,
    });
    const list = await json<{ data: Array<{ name: string; dtype: string; shape: number[]; size: number }> }>(
      await api.request(`/api/jobs/${job.id}/artefacts`, { headers: tenant.headers }),
    );
    expect(list.data.map((a) => [a.name, a.dtype, a.shape, a.size])).toEqual([['field', '<f4', [30, 41], 30 * 41 * 4]]);
    const raw = await get(`/api/jobs/${job.id}/artefacts/field?format=raw`, { ...tenant.headers, 'accept-encoding': 'identity' });
    const field = new Float32Array(raw.body.buffer, raw.body.byteOffset, raw.body.length / 4);
    const { lattice, params } = resolveJob('diffusion', diffusionSpec, diffusionParams);
    const expected = refDiffusion(lattice, params);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(field[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-4);
    // The SDK streams the same bytes.
    const client = new CatalyticClient({ baseUrl: api.url, apiKey: tenant.apiKey });
    const sdk = Buffer.from(await (await client.jobs.downloadField(job.id, { format: 'raw' })).arrayBuffer());
    expect(sdk.equals(raw.body)).toBe(true);

    const small = await run({ type: 'diffusion', lattice: { shape: [8, 8] }, params: { steps: 2, alpha: 0.2, sources: [{ cell: [1, 1], value: 1 }] }, artefacts: ['field'] }, free.headers);
    expect(small.result['artefacts']).toEqual({ stored: false, note: 'The Free plan stores no artefacts: this result is its summary only' });
    expect(small.result['total_heat']).toBeCloseTo(2, 5);
  });

  it('components, diffusion and a path on a 3-D slice: every pixel is its cell\'s colour; the heat map has its scale', async () => {
    const componentsSpec = { shape: [23, 17], boundary: 'open', obstacles: { density: 0.45, seed: 12 } };
    const components = await run({ type: 'components', lattice: componentsSpec, artefacts: ['labels'] });
    const labelsRaw = await get(`/api/jobs/${components.id}/artefacts/labels?format=raw`, { ...tenant.headers, 'accept-encoding': 'identity' });
    const labels = new Uint32Array(labelsRaw.body.buffer, labelsRaw.body.byteOffset, labelsRaw.body.length / 4);
    const drawn = await picture(components.id, '?scale=3');
    expect([drawn.width, drawn.height]).toEqual([17 * 3, 23 * 3]);
    for (let r = 0; r < 23; r++) {
      for (let c = 0; c < 17; c++) {
        const want = colour((out, at) => labelColour(labels[r * 17 + c]!, out, at));
        expect(pixelAt(drawn, 3 * c + 1, 3 * r + 2), `cell ${r},${c} label ${labels[r * 17 + c]}`).toEqual(want);
      }
    }
    // Stable: the same job draws the same bytes.
    expect((await get(`/api/jobs/${components.id}/picture?scale=3`)).body.equals((await get(`/api/jobs/${components.id}/picture?scale=3`)).body)).toBe(true);

    const diffusion = await run({ type: 'diffusion', lattice: diffusionSpec, params: diffusionParams, artefacts: ['field'] });
    const heat = await picture(diffusion.id, '?scale=4');
    expect([heat.width, heat.height]).toEqual([41 * 4, 30 * 4 + COLOUR_BAR_ROWS]);
    expect(Number(heat.text['Scale-Min'])).toBe(diffusion.result['min']);
    expect(Number(heat.text['Scale-Max'])).toBe(diffusion.result['max']);
    const { lattice, params } = resolveJob('diffusion', diffusionSpec, diffusionParams);
    const blocked = refBlocked(lattice, [...params.sources, ...params.initial].map((p) => p.index));
    const fieldRaw = await get(`/api/jobs/${diffusion.id}/artefacts/field?format=raw`, { ...tenant.headers, 'accept-encoding': 'identity' });
    const field = new Float32Array(fieldRaw.body.buffer, fieldRaw.body.byteOffset, fieldRaw.body.length / 4);
    const [min, max] = [diffusion.result['min'] as number, diffusion.result['max'] as number];
    for (let i = 0; i < lattice.cells; i++) {
      const [r, c] = [Math.floor(i / 41), i % 41];
      const want = blocked[i] ? [...BLOCKED] : colour((out, at) => heatColour((field[i]! - min) / (max - min), out, at));
      expect(pixelAt(heat, 4 * c, 4 * r), `cell ${r},${c}`).toEqual(want);
    }
    // The bar runs from the low colour to the high one.
    const barRow = 30 * 4 + 8;
    expect(pixelAt(heat, 4, barRow)).toEqual(colour((out, at) => heatColour(0, out, at)));
    expect(pixelAt(heat, heat.width - 5, barRow)).toEqual(colour((out, at) => heatColour(1, out, at)));

    // A path through a 3-D lattice, drawn on the slices it crosses.
    const pathSpec = { shape: [6, 20, 24], boundary: 'open', obstacles: { density: 0.2, seed: 8 } };
    const path = await run({ type: 'shortest_path', lattice: pathSpec, params: { start: [2, 0, 0], end: [2, 19, 23] } });
    expect(path.result['reachable']).toBe(true);
    const cells = path.result['path'] as number[][];
    const pathLattice = resolveLattice(pathSpec);
    const pathBlocked = refBlocked(pathLattice, [pathLattice.strides[0]! * 2, 2 * pathLattice.strides[0]! + 19 * 24 + 23]);
    for (const index of [0, 2, 5]) {
      const slice = await picture(path.id, `?slice=0:${index}&scale=2`);
      expect([slice.width, slice.height]).toEqual([48, 40]);
      const onSlice = new Set(cells.filter((cell) => cell[0] === index).map((cell) => `${cell[1]},${cell[2]}`));
      for (let y = 0; y < 20; y++) {
        for (let x = 0; x < 24; x++) {
          const want = onSlice.has(`${y},${x}`) ? PATH : pathBlocked[index * 480 + y * 24 + x] ? BLOCKED : OPEN;
          expect(pixelAt(slice, 2 * x + 1, 2 * y + 1), `slice ${index} cell ${y},${x}`).toEqual([...want]);
        }
      }
    }
    // On an uploaded map the obstacles come from the map's bits, read from its blob.
    const mapCells = Uint8Array.from({ length: 13 * 19 }, (_, i) => (i % 7 === 3 || i % 11 === 5 ? 1 : 0));
    mapCells[0] = 0;
    mapCells[mapCells.length - 1] = 0;
    const uploaded = await fetch(`${api.url}/api/lattices/upload?shape=13,19`, {
      method: 'POST',
      headers: { ...tenant.headers, 'content-type': 'application/octet-stream' },
      body: packBits(mapCells),
    });
    expect(uploaded.status).toBe(201);
    const mapLattice = await json<{ id: string }>(uploaded);
    const onMap = await run({ type: 'shortest_path', lattice_id: mapLattice.id, params: { start: [0, 0], end: [12, 18] } });
    const mapPath = new Set(((onMap.result['path'] as number[][] | undefined) ?? []).map(([y, x]) => y! * 19 + x!));
    const mapPicture = await picture(onMap.id, '?scale=1');
    for (let i = 0; i < mapCells.length; i++) {
      const want = mapPath.has(i) ? PATH : mapCells[i] ? BLOCKED : OPEN;
      expect(pixelAt(mapPicture, i % 19, Math.floor(i / 19)), `map cell ${i}`).toEqual([...want]);
    }

    // Another axis: rows along axis 0, columns along axis 2.
    const side = await picture(path.id, '?slice=1:0&scale=1');
    expect([side.width, side.height]).toEqual([24, 6]);
    expect(pixelAt(side, 0, 2)).toEqual([...PATH]);
  });

  it('bad slices, a 3-D lattice without one, a picture past the plan and a job without a picture get clear 4xx', async () => {
    const cube = await run({ type: 'components', lattice: { shape: [5, 6, 7] }, artefacts: ['labels'] });
    const problem = async (path: string, headers: Record<string, string> = tenant.headers) => {
      const answer = await get(path, headers);
      return { status: answer.status, contentType: answer.headers.get('content-type'), ...(JSON.parse(answer.body.toString()) as { code: string; detail: string }) };
    };
    expect(await problem(`/api/jobs/${cube.id}/picture`)).toMatchObject({ status: 400, code: 'slice_invalid', contentType: 'application/problem+json' });
    expect((await problem(`/api/jobs/${cube.id}/picture`)).detail).toContain('?slice=axis:index');
    expect(await problem(`/api/jobs/${cube.id}/picture?slice=3:0`)).toMatchObject({ status: 400, code: 'slice_invalid', detail: 'axis 3 does not exist: the lattice has 3 axes' });
    expect(await problem(`/api/jobs/${cube.id}/picture?slice=1:6`)).toMatchObject({ status: 400, code: 'slice_invalid', detail: 'index 6 is outside axis 1 of side 6' });
    expect(await problem(`/api/jobs/${cube.id}/picture?slice=1-2`)).toMatchObject({ status: 400, code: 'slice_invalid' });
    expect(await problem(`/api/jobs/${cube.id}/picture?slice=0:1,2:1`)).toMatchObject({ status: 400, code: 'slice_invalid' });
    expect(await problem(`/api/jobs/${cube.id}/picture?slice=0:1,0:2`)).toMatchObject({ status: 400, code: 'slice_invalid', detail: 'axis 0 is fixed twice' });
    expect(await problem(`/api/jobs/${cube.id}/picture?slice=0:1&scale=0`)).toMatchObject({ status: 400, code: 'validation_failed' });
    expect((await picture(cube.id, '?slice=2:6&scale=1')).width).toBe(6);

    const flat = await run({ type: 'components', lattice: { shape: [10, 10] } }, free.headers);
    const none = await problem(`/api/jobs/${flat.id}/picture`, free.headers);
    expect(none).toMatchObject({ status: 404, code: 'not_found' });
    expect(none.detail).toContain('summary only');
    // Without artefacts a path is drawn from the result's own list.
    const freePath = await run({ type: 'shortest_path', lattice: { shape: [10, 10] }, params: { start: [0, 0], end: [9, 9] } }, free.headers);
    // The free plan draws 2^18 pixels: 10 cells at 52 pixels is 270,400.
    expect(await problem(`/api/jobs/${freePath.id}/picture?scale=52`, free.headers)).toMatchObject({
      status: 402,
      code: 'plan_limit_exceeded',
      limit: 'max_picture_pixels',
      value: 270_400,
    });
    const fitted = await picture(freePath.id, '', free.headers);
    expect(fitted.width).toBe(510);
    expect(pixelAt(fitted, 25, 25)).toEqual([...PATH]);
    const distances = await run({ type: 'distance_field', lattice: { shape: [10, 10] }, params: { sources: [[0, 0]] } });
    expect(await problem(`/api/jobs/${distances.id}/picture`)).toMatchObject({ status: 404, code: 'not_found' });
    expect(await problem(`/api/jobs/${cube.id}/picture?slice=0:1`, free.headers)).toMatchObject({ status: 404 });
  });

  it('the CLI saves the PNG the API serves; Chromium opens it through the API and its screenshot shows the path', async () => {
    const spec = { shape: [24, 32], boundary: 'open', obstacles: { density: 0.25, seed: 21 } };
    const path = await run({ type: 'shortest_path', lattice: spec, params: { start: [0, 0], end: [23, 31] } });
    expect(path.result['reachable']).toBe(true);
    const saved = join(scratch, 'path.png');
    const cli = await runCli(['result', path.id, '--png', saved, '--scale', '8'], { CATALYTIC_URL: api.url, CATALYTIC_API_KEY: tenant.apiKey, HOME: scratch });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stderr).toContain('Saved the picture');
    expect(readFileSync(saved).equals((await get(`/api/jobs/${path.id}/picture?scale=8`)).body)).toBe(true);
    const bad = await runCli(['result', path.id, '--png', join(scratch, 'x.png'), '--slice', '0:1'], { CATALYTIC_URL: api.url, CATALYTIC_API_KEY: tenant.apiKey, HOME: scratch });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('picture shows 2 axes');

    const page = await browser().newPage({ viewport: { width: 400, height: 300 }, deviceScaleFactor: 1 });
    try {
      await page.setExtraHTTPHeaders(tenant.headers);
      const response = await page.goto(`${api.url}/api/jobs/${path.id}/picture?scale=8`);
      expect(response?.status()).toBe(200);
      const shot = decodePng(await page.locator('img').screenshot());
      expect([shot.width, shot.height]).toEqual([32 * 8, 24 * 8]);
      const cells = path.result['path'] as number[][];
      for (const [y, x] of cells) expect(pixelAt(shot, 8 * x! + 4, 8 * y! + 4), `path cell ${y},${x}`).toEqual([...PATH]);
      const onPath = new Set(cells.map(([y, x]) => `${y},${x}`));
      const lattice = resolveLattice(spec);
      const blocked = refBlocked(lattice, [0, lattice.cells - 1]);
      let others = 0;
      for (let i = 0; i < lattice.cells; i++) {
        const [y, x] = [Math.floor(i / 32), i % 32];
        if (onPath.has(`${y},${x}`)) continue;
        expect(pixelAt(shot, 8 * x + 4, 8 * y + 4), `cell ${y},${x}`).toEqual([...(blocked[i] ? BLOCKED : OPEN)]);
        others++;
      }
      expect(others).toBe(lattice.cells - cells.length);
    } finally {
      await page.close();
    }
  }, 60_000);
});
