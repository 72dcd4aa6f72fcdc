/**
 * What the tab remembers: the session (so a reload stays signed in) and each user's unsent draft, both
 * in sessionStorage (gone when the tab closes). Drafts are keyed by user id, and signing out removes
 * every draft, so the next person who signs in on the same tab never sees someone else's unsent words.
 */
import type { Session } from './store.js';

const SESSION_KEY = 'inbox.session';
const DRAFT_PREFIX = 'inbox.draft.';

export function storeSession(session: Session | undefined): void {
  if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_KEY);
}

export function storedSession(): Session | undefined {
  try {
    const value: unknown = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    if (typeof value !== 'object' || value === null || !('userId' in value) || typeof value.userId !== 'number') return undefined;
    const token = 'token' in value && typeof value.token === 'string' ? value.token : undefined;
    return token ? { userId: value.userId, token } : { userId: value.userId };
  } catch {
    return undefined;
  }
}

export interface Draft {
  to: string;
  subject: string;
  body: string;
  /** a reply: the message answered, and whom and what it answers (shown, not editable) */
  inReplyTo?: number;
  replyTo?: string;
  replySubject?: string;
}

export function isEmptyDraft(draft: Draft | undefined): boolean {
  return !draft || (draft.body.trim() === '' && (draft.inReplyTo !== undefined || (draft.to.trim() === '' && draft.subject.trim() === '')));
}

export function loadDraft(userId: number): Draft | undefined {
  try {
    const value: unknown = JSON.parse(sessionStorage.getItem(DRAFT_PREFIX + userId) ?? 'null');
    if (typeof value !== 'object' || value === null) return undefined;
    const record = value as Record<string, unknown>;
    const text = (name: string) => (typeof record[name] === 'string' ? record[name] : '');
    const draft: Draft = { to: text('to'), subject: text('subject'), body: text('body') };
    if (typeof record.inReplyTo === 'number') {
      draft.inReplyTo = record.inReplyTo;
      draft.replyTo = text('replyTo');
      draft.replySubject = text('replySubject');
    }
    return draft;
  } catch {
    return undefined;
  }
}

export function saveDraft(userId: number, draft: Draft | undefined): void {
  if (draft && !isEmptyDraft(draft)) sessionStorage.setItem(DRAFT_PREFIX + userId, JSON.stringify(draft));
  else sessionStorage.removeItem(DRAFT_PREFIX + userId);
}

/** Signing out: every user's draft goes, not only the one signing out. */
export function forgetAllDrafts(): void {
  const keys: string[] = [];
  for (let index = 0; index < sessionStorage.length; index += 1) {
    const key = sessionStorage.key(index);
    if (key?.startsWith(DRAFT_PREFIX)) keys.push(key);
  }
  for (const key of keys) sessionStorage.removeItem(key);
}
