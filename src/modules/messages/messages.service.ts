/**
 * The batch update pipeline: command → load (one query) → plan (pure) → apply (one transaction,
 * constant statements, ledger included) → publish the spam counters that changed.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import type { ReportPair, SpamReports } from '../spam/spam-reports.js';
import { type BatchCommand, planChange, sameState } from './batch-update.js';
import { loadMessageStates, updateMessageStates } from './messages.repository.js';

export interface BatchUpdateContext {
  db: Kysely<Database>;
  spamReports: SpamReports;
}

/**
 * Applies a command to the listed messages; ids that do not exist (or, with `recipientId`, are
 * not that recipient's) are skipped. All changes commit together or not at all.
 */
export async function applyBatchUpdate(context: BatchUpdateContext, command: BatchCommand, recipientId?: number): Promise<void> {
  const ledgerChanges = await context.db.transaction().execute(async (trx) => {
    const messages = await loadMessageStates(trx, command.messageIds, recipientId);
    const changes = [];
    const reports: ReportPair[] = [];
    const withdrawals: ReportPair[] = [];
    for (const message of messages) {
      const { next, spam } = planChange(message, command);
      if (!sameState(next, message)) changes.push({ id: message.id, state: next });
      const pair = { reporterId: message.to_userid, senderId: message.from_userid };
      if (spam === 'report') reports.push(pair);
      else if (spam === 'withdraw') withdrawals.push(pair);
    }
    await updateMessageStates(trx, changes);
    return context.spamReports.recordInLedger(trx, { reports, withdrawals });
  });
  await context.spamReports.publish(ledgerChanges);
}
