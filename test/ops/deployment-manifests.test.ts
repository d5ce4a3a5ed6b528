/**
 * compose/ and k8s/ are checked offline against their schemas and against the code: the compose
 * file with `docker-compose config` (the Compose schema), every Kubernetes manifest with
 * kubernetes-models (plus unknown-field detection), the KEDA ScaledObject and the Kustomization
 * with schemas written here from their documentation. Environment names must be settings of
 * shared/config.ts, ports and probe paths must be the ones the code serves, grace periods must
 * cover SHUTDOWN_GRACE_MS, and dashboards and alerts may only use metrics that exist.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema, parseConfig } from '../../shared/config.ts';
import { registry } from '../../shared/metrics.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { unknownFields } from './k8s-strict-fields.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMPOSE_FILE = join(ROOT, 'compose/docker-compose.yml');
const CONFIG_KEYS = new Set(Object.keys(configSchema.shape));
const DEFAULTS = parseConfig({});
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const APP_SERVICES = ['migrate', 'api', 'worker', 'scheduler'];

type Json = Record<string, unknown>;
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
/** The compose file with its anchors and `<<` merges resolved, as Compose reads it. */
const readCompose = () => parseYaml(read('compose/docker-compose.yml'), { merge: true }) as { services: Record<string, Json>; secrets: Json };
const get = (value: unknown, ...path: Array<string | number>): unknown =>
  path.reduce<unknown>((v, key) => (v === null || v === undefined ? undefined : (v as Record<string | number, unknown>)[key]), value);

/** Every metric name the registry exposes, including the series a histogram expands into. */
function knownMetricNames(): Set<string> {
  const names = new Set<string>();
  for (const metric of registry.getMetricsAsArray()) {
    names.add(metric.name);
    for (const suffix of ['_bucket', '_count', '_sum']) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

/** `catalytic_*` names used in PromQL expressions. */
function metricsIn(expressions: string[]): string[] {
  return [...new Set(expressions.flatMap((e) => [...e.matchAll(/\bcatalytic_[a-z0-9_]+/g)].map((m) => m[0])))];
}

function filesUnder(dir: string, suffix: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, suffix);
    return suffix.test(name) ? [path] : [];
  });
}

describe('compose/docker-compose.yml', () => {
  const compose = readCompose();

  it('passes `docker-compose config` (the Compose schema), and a broken copy does not', async () => {
    const binary = 'docker-compose';
    try {
      await run(binary, ['version'], { timeout: 30_000 });
    } catch {
      throw new Error('docker-compose is not installed: `apt-get install -y docker-compose` (.ci/run installs it)');
    }
    await expect(run(binary, ['-f', COMPOSE_FILE, 'config', '-q'], { timeout: 60_000 })).resolves.toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'catalytic-compose-'));
    try {
      const broken = join(dir, 'docker-compose.yml');
      writeFileSync(broken, read('compose/docker-compose.yml').replace(/^ {2}api:$/m, '  api:\n    restart_policy_typo: always'));
      await expect(run(binary, ['-f', broken, 'config', '-q'], { timeout: 60_000 })).rejects.toThrow(/restart_policy_typo/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('runs the whole stack: datastores, migrate, api, two workers, scheduler, prometheus, grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['api', 'grafana', 'migrate', 'postgres', 'prometheus', 'redis', 'scheduler', 'worker'].sort(),
    );
    expect(get(compose.services.worker, 'deploy', 'replicas')).toBe(2);
    const redisCommand = (compose.services.redis?.command as string[]).join(' ');
    expect(redisCommand).toMatch(/--maxmemory-policy noeviction/);
    expect(redisCommand).toMatch(/--appendonly yes/);
    for (const name of APP_SERVICES) {
      expect(compose.services[name]?.image, name).toBe(`catalytic:\${CATALYTIC_VERSION:-${VERSION}}`);
      expect(compose.services[name]?.command, name).toEqual([name]);
    }
    expect(get(compose.services.api, 'depends_on', 'migrate', 'condition')).toBe('service_completed_successfully');
  });

  it('sets only real settings, with the ports the code uses, and stops within the grace period', () => {
    for (const name of APP_SERVICES) {
      const environment = compose.services[name]?.environment as Record<string, string>;
      const unknown = Object.keys(environment).filter((key) => !CONFIG_KEYS.has(key));
      expect(unknown, name).toEqual([]);
      expect(Number(environment.PORT)).toBe(DEFAULTS.PORT);
      expect(Number(environment.METRICS_PORT)).toBe(DEFAULTS.METRICS_PORT);
      const graceS = Number(/^(\d+)s$/.exec(String(compose.services[name]?.stop_grace_period))?.[1]);
      expect(graceS * 1000, name).toBeGreaterThanOrEqual(Number(environment.SHUTDOWN_GRACE_MS) + 5000);
    }
    expect(compose.services.api?.ports).toEqual([`${DEFAULTS.PORT}:${DEFAULTS.PORT}`]);
    // The API logs in as a role that cannot bypass row-level security and never gets the owner's URL;
    // migrations, workers and the scheduler (cross-tenant work) do.
    const envOf = (name: string) => compose.services[name]?.environment as Record<string, string>;
    const userOf = (url: string) => new URL(url.replace(/\$\{\w+:-([^}]*)\}/g, '$1')).username;
    expect(userOf(envOf('api').DATABASE_URL as string)).toBe('catalytic_api');
    expect(envOf('api').DATABASE_OWNER_URL).toBeUndefined();
    for (const name of ['migrate', 'worker', 'scheduler']) expect(userOf(envOf(name).DATABASE_OWNER_URL as string), name).toBe('catalytic');
    expect(read('compose/postgres/init-api-login.sh')).toMatch(/create role catalytic_api login nosuperuser nobypassrls .*in role catalytic_app/);
    // The defaults (`${VAR:-default}`) start in production: no weak operator password is shipped.
    for (const name of APP_SERVICES) {
      const environment = compose.services[name]?.environment as Record<string, string>;
      const defaults = Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v).replace(/\$\{\w+:-([^}]*)\}/g, '$1')]));
      expect(defaults.NODE_ENV).toBe('production');
      expect(() => parseConfig(defaults), name).not.toThrow();
      expect(() => parseConfig({ ...defaults, ADMIN_USER: 'operator', ADMIN_PASSWORD: 'change-me-operator' }), name).toThrow(/ADMIN_PASSWORD/);
    }
    expect(get(compose.secrets, 'jwt_private_key', 'file')).toBe('./secrets/jwt-private.pem');
  });
});

describe('compose/Dockerfile', () => {
  const dockerfile = read('compose/Dockerfile');
  const instructions = dockerfile.split('\n').filter((l) => /^[A-Z]+ /.test(l));

  it('is a multi-stage build on node:20-bookworm-slim with production dependencies only', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(instructions.filter((l) => l.startsWith('FROM ')).length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/COPY --from=deps \/app\/node_modules/);
  });

  it('runs as the unprivileged node user with a health check on /live and the default ports', () => {
    const user = instructions.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBe('USER node');
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${DEFAULTS.PORT} ${DEFAULTS.METRICS_PORT}$`, 'm'));
    expect(read('compose/healthcheck.mjs')).toMatch(/\/live/);
  });

  it('ships every source directory the roles import, and the ignore file lets exactly those in', () => {
    const copied = new Set([...dockerfile.matchAll(/^COPY (\w+) \.\/\1$/gm)].map((m) => m[1]));
    const sourceDirs = readdirSync(ROOT).filter(
      (name) =>
        !name.startsWith('.') &&
        !['node_modules', 'test', 'bench', 'compose', 'k8s'].includes(name) &&
        statSync(join(ROOT, name)).isDirectory() &&
        filesUnder(join(ROOT, name), /\.(ts|js|mjs)$/).length > 0,
    );
    expect([...sourceDirs].sort()).toEqual([...copied].sort());
    const ignore = read('compose/Dockerfile.dockerignore');
    for (const dir of copied) expect(ignore, dir).toMatch(new RegExp(`^!${dir}/\\*\\*$`, 'm'));
  });

  it('installs a pg_dump of the same major version as the compose PostgreSQL', () => {
    const pgMajor = /^ARG PG_MAJOR=(\d+)$/m.exec(dockerfile)?.[1];
    const image = String(readCompose().services.postgres?.image);
    expect(image).toMatch(new RegExp(`^postgres:${pgMajor}[-.]`));
    expect(dockerfile).toMatch(/postgresql-client-\$\{PG_MAJOR\}/);
  });
});

describe('the image health check script', () => {
  const env = useTestEnvironment();
  const api = useTestApi(env);

  it('exits 0 when /live answers on PORT and 1 when nothing answers', async () => {
    const script = join(ROOT, 'compose/healthcheck.mjs');
    const port = new URL(api.url).port;
    await expect(run(process.execPath, [script], { env: { PORT: port, METRICS_PORT: '1' } })).resolves.toBeDefined();
    await expect(run(process.execPath, [script], { env: { PORT: '1', METRICS_PORT: port } })).resolves.toBeDefined();
    await expect(run(process.execPath, [script], { env: { PORT: '1', METRICS_PORT: '1' } })).rejects.toMatchObject({ code: 1 });
  });
});

describe('Prometheus and Grafana', () => {
  const known = knownMetricNames();

  it('scrapes every role on the ports the code serves', () => {
    const config = parseYaml(read('compose/prometheus/prometheus.yml')) as { scrape_configs: Json[]; rule_files: string[] };
    expect(config.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    const job = (name: string) => config.scrape_configs.find((c) => c.job_name === name);
    // The compose API runs in production without METRICS_TOKEN: its metrics are on METRICS_PORT only.
    expect(get(job('catalytic-api'), 'static_configs', 0, 'targets')).toEqual([`api:${DEFAULTS.METRICS_PORT}`]);
    expect(get(job('catalytic-worker'), 'dns_sd_configs', 0, 'port')).toBe(DEFAULTS.METRICS_PORT);
    expect(get(job('catalytic-scheduler'), 'static_configs', 0, 'targets')).toEqual([`scheduler:${DEFAULTS.METRICS_PORT}`]);
    const mounts = readCompose().services.prometheus?.volumes;
    expect(mounts).toContain('./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');
  });

  it('has well-formed alert rules that use only existing metrics', () => {
    const rule = z.strictObject({
      alert: z.string().regex(/^[A-Z][A-Za-z0-9]+$/),
      expr: z.string().min(1),
      for: z.string().regex(/^\d+[smh]$/),
      labels: z.strictObject({ severity: z.enum(['critical', 'warning', 'info']) }),
      annotations: z.strictObject({ summary: z.string().min(1), description: z.string().min(1) }),
    });
    const file = z.strictObject({ groups: z.array(z.strictObject({ name: z.string(), rules: z.array(rule).min(1) })).min(1) });
    const alerts = file.parse(parseYaml(read('compose/prometheus/alerts.yml')));
    const expressions = alerts.groups.flatMap((g) => g.rules.map((r) => r.expr));
    const used = metricsIn(expressions);
    expect(used.length).toBeGreaterThan(4);
    expect(used.filter((m) => !known.has(m))).toEqual([]);
  });

  it('provisions the datasource and a dashboard that covers the design and uses only existing metrics', () => {
    const datasources = parseYaml(read('compose/grafana/provisioning/datasources/prometheus.yml')) as { datasources: Json[] };
    const uid = datasources.datasources[0]?.uid;
    expect(datasources.datasources[0]?.url).toBe('http://prometheus:9090');
    const providers = parseYaml(read('compose/grafana/provisioning/dashboards/catalytic.yml')) as { providers: Json[] };
    expect(get(providers.providers[0], 'options', 'path')).toBe('/var/lib/grafana/dashboards');

    const dashboard = JSON.parse(read('compose/grafana/dashboards/catalytic.json')) as { uid: string; panels: Json[] };
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    const targets = panels.flatMap((p) => (p.targets as Json[]).map((t): Json & { panel: string } => ({ ...t, panel: String(p.title) })));
    for (const target of targets) expect(get(target, 'datasource', 'uid'), target.panel).toBe(uid);
    const used = metricsIn(targets.map((t) => String(t.expr)));
    expect(used.filter((m) => !known.has(m))).toEqual([]);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Request rate and latency, queue depth by plan, job outcomes, kernel throughput, webhook outcomes.
    for (const metric of [
      'catalytic_http_request_duration_seconds_count',
      'catalytic_http_request_duration_seconds_bucket',
      'catalytic_jobs_waiting',
      'catalytic_jobs_finished_total',
      'catalytic_kernel_cells_total',
      'catalytic_webhook_deliveries_total',
    ]) {
      expect(used, metric).toContain(metric);
    }
  });
});

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; namespace?: string };
  spec?: Json;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  file: string;
}

describe('k8s/', () => {
  const files = filesUnder(join(ROOT, 'k8s'), /\.ya?ml$/);
  const manifests: Manifest[] = [];
  let kustomization: Json = {};

  beforeAll(() => {
    for (const file of files) {
      for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
        if (doc.errors.length) throw new Error(`${relative(ROOT, file)}: ${doc.errors[0]?.message}`);
        const value = doc.toJS() as Manifest | null;
        if (!value) continue;
        if (value.kind === 'Kustomization') kustomization = { ...value, file };
        else manifests.push({ ...value, file: relative(ROOT, file) });
      }
    }
  });

  const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
  const named = (kind: string, name: string) => {
    const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
    if (!found) throw new Error(`No ${kind} ${name}`);
    return found;
  };
  const podSpec = (m: Manifest) => get(m, 'spec', 'template', 'spec') as Json;
  const workloads = () => [...byKind('Deployment'), ...byKind('Job')];

  it('validates every Kubernetes manifest against its model and finds no unknown field', async () => {
    const checked: string[] = [];
    for (const manifest of manifests.filter((m) => !m.apiVersion.startsWith('keda.sh/'))) {
      const { file, ...resource } = manifest;
      const group = resource.apiVersion.includes('/') ? resource.apiVersion : `v1`;
      const module = (await import(`kubernetes-models/${group}/${resource.kind}`)) as Record<string, new (data: unknown) => { validate(): void }>;
      const Model = module[resource.kind];
      if (!Model) throw new Error(`${file}: kubernetes-models has no ${resource.apiVersion} ${resource.kind}`);
      expect(() => new Model(resource).validate(), `${file} ${resource.kind}/${resource.metadata.name}`).not.toThrow();
      expect(unknownFields(resource), `${file} ${resource.kind}/${resource.metadata.name}`).toEqual([]);
      checked.push(resource.kind);
    }
    for (const kind of ['Namespace', 'ConfigMap', 'Secret', 'Deployment', 'Job', 'Service', 'Ingress', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy']) {
      expect(checked, kind).toContain(kind);
    }
  });

  it('never runs more API processes than the quota margin is sized for (API_PROCESSES_MAX)', () => {
    // Above it, unlocked single submissions of one tenant could overshoot its monthly jobs quota.
    const data = get(named('ConfigMap', 'catalytic-config'), 'data') as Record<string, string>;
    const processesMax = parseConfig(data).API_PROCESSES_MAX;
    expect(get(named('HorizontalPodAutoscaler', 'catalytic-api'), 'spec', 'maxReplicas')).toBeLessThanOrEqual(processesMax);
    expect(get(named('Deployment', 'catalytic-api'), 'spec', 'replicas') ?? 1).toBeLessThanOrEqual(processesMax);
  });

  it('has a KEDA ScaledObject that scales workers on the waiting-jobs metric', () => {
    // From KEDA's ScaledObject specification (keda.sh/v1alpha1), the fields used here.
    const trigger = z.strictObject({
      type: z.literal('prometheus'),
      metadata: z.strictObject({
        serverAddress: z.url(),
        query: z.string().min(1),
        threshold: z.string().regex(/^\d+(\.\d+)?$/),
        activationThreshold: z.string().regex(/^\d+(\.\d+)?$/).optional(),
        ignoreNullValues: z.enum(['true', 'false']).optional(),
      }),
    });
    const scaledObject = z.strictObject({
      apiVersion: z.literal('keda.sh/v1alpha1'),
      kind: z.literal('ScaledObject'),
      metadata: z.strictObject({ name: z.string(), labels: z.record(z.string(), z.string()).optional() }),
      spec: z.strictObject({
        scaleTargetRef: z.strictObject({ apiVersion: z.string().optional(), kind: z.string().optional(), name: z.string() }),
        minReplicaCount: z.number().int().min(0),
        maxReplicaCount: z.number().int().min(1),
        pollingInterval: z.number().int().min(1).optional(),
        cooldownPeriod: z.number().int().min(0).optional(),
        advanced: z
          .strictObject({
            horizontalPodAutoscalerConfig: z.strictObject({ behavior: z.record(z.string(), z.unknown()).optional() }).optional(),
          })
          .optional(),
        triggers: z.array(trigger).min(1),
      }),
      file: z.string(),
    });
    const [object, ...others] = manifests.filter((m) => m.kind === 'ScaledObject');
    expect(others).toEqual([]);
    const parsed = scaledObject.parse(object);
    expect(parsed.spec.maxReplicaCount).toBeGreaterThanOrEqual(parsed.spec.minReplicaCount);
    expect(named('Deployment', parsed.spec.scaleTargetRef.name).metadata.labels?.['app.kubernetes.io/component']).toBe('worker');
    const query = parsed.spec.triggers[0]?.metadata.query ?? '';
    expect(query).toMatch(/catalytic_jobs_waiting/);
    expect(metricsIn([query]).filter((m) => !knownMetricNames().has(m))).toEqual([]);
  });

  it('has a Kustomization listing every manifest but the secret example, with the release image', () => {
    const schema = z.strictObject({
      apiVersion: z.literal('kustomize.config.k8s.io/v1beta1'),
      kind: z.literal('Kustomization'),
      namespace: z.string(),
      labels: z.array(z.strictObject({ pairs: z.record(z.string(), z.string()), includeSelectors: z.boolean().optional() })).optional(),
      resources: z.array(z.string()),
      images: z.array(z.strictObject({ name: z.string(), newName: z.string().optional(), newTag: z.string().optional() })),
      file: z.string(),
    });
    const parsed = schema.parse(kustomization);
    const dir = join(ROOT, 'k8s/base');
    const manifestsInDir = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && f !== 'secret.example.yaml');
    expect([...parsed.resources].sort()).toEqual(manifestsInDir.sort());
    expect(parsed.images).toEqual([{ name: 'catalytic', newName: 'catalytic', newTag: VERSION }]);
    for (const workload of workloads()) {
      for (const container of podSpec(workload).containers as Json[]) expect(container.image, workload.file).toBe('catalytic');
    }
  });

  it('configures only real settings, with the code defaults for ports', () => {
    const config = named('ConfigMap', 'catalytic-config').data ?? {};
    expect(Object.keys(config).filter((k) => !CONFIG_KEYS.has(k))).toEqual([]);
    expect(Number(config.PORT)).toBe(DEFAULTS.PORT);
    expect(Number(config.METRICS_PORT)).toBe(DEFAULTS.METRICS_PORT);
    // The configuration as the pods see it must pass the code's own validation.
    const secret = named('Secret', 'catalytic').stringData ?? {};
    expect(Object.keys(secret).filter((k) => !CONFIG_KEYS.has(k))).toEqual([]);
    // The API pods get no owner URL; workers, the scheduler and the migrate Job get it from the owner's secret.
    expect(secret.DATABASE_OWNER_URL).toBeUndefined();
    for (const workload of workloads()) {
      const [container] = podSpec(workload).containers as Json[];
      const owner = ((container?.env as Json[] | undefined) ?? []).find((e) => e.name === 'DATABASE_OWNER_URL');
      const role = String(container?.args && (container.args as string[])[0]);
      if (role === 'api') expect(owner, workload.file).toBeUndefined();
      else expect(get(owner, 'valueFrom', 'secretKeyRef', 'name'), workload.file).toBe('catalytic-migrate');
    }
    // The example's placeholders are refused at start-up; real values pass.
    expect(() => parseConfig({ ...config, ...secret })).toThrow(/^Invalid setting (ADMIN_PASSWORD|ADMIN_TOKEN|METRICS_TOKEN): /);
    const real = Object.fromEntries(Object.entries(secret).map(([k, v]) => [k, String(v).replace(/CHANGE-ME/g, `Quartz-Lantern-81-Meadow-${k.length}-7f3c9a1e5b2d8f4a`)]));
    expect(() => parseConfig({ ...config, ...real, JWT_PRIVATE_KEY_FILE: '/var/run/secrets/catalytic-jwt/jwt-private.pem' })).not.toThrow();
    for (const workload of workloads()) {
      for (const container of podSpec(workload).containers as Json[]) {
        const names = ((container.env as Json[] | undefined) ?? []).map((e) => String(e.name));
        expect(names.filter((n) => !CONFIG_KEYS.has(n)), workload.file).toEqual([]);
        const sources = (container.envFrom as Json[]).map((s) => get(s, 'configMapRef', 'name') ?? get(s, 'secretRef', 'name'));
        expect(sources, workload.file).toContain('catalytic-config');
      }
    }
  });

  it('probes /live and /ready on the ports the roles serve them on', () => {
    const expectedPort: Record<string, number> = { api: DEFAULTS.PORT, worker: DEFAULTS.METRICS_PORT, scheduler: DEFAULTS.METRICS_PORT };
    for (const deployment of byKind('Deployment')) {
      const role = deployment.metadata.labels?.['app.kubernetes.io/component'] ?? '';
      const [container] = podSpec(deployment).containers as Json[];
      expect(container?.args, deployment.file).toEqual([role]);
      const ports = container?.ports as Array<{ name: string; containerPort: number }>;
      const portOf = (name: unknown) => ports.find((p) => p.name === name)?.containerPort;
      expect(get(container, 'livenessProbe', 'httpGet', 'path'), deployment.file).toBe('/live');
      expect(get(container, 'readinessProbe', 'httpGet', 'path'), deployment.file).toBe('/ready');
      expect(get(container, 'startupProbe', 'httpGet', 'path'), deployment.file).toBe('/live');
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        expect(portOf(get(container, probe, 'httpGet', 'port')), `${deployment.file} ${probe}`).toBe(expectedPort[role]);
      }
    }
    expect(named('Job', 'catalytic-migrate') && get(podSpec(named('Job', 'catalytic-migrate')), 'containers', 0, 'args')).toEqual(['migrate']);
  });

  it('gives every role a grace period above preStop + SHUTDOWN_GRACE_MS + a margin', () => {
    const graceMs = Number(named('ConfigMap', 'catalytic-config').data?.SHUTDOWN_GRACE_MS);
    expect(graceMs).toBeGreaterThan(0);
    for (const deployment of byKind('Deployment')) {
      const spec = podSpec(deployment);
      const [container] = spec.containers as Json[];
      const preStop = get(container, 'lifecycle', 'preStop', 'exec', 'command') as string[] | undefined;
      const preStopMs = preStop ? Number(preStop[1]) * 1000 : 0;
      expect(Number(spec.terminationGracePeriodSeconds) * 1000, deployment.file).toBeGreaterThanOrEqual(preStopMs + graceMs + 5000);
    }
    // The API leaves the Service's endpoints before it stops accepting.
    expect(get(podSpec(named('Deployment', 'catalytic-api')), 'containers', 0, 'lifecycle', 'preStop', 'exec', 'command')).toEqual(['sleep', '5']);
  });

  it('runs every container non-root, read-only, without capabilities, with resources set', () => {
    for (const workload of workloads()) {
      const spec = podSpec(workload);
      expect(get(spec, 'securityContext', 'runAsNonRoot'), workload.file).toBe(true);
      expect(spec.automountServiceAccountToken, workload.file).toBe(false);
      for (const container of spec.containers as Json[]) {
        expect(get(container, 'securityContext', 'readOnlyRootFilesystem'), workload.file).toBe(true);
        expect(get(container, 'securityContext', 'allowPrivilegeEscalation'), workload.file).toBe(false);
        expect(get(container, 'securityContext', 'capabilities', 'drop'), workload.file).toEqual(['ALL']);
        for (const kind of ['requests', 'limits']) {
          expect(get(container, 'resources', kind, 'cpu'), `${workload.file} ${kind}`).toBeDefined();
          expect(get(container, 'resources', kind, 'memory'), `${workload.file} ${kind}`).toBeDefined();
        }
        // A writable /tmp (tsx's cache) since the root filesystem is read-only.
        expect((container.volumeMounts as Json[]).map((v) => v.mountPath), workload.file).toContain('/tmp');
      }
    }
  });

  it('wires services, ingress, HPA, PDBs and network policies to pods that exist', () => {
    const podLabels = byKind('Deployment').map((d) => get(d, 'spec', 'template', 'metadata', 'labels') as Record<string, string>);
    const selects = (selector: Record<string, string>) =>
      podLabels.some((labels) => Object.entries(selector).every(([k, v]) => labels[k] === v));
    for (const service of byKind('Service')) {
      expect(selects(get(service, 'spec', 'selector') as Record<string, string>), service.metadata.name).toBe(true);
    }
    for (const pdb of byKind('PodDisruptionBudget')) {
      expect(selects(get(pdb, 'spec', 'selector', 'matchLabels') as Record<string, string>), pdb.metadata.name).toBe(true);
    }
    const backend = get(named('Ingress', 'catalytic'), 'spec', 'rules', 0, 'http', 'paths', 0, 'backend', 'service', 'name') as string;
    expect(named('Service', backend)).toBeDefined();
    const hpa = named('HorizontalPodAutoscaler', 'catalytic-api');
    expect(get(hpa, 'spec', 'scaleTargetRef', 'name')).toBe('catalytic-api');
    expect(get(hpa, 'spec', 'metrics', 0, 'resource', 'name')).toBe('cpu');
    // Autoscaled deployments leave the replica count to their autoscaler.
    expect(get(named('Deployment', 'catalytic-api'), 'spec', 'replicas')).toBeUndefined();
    expect(get(named('Deployment', 'catalytic-worker'), 'spec', 'replicas')).toBeUndefined();
    const policies = byKind('NetworkPolicy');
    expect(policies.find((p) => p.metadata.name === 'default-deny')?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const apiIngress = policies.find((p) => p.metadata.name === 'catalytic-api-ingress');
    expect(get(apiIngress, 'spec', 'ingress', 0, 'ports', 0, 'port')).toBe(DEFAULTS.PORT);
  });
});
