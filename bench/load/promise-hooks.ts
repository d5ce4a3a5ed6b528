/**
 * What Node 20's AsyncLocalStorage costs a request through its promise hooks: 2,000 concurrent
 * async "requests" of ~100 promises each, CPU time per request, with each request inside a
 * storage (`als`) or not (`plain`). Once any storage is entered the hooks run for every promise
 * of the process (docs/performance.md › The API without AsyncLocalStorage).
 *
 *   node --import tsx bench/load/promise-hooks.ts plain|als
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const storage = new AsyncLocalStorage<{ id: number }>();
const inside = process.argv[2] === 'als';

async function leaf(i: number): Promise<number> {
  await null;
  return i + 1;
}
async function middle(i: number): Promise<number> {
  let sum = 0;
  for (let k = 0; k < 5; k++) sum += await leaf(i + k);
  return sum;
}
async function request(i: number): Promise<number> {
  let sum = 0;
  for (let k = 0; k < 8; k++) sum += await middle(i + k);
  await Promise.all([leaf(1), leaf(2)]);
  return sum;
}
async function round(requests: number): Promise<void> {
  const all: Array<Promise<number>> = [];
  for (let i = 0; i < requests; i++) all.push(inside ? storage.run({ id: i }, () => request(i)) : request(i));
  await Promise.all(all);
}

const REQUESTS = 2000;
const ROUNDS = 20;
await round(REQUESTS);
const cpu = process.cpuUsage();
for (let r = 0; r < ROUNDS; r++) await round(REQUESTS);
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ mode: inside ? 'als' : 'plain', cpu_us_per_request: Number(((used.user + used.system) / (REQUESTS * ROUNDS)).toFixed(2)) }));
