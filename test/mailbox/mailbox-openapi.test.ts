/** The mailbox and moderation routes are in the OpenAPI document, tagged, with examples. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../helpers/build-test-app.js';

interface Operation {
  tags?: string[];
  parameters?: { name: string; in: string; example?: unknown; schema?: unknown }[];
  responses: Record<string, { content?: Record<string, { schema?: Record<string, unknown>; example?: unknown; examples?: unknown }> }>;
}

test('GET /openapi.json documents the mailbox and moderation routes with tags, every status and examples', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(response.statusCode, 200);
  const paths = response.json<{ paths: Record<string, Record<string, Operation>> }>().paths;
  for (const [method, path, tag, statuses, parameters] of [
    ['get', '/users/{user_id}/messages', 'mailbox', ['200', '403', '404', '422'], ['user_id', 'folder', 'unread', 'q', 'limit', 'cursor']],
    ['post', '/users/{user_id}/messages', 'mailbox', ['201', '403', '404', '422', '429'], ['user_id']],
    ['get', '/users/{user_id}/messages/{message_id}', 'mailbox', ['200', '403', '404', '422'], ['user_id', 'message_id']],
    ['get', '/users/{user_id}/threads/{thread_id}', 'mailbox', ['200', '403', '404', '422'], ['user_id', 'thread_id']],
    ['get', '/users/{user_id}/folders', 'mailbox', ['200', '403', '404', '422'], ['user_id']],
    ['get', '/users/{user_id}/spam-reports', 'moderation', ['200', '403', '404', '422'], ['user_id']],
    ['get', '/spam/senders', 'moderation', ['200', '403', '422'], ['limit']],
  ] as const) {
    const operation = paths[path]?.[method];
    assert.ok(operation, `${method} ${path} is documented`);
    assert.deepEqual(operation.tags, [tag]);
    assert.deepEqual(Object.keys(operation.responses).sort(), [...statuses]);
    assert.deepEqual(operation.parameters?.map((parameter) => parameter.name).sort(), [...parameters].sort());
    for (const parameter of operation.parameters ?? []) assert.notEqual(parameter.example, undefined, `${path} ${parameter.name} example`);
    const ok = JSON.stringify(operation.responses[method === 'post' ? '201' : '200']?.content?.['application/json']);
    assert.match(ok, /"example/, `${path} 200 has an example`);
  }
});
