/**
 * An instance's push notices (plugins/mailbox-events.ts): the mailboxes that moved are told to every
 * instance in one message at most every PUBLISH_INTERVAL_MS, and the newest step of each always goes.
 * The transport's publish is watched (and still called), on whichever transport the suite's database
 * uses: Redis pub/sub on SQLite, NOTIFY on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../helpers/build-test-app.js';
import { createUser, sendMessage } from '../helpers/factories.js';
import { eventually } from '../helpers/services.js';
import { currentSeqs } from '../../src/modules/mailbox/mailbox-changes.repository.js';
import type { StateNotice } from '../../src/modules/mailbox/push-transports.js';
import { PUBLISH_INTERVAL_MS } from '../../src/plugins/mailbox-events.js';

test('a burst of writes is published in a few messages, at least PUBLISH_INTERVAL_MS apart, the last with every mailbox’s newest step', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const { transport } = app.mailboxEvents;
  const published: { at: number; notices: StateNotice[] }[] = [];
  const publish = transport.publish.bind(transport);
  transport.publish = (notices) => {
    published.push({ at: performance.now(), notices: [...notices] });
    return publish(notices);
  };

  const sends = 30;
  for (let index = 0; index < sends; index += 1) await sendMessage(app, bob.id, ada.id, { subject: `#${index}` });
  const newest = await currentSeqs(app.db, [ada.id, bob.id]);
  const told = (userId: number) => Math.max(0, ...published.flatMap((message) => message.notices.filter((notice) => notice.userId === userId).map((notice) => notice.seq)));
  await eventually(async () => told(ada.id) === newest.get(ada.id) && told(bob.id) === newest.get(bob.id), 2000, 'the newest steps to be published');

  assert.ok(published.length < sends, `${published.length} publishes for ${sends} commits`);
  for (let index = 1; index < published.length; index += 1) {
    const gap = published[index]!.at - published[index - 1]!.at;
    // A timer may fire up to a millisecond early (it counts whole milliseconds).
    assert.ok(gap >= PUBLISH_INTERVAL_MS - 1, `publish ${index} came ${gap.toFixed(2)} ms after the one before`);
  }
  for (const { notices } of published) assert.equal(new Set(notices.map((notice) => notice.userId)).size, notices.length, 'each mailbox once in a message');
});
