/** Refusals of bad specs and parameters: each with its stable code and the field at fault. */
import { describe, expect, it } from 'vitest';
import { isLatticeValidationError, LatticeValidationError } from '../../shared/lattice/errors.ts';
import { parseParams, resolveJob, resolveParsedParams } from '../../shared/lattice/job.ts';
import { checkLatticeSpec, checkSpec, countCells, parseLattice, resolveLattice } from '../../shared/lattice/resolve.ts';
import { DiffusionParamsSchema, LatticeSpecSchema, ShortestPathParamsSchema } from '../../shared/lattice/schema.ts';
import type { KernelType } from '../../shared/lattice/types.ts';

function refusal(run: () => unknown): { code: string; field: string; message: string } {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(LatticeValidationError);
    const { code, field, message } = err as LatticeValidationError;
    return { code, field, message };
  }
  throw new Error('expected a LatticeValidationError');
}

describe('lattice specs', () => {
  it('accepts a shape, a cube, both boundaries and both kinds of obstacles', () => {
    expect(checkLatticeSpec({ shape: [3, 4, 5] })).toEqual({
      dimensions: 3,
      shape: [3, 4, 5],
      cells: 60,
      boundary: 'open',
      obstacles: 'none',
    });
    expect(checkLatticeSpec({ dimensions: 10, size: 9, boundary: 'periodic', obstacles: { density: 0.2, seed: 7 } })).toMatchObject({
      cells: 9 ** 10,
      boundary: 'periodic',
      obstacles: 'procedural',
    });
    expect(checkLatticeSpec({ shape: [2, 2], obstacles: { blocked: [[0, 1], [0, 1]] } }).obstacles).toBe('explicit');
  });

  it('refuses bad dimensions', () => {
    expect(refusal(() => resolveLattice({ shape: [] }))).toMatchObject({ code: 'lattice_invalid', field: 'shape' });
    expect(refusal(() => resolveLattice({ shape: new Array(11).fill(2) }))).toMatchObject({ code: 'lattice_invalid', field: 'shape' });
    expect(refusal(() => resolveLattice({ dimensions: 0, size: 3 }))).toMatchObject({ code: 'lattice_invalid', field: 'dimensions' });
    expect(refusal(() => resolveLattice({ dimensions: 11, size: 3 }))).toMatchObject({ code: 'lattice_invalid', field: 'dimensions' });
    expect(refusal(() => resolveLattice({ shape: [3, 0] }))).toMatchObject({ code: 'lattice_invalid', field: 'shape[1]' });
    expect(refusal(() => resolveLattice({ shape: [3, 2.5] }))).toMatchObject({ code: 'lattice_invalid', field: 'shape[1]' });
    expect(refusal(() => resolveLattice({ size: 3 }))).toMatchObject({ code: 'lattice_invalid', field: 'dimensions' });
    expect(refusal(() => resolveLattice({ shape: [3], size: 3 }))).toMatchObject({ code: 'lattice_invalid', field: 'shape' });
    expect(refusal(() => resolveLattice({}))).toMatchObject({ code: 'lattice_invalid' });
    expect(refusal(() => resolveLattice({ shape: [3], boundary: 'mirror' }))).toMatchObject({ code: 'lattice_invalid', field: 'boundary' });
    expect(refusal(() => resolveLattice({ shape: [3], extra: 1 }))).toMatchObject({ code: 'lattice_invalid' });
    expect(refusal(() => resolveLattice('not a spec'))).toMatchObject({ code: 'lattice_invalid' });
  });

  it('refuses more than 2^32 cells, and accepts exactly 2^32', () => {
    expect(refusal(() => resolveLattice({ dimensions: 3, size: 1626 }))).toMatchObject({ code: 'too_many_cells', field: 'size' });
    expect(refusal(() => resolveLattice({ shape: [65536, 65537] }))).toMatchObject({ code: 'too_many_cells', field: 'shape' });
    expect(refusal(() => resolveLattice({ dimensions: 10, size: 2 ** 32 }))).toMatchObject({ code: 'too_many_cells' });
    expect(resolveLattice({ shape: [65536, 65536] }).cells).toBe(2 ** 32);
    expect(countCells({ dimensions: 10, size: 10 })).toBe(2 ** 32 + 1);
    expect(countCells({ shape: [1024, 1024, 1024] })).toBe(2 ** 30);
  });

  it('refuses an obstacle outside the shape, naming it', () => {
    const error = refusal(() => resolveLattice({ shape: [3, 4], obstacles: { blocked: [[0, 0], [2, 4]] } }));
    expect(error).toMatchObject({ code: 'cell_out_of_bounds', field: 'obstacles.blocked[1][1]' });
    expect(error.message).toContain('[2, 4]');
    expect(refusal(() => resolveLattice({ shape: [3, 4], obstacles: { blocked: [[0]] } }))).toMatchObject({
      code: 'cell_out_of_bounds',
      field: 'obstacles.blocked[0]',
    });
  });

  it('refuses bad procedural parameters', () => {
    expect(refusal(() => resolveLattice({ shape: [3], obstacles: { density: 1.5, seed: 1 } }))).toMatchObject({ code: 'lattice_invalid' });
    expect(refusal(() => resolveLattice({ shape: [3], obstacles: { density: 0.5, seed: -1 } }))).toMatchObject({ code: 'lattice_invalid' });
  });

  it('sorts and dedupes an explicit list into indices', () => {
    const lattice = resolveLattice({ shape: [3, 4], obstacles: { blocked: [[2, 3], [0, 1], [2, 3]] } });
    expect(lattice.obstacles).toEqual({ kind: 'explicit', blocked: new Float64Array([1, 11]) });
    expect(lattice.strides).toEqual([4, 1]);
  });

  it('parses once into the canonical spec, its summary and its geometry', () => {
    const checked = parseLattice({ shape: [3, 4], obstacles: { blocked: [[2, 3], [0, 1], [2, 3]] } });
    expect(checked.spec).toEqual({ shape: [3, 4], boundary: 'open', obstacles: { blocked: [[0, 1], [2, 3]] } });
    expect(checked.summary).toEqual({ dimensions: 2, shape: [3, 4], cells: 12, boundary: 'open', obstacles: 'explicit' });
    expect(checked.geometry).toEqual({ shape: [3, 4], strides: [4, 1], dimensions: 2 });
    expect(parseLattice({ dimensions: 3, size: 2, boundary: 'periodic' }).geometry).toEqual({ shape: [2, 2, 2], strides: [4, 2, 1], dimensions: 3 });
    expect(refusal(() => parseLattice({ shape: [3, 4], obstacles: { blocked: [[3, 0]] } }))).toMatchObject({
      code: 'cell_out_of_bounds',
      field: 'obstacles.blocked[0][0]',
    });
    expect(refusal(() => parseLattice({ shape: [3], extra: 1 }))).toMatchObject({ code: 'lattice_invalid' });
  });

  it('checks a spec the schema parsed with the same checks across fields', () => {
    expect(checkSpec({ shape: [3, 4], boundary: 'open', obstacles: { blocked: [[1, 1], [0, 0]] } }).spec.obstacles).toEqual({ blocked: [[0, 0], [1, 1]] });
    expect(refusal(() => checkSpec({ dimensions: 3, size: 1626, boundary: 'open' }))).toMatchObject({ code: 'too_many_cells', field: 'size' });
    expect(refusal(() => checkSpec({ boundary: 'open' }))).toMatchObject({ code: 'lattice_invalid', field: 'dimensions' });
  });

  it('exposes the same checks through the zod schema', () => {
    const parsed = LatticeSpecSchema.safeParse({ shape: [3, 4], obstacles: { blocked: [[5, 0]] } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({ path: ['obstacles', 'blocked', 0, 0], params: { code: 'cell_out_of_bounds' } });
    expect(LatticeSpecSchema.safeParse({ dimensions: 5, size: 100 }).error?.issues[0]).toMatchObject({ params: { code: 'too_many_cells' } });
    expect(LatticeSpecSchema.parse({ shape: [2] })).toEqual({ shape: [2], boundary: 'open' });
  });
});

describe('job parameters', () => {
  const spec = { shape: [5, 6] };

  it('parses parameters once, then checks them against a checked lattice’s geometry', () => {
    const { geometry } = parseLattice(spec);
    const params = parseParams('diffusion', { steps: 2, alpha: 0.1 });
    expect(params).toEqual({ steps: 2, alpha: 0.1, sources: [], initial: [] });
    expect(resolveParsedParams('diffusion', geometry, params)).toEqual({ type: 'diffusion', steps: 2, alpha: 0.1, sources: [], initial: [] });
    expect(resolveParsedParams('shortest_path', geometry, { start: [1, 0], end: [4, 5], connectivity: 'axis' })).toEqual({ type: 'shortest_path', start: 6, end: 29, pairs: null, connectivity: 'axis' });
    expect(refusal(() => resolveParsedParams('shortest_path', geometry, { start: [5, 0], end: [0, 0], connectivity: 'axis' }))).toMatchObject({
      code: 'cell_out_of_bounds',
      field: 'params.start[0]',
    });
    expect(refusal(() => resolveParsedParams('diffusion', parseLattice({ shape: [2, 2, 2] }).geometry, parseParams('diffusion', { steps: 1, alpha: 0.2 })))).toMatchObject({
      code: 'params_invalid',
      field: 'params.alpha',
    });
    expect(refusal(() => parseParams('components', { extra: true }))).toMatchObject({ code: 'params_invalid' });
    expect(refusal(() => parseParams('teleport' as KernelType, {}))).toMatchObject({ code: 'params_invalid', field: 'type' });
  });

  it('resolves cells to indices', () => {
    expect(resolveJob('shortest_path', spec, { start: [0, 0], end: [4, 5] }).params).toEqual({ type: 'shortest_path', start: 0, end: 29, pairs: null, connectivity: 'axis' });
    expect(resolveJob('components', spec, {}).params).toEqual({ type: 'components', connectivity: 'axis' });
    expect(resolveJob('components', spec, { connectivity: 'full' }).params).toEqual({ type: 'components', connectivity: 'full' });
    expect(resolveJob('diffusion', spec, { steps: 3, alpha: 0.1, sources: [{ cell: [1, 1], value: 2 }] }).params).toEqual({
      type: 'diffusion',
      steps: 3,
      alpha: 0.1,
      sources: [{ index: 7, value: 2 }],
      initial: [],
    });
  });

  it('refuses a start or end outside the lattice', () => {
    expect(refusal(() => resolveJob('shortest_path', spec, { start: [5, 0], end: [0, 0] }))).toMatchObject({
      code: 'cell_out_of_bounds',
      field: 'params.start[0]',
    });
    expect(refusal(() => resolveJob('shortest_path', spec, { start: [0, 0], end: [0, 0, 0] }))).toMatchObject({
      code: 'cell_out_of_bounds',
      field: 'params.end',
    });
    expect(refusal(() => resolveJob('shortest_path', spec, { start: [0, -1], end: [0, 0] }))).toMatchObject({
      code: 'params_invalid',
      field: 'params.start[1]',
    });
    expect(refusal(() => resolveJob('shortest_path', spec, { start: [0, 0] }))).toMatchObject({ code: 'params_invalid', field: 'params.end' });
  });

  it('refuses unstable or malformed diffusion parameters', () => {
    expect(refusal(() => resolveJob('diffusion', spec, { steps: 1, alpha: 0.3 }))).toMatchObject({
      code: 'params_invalid',
      field: 'params.alpha',
    });
    expect(refusal(() => resolveJob('diffusion', spec, { steps: -1, alpha: 0.1 }))).toMatchObject({ code: 'params_invalid', field: 'params.steps' });
    expect(refusal(() => resolveJob('diffusion', spec, { steps: 1, alpha: 0 }))).toMatchObject({ code: 'params_invalid', field: 'params.alpha' });
    expect(
      refusal(() => resolveJob('diffusion', spec, { steps: 1, alpha: 0.1, sources: [{ cell: [9, 9], value: 1 }] })),
    ).toMatchObject({ code: 'cell_out_of_bounds', field: 'params.sources[0].cell[0]' });
    expect(refusal(() => resolveJob('components', spec, { extra: true }))).toMatchObject({ code: 'params_invalid' });
  });

  it('refuses an unknown type', () => {
    expect(refusal(() => resolveJob('teleport' as KernelType, spec, {}))).toMatchObject({ code: 'params_invalid', field: 'type' });
  });

  it('matches errors that lost their class by name and code', () => {
    const crossed = JSON.parse(JSON.stringify(new LatticeValidationError('too_many_cells', 'shape', 'too big'))) as unknown;
    expect(isLatticeValidationError(crossed)).toBe(true);
    expect(isLatticeValidationError(new Error('x'))).toBe(false);
  });

  it('keeps the parameter schemas plain and described, for OpenAPI', () => {
    expect(ShortestPathParamsSchema.shape.start.description).toBeTruthy();
    expect(DiffusionParamsSchema.shape.alpha.description).toMatch(/1\/\(2/);
  });
});
