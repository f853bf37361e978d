import type Database from 'better-sqlite3';

/**
 * Prepared statements kept by their SQL text: preparing is a large part of a short query's cost,
 * and the hot path runs the same few statements for every request. Kysely's driver prepares every
 * query it runs, so the connection it gets is wrapped too (`preparedOnce`).
 *
 * Bounded: texts that vary (an `IN (…)` list of a different length) would otherwise grow it for
 * ever; past the bound it starts again, which costs only a new prepare.
 */
export class StatementCache {
  readonly #statements = new Map<string, Database.Statement>();

  constructor(
    private readonly sqlite: Database.Database,
    readonly max = 512,
  ) {}

  get(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.sqlite.prepare(sql);
      if (this.#statements.size >= this.max) this.#statements.clear();
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}

/** The connection as Kysely's SQLite driver sees it, preparing each text once. */
export function preparedOnce(sqlite: Database.Database, cache: StatementCache) {
  return {
    close: () => sqlite.close(),
    prepare: (sql: string) => cache.get(sql),
  };
}

/** `get` and `all` over prepared statements: positional parameters, rows as better-sqlite3 gives them. */
export interface RowReads {
  get<R>(sql: string, params?: readonly unknown[]): R | undefined;
  all<R>(sql: string, params?: readonly unknown[]): R[];
}

/** The reads of `cache`'s connection (the write transaction's, and the committed reads'). */
export function rowReads(cache: () => StatementCache): RowReads {
  return {
    get: <R>(text: string, params: readonly unknown[] = []) =>
      cache()
        .get(text)
        .get(...params) as R | undefined,
    all: <R>(text: string, params: readonly unknown[] = []) =>
      cache()
        .get(text)
        .all(...params) as R[],
  };
}
