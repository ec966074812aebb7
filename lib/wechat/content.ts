// WeChat content security for user text (msg_sec_check, version 2). Mini-programs that publish
// user-generated text are expected to check it; this service checks what a user sends before the
// model sees it. Only WeChat's verdict is kept: the text and the access token are never logged.
import { errorFields } from '../logger.js';
import type { Runtime } from '../runtime.js';
import { getAccessToken, WechatApiError } from './token.js';

export type ContentVerdict = 'pass' | 'risky';

/** msg_sec_check scenes: 1 profile, 2 comment, 3 forum, 4 social log. A chat message is a comment. */
export type ContentScene = 1 | 2 | 3 | 4;

export type CheckTextInput = {
  content: string;
  openid: string;
  scene?: ContentScene;
  /** What to answer when WeChat cannot be asked (down, misconfigured); default 'pass'. */
  onUnavailable?: ContentVerdict;
};

// WeChat checks at most 2,500 characters at a time; longer text is checked in pieces.
export const MAX_CHARS = 2_500;
const TOKEN_INVALID = new Set([40001, 42001]);

type CheckAnswer = {
  errcode?: number;
  errmsg?: string;
  result?: { suggest?: 'pass' | 'review' | 'risky'; label?: number };
};

export function contentCheckEnabled(rt: Runtime): boolean {
  return rt.config.wechatConfigured && rt.config.WECHAT_CONTENT_CHECK !== false;
}

function pieces(text: string): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += MAX_CHARS) out.push(chars.slice(i, i + MAX_CHARS).join(''));
  return out;
}

async function post(rt: Runtime, token: string, body: Record<string, unknown>): Promise<CheckAnswer> {
  const url = new URL('/wxa/msg_sec_check', rt.config.WECHAT_API_BASE_URL);
  url.searchParams.set('access_token', token);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(rt.config.WECHAT_TIMEOUT_MS),
    });
  } catch (cause) {
    throw new WechatApiError(undefined, 'msg_sec_check unreachable', { cause });
  }
  if (!res.ok) throw new WechatApiError(undefined, `msg_sec_check status ${res.status}`);
  return (await res.json()) as CheckAnswer;
}

async function checkPiece(
  rt: Runtime,
  content: string,
  openid: string,
  scene: ContentScene,
): Promise<ContentVerdict> {
  const body = { content, version: 2, scene, openid };
  let token = await getAccessToken(rt.config, rt.now().getTime());
  let answer = await post(rt, token, body);
  if (answer.errcode !== undefined && TOKEN_INVALID.has(answer.errcode)) {
    // Expired early or replaced elsewhere: one fresh token, one retry.
    token = await getAccessToken(rt.config, rt.now().getTime(), token);
    answer = await post(rt, token, body);
  }
  if ((answer.errcode ?? 0) !== 0) throw new WechatApiError(answer.errcode, 'msg_sec_check refused');
  // 'review' (uncertain) is let through: a health question about drugs or the body often lands
  // there, and blocking it would refuse the people the assistant is for. 'risky' is refused.
  return answer.result?.suggest === 'risky' ? 'risky' : 'pass';
}

/**
 * WeChat's verdict on one piece of at most 2,500 characters; throws WechatApiError when WeChat
 * cannot be asked (down, misconfigured), leaving what that means to the caller. Nothing is logged.
 */
export async function checkPieceOrThrow(
  rt: Runtime,
  input: { content: string; openid: string; scene?: ContentScene },
): Promise<ContentVerdict> {
  if (Array.from(input.content).length > MAX_CHARS)
    throw new RangeError('msg_sec_check takes 2,500 characters');
  try {
    return await checkPiece(rt, input.content, input.openid, input.scene ?? 2);
  } catch (err) {
    if (err instanceof WechatApiError) throw err;
    // The token fetch and JSON parsing fail in their own ways: all mean "WeChat did not answer".
    throw new WechatApiError(undefined, 'msg_sec_check failed', { cause: err });
  }
}

/**
 * 'risky' when WeChat's content security refuses the text. Without WeChat configured, or with
 * WECHAT_CONTENT_CHECK=false, everything passes.
 */
export async function checkText(rt: Runtime, input: CheckTextInput): Promise<ContentVerdict> {
  if (!contentCheckEnabled(rt) || input.content.trim() === '') return 'pass';
  try {
    for (const piece of pieces(input.content)) {
      if ((await checkPiece(rt, piece, input.openid, input.scene ?? 2)) === 'risky') return 'risky';
    }
    return 'pass';
  } catch (err) {
    const errcode = err instanceof WechatApiError ? err.errcode : undefined;
    rt.log.warn({ errcode, ...errorFields(err) }, 'wechat content check unavailable');
    return input.onUnavailable ?? 'pass';
  }
}
