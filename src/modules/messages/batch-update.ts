/**
 * The batch update's pure parts: turning a request into a command, and the folder rules as one
 * function of (message state, command). No I/O here; messages.service.ts runs the pipeline.
 */
import type { Folder, MessageRow, UnreadMark } from '../../db/database.js';
import { InvalidOption, InvalidRequest } from '../../errors.js';
import type { BatchUpdate } from './messages.schemas.js';

export const MAX_BATCH_SIZE = 10;

/** undefined: leave as is. */
export type FlagValue = boolean | undefined;

export interface BatchFlags {
  read: FlagValue;
  trash: FlagValue;
  spam: FlagValue;
}

export interface BatchCommand extends BatchFlags {
  /** distinct ids, in the order first sent */
  messageIds: number[];
}

/**
 * The columns that make up a message's state: what the batch update reads, plans and writes. A new
 * flag (say, starred) is added here, to planChange, to the request schema, the table type and a migration.
 */
export const MESSAGE_STATE_FIELDS = ['folder', 'unread'] as const;
export type MessageState = Pick<MessageRow, (typeof MESSAGE_STATE_FIELDS)[number]>;

export function sameState(a: MessageState, b: MessageState): boolean {
  return MESSAGE_STATE_FIELDS.every((field) => a[field] === b[field]);
}

/** One string per distinct state, to group messages that become the same. */
export function stateKey(state: MessageState): string {
  return MESSAGE_STATE_FIELDS.map((field) => state[field]).join('/');
}

function parseFlag(value: string | boolean | null | undefined): FlagValue {
  if (value === undefined || value === null) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new InvalidOption(value);
}

export function parseBatchCommand(body: BatchUpdate): BatchCommand {
  if (body.message_id_list.length === 0) throw new InvalidRequest('Please provide message IDs.');
  if (body.message_id_list.length > MAX_BATCH_SIZE) throw new InvalidRequest('Requested too many messages.');
  return {
    messageIds: [...new Set(body.message_id_list)],
    read: parseFlag(body.read),
    trash: parseFlag(body.trash),
    spam: parseFlag(body.spam),
  };
}

/** What a planned change means for the sender's spam counter (see modules/spam). */
export type SpamEffect = 'report' | 'withdraw' | 'none';

interface PlannedChange {
  next: MessageState;
  spam: SpamEffect;
}

/**
 * The contract's folder rules: what a message becomes under a command, and whether the command
 * reports its sender or may withdraw a report. Sent and deleted mail ignore the spam flag.
 */
export function planChange(current: MessageState, flags: BatchFlags): PlannedChange {
  if (current.folder === 'deleted') return { next: current, spam: 'none' };
  if (current.folder === 'sent') {
    return { next: flags.trash === true ? { ...current, folder: 'deleted' } : current, spam: 'none' };
  }

  let folder: Folder = current.folder;
  if (flags.trash !== undefined) folder = flags.trash ? 'trash' : 'inbox';
  // Spam is applied after trash, so it wins.
  if (flags.spam !== undefined) folder = flags.spam ? 'spam' : 'inbox';
  const unread: UnreadMark = flags.read === undefined ? current.unread : flags.read ? 'N' : 'Y';
  const spam: SpamEffect = flags.spam === undefined ? 'none' : flags.spam ? 'report' : 'withdraw';
  return { next: { folder, unread }, spam };
}
