// The client-log scrubber: what it must remove, and what it must leave readable.
import { describe, expect, it } from 'vitest';
import { scrubContext, scrubText } from '../../lib/logs/scrub.js';

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1LTEyMyIsInJvbGUiOiJ1c2VyIn0.3q2-7Yk0cWc1Zs9mQx1lP0aT4u5V6w7X8y9Z0a1b2c3';

describe('scrubText', () => {
  it.each([
    ['mobile', '用户电话13812345678请回拨', '用户电话[phone]请回拨'],
    ['mobile with +86 and spaces', 'call +86 138 1234 5678 now', 'call [phone] now'],
    ['mobile with dashes', 'tel 139-1234-5678', 'tel [phone]'],
    ['landline with area code', '座机 010-12345678 转 123', '座机 [phone]'],
    ['landline in brackets', '(0755)1234567', '[phone]'],
    ['ID card', '身份证11010519491231002X号', '身份证[id-card]号'],
    ['ID card, lower-case x', 'id 11010519491231002x', 'id [id-card]'],
    ['email', 'mail zhang.san+tag@example.com.cn ok', 'mail [email] ok'],
    ['bearer token', 'Authorization: Bearer abc.def-ghi_123', 'Authorization: Bearer [token]'],
    ['JWT', `token was ${JWT} end`, 'token was [token] end'],
    [
      'secret in a query string',
      'GET /x?access_token=AbC123xyz&page=2',
      'GET /x?access_token=[secret]&page=2',
    ],
    [
      'signed URL signature',
      'img?X-Amz-Signature=deadbeef01&X-Amz-Date=1',
      'img?X-Amz-Signature=[secret]&X-Amz-Date=1',
    ],
    ['JSON-ish secret', '{"password": "hunter2"}', '{"password": "[secret]"}'],
    ['long hex', `key ${'a1b2c3d4'.repeat(5)} end`, 'key [secret] end'],
    ['base64 key', 'k=Zm9vYmFyQmF6UXV4MTIzNDU2Nzg5MA== done', 'k=[secret] done'],
    ['bank card', 'card 6222021234567890123', 'card [number]'],
  ])('%s', (_name, input, expected) => {
    expect(scrubText(input)).toBe(expected);
  });

  it.each([
    'page /pages/chat/detail loaded in 320 ms',
    'request 3f2b1c9e-8a7d-4e6f-9b0a-1c2d3e4f5a6b failed with status 500',
    'error code 40001 at step 2',
    'user_profile_settings_v2_page rendered',
    '头痛三天，体温 38.5 度',
    'version 2026-11-01 accepted',
  ])('leaves ordinary text alone: %s', (input) => {
    expect(scrubText(input)).toBe(input);
  });
});

describe('scrubText against evasions (NFKC first)', () => {
  it.each([
    ['full-width mobile', '电话１３９１２３４５６７８', '电话[phone]'],
    ['full-width ID card', '身份证１１０１０５１９４９１２３１００２Ｘ', '身份证[id-card]'],
    ['full-width email', 'ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ', '[email]'],
    ['zero-width spaces inside a mobile', '138\u200b1234\u200b5678', '[phone]'],
    ['mobile digit by digit', '1 3 8 1 2 3 4 5 6 7 8', '[number]'],
    ['mobile in odd groups', '138-12-34-56-78', '[number]'],
    ['bank card in groups of four', 'card 6222 0212 3456 7890 123', 'card [number]'],
    ['ID card in groups', 'id 110105 19491231 002X end', 'id [number] end'],
    ['dotted mobile', '138.1234.5678', '[number]'],
    ['full-width secret key', 'ｐａｓｓｗｏｒｄ＝ｈｕｎｔｅｒ２', 'password=[secret]'],
    ['key ending in a secret word', 'wxToken=abc123 ok', 'wxToken=[secret] ok'],
    ['snake_case secret key', 'db_password: hunter2', 'db_password: [secret]'],
    ['dashed api key', 'x-api-key=abc', 'x-api-key=[secret]'],
    ['short key: pw', 'pw=hunter2', 'pw=[secret]'],
    ['short key: sk', '{"sk":"abcd"}', '{"sk":"[secret]"}'],
    ['short key: key', 'key=abcd&x=1', 'key=[secret]&x=1'],
    ['short key: pin', 'pin: 1234', 'pin: [secret]'],
    ['wx.login code', 'js_code=081abcXYZ', 'js_code=[secret]'],
    ['COS temporary token', 'x-cos-security-token=abc', 'x-cos-security-token=[secret]'],
  ])('%s', (_name, input, expected) => {
    expect(scrubText(input)).toBe(expected);
  });

  it.each([
    'monkey=3 bananas',
    'sent 2026-11-01 12:30, took 320 ms',
    'steps 1 2 3 done',
    '体温 38.5 度, 心率 72',
  ])('still leaves ordinary text alone: %s', (input) => {
    expect(scrubText(input)).toBe(input);
  });
});

describe('scrubContext', () => {
  it('drops values of keys that end in a secret word, short secret keys and full-width keys', () => {
    expect(
      scrubContext({
        wxToken: 'a',
        userPhone: 'b',
        sk: 'c',
        ｐａｓｓｗｏｒｄ: 'd',
        keyboard: 'e',
        monkey: 'f',
      }),
    ).toEqual({
      wxToken: '[redacted]',
      userPhone: '[redacted]',
      sk: '[redacted]',
      password: '[redacted]',
      keyboard: 'e',
      monkey: 'f',
    });
  });

  it('scrubs strings at any depth, keys included, and drops secret-named keys', () => {
    const out = scrubContext({
      page: '/pages/index',
      user: { phone: '13812345678', note: ['联系 13912345678', { deeper: { mail: 'a@b.cn' } }] },
      Authorization: 'Bearer xyz',
      token: 'opaque',
      '13700000000': 'phone as a key',
      count: 3,
      ok: true,
      nothing: null,
    });
    expect(out).toEqual({
      page: '/pages/index',
      user: { phone: '[redacted]', note: ['联系 [phone]', { deeper: { mail: '[email]' } }] },
      Authorization: '[redacted]',
      token: '[redacted]',
      '[phone]': 'phone as a key',
      count: 3,
      ok: true,
      nothing: null,
    });
  });

  it('cuts off absurd nesting instead of recursing without end', () => {
    let deep: Record<string, unknown> = { v: '13812345678' };
    for (let i = 0; i < 50; i++) deep = { d: deep };
    const text = JSON.stringify(scrubContext(deep));
    expect(text).toContain('[truncated]');
    expect(text).not.toContain('13812345678');
  });
});
