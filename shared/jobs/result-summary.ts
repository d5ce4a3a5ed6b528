/**
 * A result's summary (`job_results.summary`, what job lists show): its top-level fields that are
 * not lists or objects — the same fields `job_result_summary(result)` in PostgreSQL keeps
 * (migrations 0009 and 0027), worked out by the writer so the database does not run that function
 * once per stored result.
 */
export function resultSummary(result: Record<string, unknown>): Record<string, unknown> {
  const summary: Record<string, unknown> = {};
  for (const key of Object.keys(result)) {
    const raw = result[key] as { toJSON?: (key: string) => unknown } | null | undefined;
    // An object that writes itself as something else (toJSON) counts as what it writes.
    const value = typeof raw?.toJSON === 'function' ? raw.toJSON(key) : raw;
    // What JSON writes as a string, number, boolean or null; undefined and functions it leaves out.
    if (value === null || typeof value === 'string' || typeof value === 'boolean') summary[key] = value;
    else if (typeof value === 'number') summary[key] = Number.isFinite(value) ? value : null;
  }
  return summary;
}
