import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { withStatementCache } from '../../src/db/statement-cache.js';

describe('SQLite statement cache', () => {
  const open = () => {
    const raw = new SQLite(':memory:');
    raw.exec('create table t (n integer); insert into t values (1), (2), (3);');
    return withStatementCache(raw);
  };

  it('hands back the prepared statement for the same SQL', () => {
    const db = open();
    const first = db.prepare('select n from t where n = ?');
    expect(db.prepare('select n from t where n = ?')).toBe(first);
    expect(db.prepare('select n from t where n > ?')).not.toBe(first);
    db.close();
  });

  it('never hands out a statement a stream is still iterating', () => {
    const db = open();
    const streaming = db.prepare('select n from t order by n');
    const rows = streaming.iterate([]) as IterableIterator<{ n: number }>;
    expect(rows.next().value).toEqual({ n: 1 });
    const second = db.prepare('select n from t order by n');
    expect(second).not.toBe(streaming);
    expect(second.all([])).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect([...rows].map((r) => r.n)).toEqual([2, 3]);
    expect(db.prepare('select n from t order by n')).toBe(streaming);
    db.close();
  });

  it('keeps only a few long statements', () => {
    const db = open();
    const long = (i: number) => `select n from t where n in (${Array.from({ length: 5000 }, () => '?').join(',')}) and ${i} = ${i}`;
    const first = db.prepare(long(0));
    for (let i = 1; i <= 16; i++) db.prepare(long(i));
    expect(db.prepare(long(0))).not.toBe(first);
    expect(db.prepare(long(16))).toBe(db.prepare(long(16)));
    db.close();
  });
});
