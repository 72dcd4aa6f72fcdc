/**
 * Named components for /openapi.json, as the original's document had (`User`, `PrivateMessage`, …).
 *
 * A shape is named by the `$id` of its TypeBox schema (`Type.Object({…}, { $id: 'User' })`). The
 * routes keep their concrete schemas: request validation (src/fastapi/validation.ts, which follows
 * no `$ref`) and fast-json-stringify read them as they are, and both ignore `$id`. Only the document
 * changes: each named schema becomes `components.schemas[<$id>]` and every place it appears in a
 * request or response body becomes `{ "$ref": "#/components/schemas/<$id>" }`. Parameters (path,
 * query) stay inline, as in FastAPI's documents.
 */

/** A JSON Schema or part of one, as TypeBox builds it: plain JSON values. */
type Json = unknown;
type JsonObject = Record<string, Json>;

export const COMPONENT_REF_PREFIX = '#/components/schemas/';

/** Keywords whose values are data, not schemas: never searched for names. */
const DATA_KEYWORDS = new Set(['examples', 'example', 'default', 'const', 'enum']);
/** Keywords whose values map names (not keywords) to schemas. */
const NAMED_SUBSCHEMA_KEYWORDS = new Set(['properties', 'patternProperties', '$defs', 'definitions']);
/** Annotations a response's schema may carry besides the one named schema it stands for. */
const RESPONSE_ANNOTATIONS = new Set(['description', 'examples']);

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The component name of a schema: its `$id`. */
export function componentNameOf(schema: Json): string | undefined {
  return isObject(schema) && typeof schema.$id === 'string' && /^[A-Za-z][A-Za-z0-9_.-]*$/.test(schema.$id) ? schema.$id : undefined;
}

/**
 * The named schema a whole response stands for: a named schema itself, or `allOf` of exactly one named
 * schema with a description and examples of that route's own (shared.schemas.ts `detailAnswer`).
 */
function namedTarget(schema: Json): JsonObject | undefined {
  if (componentNameOf(schema) !== undefined) return schema as JsonObject;
  if (!isObject(schema) || !Array.isArray(schema.allOf) || schema.allOf.length !== 1) return undefined;
  const keys = Object.keys(schema).filter((key) => key !== 'allOf');
  const [only] = schema.allOf;
  return keys.every((key) => RESPONSE_ANNOTATIONS.has(key)) && componentNameOf(only) !== undefined ? (only as JsonObject) : undefined;
}

/** The media object of a response or body: the schema, and its examples as OpenAPI writes them beside it. */
function mediaOf(schema: Json, examples: Json): JsonObject {
  if (!Array.isArray(examples) || examples.length === 0) return { schema };
  if (examples.length === 1) return { schema, example: examples[0] };
  return { schema, examples: Object.fromEntries(examples.map((value, index) => [`example${index + 1}`, { value }])) };
}

/** The named schemas of one application, collected from its routes as they are registered. */
export class OpenApiComponents {
  /** `components.schemas` of the document: filled as routes are added, read when /openapi.json is first built. */
  readonly schemas: Record<string, JsonObject> = {};
  /** Which schema object each name was taken from, so the same name cannot stand for two shapes. */
  private readonly sources = new Map<string, JsonObject>();

  /** Records the named schemas of a route's request and response bodies. */
  collect(routeSchema: Json): void {
    if (!isObject(routeSchema) || routeSchema.hide === true) return;
    this.documented(routeSchema);
  }

  /**
   * The route schema as the document shows it: request and response bodies reference their named
   * schemas, and a response that is one named schema keeps its description and example beside the reference.
   */
  documented(routeSchema: JsonObject): JsonObject {
    const result: JsonObject = { ...routeSchema };
    if (routeSchema.body !== undefined) result.body = this.documentedBody(routeSchema.body);
    if (isObject(routeSchema.response)) {
      result.response = Object.fromEntries(
        Object.entries(routeSchema.response).map(([status, response]) => [status, this.documentedResponse(response)]),
      );
    }
    return result;
  }

  private documentedBody(body: Json): Json {
    if (isObject(body) && isObject(body.content)) return { ...body, content: this.documentedContent(body.content) };
    return this.referenced(body);
  }

  private documentedResponse(response: Json): Json {
    if (!isObject(response)) return response;
    if (isObject(response.content)) return { ...response, content: this.documentedContent(response.content) };
    const target = namedTarget(response);
    if (!target) return this.referenced(response);
    // The response object itself, so that its description and example survive next to the reference.
    const description = typeof response.description === 'string' ? response.description : 'Default Response';
    return { description, content: { 'application/json': mediaOf(this.referenced(target), response.examples) } };
  }

  private documentedContent(content: JsonObject): JsonObject {
    return Object.fromEntries(
      Object.entries(content).map(([type, media]) => [type, isObject(media) ? { ...media, schema: this.referenced(media.schema) } : media]),
    );
  }

  /** A copy of `schema` in which every named schema is a `$ref` to its component (registered on the way). */
  referenced(schema: Json): Json {
    const name = componentNameOf(schema);
    if (name !== undefined) {
      this.register(name, schema as JsonObject);
      return { $ref: `${COMPONENT_REF_PREFIX}${name}` };
    }
    return this.copyReferencing(schema);
  }

  private copyReferencing(schema: Json): Json {
    if (Array.isArray(schema)) return schema.map((item) => this.referenced(item));
    if (!isObject(schema)) return schema;
    return Object.fromEntries(
      Object.entries(schema).map(([key, value]) => {
        if (DATA_KEYWORDS.has(key)) return [key, value];
        // Property names are not keywords: a property called "examples" is a schema like any other.
        if (NAMED_SUBSCHEMA_KEYWORDS.has(key) && isObject(value)) {
          return [key, Object.fromEntries(Object.entries(value).map(([name, subschema]) => [name, this.referenced(subschema)]))];
        }
        return [key, this.referenced(value)];
      }),
    );
  }

  private register(name: string, schema: JsonObject): void {
    const known = this.sources.get(name);
    if (known === schema) return;
    if (known === undefined) this.sources.set(name, schema);
    const body = { ...schema };
    delete body.$id;
    const component = { title: name, ...(this.copyReferencing(body) as JsonObject) };
    if (known === undefined) {
      this.schemas[name] = component;
      return;
    }
    // The same shape built twice (e.g. by a function) is fine; two shapes under one name are not.
    if (JSON.stringify(component) !== JSON.stringify(this.schemas[name])) {
      throw new Error(`two different schemas are named "${name}" ($id): give one of them another name`);
    }
  }
}
