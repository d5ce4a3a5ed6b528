/**
 * Which artefacts each job type can store, and which of them it stores only when its body lists
 * them in `artefacts` (docs/http-api.md › Artefacts). Per-cell arrays (a components job's
 * `labels`, a diffusion's `field`: 4 bytes a cell) cost the job's run time and the tenant's
 * storage, so they are opt-in, and so are cluster sizes, which need every cell labelled; a path
 * (the result may omit a long one) is stored whether listed or not, so a result is never
 * incomplete without its artefact.
 */
import type { KernelType } from '../lattice/types.ts';

/** Every artefact a job of each type can store; the names its body's `artefacts` may list. */
export const ARTEFACT_NAMES = {
  components: ['labels', 'component_sizes'],
  shortest_path: ['path'],
  diffusion: ['field'],
} as const satisfies Partial<Record<KernelType, readonly string[]>>;

/** Artefacts stored only when the job asks for them. */
export const OPT_IN_ARTEFACTS: ReadonlySet<string> = new Set(['labels', 'component_sizes', 'field']);

/**
 * Opt-in artefacts another one brings along: `component_sizes` needs every cell labelled (a pass
 * that costs more than the components kernel itself), so it is opt-in too, and comes with `labels`.
 */
const IMPLIED_BY: Readonly<Record<string, string>> = { component_sizes: 'labels' };

/** The body field that asks for opt-in artefacts, as problems and notes name it. */
export const ARTEFACTS_OPTION = 'artefacts';

/** What deciding reads of a job: its type and the artefacts its body listed (null: none). */
export interface ArtefactRequest {
  type: string;
  artefacts?: readonly string[] | null;
}

/** The artefacts a job of this type can store (none for most types). */
export function artefactNamesOf(type: string): readonly string[] {
  return (ARTEFACT_NAMES as Partial<Record<string, readonly string[]>>)[type] ?? [];
}

/** Whether a finished job stores the artefact `name`: one of its type's, and listed when it is opt-in. */
export function wantsArtefact(job: ArtefactRequest, name: string): boolean {
  if (!artefactNamesOf(job.type).includes(name)) return false;
  const listed = job.artefacts ?? [];
  const implied = IMPLIED_BY[name];
  return !OPT_IN_ARTEFACTS.has(name) || listed.includes(name) || (implied !== undefined && listed.includes(implied));
}

/** The opt-in artefacts of the job's type it did not ask for (the listing names them). */
export function artefactsNotAskedFor(job: ArtefactRequest): string[] {
  return artefactNamesOf(job.type).filter((name) => OPT_IN_ARTEFACTS.has(name) && !wantsArtefact(job, name));
}

/** The artefacts a parsed job body lists (only some types' bodies have the field); null for none. */
export function artefactsListed(input: object): string[] | null {
  const listed = (input as { artefacts?: readonly string[] }).artefacts;
  return listed && listed.length > 0 ? [...new Set(listed)] : null;
}
