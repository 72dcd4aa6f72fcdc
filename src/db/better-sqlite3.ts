/**
 * better-sqlite3 for the Node.js that runs us; import it from here, never from 'better-sqlite3'.
 * 12 wraps its objects in Node's C++ ObjectWrap, which on Node 24 aborts the process when the garbage
 * collector finalizes a statement outside JavaScript ("Assertion failed: (env) != nullptr" in
 * RemoveEnvironmentCleanupHook: at exit, and at times at start or mid-run). 13 is built on Node-API and
 * does not, but needs Node 22 and crashes on 20. Both are installed, 13 as the alias better-sqlite3-13
 * (prebuilt, nothing to compile), and the running Node's major version picks one. When Node 20 support
 * ends: better-sqlite3 ^13, no alias, and this file goes.
 */
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

const require = createRequire(import.meta.url);
const nodeMajor = Number(process.versions.node.split('.')[0]);

const moduleName = nodeMajor >= 22 ? 'better-sqlite3-13' : 'better-sqlite3';
const SqliteDatabase = require(moduleName) as typeof BetterSqlite3;
/** Where that module is, for a worker thread that opens a connection of its own (sqlite-checkpointer.ts). */
export const SQLITE_MODULE_PATH = require.resolve(moduleName);

export default SqliteDatabase;
