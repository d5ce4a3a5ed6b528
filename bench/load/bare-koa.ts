/**
 * The ceiling: a bare Koa app with one JSON route, no middleware, no database, in its own process
 * on the same machine. Whatever the API reaches is measured against what Koa alone reaches here.
 */
import { createServer } from 'node:http';
import Koa from 'koa';

const app = new Koa();
app.use((ctx) => {
  if (ctx.path !== '/ping') {
    ctx.status = 404;
    return;
  }
  ctx.body = { status: 'ok' };
});

const server = createServer(app.callback());
server.keepAliveTimeout = 5_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
