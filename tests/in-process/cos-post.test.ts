import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCosPresignedPost } from '../../lib/storage/cos-post.js';

const base = {
  bucket: 'health-1250000000',
  key: 'meals/u1/2024/a.jpg',
  secretId: 'AKIDEXAMPLE',
  secretKey: 'secret-example',
  contentType: 'image/jpeg',
  maxBytes: 5 * 1024 * 1024,
  expiresSeconds: 600,
  now: new Date('2024-05-01T00:00:00.000Z'),
  url: 'https://health-1250000000.cos.ap-guangzhou.myqcloud.com/',
};

describe('createCosPresignedPost', () => {
  it('produces the COS form fields and a policy pinning key, type, size and signing params', () => {
    const out = createCosPresignedPost({ ...base, successActionStatus: 201 });
    const start = 1714521600;
    expect(out.url).toBe(base.url);
    expect(out.expiresAt.toISOString()).toBe('2024-05-01T00:10:00.000Z');
    expect(out.fields).toMatchObject({
      key: base.key,
      'Content-Type': 'image/jpeg',
      success_action_status: '201',
      'q-sign-algorithm': 'sha1',
      'q-ak': 'AKIDEXAMPLE',
      'q-key-time': `${start};${start + 600}`,
    });
    const policy: unknown = JSON.parse(Buffer.from(out.fields.policy, 'base64').toString('utf8'));
    expect(policy).toEqual({
      expiration: '2024-05-01T00:10:00.000Z',
      conditions: [
        { bucket: base.bucket },
        ['eq', '$key', base.key],
        ['eq', '$Content-Type', 'image/jpeg'],
        ['content-length-range', 1, base.maxBytes],
        { 'q-sign-algorithm': 'sha1' },
        { 'q-ak': 'AKIDEXAMPLE' },
        { 'q-sign-time': `${start};${start + 600}` },
        ['eq', '$success_action_status', '201'],
      ],
    });
  });

  it('signs as COS documents: HMAC-SHA1(HMAC-SHA1(SecretKey, KeyTime) hex, SHA1(policy JSON) hex)', () => {
    const { fields } = createCosPresignedPost(base);
    const policyJson = Buffer.from(fields.policy, 'base64').toString('utf8');
    const signKey = createHmac('sha1', base.secretKey).update(fields['q-key-time']).digest('hex');
    const stringToSign = createHash('sha1').update(policyJson).digest('hex');
    expect(fields['q-signature']).toBe(createHmac('sha1', signKey).update(stringToSign).digest('hex'));
    expect(fields['q-signature']).toMatch(/^[0-9a-f]{40}$/);
    expect(fields.success_action_status).toBeUndefined();
  });

  it('changes the signature with the secret key or the time', () => {
    const a = createCosPresignedPost(base).fields['q-signature'];
    expect(createCosPresignedPost({ ...base, secretKey: 'other' }).fields['q-signature']).not.toBe(a);
    expect(
      createCosPresignedPost({ ...base, now: new Date('2024-05-01T00:00:01Z') }).fields['q-signature'],
    ).not.toBe(a);
  });

  it("carries a temporary key's token in x-cos-security-token, pinned in the policy", () => {
    const withToken = createCosPresignedPost({ ...base, securityToken: 'tmp-token-123' });
    expect(withToken.fields['x-cos-security-token']).toBe('tmp-token-123');
    const policy: { conditions: unknown[] } = JSON.parse(
      Buffer.from(withToken.fields.policy ?? '', 'base64').toString('utf8'),
    );
    expect(policy.conditions).toContainEqual({ 'x-cos-security-token': 'tmp-token-123' });
    const without = createCosPresignedPost(base);
    expect(without.fields).not.toHaveProperty('x-cos-security-token');
    expect(Buffer.from(without.fields.policy ?? '', 'base64').toString('utf8')).not.toContain(
      'security-token',
    );
  });

  it('rejects nonsensical limits', () => {
    expect(() => createCosPresignedPost({ ...base, maxBytes: 0 })).toThrow(/maxBytes/);
    expect(() => createCosPresignedPost({ ...base, expiresSeconds: 1.5 })).toThrow(/expiresSeconds/);
  });
});
