// node-postgres and pg-cursor against a chatlake server: prints one JSON object of results.
// Usage: node pg_client.js PORT   (NODE_PATH must hold pg and pg-cursor)
'use strict';
const { Client } = require('pg');
const Cursor = require('pg-cursor');

async function main() {
  const client = new Client({ host: '127.0.0.1', port: Number(process.argv[2]), user: 'analyst', database: 'chatlake' });
  await client.connect();
  const out = {};
  // No parameters: simple query protocol.
  out.total = Number((await client.query('SELECT count(*) AS n FROM messages')).rows[0].n);
  // Parameters go through Parse/Bind/Execute with no parameter types (all unspecified) and text values.
  out.bound = Number((await client.query('SELECT count(*) AS n FROM messages WHERE calling_code = $1', [57])).rows[0].n);
  out.literal = Number((await client.query('SELECT count(*) AS n FROM messages WHERE calling_code = 57')).rows[0].n);
  out.since = Number((await client.query('SELECT count(*) AS n FROM messages WHERE ts >= $1', [new Date('2026-10-01T00:00:00Z')])).rows[0].n);
  out.since_literal = Number((await client.query("SELECT count(*) AS n FROM messages WHERE ts >= '2026-10-01 00:00:00+00'")).rows[0].n);
  // A named prepared statement: Parse once, then Bind only.
  out.named = [];
  for (let i = 0; i < 3; i++) {
    const r = await client.query({ name: 'plus-one', text: 'SELECT $1::int8 + 1 AS v', values: [i] });
    out.named.push(Number(r.rows[0].v));
  }
  out.array_mode = (await client.query({ text: 'SELECT 1::int4 AS a, 2::int4 AS b', rowMode: 'array' })).rows[0];
  // pg-cursor: Execute with max rows and Flush, no Sync until close (PortalSuspended between reads).
  const cursor = client.query(new Cursor('SELECT message_id FROM messages ORDER BY message_id'));
  let read = 0;
  for (;;) {
    const rows = await cursor.read(1000);
    if (rows.length === 0) break;
    read += rows.length;
  }
  await cursor.close();
  out.cursor_rows = read;
  out.after_cursor = (await client.query('SELECT 42::int4 AS x')).rows[0].x;
  try {
    await client.query('SELECT * FROM no_such_table');
  } catch (e) {
    out.error_code = e.code;
  }
  await client.end();
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e));
  process.exit(1);
});
