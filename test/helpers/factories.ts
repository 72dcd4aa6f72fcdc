/** Small factories that make test data through the public API, as a client would. */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { components } from '../../web/src/api-types.js';
import { MESSAGE_COLUMNS } from '../../src/modules/messages/messages.repository.js';
import { uniqueName } from './services.js';

/** The contract's shapes, as /openapi.json states them (generated, like the web client's). */
export type UserBody = components['schemas']['User'];
export type MessageBody = components['schemas']['PrivateMessage'];

export async function createUser(app: FastifyInstance, email = `${uniqueName('user')}@example.com`, password = 'secret-password'): Promise<UserBody> {
  const response = await app.inject({ method: 'POST', url: '/users/', payload: { email, password } });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<UserBody>();
}

export async function sendMessage(
  app: FastifyInstance,
  from: number,
  to: number,
  fields: { subject?: string; message?: string } = {},
): Promise<MessageBody> {
  const response = await app.inject({
    method: 'POST',
    url: '/msg/create/',
    payload: { from_userid: from, to_userid: to, subject: fields.subject ?? 'Hello', message: fields.message ?? 'Hi there' },
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<MessageBody>();
}

/** Sends `count` messages from one user to another and returns their ids. */
export async function sendMessages(app: FastifyInstance, from: number, to: number, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let index = 0; index < count; index += 1) ids.push((await sendMessage(app, from, to, { subject: `#${index}` })).id);
  return ids;
}

export function batchUpdate(app: FastifyInstance, payload: Record<string, unknown>) {
  return app.inject({ method: 'PUT', url: '/msg/list/', payload });
}

/** The stored state of some messages, read straight from the database. */
export async function storedMessages(app: FastifyInstance, ids: number[]): Promise<MessageBody[]> {
  if (ids.length === 0) return [];
  return app.db.selectFrom('messages').select(MESSAGE_COLUMNS).where('id', 'in', ids).orderBy('id').execute();
}
