/** A job's result as a table, per kernel type. */
import type { ComponentsResult, DiffusionResult, DistanceFieldResult, Job, MinCostPathResult, PercolationResult, ShortestPathResult } from '../../client/index.ts';
import { formatBytes, formatCount, formatDuration, formatNumber, renderFields, renderTable } from './format.ts';

/** Cells of a long path shown at each end before eliding the middle. */
const PATH_ENDS = 5;

function cell(coords: readonly number[]): string {
  return `(${coords.join(',')})`;
}

function pathText(result: Pick<ShortestPathResult, 'path' | 'path_omitted'>): string {
  if (result.path_omitted) return '(omitted: too long to return)';
  if (result.path.length === 0) return '-';
  if (result.path.length <= 2 * PATH_ENDS + 1) return result.path.map(cell).join(' ');
  const head = result.path.slice(0, PATH_ENDS).map(cell).join(' ');
  const tail = result.path.slice(-PATH_ENDS).map(cell).join(' ');
  return `${head} ... ${tail}  (${formatCount(result.path.length)} cells)`;
}

function shortestPathTable(result: ShortestPathResult): string {
  if (result.pairs) {
    const rows = result.pairs.map((pair, i) => ({ i, pair }));
    const table = renderTable(rows, [
      { header: 'PAIR', value: (r) => String(r.i), align: 'right' },
      { header: 'LENGTH', value: (r) => (r.pair.length === null ? 'unreachable' : formatCount(r.pair.length)), align: 'right' },
      { header: 'VISITED', value: (r) => formatCount(r.pair.visited), align: 'right' },
      { header: 'PATH', value: (r) => pathText(r.pair) },
    ]);
    return `${renderFields([['pairs', formatCount(result.pairs.length)], ['memory', formatBytes(result.memory_bytes)]])}\n\n${table}`;
  }
  return renderFields([
    ['reachable', result.reachable ? 'yes' : 'no'],
    ['length', result.length === null ? '-' : formatCount(result.length)],
    ['visited', formatCount(result.visited)],
    ['memory', formatBytes(result.memory_bytes)],
    ['path', pathText(result)],
  ]);
}

function minCostPathTable(result: MinCostPathResult): string {
  return renderFields([
    ['reachable', result.reachable ? 'yes' : 'no'],
    ['cost', result.cost === null ? '-' : formatCount(result.cost)],
    ['length', result.length === null ? '-' : formatCount(result.length)],
    ['visited', formatCount(result.visited)],
    ['memory', formatBytes(result.memory_bytes)],
    ['path', pathText(result)],
  ]);
}

function distanceFieldTable(result: DistanceFieldResult): string {
  const summary = renderFields([
    ['sources', formatCount(result.sources)],
    ['reached', formatCount(result.reached)],
    ['unreachable', formatCount(result.unreachable)],
    ['max', result.max === null ? '-' : formatCount(result.max)],
    ['mean', result.mean === null ? '-' : formatNumber(result.mean)],
    ['memory', formatBytes(result.memory_bytes)],
  ]);
  const width = result.histogram.bin_width;
  const bins = result.histogram.counts
    .map((count, k) => ({ k, count }))
    .filter((bin) => bin.count > 0)
    .map((bin) => ({ distances: width === 1 ? formatCount(bin.k) : `${formatCount(bin.k * width)}-${formatCount((bin.k + 1) * width - 1)}`, count: bin.count }));
  if (bins.length === 0) return summary;
  const histogram = renderTable(bins, [
    { header: 'DISTANCE', value: (b) => b.distances, align: 'right' },
    { header: 'CELLS', value: (b) => formatCount(b.count), align: 'right' },
  ]);
  return `${summary}\n\n${histogram}`;
}

function percolationTable(result: PercolationResult): string {
  const summary = renderFields([
    ['seed', String(result.seed)],
    ['spans axis 0', result.spans_axis0_below_density === null ? 'never' : `below density ${formatNumber(result.spans_axis0_below_density)}`],
    ['memory', formatBytes(result.memory_bytes)],
  ]);
  const table = renderTable(result.points, [
    { header: 'DENSITY', value: (p) => formatNumber(p.density), align: 'right' },
    { header: 'OPEN', value: (p) => formatCount(p.open_cells), align: 'right' },
    { header: 'LARGEST', value: (p) => formatCount(p.largest), align: 'right' },
    { header: 'FRACTION', value: (p) => formatNumber(p.largest_fraction), align: 'right' },
    { header: 'SPANS', value: (p) => (p.spans_axis0 ? 'yes' : 'no') },
  ]);
  return `${summary}\n\n${table}`;
}

function componentsTable(result: ComponentsResult): string {
  const summary = renderFields([
    ['clusters', formatCount(result.count)],
    ['largest', formatCount(result.largest)],
    ['spans axis 0', result.spans_axis0 ? 'yes' : 'no'],
    ['memory', formatBytes(result.memory_bytes)],
  ]);
  const bins = result.histogram
    .map((count, k) => ({ k, count }))
    .filter((bin) => bin.count > 0)
    .map((bin) => ({ sizes: bin.k === 0 ? '1' : `${formatCount(2 ** bin.k)}-${formatCount(2 ** (bin.k + 1) - 1)}`, count: bin.count }));
  if (bins.length === 0) return summary;
  const histogram = renderTable(bins, [
    { header: 'CLUSTER SIZE', value: (b) => b.sizes, align: 'right' },
    { header: 'CLUSTERS', value: (b) => formatCount(b.count), align: 'right' },
  ]);
  return `${summary}\n\n${histogram}`;
}

function diffusionTable(result: DiffusionResult): string {
  return renderFields([
    ['total heat', formatNumber(result.total_heat)],
    ['min', formatNumber(result.min)],
    ['max', formatNumber(result.max)],
    ['mean', formatNumber(result.mean)],
    ['field', `${result.field.shape.join('x')} block means (${formatCount(result.field.values.length)} values; --json for them)`],
    ['memory', formatBytes(result.memory_bytes)],
  ]);
}

/** The result of a completed job as text, with a header line about the job. */
export function renderResult(job: Job, result: unknown): string {
  const header = `job ${job.id}  ${job.type}  ${job.status}  queued ${formatDuration(job.queue_wait_ms)}  ran ${formatDuration(job.run_ms)}`;
  let body: string;
  switch (job.type) {
    case 'shortest_path':
      body = shortestPathTable(result as ShortestPathResult);
      break;
    case 'components':
      body = componentsTable(result as ComponentsResult);
      break;
    case 'diffusion':
      body = diffusionTable(result as DiffusionResult);
      break;
    case 'distance_field':
      body = distanceFieldTable(result as DistanceFieldResult);
      break;
    case 'min_cost_path':
      body = minCostPathTable(result as MinCostPathResult);
      break;
    case 'percolation':
      body = percolationTable(result as PercolationResult);
      break;
    default:
      body = JSON.stringify(result, null, 2);
  }
  return `${header}\n\n${body}${artefactsLine(job.id, result)}`;
}

/** Where the full arrays are (or that the plan keeps none), and the commands that fetch them. */
function artefactsLine(id: string, result: unknown): string {
  const artefacts = (result as { artefacts?: { stored: boolean; links?: Record<string, string>; note?: string } } | null)?.artefacts;
  if (!artefacts) return '';
  if (!artefacts.stored) return `\n\n${artefacts.note ?? 'No artefacts were kept: this result is its summary only'}`;
  const names = Object.keys(artefacts.links ?? {});
  const downloads = names.map((name) => `catalytic result ${id} --download ${name}.npy`);
  return `\n\nartefacts: ${names.length > 0 ? names.join(', ') : 'none'}\n${[...downloads, `catalytic result ${id} --png picture.png`].map((line) => `  ${line}`).join('\n')}`;
}
