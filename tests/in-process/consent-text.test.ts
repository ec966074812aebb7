// The consent words are the deployment's: GET /users/me carries CONSENT_TEXT and the cross-border
// notice (CONSENT_CROSS_BORDER) beside the contract's consent fields.
import { afterAll, describe, expect, it } from 'vitest';
import type { User } from '../../client/index.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const harnesses: Harness[] = [];
afterAll(async () => {
  for (const h of harnesses) await h.close();
});

describe('consent text in GET /users/me', () => {
  it('names the cross-border transfer when the deployment configures it', async () => {
    const notice =
      '您的健康信息将传输至新加坡（Neon 数据库、Upstash）并在香港（Vercel）处理，用于提供问答服务。';
    const h = await createHarness({ env: { CONSENT_TEXT: '隐私政策正文', CONSENT_CROSS_BORDER: notice } });
    harnesses.push(h);
    const { token } = await h.login('border');
    const me = await h.call<User>('GET', '/users/me', { token });
    expect(me.json.consent).toEqual({
      required: true,
      currentVersion: h.rt.config.CONSENT_VERSION,
      acceptedVersion: null,
      text: '隐私政策正文',
      crossBorderTransfer: notice,
    });
  });

  it('is null when nothing is configured (data stays where the app says)', async () => {
    const h = await createHarness();
    harnesses.push(h);
    const { token } = await h.login('mainland');
    const me = await h.call<User>('GET', '/users/me', { token });
    expect(me.json.consent).toMatchObject({ text: null, crossBorderTransfer: null });
  });
});
