/**
 * Queries built and compiled once, then run again with new values. Kysely builds a query's tree and
 * compiles it to SQL on every call: 5 to 10 µs a query, more than running it costs for the small
 * statements of a request (profiled under load: the mailbox-step upsert spent three quarters of its
 * time being built). A prepared query is built once per database dialect and shape, with stand-ins
 * for its values; each call then puts its values where the stand-ins were and runs the same SQL (whose
 * statement the SQLite driver also keeps prepared).
 *
 * The build function must use its arguments as values only (never branch on them, compute with them or
 * look into them); an array argument may only be spread into values, and its length is part of the
 * shape (a query per length, up to 64 kept). Everything else it puts in the query is fixed at the first call.
 */
import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import { dialectOf } from './create-db.js';
import { runAtOnce } from './sqlite-group-commit.js';

type Scalar = string | number | null;
type Argument = Scalar | readonly Scalar[];

/** Where a value goes: argument `argument`, or item `item` of that argument (an array). */
class StandIn {
  constructor(
    readonly argument: number,
    readonly item: number | undefined,
  ) {}
}

/** Shapes kept per query; past them (arrays of unbounded length), a query is built for each call. */
const MAX_PLANS = 64;

interface Plan<Row> {
  query: CompiledQuery<Row>;
  parameters: readonly unknown[];
}

export type PreparedQuery<DB, Args extends readonly Argument[], Row> = (db: Kysely<DB>, ...args: Args) => Promise<Row[]>;

/** A prepared query whose caller wants the whole result (an insert's `insertId`, a count of rows changed), not only its rows. */
export type PreparedResult<DB, Args extends readonly Argument[], Row> = (db: Kysely<DB>, ...args: Args) => Promise<QueryResult<Row>>;

export function prepared<DB, Args extends readonly Argument[], Row>(build: (db: Kysely<DB>, ...args: Args) => Compilable<Row>): PreparedQuery<DB, Args, Row> {
  const bind = binder(build);
  return async (db, ...args) => (await runCompiled(db, bind(db, args))).rows;
}

/** As prepared, answering the whole result. */
export function preparedResult<DB, Args extends readonly Argument[], Row>(
  build: (db: Kysely<DB>, ...args: Args) => Compilable<Row>,
): PreparedResult<DB, Args, Row> {
  const bind = binder(build);
  return async (db, ...args) => runCompiled(db, bind(db, args));
}

/** The query of `build` for these arguments: its plan for their dialect and shape (built at the first call), with their values. */
function binder<DB, Args extends readonly Argument[], Row>(build: (db: Kysely<DB>, ...args: Args) => Compilable<Row>) {
  const plans = new Map<string, Plan<Row>>();
  return (db: Kysely<DB>, args: Args): CompiledQuery<Row> => {
    // The shape: the dialect, how many arguments, and each array argument's place and length.
    let key = `${dialectOf(db)}/${args.length}`;
    for (let index = 0; index < args.length; index += 1) {
      const argument = args[index];
      if (Array.isArray(argument)) key += `,${index}:${argument.length}`;
    }
    let plan = plans.get(key);
    if (plan === undefined) {
      const standIns = args.map((argument, index) =>
        Array.isArray(argument) ? argument.map((_, item) => new StandIn(index, item)) : new StandIn(index, undefined),
      );
      // The stand-ins take the arguments' places: the build function sees them as the values they stand for.
      const query = build(db, ...(standIns as unknown as Args)).compile();
      plan = { query, parameters: query.parameters };
      if (plans.size < MAX_PLANS) plans.set(key, plan);
    }
    const parameters = plan.parameters.map((parameter) => {
      if (!(parameter instanceof StandIn)) return parameter;
      const argument = args[parameter.argument];
      return parameter.item === undefined ? argument : (argument as readonly Scalar[])[parameter.item];
    });
    return { ...plan.query, parameters };
  };
}

/**
 * A query written in SQL (its values as `?`), compiled once; each call gives it with its values.
 * CompiledQuery.raw makes and freezes five objects a call: a few thousand instructions, on every create.
 */
export function rawQuery<Row>(text: string): (...parameters: unknown[]) => CompiledQuery<Row> {
  const query = CompiledQuery.raw(text) as CompiledQuery<Row>;
  return (...parameters) => ({ ...query, parameters });
}

/** Runs a compiled query: at once on SQLite where it can (runAtOnce), else through Kysely's executor. */
export function runCompiled<DB, Row>(db: Kysely<DB>, query: CompiledQuery<Row>): Promise<QueryResult<Row>> | QueryResult<Row> {
  return runAtOnce<Row>(db, query) ?? db.executeQuery(query);
}
