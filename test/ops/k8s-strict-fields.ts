/**
 * kubernetes-models validates types, enums and required fields but lets unknown fields through
 * (a misspelt `readinessprobe` would pass). This walks a manifest alongside the models' type
 * declarations (`.d.ts`, which list every field of every Kubernetes type) and reports each field
 * the API would not know.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));
const MODELS = join(NODE_MODULES, 'kubernetes-models');

/** Field name → the declaration file of its object type (undefined: a scalar, map or alias). */
type Shape = Map<string, string | undefined>;
const shapes = new Map<string, Shape | undefined>();

function resolveImport(from: string, specifier: string): string | undefined {
  const candidates = specifier.startsWith('.')
    ? [join(dirname(from), `${specifier}.d.ts`)]
    : [join(NODE_MODULES, `${specifier}.d.ts`), join(MODELS, 'node_modules', `${specifier}.d.ts`)];
  return candidates.find((c) => existsSync(c));
}

function shapeOf(file: string): Shape | undefined {
  if (shapes.has(file)) return shapes.get(file);
  const text = readFileSync(file, 'utf8');
  const imports = new Map<string, string>();
  for (const m of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) {
    const resolved = resolveImport(file, m[2] as string);
    if (resolved) imports.set(m[1] as string, resolved);
  }
  const body = /^export interface \w+(?: extends [^{]+)? \{\n([\s\S]*?)\n\}/m.exec(text)?.[1];
  let shape: Shape | undefined;
  if (body !== undefined) {
    shape = new Map();
    // Top-level members only (four spaces); nested index signatures are deeper.
    for (const m of body.matchAll(/^ {4}"([^"]+)"\??: (.+?);?$/gm)) {
      const type = (m[2] as string).replace(/^Array<(.+)>$/, '$1');
      shape.set(m[1] as string, /^\w+$/.test(type) ? imports.get(type) : undefined);
    }
  }
  shapes.set(file, shape);
  return shape;
}

function walk(value: unknown, file: string | undefined, path: string, unknown: string[]): void {
  if (!file || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, file, `${path}[${i}]`, unknown));
    return;
  }
  const shape = shapeOf(file);
  if (!shape) return;
  for (const [key, child] of Object.entries(value)) {
    if (!shape.has(key) && key !== 'apiVersion' && key !== 'kind') {
      unknown.push(`${path}.${key}`);
      continue;
    }
    walk(child, shape.get(key), `${path}.${key}`, unknown);
  }
}

/** The declaration file of a kind, e.g. (`apps/v1`, `Deployment`) → …/apps/v1/Deployment.d.ts. */
export function declarationOf(apiVersion: string, kind: string): string | undefined {
  const file = join(MODELS, apiVersion.includes('/') ? apiVersion : `v1`, `${kind}.d.ts`);
  return existsSync(file) ? file : undefined;
}

/** Paths of fields the kind's type does not declare (empty when every field is known). */
export function unknownFields(manifest: { apiVersion: string; kind: string }): string[] {
  const unknown: string[] = [];
  walk(manifest, declarationOf(manifest.apiVersion, manifest.kind), manifest.kind, unknown);
  return unknown;
}
