/** Table types: what Kysely checks every query against. */
import type { Generated, Selectable } from 'kysely';

export interface UsersTable {
  id: Generated<number>;
  /** as the user sent it */
  email: string;
  /** normalizeEmail(email), unique: every lookup and comparison by email goes through it */
  email_key: string;
  /** argon2id PHC string; never leaves the service */
  hashed_password: string;
  /** 1 or 0: SQLite has no boolean type and better-sqlite3 cannot bind one */
  is_active: Generated<number>;
}

export interface ItemsTable {
  id: Generated<number>;
  title: string;
  description: string | null;
  owner_id: number;
}

/** The folders a recipient's mailbox lists, in order; then every folder a message can be in. The one list of their names. */
export const MAILBOX_FOLDERS = ['inbox', 'trash', 'spam'] as const;
export const FOLDERS = [...MAILBOX_FOLDERS, 'sent', 'deleted'] as const;
export type Folder = (typeof FOLDERS)[number];
export type UnreadMark = 'Y' | 'N';

export interface MessagesTable {
  id: Generated<number>;
  from_userid: number;
  to_userid: number;
  subject: string;
  message: string;
  folder: Generated<Folder>;
  unread: Generated<UnreadMark>;
}

/** One row per (sender, reporter): the recipient `reporter_id` reports `sender_id` as a spammer. */
export interface SpamReportsTable {
  reporter_id: number;
  sender_id: number;
  /** epoch milliseconds */
  reported_at: number;
}

/** Per reported sender: the number of reporters, a write version, and the expiry (epoch ms). */
export interface SpamCountersTable {
  sender_id: number;
  reporters: number;
  version: number;
  expires_at: number;
}

/** Facts about this database, by name: `database_generation` (a random id made at migration). */
export interface SettingsTable {
  name: string;
  value: string;
}

export interface Database {
  users: UsersTable;
  items: ItemsTable;
  messages: MessagesTable;
  spam_reports: SpamReportsTable;
  spam_counters: SpamCountersTable;
  settings: SettingsTable;
}

export type UserRow = Selectable<UsersTable>;
export type ItemRow = Selectable<ItemsTable>;
export type MessageRow = Selectable<MessagesTable>;
