// Container health check: GET /live on the API port, else on the metrics port (worker and
// scheduler serve their probes there). Exit 0 when either answers 200.
const ports = [process.env.PORT ?? '8000', process.env.METRICS_PORT ?? '9464'];

async function live(port) {
  const response = await fetch(`http://127.0.0.1:${port}/live`, { signal: AbortSignal.timeout(3000) });
  return response.ok;
}

for (const port of ports) {
  try {
    if (await live(port)) process.exit(0);
  } catch {
    // Nothing listening on this port for this role: try the next.
  }
}
process.exit(1);
