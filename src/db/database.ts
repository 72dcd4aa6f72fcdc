/** Table types: what Kysely checks every query against. */
import type { ColumnType, Generated, RawBuilder, Selectable } from 'kysely';

/** A column that may be NULL and may be left out of an insert (it is then NULL). */
type Optional<T> = ColumnType<T | null, T | null | undefined, T | null>;

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
  /** epoch milliseconds when the service stored it; NULL for messages stored before migration 0005 */
  created_at: Optional<number>;
  /** the first message of its conversation; NULL when it is that first message (its thread is its own id) */
  thread_id: Optional<number>;
  /** the message it answers */
  in_reply_to: Optional<number>;
  /**
   * PostgreSQL only: the message's search words (modules/mailbox/search-index.ts), written with the
   * row, never read back. SQLite keeps them in the FTS5 table `messages_search` instead.
   */
  search_vector: ColumnType<never, RawBuilder<unknown> | undefined, never>;
  /** the recipient's mailbox step at which it last changed (mailbox_states); NULL before migration 0006 */
  recipient_seq: Optional<number>;
  /** the recipient's mailbox step at which it arrived */
  recipient_created_seq: Optional<number>;
  /** the sender's mailbox step at which it was sent */
  sender_seq: Optional<number>;
}

/**
 * Per user: the step their mailbox is at (every change to it advances `seq` by one) and its folder
 * counts, both kept in the transaction of each change (modules/mailbox/mailbox-changes.repository.ts).
 */
export interface MailboxStatesTable {
  user_id: number;
  seq: number;
  inbox_total: Generated<number>;
  inbox_unread: Generated<number>;
  trash_total: Generated<number>;
  trash_unread: Generated<number>;
  spam_total: Generated<number>;
  spam_unread: Generated<number>;
  sent_total: Generated<number>;
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
  mailbox_states: MailboxStatesTable;
}

export type UserRow = Selectable<UsersTable>;
export type ItemRow = Selectable<ItemsTable>;
export type MessageRow = Selectable<MessagesTable>;
