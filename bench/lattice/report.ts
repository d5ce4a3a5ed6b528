/** The benchmark's verdicts: every ratio with its target beside it, and the answer checks. */
import { answered, log, type Measurement } from './children.ts';
import { round } from './measure.ts';

/** One ratio against its target. */
export interface TargetRow {
  kernel: string;
  lattice: string;
  measure: string;
  /** Catalytic's figure (ms, or bytes for memory) and what it is. */
  catalytic: number | null;
  basis: string;
  peer: number | null;
  ratio: number | null;
  /** The same ratio from the in-process measurement (no API, queue or database around the kernel). */
  in_process_ratio: number | null;
  target: number;
  met: boolean | null;
}

/** One answer compared with a peer's. */
export interface Check {
  check: string;
  lattice: string;
  ok: boolean;
  detail: string;
}

const number = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

export function ratio(peer: unknown, ours: unknown): number | null {
  const p = number(peer);
  const o = number(ours);
  return p !== null && o !== null && o > 0 ? round(p / o, 3) : null;
}

export class Verdicts {
  readonly targets: TargetRow[] = [];
  readonly checks: Check[] = [];

  /**
   * A "peer ÷ Catalytic ≥ target" row. `apiMs` is Catalytic's best `run_ms` through the API when
   * measured (the basis of the goal); otherwise the in-process figure stands in.
   */
  target(row: { kernel: string; lattice: string; measure: string; peer: unknown; inProcess: unknown; apiMs?: unknown; target: number }): void {
    const api = number(row.apiMs);
    const ours = api ?? number(row.inProcess);
    const value = ratio(row.peer, ours);
    this.targets.push({
      kernel: row.kernel,
      lattice: row.lattice,
      measure: row.measure,
      catalytic: ours,
      basis: api !== null ? 'API: best run_ms' : 'in process: median',
      peer: number(row.peer),
      ratio: value,
      in_process_ratio: ratio(row.peer, row.inProcess),
      target: row.target,
      met: value === null ? null : value >= row.target,
    });
  }

  check(check: string, lattice: string, ok: boolean, detail: string): void {
    this.checks.push({ check, lattice, ok, detail });
  }

  /** Compares one answer field of the measurements that answered; skipped ones are left out. */
  agree(check: string, lattice: string, field: string, measurements: Record<string, Measurement | undefined>): void {
    const values = Object.entries(measurements)
      .filter(([, m]) => answered(m))
      .map(([name, m]) => [name, m![field]] as const);
    if (values.length < 2) return;
    const ok = values.every(([, v]) => v === values[0]![1]);
    this.check(check, lattice, ok, values.map(([name, v]) => `${name} ${String(v)}`).join(', '));
  }

  /** Prints both tables to stderr. */
  print(): void {
    log('targets (ratio = peer ÷ Catalytic; basis says which Catalytic figure):');
    for (const row of this.targets) {
      const verdict = row.met === null ? 'not measured' : row.met ? 'met' : 'NOT met';
      log(
        `  ${row.kernel} | ${row.lattice} | ${row.measure}: ${row.ratio ?? '–'}x (target ≥ ${row.target}x) ${verdict}` +
          ` [Catalytic ${row.catalytic ?? '–'} (${row.basis}), peer ${row.peer === null ? '–' : round(row.peer)}; in process ${row.in_process_ratio ?? '–'}x]`,
      );
    }
    log('answer checks:');
    for (const c of this.checks) log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check} | ${c.lattice}: ${c.detail}`);
  }
}
