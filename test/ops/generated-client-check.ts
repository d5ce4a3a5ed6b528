/**
 * Generates a client's types from an OpenAPI document with openapi-typescript, as a user would,
 * and typechecks a snippet written against them (with openapi-fetch) under the project's strict
 * options: the diagnostics, one readable line each, empty when the client needs nothing else.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';

const OPENAPI_FETCH_TYPES = fileURLToPath(new URL('../../node_modules/openapi-fetch/dist/index.d.mts', import.meta.url));

export async function generatedClientDiagnostics(document: object, snippet: string): Promise<string[]> {
  const schema = astToString(await openapiTS(document as Parameters<typeof openapiTS>[0]));
  const dir = await mkdtemp(join(tmpdir(), 'catalytic-client-'));
  try {
    await writeFile(join(dir, 'schema.ts'), schema);
    await writeFile(join(dir, 'client.ts'), snippet);
    const program = ts.createProgram([join(dir, 'client.ts')], {
      target: ts.ScriptTarget.ES2023,
      lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: [],
      strict: true,
      noUncheckedIndexedAccess: true,
      allowImportingTsExtensions: true,
      noEmit: true,
      skipLibCheck: true,
      // Resolved here rather than from the temporary directory's (missing) node_modules.
      paths: { 'openapi-fetch': [OPENAPI_FETCH_TYPES] },
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      const where = d.file ? `${d.file.fileName.replace(`${dir}/`, '')}:${(at?.line ?? 0) + 1}` : '?';
      return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
