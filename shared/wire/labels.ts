/**
 * Labels on jobs and batches: up to 16 key/value pairs to find them again (`sweep: "42"`), and the
 * `k:v` filter form the list and cancel routes take.
 */
import './openapi-zod.ts';
import { z } from 'zod';

/** Most labels on a job or a batch. */
export const MAX_LABELS = 16;

/** A label key: lower-case letters, digits and `_ . / -`, starting with a letter or digit. */
const LABEL_KEY = /^[a-z0-9][a-z0-9_./-]{0,62}$/;
export const LabelKeySchema = z.string().regex(LABEL_KEY, { error: 'must be 1–63 of a-z 0-9 _ . / - starting with a letter or digit' });
export const LabelValueSchema = z.string().regex(/^[A-Za-z0-9_.:/+=@-]{0,128}$/, { error: 'must be at most 128 of A-Z a-z 0-9 _ . : / + = @ -' });

/** The limits of a label set, as JSON Schema states them (zod-to-openapi's types lack `propertyNames`). */
const LABEL_RULES = { maxProperties: MAX_LABELS, propertyNames: { pattern: LABEL_KEY.source } };

export const LabelsSchema = z
  .record(LabelKeySchema, LabelValueSchema)
  .refine((labels) => Object.keys(labels).length <= MAX_LABELS, { error: `must have at most ${MAX_LABELS} labels` })
  .describe(`Up to ${MAX_LABELS} key/value pairs to find and filter by (\`sweep: "42"\`)`)
  .openapi('Labels', LABEL_RULES);

/** `k:v` filters (one or several, all must match), as an object for `labels @> …`. */
export const LabelFilterSchema = z
  .union([z.string(), z.array(z.string()).max(MAX_LABELS)])
  .transform((value, ctx) => {
    const out: Record<string, string> = {};
    for (const pair of Array.isArray(value) ? value : [value]) {
      const at = pair.indexOf(':');
      const key = LabelKeySchema.safeParse(pair.slice(0, Math.max(0, at)));
      const val = LabelValueSchema.safeParse(pair.slice(at + 1));
      if (at < 1 || !key.success || !val.success) {
        ctx.addIssue({ code: 'custom', message: `"${pair.slice(0, 80)}" is not a label filter key:value` });
        return z.NEVER;
      }
      out[key.data] = val.data;
    }
    return out;
  })
  .describe('`key:value`; repeat for several (all must match)');
