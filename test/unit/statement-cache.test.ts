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

  it('answers rows as the same objects better-sqlite3 builds, read as arrays', () => {
    const raw = new SQLite(':memory:');
    raw.exec("create table p (id text, n integer, x real, b blob, z text); insert into p values ('a', 1, 1.5, x'00ff', null), ('b', 2, null, null, 'z');");
    const db = withStatementCache(raw);
    // Of two columns named n the last wins, as in better-sqlite3's own objects.
    const sql = 'select id, n, x, b, z, id as n from p order by id';
    const plain = raw.prepare(sql).all();
    const rows = db.prepare(sql).all([]) as Record<string, unknown>[];
    expect(rows).toEqual(plain);
    expect(rows.map((row) => Object.keys(row))).toEqual(plain.map((row) => Object.keys(row as object)));
    expect(rows[0]).toMatchObject({ n: 'a' });
    // A column named __proto__ is an own property, never the prototype.
    const [odd] = db.prepare('select 1 as "__proto__", 2 as m').all([]) as Record<string, unknown>[];
    expect(Object.getPrototypeOf(odd)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(odd, '__proto__')?.value).toBe(1);
    expect(odd!.m).toBe(2);
    const streamed = [...db.prepare('select id, n from p order by id').iterate([])];
    expect(streamed).toEqual([{ id: 'a', n: 1 }, { id: 'b', n: 2 }]);
    expect(db.prepare("insert into p (id) values ('c') returning id, n").all([])).toEqual([{ id: 'c', n: null }]);
    expect(db.prepare("update p set n = 3 where id = 'c'").run([]).changes).toBe(1);
    db.close();
  });
});
