/**
 * The yardsticks, in a process of their own on the same machine, with no middleware:
 * - `GET /ping`: a bare Koa JSON route, no database — the ceiling of HTTP on these cores;
 * - `GET /floor/jobs/:id` (when DATABASE_URL and REDIS_URL are set): one Redis INCR (what a
 *   shared rate limit costs at least) and one primary-key SELECT of the job through a plain pg
 *   pool — the least any authenticated, rate-limited read of PostgreSQL's truth must do, with
 *   none of the API's safety (no auth, no tenant isolation, no validation, no logs or metrics).
 * Whatever the API reaches is read against these two.
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import Koa from 'koa';
import pg from 'pg';

const databaseUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;
const pool = databaseUrl ? new pg.Pool({ connectionString: databaseUrl, max: 10 }) : undefined;
const redis = redisUrl ? new Redis(redisUrl) : undefined;
const FLOOR = /^\/floor\/jobs\/([0-9a-f-]{36})$/;

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.path === '/ping') {
    ctx.body = { status: 'ok' };
    return;
  }
  const id = FLOOR.exec(ctx.path)?.[1];
  if (!id || !pool || !redis) {
    ctx.status = 404;
    return;
  }
  await redis.incr('bench:floor:hits');
  const { rows } = await pool.query('select id, type, status, progress, attempts, created_at, finished_at, error from jobs where id = $1', [id]);
  if (!rows[0]) ctx.status = 404;
  else ctx.body = rows[0];
});

const server = createServer(app.callback());
server.keepAliveTimeout = 5_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.on('SIGTERM', () =>
  server.close(() => {
    redis?.disconnect();
    void (pool?.end() ?? Promise.resolve()).finally(() => process.exit(0));
  }),
);
