/** Text formatting for the client commands: tables, durations, percentages, timestamps. */
import { formatBytes as formatByteCount } from '../../shared/units.ts';

/** A column of {@link renderTable}. */
export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** @defaultValue 'left' */
  align?: 'left' | 'right';
}

/** A plain-text table with a header row, columns padded to their widest cell. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => (columns[i]?.align === 'right' ? value.padStart(widths[i] ?? 0) : value.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** `key  value` lines, keys padded. */
export function renderFields(fields: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(0, ...fields.map(([key]) => key.length));
  return fields.map(([key, value]) => `${key.padEnd(width)}  ${value}`.trimEnd()).join('\n');
}

/** `850ms`, `12.3s`, `4m05s`, `2h03m`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  const value = Math.max(0, ms);
  if (value < 1000) return `${Math.round(value)}ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(value / 1000);
  if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)}m${String(totalSeconds % 60).padStart(2, '0')}s`;
  const totalMinutes = Math.floor(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)}h${String(totalMinutes % 60).padStart(2, '0')}m`;
}

/** Progress in [0, 1] as a whole percentage. */
export function formatPercent(progress: number): string {
  return `${Math.floor(Math.min(1, Math.max(0, progress)) * 100)}%`;
}

/** An ISO timestamp as `YYYY-MM-DD HH:MM:SS` (UTC), or `-`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** A count with thousands separators. */
export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : value.toLocaleString('en-US');
}

/** Bytes as `512 B`, `3.2 MiB`; `-` when unknown. */
export function formatBytes(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : formatByteCount(value);
}

/** A number with at most `digits` significant digits. */
export function formatNumber(value: number, digits = 6): string {
  return Number.isInteger(value) ? formatCount(value) : String(Number(value.toPrecision(digits)));
}

/** A limit where -1 means unlimited. */
export function formatLimit(value: number): string {
  return value < 0 ? 'unlimited' : formatCount(value);
}
