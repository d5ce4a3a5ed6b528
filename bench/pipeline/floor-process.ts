/**
 * The pipeline's floor: the least a job system with PostgreSQL as its truth does per job, with
 * none of Catalytic's safety or fairness. `server`: POST /jobs inserts a row (one autocommit
 * statement) and adds a BullMQ job, then answers 202 — no auth, rate limit, validation, tenant
 * isolation, idempotency, quota or usage. `worker`: a BullMQ Worker (concurrency 50) whose
 * processor marks the row completed with a result (one autocommit statement) — no fairness, no
 * kernel, no webhook event, no progress. Both answer GET /ready once connected.
 *
 * Run as: node --import tsx floor-process.ts server|worker (DATABASE_URL, REDIS_URL, PORT, QUEUE).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';

const role = process.argv[2];
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const queueName = process.env.QUEUE ?? 'floor';
const prefix = process.env.PREFIX ?? 'floor';

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

let close: () => Promise<void> = async () => undefined;
if (role === 'server') {
  const queue = new Queue(queueName, { connection, prefix });
  close = () => queue.close();
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/ready') return void res.end('ok');
    if (req.method !== 'POST' || req.url !== '/jobs') return void res.writeHead(404).end();
    void (async () => {
      const text = await body(req);
      const id = randomUUID();
      await pool.query('insert into floor_jobs (id, body) values ($1, $2)', [id, text]);
      await queue.add('job', { id }, { jobId: id, removeOnComplete: true });
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id }));
    })().catch(() => res.writeHead(500).end());
  });
  server.keepAliveTimeout = 5_000;
  server.listen(Number(process.env.PORT), '127.0.0.1');
} else if (role === 'worker') {
  const worker = new Worker(
    queueName,
    async (job) => {
      await pool.query(`update floor_jobs set status = 'completed', result = $2 where id = $1`, [(job.data as { id: string }).id, '{"ok":true}']);
      return null;
    },
    { connection, prefix, concurrency: 50 },
  );
  worker.on('error', () => undefined);
  close = () => worker.close();
  createServer((_req, res) => res.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
} else {
  throw new Error('floor-process.ts server|worker');
}

process.on('SIGTERM', () => {
  void close()
    .then(() => pool.end())
    .finally(() => {
      connection.disconnect();
      process.exit(0);
    });
});
