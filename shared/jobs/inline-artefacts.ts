/**
 * Artefacts kept in a job's result row (`job_results.artefacts`, migration 0025) rather than as
 * blobs: small ones of plans with no storage quota (worker/job-artefacts.ts decides). The API
 * lists and serves them exactly as stored ones (api/artefacts/store.ts).
 */
import type { ArrayMeta } from '../blobs/npy-header.ts';

/** One artefact in the row: its dtype and shape, its size and sha256, and its raw bytes in base64. */
export interface InlineArtefact {
  meta: ArrayMeta;
  size: number;
  sha256: string;
  data: string;
}

/** A result row's artefacts by name. */
export type InlineArtefacts = Record<string, InlineArtefact>;
