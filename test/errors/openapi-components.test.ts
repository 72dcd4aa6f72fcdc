/** How src/plugins/openapi-components.ts names shapes in the document without touching the routes' schemas. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Type } from 'typebox';
import { OpenApiComponents } from '../../src/plugins/openapi-components.js';

const Item = Type.Object({ title: Type.String() }, { $id: 'Item' });
const User = Type.Object({ email: Type.String(), items: Type.Array(Item) }, { $id: 'User' });
const Problem = Type.Object({ detail: Type.String() }, { $id: 'HTTPError', description: 'An error.' });

test('bodies reference their named shapes; the route schema itself stays concrete for validation and serialization', () => {
  const routeSchema = {
    operationId: 'create_user_users__post',
    querystring: Type.Object({ limit: Type.Optional(Type.Integer()) }),
    body: User,
    response: { 200: Type.Array(User), 404: Type.Intersect([Problem], { description: 'No such user.', examples: [{ detail: 'User not found' }] }) },
  };
  const before = JSON.stringify(routeSchema);
  const components = new OpenApiComponents();
  components.collect(routeSchema);
  const documented = components.documented(routeSchema);
  assert.equal(JSON.stringify(routeSchema), before, 'the route schema is not changed');

  assert.deepEqual(documented.body, { $ref: '#/components/schemas/User' });
  assert.deepEqual(documented.querystring, routeSchema.querystring, 'parameters stay inline');
  assert.deepEqual(documented.response, {
    200: { type: 'array', items: { $ref: '#/components/schemas/User' } },
    404: {
      description: 'No such user.',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/HTTPError' }, example: { detail: 'User not found' } } },
    },
  });
  assert.deepEqual(components.schemas, {
    User: {
      title: 'User',
      type: 'object',
      required: ['email', 'items'],
      properties: { email: { type: 'string' }, items: { type: 'array', items: { $ref: '#/components/schemas/Item' } } },
    },
    Item: { title: 'Item', type: 'object', required: ['title'], properties: { title: { type: 'string' } } },
    HTTPError: { title: 'HTTPError', type: 'object', required: ['detail'], properties: { detail: { type: 'string' } }, description: 'An error.' },
  });
});

test('the same shape built twice shares its name; two different shapes under one name stop the start', () => {
  const components = new OpenApiComponents();
  const build = (maxLength: number) => Type.Object({ title: Type.String({ maxLength }) }, { $id: 'ItemCreate' });
  components.collect({ body: build(500) });
  components.collect({ body: build(500) });
  assert.throws(() => components.collect({ body: build(10) }), /two different schemas are named "ItemCreate"/);
});

test('data is never read as a schema, and hidden routes are left out', () => {
  const components = new OpenApiComponents();
  const example = { $id: 'NotAShape', detail: 'x' };
  components.collect({ response: { 200: Type.Object({ detail: Type.String() }, { examples: [example] }) } });
  components.collect({ hide: true, body: User });
  assert.deepEqual(components.schemas, {});
});

test('a property named like a data keyword is still searched for named shapes', () => {
  const components = new OpenApiComponents();
  const documented = components.documented({ body: Type.Object({ examples: Type.Array(Item), default: Item }) });
  assert.deepEqual(documented.body, {
    type: 'object',
    required: ['examples', 'default'],
    properties: { examples: { type: 'array', items: { $ref: '#/components/schemas/Item' } }, default: { $ref: '#/components/schemas/Item' } },
  });
});
