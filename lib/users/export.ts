// The caller's data export (PIPL right of access and portability): one JSON document written
// piece by piece, a page of rows at a time, so a long history never sits in memory whole. Every
// query carries the owner's id.
import { and, asc, eq, getTableColumns, gt, inArray, type SQL, sql } from 'drizzle-orm';
import { audit } from '../audit.js';
import { AI_LABEL, aigcCodes, aigcLabel } from '../compliance/aigc.js';
import { toPublicComplaint } from '../compliance/complaints.js';
import type { Config } from '../config/index.js';
import type { Ctx } from '../context.js';
import type { Db } from '../db/index.js';
import {
  complaints,
  consents,
  conversations,
  familyMembers,
  files,
  type LabResult,
  labReports,
  labResults,
  messageFeedback,
  messages,
  usageDaily,
  users,
} from '../db/schema.js';
import { errorFields } from '../logger.js';
import type { Storage } from '../storage/types.js';

const PAGE = 200;

// Pages in creation order: keyset on (created_at, id), the time kept as PostgreSQL text so no
// microseconds are lost between pages.
type TimeKey = [string, string];
type TimeKeyed =
  | typeof consents
  | typeof conversations
  | typeof files
  | typeof complaints
  | typeof familyMembers
  | typeof labReports;
type FeedbackKey = [string, string];
const timeKey = (t: TimeKeyed) => sql<string>`${t.createdAt}::text`;
const afterTime = (t: TimeKeyed, k: TimeKey | undefined): SQL | undefined =>
  k ? sql`(${t.createdAt}, ${t.id}) > (${k[0]}::timestamptz, ${k[1]})` : undefined;

export type ExportWriter = (chunk: string) => Promise<void>;

/** Writes `"name":[...]` from successive pages; `next(after)` answers a page after a key. */
async function writeArray<R, K>(
  out: ExportWriter,
  name: string,
  next: (after: K | undefined) => Promise<R[]>,
  keyOf: (r: R) => K,
  shape: (r: R) => Promise<unknown> | unknown,
): Promise<number> {
  await out(`,${JSON.stringify(name)}:[`);
  let after: K | undefined;
  let count = 0;
  for (;;) {
    const rows = await next(after);
    if (rows.length === 0) break;
    const parts: string[] = [];
    for (const r of rows) parts.push(JSON.stringify(await shape(r)));
    await out((count > 0 ? ',' : '') + parts.join(','));
    count += rows.length;
    const last = rows[rows.length - 1];
    if (rows.length < PAGE || last === undefined) break;
    after = keyOf(last);
  }
  await out(']');
  return count;
}

/** Writes the whole export; answers false when the account is gone (nothing written). */
export async function writeUserExport(
  db: Db,
  storage: () => Promise<Storage>,
  config: Config,
  userId: string,
  now: Date,
  out: ExportWriter,
): Promise<boolean> {
  const [user] = await db.select().from(users).where(eq(users.id, userId));
  if (!user || user.deletingAt) return false;
  const header = {
    format: 'health-assistant-export',
    version: 1,
    exportedAt: now.toISOString(),
    user: {
      id: user.id,
      openid: user.openid,
      unionid: user.unionid,
      nickname: user.nickname,
      avatarFileId: user.avatarFileId,
      gender: user.gender,
      birthYear: user.birthYear,
      healthProfile: user.healthProfile,
      role: user.role,
      acceptedConsentVersion: user.acceptedConsentVersion,
      createdAt: user.createdAt.toISOString(),
      updatedAt: user.updatedAt.toISOString(),
    },
  };
  // The header's closing brace is left off: the arrays follow inside the same object.
  await out(JSON.stringify(header).slice(0, -1));

  await writeArray(
    out,
    'consents',
    (after: TimeKey | undefined) =>
      db
        .select({ ...getTableColumns(consents), k: timeKey(consents) })
        .from(consents)
        .where(and(eq(consents.userId, userId), afterTime(consents, after)))
        .orderBy(asc(consents.createdAt), asc(consents.id))
        .limit(PAGE),
    (r): TimeKey => [r.k, r.id],
    (r) => ({ id: r.id, version: r.version, accepted: r.accepted, createdAt: r.createdAt.toISOString() }),
  );

  await writeArray(
    out,
    'conversations',
    (after: TimeKey | undefined) =>
      db
        .select({ ...getTableColumns(conversations), k: timeKey(conversations) })
        .from(conversations)
        .where(and(eq(conversations.userId, userId), afterTime(conversations, after)))
        .orderBy(asc(conversations.createdAt), asc(conversations.id))
        .limit(PAGE),
    (r): TimeKey => [r.k, r.id],
    (r) => ({
      id: r.id,
      memberId: r.memberId,
      title: r.title,
      archived: r.archived,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
      lastMessageAt: r.lastMessageAt?.toISOString() ?? null,
    }),
  );

  // One flat list in sending order (seq), each naming its conversation: one indexed scan instead
  // of a query per conversation. AI answers keep both labels outside the service
  // (《人工智能生成合成内容标识办法》 on exports): the visible `aiLabel` and the implicit `aigc`.
  const codes = aigcCodes(config);
  await writeArray(
    out,
    'messages',
    (after: number | undefined) =>
      db
        .select()
        .from(messages)
        .where(and(eq(messages.userId, userId), after !== undefined ? gt(messages.seq, after) : undefined))
        .orderBy(asc(messages.seq))
        .limit(PAGE),
    (r) => r.seq,
    (r) => ({
      id: r.id,
      conversationId: r.conversationId,
      role: r.role,
      content: r.content,
      imageIds: r.imageIds,
      status: r.status,
      triage: r.triage,
      model: r.model,
      usage:
        r.promptTokens !== null || r.completionTokens !== null
          ? { promptTokens: r.promptTokens ?? 0, completionTokens: r.completionTokens ?? 0 }
          : null,
      aiGenerated: r.aiGenerated,
      aiLabel: r.role === 'assistant' && r.aiGenerated ? AI_LABEL : null,
      aigc: aigcLabel(r, codes),
      // A regenerated answer's earlier versions are kept, and exported, as versions of the first.
      version: r.version,
      versionOf: r.versionOf,
      superseded: r.supersededAt !== null,
      createdAt: r.createdAt.toISOString(),
    }),
  );

  // The user's ratings of answers, each naming the answer (a message above).
  await writeArray(
    out,
    'feedback',
    (after: FeedbackKey | undefined) =>
      db
        .select({ ...getTableColumns(messageFeedback), k: sql<string>`${messageFeedback.createdAt}::text` })
        .from(messageFeedback)
        .where(
          and(
            eq(messageFeedback.userId, userId),
            after
              ? sql`(${messageFeedback.createdAt}, ${messageFeedback.messageId}) > (${after[0]}::timestamptz, ${after[1]})`
              : undefined,
          ),
        )
        .orderBy(asc(messageFeedback.createdAt), asc(messageFeedback.messageId))
        .limit(PAGE),
    (r): FeedbackKey => [r.k, r.messageId],
    (r) => ({
      messageId: r.messageId,
      rating: r.rating,
      reason: r.reason,
      comment: r.comment,
      createdAt: r.createdAt.toISOString(),
    }),
  );

  await writeArray(
    out,
    'members',
    (after: TimeKey | undefined) =>
      db
        .select({ ...getTableColumns(familyMembers), k: timeKey(familyMembers) })
        .from(familyMembers)
        .where(and(eq(familyMembers.userId, userId), afterTime(familyMembers, after)))
        .orderBy(asc(familyMembers.createdAt), asc(familyMembers.id))
        .limit(PAGE),
    (r): TimeKey => [r.k, r.id],
    (r) => ({
      id: r.id,
      name: r.name,
      relation: r.relation,
      gender: r.gender,
      birthYear: r.birthYear,
      healthProfile: r.healthProfile,
      guardianConsentVersion: r.guardianConsentVersion,
      guardianConsentAt: r.guardianConsentAt?.toISOString() ?? null,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    }),
  );

  // Each report with its values: one query for a page's values.
  let values = new Map<string, LabResult[]>();
  await writeArray(
    out,
    'labReports',
    async (after: TimeKey | undefined) => {
      const page = await db
        .select({ ...getTableColumns(labReports), k: timeKey(labReports) })
        .from(labReports)
        .where(and(eq(labReports.userId, userId), afterTime(labReports, after)))
        .orderBy(asc(labReports.createdAt), asc(labReports.id))
        .limit(PAGE);
      values = new Map();
      if (page.length) {
        const rows = await db
          .select()
          .from(labResults)
          .where(
            and(
              eq(labResults.userId, userId),
              inArray(
                labResults.reportId,
                page.map((r) => r.id),
              ),
            ),
          )
          .orderBy(asc(labResults.reportId), asc(labResults.position));
        for (const v of rows) values.set(v.reportId, [...(values.get(v.reportId) ?? []), v]);
      }
      return page;
    },
    (r): TimeKey => [r.k, r.id],
    (r) => ({
      id: r.id,
      memberId: r.memberId,
      takenAt: r.takenAt,
      institution: r.institution,
      imageIds: r.imageIds,
      model: r.model,
      createdAt: r.createdAt.toISOString(),
      items: (values.get(r.id) ?? []).map((v) => ({
        name: v.name,
        code: v.code,
        value: v.value,
        valueText: v.valueText,
        unit: v.unit,
        referenceRange: { low: v.low, high: v.high, text: v.rangeText },
        flag: v.flag,
      })),
    }),
  );

  const ttl = config.READ_URL_TTL_SECONDS;
  const urlExpiresAt = new Date(now.getTime() + ttl * 1000).toISOString();
  await writeArray(
    out,
    'files',
    (after: TimeKey | undefined) =>
      db
        .select({ ...getTableColumns(files), k: timeKey(files) })
        .from(files)
        .where(and(eq(files.userId, userId), afterTime(files, after)))
        .orderBy(asc(files.createdAt), asc(files.id))
        .limit(PAGE),
    (r): TimeKey => [r.k, r.id],
    async (r) => ({
      id: r.id,
      purpose: r.purpose,
      status: r.status,
      contentType: r.contentType ?? r.declaredContentType,
      size: r.size,
      width: r.width,
      height: r.height,
      conversationId: r.conversationId,
      labReportId: r.labReportId,
      createdAt: r.createdAt.toISOString(),
      // Only checked, stored images have something to read; the link is short-lived.
      url: r.status === 'ready' ? await (await storage()).presignGet(r.key, ttl) : null,
      urlExpiresAt: r.status === 'ready' ? urlExpiresAt : null,
    }),
  );

  await writeArray(
    out,
    'usage',
    (after: string | undefined) =>
      db
        .select()
        .from(usageDaily)
        .where(and(eq(usageDaily.userId, userId), after ? sql`${usageDaily.day} > ${after}` : undefined))
        .orderBy(asc(usageDaily.day))
        .limit(PAGE),
    (r) => r.day,
    (r) => ({
      day: r.day,
      requests: r.requests,
      promptTokens: r.promptTokens,
      completionTokens: r.completionTokens,
    }),
  );

  // Complaints are the user's own words too; the list is short, so one keyset on (created_at, id).
  await writeArray(
    out,
    'complaints',
    (after: TimeKey | undefined) =>
      db
        .select({ ...getTableColumns(complaints), k: timeKey(complaints) })
        .from(complaints)
        .where(and(eq(complaints.userId, userId), afterTime(complaints, after)))
        .orderBy(asc(complaints.createdAt), asc(complaints.id))
        .limit(PAGE),
    (r): TimeKey => [r.k, r.id],
    (r) => toPublicComplaint(r),
  );

  await out('}');
  return true;
}

/**
 * GET /users/me/export: the audit row, then the document as a stream the caller reads at its own
 * pace. The export changes nothing, and its read has no transaction the audit row could join: one
 * held open for a download would pin a database connection as long as the slowest client reads. So
 * the row is committed first, before a byte is read: an export is never unrecorded (a failed audit
 * write is an error answer with nothing sent); at worst a download that failed is on the record too.
 */
export async function exportAccount(
  ctx: Ctx,
): Promise<{ exportedAt: Date; body: ReadableStream<Uint8Array> }> {
  const { rt, userId, requestId } = ctx;
  const db = await rt.db();
  const now = rt.now();
  await audit(db, {
    actorId: userId,
    action: 'user.export',
    targetType: 'user',
    targetId: userId,
    requestId,
  });
  // Written page by page as the client reads (write() waits for it), so memory stays flat however
  // long the history. A failure part-way aborts the body: the download fails visibly instead of
  // ending as a well-formed but incomplete file.
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  void (async () => {
    try {
      await writeUserExport(
        db,
        () => rt.storage(),
        rt.config,
        userId,
        now,
        (chunk) => writer.write(encoder.encode(chunk)),
      );
      await writer.close();
    } catch (err) {
      rt.log.error({ requestId, ...errorFields(err) }, 'export stream failed');
      await writer.abort(err).catch(() => {});
    }
  })();
  return { exportedAt: now, body: readable };
}
