/**
 * Submit groups (docs/architecture.md › Submit groups): single submissions of one tenant written by
 * one statement share one queue entry, a chunk run by the batch chunk path. Its id is
 * `<uuid>.<SUBMIT_GROUP_ENTRY>`, so the chunk's `job_chunks` row knows it belongs to no batch.
 */
import { randomUUID } from 'node:crypto';

/** The second part of a submit group's entry id (a batch chunk's is its number). */
export const SUBMIT_GROUP_ENTRY = 'g';

/** A new submit group's entry id. */
export function submitGroupEntryId(): string {
  return `${randomUUID()}.${SUBMIT_GROUP_ENTRY}`;
}
