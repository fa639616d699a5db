import type { Db, Migration } from './db.ts';

/**
 * Applies, in order and each in its own transaction, the migrations not yet recorded. Several
 * API processes may start at once on PostgreSQL, so the runner takes an advisory lock there.
 */
export async function migrate(db: Db, migrations: readonly Migration[]): Promise<string[]> {
  const ids = new Set<string>();
  for (const m of migrations) {
    if (ids.has(m.id)) throw new Error(`duplicate migration id ${m.id}`);
    ids.add(m.id);
  }
  await db.execute(
    'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)',
  );
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    if (tx.dialect === 'postgres') await tx.execute('SELECT pg_advisory_xact_lock(7411)');
    const done = new Set((await tx.query<{ id: string }>('SELECT id FROM schema_migrations')).map((r) => r.id));
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      const sql = tx.dialect === 'sqlite' ? m.sqlite : m.postgres;
      for (const stmt of splitStatements(sql)) await tx.execute(stmt);
      await tx.execute('INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)', [m.id, Date.now()]);
      applied.push(m.id);
    }
  });
  return applied;
}

/**
 * Statements separated by `;` at the end of a line. A PostgreSQL function body between `$$` marks
 * is one statement whatever its lines end with.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  for (const [i, part] of sql.split('$$').entries()) {
    // Odd parts are function bodies: glue them to the statement they belong to.
    if (i % 2 === 1) {
      out[out.length - 1] += `$$${part}$$`;
      continue;
    }
    const pieces = part.split(/;\s*$/m);
    if (i > 0) out[out.length - 1] += pieces.shift()!;
    out.push(...pieces);
  }
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}
