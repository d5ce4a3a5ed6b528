/**
 * Runs the abuser (abuser.ts) against the target given as JSON in argv until a line arrives on
 * stdin, then prints its report as JSON on stdout.
 */
import { createInterface } from 'node:readline';
import { type AbuserTarget, runAbuser } from './abuser.ts';

let stopped = false;
createInterface({ input: process.stdin }).once('line', () => (stopped = true));
const report = await runAbuser(JSON.parse(process.argv[2] ?? '{}') as AbuserTarget, () => stopped);
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exit(0);
