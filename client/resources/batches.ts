/** Batches: submit many jobs at once, follow them as one object, read every result as a stream. */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type * as BatchSchemas from '../../shared/wire/batches.ts';
import type { HttpClient } from '../http.ts';
import { everyItem } from '../paging.ts';
import { parseEventStream } from '../sse.ts';

export type BatchSubmission = z.input<typeof BatchSchemas.SubmitBatchBody>;
export type Batch = z.output<typeof BatchSchemas.BatchSchema>;
export type SubmittedBatch = z.output<typeof BatchSchemas.BatchCreatedSchema>;
export type BatchSummary = z.output<typeof BatchSchemas.BatchSummarySchema>;
export type BatchPage = z.output<typeof BatchSchemas.BatchListSchema>;
/** One line of a batch's results: the job's summary and its index in the batch. */
export type BatchResultLine = z.output<typeof BatchSchemas.BatchResultLineSchema>;

const path = (id: string) => `/api/batches/${encodeURIComponent(id)}`;

export class BatchesResource {
  constructor(private readonly http: HttpClient) {}

  /** Submits up to 1,000 jobs, all or nothing (422 `batch_invalid` names each refused job by index). */
  async submit(input: BatchSubmission, options: { idempotencyKey?: string; signal?: AbortSignal } = {}): Promise<SubmittedBatch> {
    const { body } = await this.http.request<SubmittedBatch>('POST', '/api/batches', {
      body: input,
      headers: { 'idempotency-key': options.idempotencyKey ?? randomUUID() },
      idempotent: true,
      signal: options.signal,
    });
    return body;
  }

  async get(id: string): Promise<Batch> {
    return (await this.http.request<Batch>('GET', path(id))).body;
  }

  async list(query: { limit?: number; cursor?: string } = {}): Promise<BatchPage> {
    return (await this.http.request<BatchPage>('GET', '/api/batches', { query: { ...query } })).body;
  }

  /** Every batch, newest first, page by page. */
  all(query: { limit?: number } = {}): AsyncGenerator<BatchSummary> {
    return everyItem((q) => this.list(q), query);
  }

  /** Cancels every unfinished job of the batch; resolves with the batch after the cancel. */
  async cancel(id: string): Promise<Batch> {
    return (await this.http.request<Batch>('DELETE', path(id))).body;
  }

  /** The batch each time its counts change, until it is completed (or `signal` aborts). */
  async *watch(id: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<Batch> {
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    const response = await this.http.stream('GET', `${path(id)}/events`, { accept: 'text/event-stream', signal });
    if (!response.body) return;
    try {
      for await (const message of parseEventStream(response.body, signal)) {
        if (message.event !== 'counts') continue;
        const batch = JSON.parse(message.data) as Batch;
        yield batch;
        if (batch.status === 'completed') return;
      }
    } finally {
      controller.abort();
    }
  }

  /** Every job's summary in submission order, read as the server streams it (bounded memory). */
  async *results(id: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<BatchResultLine> {
    const response = await this.http.stream('GET', `${path(id)}/results`, { accept: 'application/x-ndjson', signal: options.signal });
    if (!response.body) return;
    const decoder = new TextDecoder();
    let pending = '';
    for await (const chunk of response.body) {
      pending += decoder.decode(chunk as Uint8Array, { stream: true });
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line) yield JSON.parse(line) as BatchResultLine;
      }
    }
    if (pending.trim()) yield JSON.parse(pending) as BatchResultLine;
  }
}
