// Logs without patients in them: drives the account flows with a distinctive health phrase, a phone
// number and tokens, then searches every log line and every system_logs row for them.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenPair } from '../../client/index.js';
import { systemLogs, users } from '../../lib/db/schema.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startTestStorage, type TestStorage } from '../helpers/storage.js';
import { seedUserData } from '../helpers/user-data.js';

const PHRASE = '紫色长颈鹿偏头痛';
const PHONE = '13987654321';
const CLIENT_SECRET = 'sk_live_9fQ2xR7tLm4ZpA8vWc3NbY6d';

describe('redaction', () => {
  let s3: TestStorage;
  let h: Harness;
  beforeAll(async () => {
    s3 = await startTestStorage();
    h = await createHarness({ env: { ...s3.env, ADMIN_OPENIDS: 'dev:redact-admin' } });
  });
  afterAll(async () => {
    await h?.close();
    await s3?.close();
  });

  it('no log line and no system_logs row holds the phrase, the phone number or a token', async () => {
    const u = await h.user('redact-user');
    const admin = await h.login('redact-admin');
    const profile = { allergies: [PHRASE], conditions: [`${PHRASE} ${PHONE}`], medications: [] };
    expect(
      (await h.call('PATCH', '/users/me', { token: u.token, body: { healthProfile: profile } })).status,
    ).toBe(200);
    expect((await h.call('PATCH', '/users/me', { token: u.token, body: { nickname: PHONE } })).status).toBe(
      200,
    );
    // Refused bodies are not echoed into logs either.
    const refused = await h.call('PATCH', '/users/me', {
      token: u.token,
      body: { nickname: PHRASE.repeat(5), birthYear: PHONE },
    });
    expect(refused.status).toBe(400);
    expect(refused.text).not.toContain(PHRASE);

    await seedUserData(h, u.userId, { phrase: PHRASE });
    const exported = await h.call('GET', '/users/me/export', { token: u.token });
    expect(exported.status).toBe(200);
    expect(exported.text).toContain(PHRASE);
    expect(exported.text).toContain('X-Amz-Signature');

    const sent = await h.call('POST', '/logs', {
      token: u.token,
      body: {
        entries: [
          { level: 'error', message: `login failed for ${PHONE} with Bearer ${u.token}` },
          {
            level: 'warn',
            message: `refresh ${u.refresh} key=${CLIENT_SECRET}`,
            context: {
              user: { mobile: PHONE, note: `call ${PHONE}` },
              header: `Bearer ${u.token}`,
              k: CLIENT_SECRET,
            },
          },
        ],
      },
    });
    expect(sent.status).toBe(202);
    const rotated = await h.call<TokenPair>('POST', '/users/refresh', { body: { refreshToken: u.refresh } });
    expect(rotated.status).toBe(200);
    expect((await h.call('GET', `/logs?userId=${u.userId}`, { token: admin.token })).status).toBe(200);
    // Read before the deletion, which removes the user's rows.
    const rowsBefore = JSON.stringify(await h.db.db.select().from(systemLogs));
    expect((await h.call('DELETE', '/users/me', { token: rotated.json.accessToken })).status).toBe(204);

    const secrets = [
      PHRASE,
      PHONE,
      CLIENT_SECRET,
      u.token,
      u.token.split('.')[2] ?? u.token,
      u.refresh,
      rotated.json.accessToken,
      rotated.json.refreshToken,
      'X-Amz-Signature',
      'dev:redact-user',
    ];
    const lines = h.logs.join('\n');
    const rows = rowsBefore + JSON.stringify(await h.db.db.select().from(systemLogs));
    // The searches can fail: the flows above really wrote log lines and rows.
    expect(h.logs.length).toBeGreaterThan(8);
    expect(rows).toContain('[phone]');
    for (const s of secrets) {
      expect(lines, `log lines contain ${s.slice(0, 12)}`).not.toContain(s);
      expect(rows, `system_logs contain ${s.slice(0, 12)}`).not.toContain(s);
    }
    // The account is gone, so nothing of it is left to find in users either.
    expect(await h.db.db.select().from(users).where(eq(users.id, u.userId))).toEqual([]);
  });
});
