/**
 * web/src/api-types.d.ts is generated from /openapi.json by `npm run api:types`: it must say what the
 * routes' schemas say today, so the web inbox (typed by it, checked by `npm run lint`) cannot drift from the API.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { API_TYPES_FILE, generateApiTypes } from '../../scripts/generate-api-types.js';

test('web/src/api-types.d.ts is what `npm run api:types` generates from the current /openapi.json', async () => {
  const committed = await readFile(API_TYPES_FILE, 'utf8').catch(() => '(missing)');
  const generated = await generateApiTypes();
  if (committed === generated) return;
  const committedLines = committed.split('\n');
  const generatedLines = generated.split('\n');
  const line = generatedLines.findIndex((text, index) => text !== committedLines[index]);
  assert.fail(
    `web/src/api-types.d.ts is stale: run \`npm run api:types\` and commit the result.\n` +
      `First difference at line ${line + 1}:\n  committed: ${committedLines[line] ?? '(end of file)'}\n  generated: ${generatedLines[line] ?? '(end of file)'}`,
  );
});
