/**
 * /openapi.json is a document generated clients can rely on: it passes Redocly's linter with the
 * project's redocly.yaml (offline), names every operation as the original did, and every request and
 * response body is a named component.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { lintFromString, loadConfig, type NormalizedProblem } from '@redocly/openapi-core';
import { buildTestApp } from '../helpers/build-test-app.js';

const REDOCLY_CONFIG = fileURLToPath(new URL('../../redocly.yaml', import.meta.url));
const AUTH_SECRET = 'openapi-lint-test-secret-0123456789abcdef';

interface Media {
  schema?: Schema;
}
interface Schema {
  $ref?: string;
  type?: string;
  items?: Schema;
  anyOf?: Schema[];
  properties?: Record<string, Schema>;
}
interface Operation {
  operationId?: string;
  parameters?: unknown[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** The original's operation ids, which the SDKs generated from its document call their methods by. */
const CONTRACT_OPERATION_IDS = {
  'POST /users/': 'create_user_users__post',
  'GET /users/': 'read_users_users__get',
  'GET /msg/list/': 'get_message_list_msg_list__get',
  'PUT /msg/list/': 'put_update_msg_list__put',
  'POST /msg/create/': 'create_message_msg_create__post',
  'GET /users/{user_id}': 'read_user_users__user_id__get',
  'POST /users/{user_id}/items/': 'create_item_for_user_users__user_id__items__post',
  'GET /items/': 'read_items_items__get',
  'GET /': 'read_root__get',
};

/** The original's component names for the contract's shapes. */
const CONTRACT_COMPONENTS = [
  'User',
  'UserCreate',
  'Item',
  'ItemCreate',
  'PrivateMessage',
  'PrivateMessageCreate',
  'PrivateMessageUpdate',
  'HTTPValidationError',
  'ValidationError',
];

const ENVIRONMENTS: Record<string, Record<string, string>> = {
  off: { AUTH_MODE: 'off' },
  optional: { AUTH_MODE: 'optional', AUTH_SECRET },
  required: { AUTH_MODE: 'required', AUTH_SECRET },
};

function operationsOf(document: OpenApiDocument): [string, Operation][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]): [string, Operation] => [`${method.toUpperCase()} ${path}`, operation]),
  );
}

function describe(problem: NormalizedProblem): string {
  const where = problem.location.map((location) => location.pointer ?? '').join(', ');
  return `${problem.severity} ${problem.ruleId}: ${problem.message} (${where})`;
}

for (const [mode, env] of Object.entries(ENVIRONMENTS)) {
  test(`AUTH_MODE=${mode}: /openapi.json passes redocly lint with redocly.yaml, warnings included`, async (t) => {
    const { app } = await buildTestApp(t, env);
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    const config = await loadConfig({ configPath: REDOCLY_CONFIG });
    const problems = await lintFromString({ source: response.body, absoluteRef: 'openapi.json', config });
    assert.deepEqual(problems.map(describe), []);
  });
}

test('every operation has the original operation id, or one in its style: <function>_<path with _ for non-word characters>_<method>', async (t) => {
  const { app } = await buildTestApp(t, ENVIRONMENTS.optional);
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApiDocument>();
  const operations = operationsOf(document);
  const ids = Object.fromEntries(operations.map(([name, operation]) => [name, operation.operationId]));
  for (const [name, id] of Object.entries(CONTRACT_OPERATION_IDS)) assert.equal(ids[name], id, name);

  for (const [name, operation] of operations) {
    const [method = '', path = ''] = name.split(' ');
    assert.match(operation.operationId ?? '', /^[a-z][a-z0-9_]*$/, `${name} has a snake_case operation id`);
    // FastAPI's generate_unique_id: the function's name, then the path with every non-word character as "_", then the method.
    const suffix = `${path.replace(/\W/g, '_')}_${method.toLowerCase()}`;
    assert.ok(operation.operationId?.endsWith(suffix) && operation.operationId.length > suffix.length, `${name}: ${operation.operationId} ends with ${suffix}`);
  }
  assert.equal(new Set(Object.values(ids)).size, operations.length, 'operation ids are unique');
  assert.ok(ids['POST /token'], 'POST /token is documented with authentication on');
});

test('the contract shapes are named components, referenced from the operations that carry them', async (t) => {
  const { app } = await buildTestApp(t);
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApiDocument>();
  const schemas = document.components.schemas;
  for (const name of CONTRACT_COMPONENTS) assert.ok(schemas[name], `components.schemas.${name}`);

  const ref = (name: string) => `#/components/schemas/${name}`;
  const json = (operation: Operation | undefined, status: string) => operation?.responses[status]?.content?.['application/json']?.schema;
  const body = (operation: Operation | undefined) => operation?.requestBody?.content['application/json']?.schema;
  const { paths } = document;
  assert.deepEqual(body(paths['/users/']?.post), { $ref: ref('UserCreate') });
  assert.deepEqual(json(paths['/users/']?.post, '200'), { $ref: ref('User') });
  assert.deepEqual(json(paths['/users/']?.get, '200'), { type: 'array', items: { $ref: ref('User') } });
  assert.deepEqual(json(paths['/users/{user_id}']?.get, '200'), { $ref: ref('User') });
  assert.deepEqual(body(paths['/users/{user_id}/items/']?.post), { $ref: ref('ItemCreate') });
  assert.deepEqual(json(paths['/users/{user_id}/items/']?.post, '200'), { $ref: ref('Item') });
  assert.deepEqual(json(paths['/items/']?.get, '200'), { type: 'array', items: { $ref: ref('Item') } });
  assert.deepEqual(body(paths['/msg/create/']?.post), { $ref: ref('PrivateMessageCreate') });
  assert.deepEqual(json(paths['/msg/create/']?.post, '200'), { $ref: ref('PrivateMessage') });
  assert.deepEqual(json(paths['/msg/list/']?.get, '200'), { type: 'array', items: { $ref: ref('PrivateMessage') } });
  assert.deepEqual(body(paths['/msg/list/']?.put), { $ref: ref('PrivateMessageUpdate') });
  assert.deepEqual(schemas.User?.properties?.items, { type: 'array', items: { $ref: ref('Item') } });
  assert.deepEqual(schemas.HTTPValidationError?.properties?.detail, { type: 'array', items: { $ref: ref('ValidationError') } });
  assert.deepEqual(Object.keys(schemas.ValidationError?.properties ?? {}), ['loc', 'msg', 'type']);
  assert.ok(json(paths['/msg/list/']?.put, '422')?.anyOf?.some((branch) => branch.$ref === ref('HTTPValidationError')));
});

test('every body is a named shape: no object schema is written out inside an operation', async (t) => {
  const { app } = await buildTestApp(t, ENVIRONMENTS.optional);
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApiDocument>();
  const inlineObjects: string[] = [];
  const visit = (schema: Schema | undefined, where: string) => {
    if (!schema) return;
    if (schema.properties || schema.type === 'object') inlineObjects.push(where);
    visit(schema.items, `${where}.items`);
    schema.anyOf?.forEach((branch, index) => visit(branch, `${where}.anyOf[${index}]`));
  };
  for (const [name, operation] of operationsOf(document)) {
    for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) visit(media.schema, `${name} request ${type}`);
    for (const [status, answer] of Object.entries(operation.responses)) {
      for (const [type, media] of Object.entries(answer.content ?? {})) visit(media.schema, `${name} ${status} ${type}`);
    }
    // redocly.yaml switches operation-4xx-response off for the operations without input; these must document their 422.
    if (operation.parameters?.length || operation.requestBody) assert.ok(operation.responses['422'], `${name} documents 422`);
  }
  assert.deepEqual(inlineObjects, []);
  for (const [name, schema] of Object.entries(document.components.schemas)) assert.equal((schema as { title?: string }).title, name);
});
