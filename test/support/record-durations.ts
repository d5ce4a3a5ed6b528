/**
 * `npm run test:durations [results.json]`: rewrites file-durations.json, the durations the
 * longest-first sequencer falls back on in a fresh clone, from the ones vitest recorded in this
 * checkout's cache (or the results.json given). Run it after a full `npm test` on the 2-core
 * machine: a file run alone takes less than beside another. Files that no longer exist are dropped;
 * files the cache does not know keep their entry.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = fileURLToPath(new URL('./file-durations.json', import.meta.url));

/** The results.json vitest wrote for the (only, unnamed) project. */
function cacheFiles(): string[] {
  const dir = join(ROOT, 'node_modules/.vite/vitest');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((hash) => join(dir, hash, 'results.json')).filter((file) => existsSync(file));
}

const sources = process.argv.length > 2 ? process.argv.slice(2) : cacheFiles();
if (sources.length === 0) throw new Error('no results.json: run `npm test` first');
const durations: Record<string, number> = JSON.parse(readFileSync(OUT, 'utf8')) as Record<string, number>;
for (const source of sources) {
  const { results } = JSON.parse(readFileSync(source, 'utf8')) as { results: Array<[string, { duration: number }]> };
  for (const [key, { duration }] of results) durations[key.slice(key.indexOf(':') + 1)] = Math.round(duration);
}
const kept = Object.entries(durations)
  .filter(([path]) => existsSync(join(ROOT, path)))
  .sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
writeFileSync(OUT, `${JSON.stringify(Object.fromEntries(kept), null, 2)}\n`);
console.log(`${kept.length} files in ${OUT}`);
