import { Type } from 'typebox';
import { detailAnswer, UnprocessableBody } from '../shared.schemas.js';

export const MAX_TOP_SENDERS = 100;
export const DEFAULT_TOP_SENDERS = 20;

export const SenderParams = Type.Object({ user_id: Type.Integer({ description: 'The sender.', examples: [7] }) });

export const SpamReportCount = Type.Object(
  {
    user_id: Type.Integer({ description: 'The sender.' }),
    reported_by: Type.Integer({ description: 'Distinct users who currently report this sender.' }),
  },
  { $id: 'SpamReportCount', examples: [{ user_id: 7, reported_by: 3 }] },
);

export const TopSendersQuery = Type.Object({
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_TOP_SENDERS,
      default: DEFAULT_TOP_SENDERS,
      description: `How many senders, 1 to ${MAX_TOP_SENDERS}.`,
      examples: [DEFAULT_TOP_SENDERS],
    }),
  ),
});

const notAModerator = detailAnswer('A known caller whose email is not in MODERATOR_EMAILS.', 'Not allowed');

export const spamReportCountSchema = {
  operationId: 'read_spam_reports_users__user_id__spam_reports_get',
  tags: ['moderation'],
  summary: 'How many distinct users currently report a sender as a spammer',
  description: "The sender's spam counter (0 when absent). With a known caller (a token), moderators only (MODERATOR_EMAILS).",
  params: SenderParams,
  response: {
    200: SpamReportCount,
    403: notAModerator,
    404: detailAnswer('No such user.', 'User not found'),
    422: UnprocessableBody,
  },
};

export const topSendersSchema = {
  operationId: 'read_top_senders_spam_senders_get',
  tags: ['moderation'],
  summary: 'The senders reported by the most distinct users, highest first',
  description: 'From the spam-report ledger; only senders reported right now. With a known caller (a token), moderators only (MODERATOR_EMAILS).',
  querystring: TopSendersQuery,
  response: {
    200: Type.Array(SpamReportCount, {
      examples: [
        [
          { user_id: 7, reported_by: 3 },
          { user_id: 12, reported_by: 1 },
        ],
      ],
    }),
    403: notAModerator,
    422: UnprocessableBody,
  },
};
