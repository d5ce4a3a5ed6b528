/**
 * A named schema's optional property with a `default` keeps the default in its description only.
 * openapi-typescript reads `default` on a property of `components.schemas` as "always present"
 * and makes it required (it knows better only inside a path's request body or parameters), so a
 * generated client had to send `boundary`, `connectivity`, `wait_ms`… that the API fills in.
 * Required properties, parameters and inline request bodies keep their `default`.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Moves each optional property's `default` into its description, at every depth of `schema`. */
function moveDefaults(schema: unknown): void {
  if (Array.isArray(schema)) return schema.forEach(moveDefaults);
  if (!isObject(schema)) return;
  const properties = schema.properties;
  if (isObject(properties)) {
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
    for (const [name, property] of Object.entries(properties)) {
      if (required.has(name) || !isObject(property) || !('default' in property)) continue;
      const said = `Default: \`${JSON.stringify(property.default)}\`.`;
      delete property.default;
      property.description = typeof property.description === 'string' ? `${property.description}. ${said}`.replace(/\.\. /, '. ') : said;
    }
  }
  for (const value of Object.values(schema)) moveDefaults(value);
}

/** The document with its named schemas' optional defaults in their descriptions (in place). */
export function describeOptionalDefaults<T extends { components?: { schemas?: Record<string, unknown> } }>(document: T): T {
  moveDefaults(document.components?.schemas ?? {});
  return document;
}
