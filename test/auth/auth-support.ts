/** Shared by the auth tests: env for each mode, login, and requests made as a user. */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { UserBody, MessageBody } from '../helpers/factories.js';
import { uniqueName } from '../helpers/services.js';

export const SECRET = 'a-test-secret-of-more-than-32-bytes-0123456789';

export type AuthedMode = 'optional' | 'required';
export const AUTHED_MODES: readonly AuthedMode[] = ['optional', 'required'];

export function authEnv(mode: 'off' | AuthedMode, extra: Record<string, string> = {}): Record<string, string> {
  return mode === 'off' ? { AUTH_MODE: 'off', ...extra } : { AUTH_MODE: mode, AUTH_SECRET: SECRET, ...extra };
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

export async function signUp(app: FastifyInstance, password = 'secret-password'): Promise<UserBody> {
  const response = await app.inject({ method: 'POST', url: '/users/', payload: { email: `${uniqueName('user')}@example.com`, password } });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<UserBody>();
}

/** Logs in with the OAuth2 form, as Swagger UI does, and returns the access token. */
export async function login(app: FastifyInstance, email: string, password = 'secret-password'): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ username: email, password, grant_type: 'password' }).toString(),
  });
  assert.equal(response.statusCode, 200, response.body);
  const body = response.json<{ access_token: string; token_type: string }>();
  assert.equal(body.token_type, 'bearer');
  return body.access_token;
}

export interface Account {
  user: UserBody;
  token: string;
  headers: { authorization: string };
}

export async function account(app: FastifyInstance): Promise<Account> {
  const user = await signUp(app);
  const token = await login(app, user.email);
  return { user, token, headers: bearer(token) };
}

export async function sendAs(app: FastifyInstance, sender: Account, to: number, subject = 'Hello'): Promise<MessageBody> {
  const response = await app.inject({
    method: 'POST',
    url: '/msg/create/',
    headers: sender.headers,
    payload: { from_userid: sender.user.id, to_userid: to, subject, message: 'Hi' },
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<MessageBody>();
}

/** Everything a refused or skipped request must leave untouched. */
export async function storedState(app: FastifyInstance) {
  const [users, items, messages, reports] = await Promise.all([
    app.db.selectFrom('users').select(['id', 'email', 'hashed_password', 'is_active']).orderBy('id').execute(),
    app.db.selectFrom('items').selectAll().orderBy('id').execute(),
    app.db.selectFrom('messages').selectAll().orderBy('id').execute(),
    app.db.selectFrom('spam_reports').selectAll().execute(),
  ]);
  return { users, items, messages, reports };
}

export function assertNotAuthenticated(response: { statusCode: number; body: string; headers: Record<string, unknown> }) {
  assert.equal(response.statusCode, 401, response.body);
  assert.deepEqual(JSON.parse(response.body), { detail: 'Not authenticated' });
  assert.equal(response.headers['www-authenticate'], 'Bearer');
}
