// The dependency rule between the top-level folders, as a lint rule. The roles (api, worker,
// scheduler, and the CLI with its SDK) meet only through shared/, Redis and PostgreSQL; shared/
// knows no role; the launcher, which runs the roles in one process, is the one folder that knows
// them all. Folders not listed (test, bench, bin) may import anything.
import { dirname, relative, resolve, sep } from 'node:path';

/** For each folder, the folders its code may import from (itself included). */
export const ALLOWED_IMPORTS = {
  shared: ['shared', 'migrations'],
  migrations: ['migrations', 'shared'],
  api: ['api', 'shared'],
  worker: ['worker', 'shared'],
  scheduler: ['scheduler', 'shared'],
  client: ['client', 'shared'],
  cli: ['cli', 'client', 'shared'],
  launcher: ['launcher', 'api', 'worker', 'scheduler', 'cli', 'client', 'shared', 'migrations'],
};

/** The top-level folder of an absolute path under root, or undefined outside the listed ones. */
function folderOf(root, path) {
  const [top, ...rest] = relative(root, path).split(sep);
  return rest.length > 0 && top && Object.hasOwn(ALLOWED_IMPORTS, top) ? top : undefined;
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'Keeps each top-level folder to the folders it may import from' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, required: ['root'], additionalProperties: false }],
    messages: { crossing: '{{from}}/ may not import {{to}}/ ({{specifier}}): {{from}}/ may import only {{allowed}}' },
  },
  create(context) {
    const root = context.options[0].root;
    const from = folderOf(root, context.filename);
    if (!from) return {};
    const allowed = ALLOWED_IMPORTS[from];
    function check(source) {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const specifier = source.value;
      // Packages (and the package's own `catalytic/client`) are not folders of this repository.
      if (!specifier.startsWith('.')) return;
      const to = folderOf(root, resolve(dirname(context.filename), specifier));
      if (to && !allowed.includes(to)) {
        context.report({ node: source, messageId: 'crossing', data: { from, to, specifier, allowed: allowed.map((f) => `${f}/`).join(', ') } });
      }
    }
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    };
  },
};

export default { rules: { 'role-boundaries': rule } };
