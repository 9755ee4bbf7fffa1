// node-postgres logging in to a chatlake server with a password (SCRAM-SHA-256), optionally
// over TLS with certificate verification: prints one JSON object.
// Usage: node auth_client.js PORT USER PASSWORD [CA_FILE]   (NODE_PATH must hold pg)
// With CA_FILE the connection is TLS, the certificate verified against that CA (and 127.0.0.1),
// and SCRAM-SHA-256-PLUS binds the login to it.
'use strict';
const fs = require('fs');
const { Client } = require('pg');

async function main() {
  const [port, user, password, ca] = process.argv.slice(2);
  const config = { host: '127.0.0.1', port: Number(port), user, password, database: 'chatlake' };
  if (ca) {
    config.ssl = { ca: fs.readFileSync(ca, 'utf8'), rejectUnauthorized: true };
    // SCRAM-SHA-256-PLUS: the proof is bound to the server certificate.
    config.enableChannelBinding = true;
  }
  const client = new Client(config);
  const out = {};
  try {
    await client.connect();
    out.value = Number((await client.query('SELECT 41 + 1 AS v')).rows[0].v);
    out.tls = Boolean(client.connection.stream.encrypted);
    await client.end();
  } catch (e) {
    out.error_code = e.code || null;
    out.error_message = e.message;
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
