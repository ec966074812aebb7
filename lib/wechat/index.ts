// WeChat server APIs beyond sign-in (which lives in lib/auth/wechat.ts).
export {
  type CheckTextInput,
  type ContentScene,
  type ContentVerdict,
  checkText,
  contentCheckEnabled,
} from './content.js';
export {
  createStreamModerator,
  type ModerationGuard,
  type ModerationResult,
  moderationCounters,
  moderationGuard,
  type StreamModerator,
  type StreamModeratorOptions,
} from './moderation.js';
export { clearAccessTokenCache, getAccessToken, WechatApiError } from './token.js';
