/**
 * The batch update pipeline: command → load (one query) → plan (pure) → apply (one transaction,
 * constant statements, the recipients' mailbox steps and the ledger included) → tell the mailboxes'
 * streams and publish the spam counters that changed.
 */
import type { Kysely } from 'kysely';
import { inTransaction } from '../../db/create-db.js';
import type { Database } from '../../db/database.js';
import { type AdvancedStates, advanceMailboxes, type CountDeltas, countDeltasOfMove } from '../mailbox/mailbox-changes.repository.js';
import type { ReportPair, SpamReports } from '../spam/spam-reports.js';
import { type BatchCommand, planChange, sameState } from './batch-update.js';
import { loadMessageStates, updateMessageStates } from './messages.repository.js';

export interface BatchUpdateContext {
  db: Kysely<Database>;
  spamReports: SpamReports;
  /** told, once committed, which mailboxes moved to which step (push to their streams) */
  mailboxStatesChanged: (states: AdvancedStates) => void;
}

/**
 * Applies a command to the listed messages; ids that do not exist (or, with `recipientId`, are
 * not that recipient's) are skipped. All changes commit together or not at all, with a step of each
 * recipient's mailbox whose messages changed.
 */
export async function applyBatchUpdate(context: BatchUpdateContext, command: BatchCommand, recipientId?: number): Promise<void> {
  const { ledgerChanges, states } = await inTransaction(context.db, async (trx) => {
    const messages = await loadMessageStates(trx, command.messageIds, recipientId);
    const changed = [];
    const reports: ReportPair[] = [];
    const withdrawals: ReportPair[] = [];
    for (const message of messages) {
      const { next, spam } = planChange(message, command);
      if (!sameState(next, message)) changed.push({ message, state: next });
      const pair = { reporterId: message.to_userid, senderId: message.from_userid };
      if (spam === 'report') reports.push(pair);
      else if (spam === 'withdraw') withdrawals.push(pair);
    }
    // Each recipient whose messages changed moves one step on, with what the moves did to their folder counts.
    const mailboxes = new Map<number, CountDeltas>();
    for (const { message, state } of changed) {
      mailboxes.set(message.to_userid, countDeltasOfMove(mailboxes.get(message.to_userid) ?? {}, message, state));
    }
    const states = await advanceMailboxes(trx, mailboxes);
    await updateMessageStates(
      trx,
      changed.map(({ message, state }) => ({ id: message.id, state, recipientSeq: states.get(message.to_userid) ?? 0 })),
    );
    return { ledgerChanges: await context.spamReports.recordInLedger(trx, { reports, withdrawals }), states };
  });
  context.mailboxStatesChanged(states);
  await context.spamReports.publish(ledgerChanges);
}
