/**
 * Request validation with FastAPI's (pydantic v1) semantics, driven by the same TypeBox schemas
 * that document the routes. Ajv's coercion differs from pydantic in ways clients notice (it turns
 * `null` into `0` or `""`), so this walker implements pydantic's rules for the small schema
 * vocabulary the routes use: object, string (with the `email` format and length bounds), integer (with bounds),
 * boolean, array, and `anyOf` for nullable values, flags and unions of string literals.
 */
import { isEmailAddress } from '../email.js';
import type { ValidationIssue } from '../errors.js';
import { MAX_VALIDATION_ISSUES } from '../limits.js';

export type Location = (string | number)[];

/** The subset of JSON Schema this validator understands. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
  const?: unknown;
  default?: unknown;
}

const INVALID = Symbol('invalid');
type Checked = unknown | typeof INVALID;

const INTEGER_STRING = /^\s*[-+]?\d+\s*$/;
/** pydantic v1's spellings of a boolean, as query strings carry them. */
const TRUE_WORDS = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE_WORDS = new Set(['0', 'off', 'f', 'false', 'n', 'no']);

function typesOf(schema: JsonSchema): string[] {
  if (schema.anyOf) return schema.anyOf.flatMap(typesOf);
  if (schema.type === undefined) return [];
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Walker {
  readonly issues: ValidationIssue[] = [];

  private fail(loc: Location, msg: string, type: string, ctx?: Record<string, unknown>): typeof INVALID {
    // A 1 MiB list of bad ids would otherwise answer some 27 MB of problems; the first ones are enough.
    if (this.issues.length < MAX_VALIDATION_ISSUES) this.issues.push(ctx ? { loc, msg, type, ctx } : { loc, msg, type });
    return INVALID;
  }

  check(schema: JsonSchema, value: unknown, loc: Location): Checked {
    if (schema.anyOf) return this.checkUnion(schema.anyOf, value, loc);
    if (value === null) {
      if (typesOf(schema).includes('null')) return null;
      return this.fail(loc, 'none is not an allowed value', 'type_error.none.not_allowed');
    }
    switch (typesOf(schema)[0]) {
      case 'object':
        return this.checkObject(schema, value, loc);
      case 'array':
        return this.checkArray(schema, value, loc);
      case 'integer':
        return this.checkInteger(schema, value, loc);
      case 'string':
        return this.checkString(schema, value, loc);
      case 'boolean':
        return this.checkBoolean(value, loc);
      default:
        return value;
    }
  }

  /** Nullable values and flags: null and booleans go to a branch that takes them, the rest to the first other branch. */
  private checkUnion(branches: JsonSchema[], value: unknown, loc: Location): Checked {
    const takes = (type: string) => branches.find((branch) => typesOf(branch).includes(type));
    if (value === null) {
      return takes('null') ? null : this.fail(loc, 'none is not an allowed value', 'type_error.none.not_allowed');
    }
    if (typeof value === 'boolean' && takes('boolean')) return value;
    // A union of literals (pydantic's Literal['a', 'b']): the value must be one of them.
    if (branches.length > 0 && branches.every((branch) => branch.const !== undefined)) {
      const permitted = branches.map((branch) => branch.const);
      if (permitted.includes(value)) return value;
      return this.fail(loc, `unexpected value; permitted: ${permitted.map((item) => `'${String(item)}'`).join(', ')}`, 'value_error.const', {
        given: value,
        permitted,
      });
    }
    const main = branches.find((branch) => !typesOf(branch).every((type) => type === 'null' || type === 'boolean'));
    return main ? this.check(main, value, loc) : this.check(branches[0] ?? {}, value, loc);
  }

  private checkBoolean(value: unknown, loc: Location): Checked {
    if (typeof value === 'boolean') return value;
    if (value === 0 || value === 1) return value === 1;
    if (typeof value === 'string') {
      const word = value.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
    }
    return this.fail(loc, 'value could not be parsed to a boolean', 'type_error.bool');
  }

  private checkObject(schema: JsonSchema, value: unknown, loc: Location): Checked {
    if (!isPlainObject(value)) return this.fail(loc, 'value is not a valid dict', 'type_error.dict');
    const result: Record<string, unknown> = {};
    const required = new Set(schema.required ?? []);
    let valid = true;
    for (const [key, propertySchema] of Object.entries(schema.properties ?? {})) {
      const present = Object.prototype.hasOwnProperty.call(value, key) && value[key] !== undefined;
      if (!present) {
        if (required.has(key)) valid = this.fail([...loc, key], 'field required', 'value_error.missing') !== INVALID;
        else if (propertySchema.default !== undefined) result[key] = propertySchema.default;
        continue;
      }
      const checked = this.check(propertySchema, value[key], [...loc, key]);
      if (checked === INVALID) valid = false;
      else result[key] = checked;
    }
    return valid ? result : INVALID;
  }

  private checkArray(schema: JsonSchema, value: unknown, loc: Location): Checked {
    if (!Array.isArray(value)) return this.fail(loc, 'value is not a valid list', 'type_error.list');
    if (!schema.items) return [...value];
    let valid = true;
    const result = value.map((element, index) => {
      const checked = this.check(schema.items ?? {}, element, [...loc, index]);
      if (checked === INVALID) valid = false;
      return checked;
    });
    return valid ? result : INVALID;
  }

  private checkInteger(schema: JsonSchema, value: unknown, loc: Location): Checked {
    let number: number;
    if (typeof value === 'number') number = value;
    else if (typeof value === 'string' && INTEGER_STRING.test(value)) number = Number(value.trim());
    else return this.fail(loc, 'value is not a valid integer', 'type_error.integer');
    if (!Number.isInteger(number)) return this.fail(loc, 'value is not a valid integer', 'type_error.integer');
    // Beyond 2^53 - 1 an id can no longer be represented exactly: refuse it rather than round it.
    const maximum = Math.min(schema.maximum ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    const minimum = Math.max(schema.minimum ?? Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER);
    if (number > maximum) {
      return this.fail(loc, `ensure this value is less than or equal to ${maximum}`, 'value_error.number.not_le', { limit_value: maximum });
    }
    if (number < minimum) {
      return this.fail(loc, `ensure this value is greater than or equal to ${minimum}`, 'value_error.number.not_ge', { limit_value: minimum });
    }
    return number;
  }

  private checkString(schema: JsonSchema, value: unknown, loc: Location): Checked {
    // pydantic v1 turns numbers into strings for str fields; clients of the original rely on that.
    let text: string;
    if (typeof value === 'string') text = value;
    else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
    else return this.fail(loc, 'str type expected', 'type_error.str');
    // PostgreSQL text cannot hold NUL; refuse it on every database so both behave alike.
    if (text.includes('\u0000')) return this.fail(loc, 'string contains a NUL character', 'value_error.str.nul');
    // pydantic v1's constr order: the minimum first, then the maximum.
    if (schema.minLength !== undefined && text.length < schema.minLength) {
      return this.fail(loc, `ensure this value has at least ${schema.minLength} characters`, 'value_error.any_str.min_length', {
        limit_value: schema.minLength,
      });
    }
    if (schema.maxLength !== undefined && text.length > schema.maxLength) {
      return this.fail(loc, `ensure this value has at most ${schema.maxLength} characters`, 'value_error.any_str.max_length', {
        limit_value: schema.maxLength,
      });
    }
    if (schema.format === 'email' && !isEmailAddress(text)) {
      return this.fail(loc, 'value is not a valid email address', 'value_error.email');
    }
    return text;
  }
}

export type ValidationResult<T = unknown> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

/** Validate and coerce one part of a request (`body`, `query`, `path`), locating problems under that part. */
export function validatePart(schema: JsonSchema, value: unknown, part: 'body' | 'query' | 'path'): ValidationResult {
  const walker = new Walker();
  let input = value;
  if (part === 'body' && (value === undefined || value === null)) {
    return { ok: false, issues: [{ loc: ['body'], msg: 'field required', type: 'value_error.missing' }] };
  }
  if (part !== 'body' && isPlainObject(value)) {
    // A repeated query parameter counts once, with its last value, as in FastAPI.
    input = Object.fromEntries(Object.entries(value).map(([key, item]) => [key, Array.isArray(item) ? item.at(-1) : item]));
  }
  const checked = walker.check(schema, input ?? {}, [part]);
  return checked === INVALID ? { ok: false, issues: walker.issues } : { ok: true, value: checked };
}
