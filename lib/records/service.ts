// Lab reports and their values, always scoped to their owner (and the member to its owner): another
// user's report or member is 404, exactly like an unknown one. Nothing is stored unless the model's
// answer was read and checked; the report, its values and its images' link go in one transaction.
import { and, asc, desc, eq, inArray, isNull, lt, or, type SQL } from 'drizzle-orm';
import { addDailyUsage, shanghaiDate } from '../chat/usage.js';
import type { Ctx } from '../context.js';
import { clampLimit, decodeCursor, encodeCursor } from '../conversations/cursor.js';
import { deleteConversationObjects, type StoredObject } from '../conversations/delete.js';
import type { Db } from '../db/index.js';
import { files, type LabReport, type LabResult, labReports, labResults } from '../db/schema.js';
import { AppError, notFound } from '../errors.js';
import { acquireModelLease, enforceLimit } from '../limits.js';
import { errorFields } from '../logger.js';
import { getMemberOrThrow } from '../members/service.js';
import type { LimitResult } from '../ratelimit/index.js';
import { checkChatImages, imagePartsFor } from '../uploads/chat-images.js';
import { askModel, EXTRACTION_MAX_TOKENS, type Extraction, readModelAnswer } from './extract.js';
import type { CreateLabReportInput, Indicator, LabItem, LabReportPage, PublicLabReport } from './schemas.js';

function toItem(r: LabResult): LabItem {
  return {
    name: r.name,
    code: r.code,
    value: r.value,
    valueText: r.valueText,
    unit: r.unit,
    referenceRange: { low: r.low, high: r.high, text: r.rangeText },
    flag: r.flag,
  };
}

function toPublic(r: LabReport, results: LabResult[]): PublicLabReport {
  return {
    id: r.id,
    memberId: r.memberId,
    takenAt: r.takenAt,
    institution: r.institution,
    imageIds: r.imageIds,
    items: results.sort((a, b) => a.position - b.position).map(toItem),
    createdAt: r.createdAt.toISOString(),
  };
}

/** The account holder's own records when memberId is absent; a member's (checked) otherwise. */
async function whose(db: Db, userId: string, memberId: string | undefined): Promise<SQL> {
  if (!memberId) return isNull(labReports.memberId);
  await getMemberOrThrow(db, userId, memberId);
  return eq(labReports.memberId, memberId);
}

export async function storeLabReport(
  db: Db,
  userId: string,
  v: { memberId: string | null; imageIds: string[]; extraction: Extraction; model: string; now: Date },
): Promise<PublicLabReport> {
  return db.transaction(async (tx) => {
    const id = crypto.randomUUID();
    const [report] = await tx
      .insert(labReports)
      .values({
        id,
        userId,
        memberId: v.memberId,
        takenAt: v.extraction.takenAt,
        institution: v.extraction.institution,
        imageIds: v.imageIds,
        model: v.model,
        createdAt: v.now,
      })
      .returning();
    if (!report) throw new Error('insert returned no row');
    const rows = await tx
      .insert(labResults)
      .values(
        v.extraction.items.map((i, position) => ({
          reportId: id,
          position,
          userId,
          memberId: v.memberId,
          name: i.name,
          code: i.code,
          value: i.value,
          valueText: i.valueText,
          unit: i.unit,
          low: i.referenceRange.low,
          high: i.referenceRange.high,
          rangeText: i.referenceRange.text,
          flag: i.flag,
        })),
      )
      .returning();
    // The images now belong to the report (deleting it deletes them). Guarded: an image sent in a
    // chat or read into another report meanwhile undoes the whole report.
    const linked = await tx
      .update(files)
      .set({ labReportId: id })
      .where(
        and(
          eq(files.userId, userId),
          inArray(files.id, v.imageIds),
          eq(files.status, 'ready'),
          isNull(files.conversationId),
          isNull(files.labReportId),
        ),
      )
      .returning({ id: files.id });
    if (linked.length !== v.imageIds.length) {
      throw new AppError('UNPROCESSABLE', 'an image was used elsewhere meanwhile');
    }
    return toPublic(report, rows);
  });
}

/** Tokens one reading may use, reserved from the daily quota like a chat turn. */
const IMAGE_TOKEN_ESTIMATE = 1_000;
const PROMPT_ESTIMATE = 600;

/**
 * POST /records/lab-reports: a model call, so the chat limits and the token quota apply first (the
 * limits passed are returned for the RateLimit-* headers). Reads 1–4 of the caller's completed images
 * as a lab report and stores it. 404: another user's member or image; 422: images not usable, or not
 * a lab report; 502/504: the model failed or its answer could not be read.
 */
export async function createLabReport(
  ctx: Ctx,
  input: CreateLabReportInput,
): Promise<{ report: PublicLabReport; limits: LimitResult[] }> {
  const { rt, userId } = ctx;
  const limits: LimitResult[] = [];
  for (const [policy, key] of [
    ['chat:user:minute', userId],
    ['chat:user:day', userId],
    ['global', 'all'],
  ] as const) {
    const passed = await enforceLimit(rt, policy, key);
    if (passed) limits.push(passed);
  }
  const lease = await acquireModelLease(
    rt,
    { id: userId, role: ctx.role },
    PROMPT_ESTIMATE + input.imageIds.length * IMAGE_TOKEN_ESTIMATE + EXTRACTION_MAX_TOKENS,
  );
  let used = 0;
  try {
    const { report, usage } = await readAndStore(ctx, input);
    used = usage ? usage.promptTokens + usage.completionTokens : 0;
    rt.log.info(
      { requestId: ctx.requestId, reportId: report.id, items: report.items.length },
      'lab report read',
    );
    return { report, limits };
  } finally {
    await lease.finish(used);
  }
}

async function readAndStore(
  ctx: Ctx,
  input: CreateLabReportInput,
): Promise<{ report: PublicLabReport; usage: { promptTokens: number; completionTokens: number } | null }> {
  const { rt, userId } = ctx;
  const db = await rt.db();
  const member = input.memberId ? await getMemberOrThrow(db, userId, input.memberId) : null;
  // Not sent in a conversation, not read into another report (422), the caller's own (404).
  const images = await checkChatImages(rt, userId, input.imageIds, undefined);
  const parts = await imagePartsFor(rt, images);
  const model = rt.config.VISION_MODEL;
  const answer = await askModel(await rt.llm(), model, parts, ctx.signal ?? new AbortController().signal);
  const now = rt.now();
  if (answer.usage) {
    await addDailyUsage(db, userId, now, answer.usage).catch((err: unknown) =>
      rt.log.warn({ ...errorFields(err) }, 'usage not recorded'),
    );
  }
  const gender = member ? member.gender : null;
  const extraction = readModelAnswer(answer.text, gender === 'male' || gender === 'female' ? gender : null);
  const report = await storeLabReport(db, userId, {
    memberId: member?.id ?? null,
    imageIds: input.imageIds,
    extraction,
    model,
    now,
  });
  return { report, usage: answer.usage };
}

async function resultsOf(db: Db, userId: string, ids: string[]): Promise<Map<string, LabResult[]>> {
  const by = new Map<string, LabResult[]>(ids.map((id) => [id, []]));
  if (!ids.length) return by;
  const rows = await db
    .select()
    .from(labResults)
    .where(and(eq(labResults.userId, userId), inArray(labResults.reportId, ids)));
  for (const r of rows) by.get(r.reportId)?.push(r);
  return by;
}

type ListCursor = { at: Date; id: string };
function parseListCursor(v: Record<string, unknown>): ListCursor | undefined {
  if (typeof v.a !== 'string' || typeof v.i !== 'string') return undefined;
  const at = new Date(v.a);
  return Number.isNaN(at.getTime()) ? undefined : { at, id: v.i };
}

/** Newest first (stored time, then id). */
export async function listLabReports(
  ctx: Ctx,
  opts: { memberId?: string | undefined; cursor?: string | undefined; limit?: number | undefined },
): Promise<LabReportPage> {
  const { userId } = ctx;
  const db = await ctx.rt.db();
  const limit = clampLimit(opts.limit);
  const after = opts.cursor ? decodeCursor(opts.cursor, parseListCursor) : undefined;
  const rows = await db
    .select()
    .from(labReports)
    .where(
      and(
        eq(labReports.userId, userId),
        await whose(db, userId, opts.memberId),
        after
          ? or(
              lt(labReports.createdAt, after.at),
              and(eq(labReports.createdAt, after.at), lt(labReports.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(labReports.createdAt), desc(labReports.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const results = await resultsOf(
    db,
    userId,
    page.map((r) => r.id),
  );
  const last = page.at(-1);
  return {
    items: page.map((r) => toPublic(r, results.get(r.id) ?? [])),
    nextCursor:
      rows.length > limit && last ? encodeCursor({ a: last.createdAt.toISOString(), i: last.id }) : null,
  };
}

export async function getLabReport(ctx: Ctx, { id }: { id: string }): Promise<PublicLabReport> {
  const { userId } = ctx;
  const db = await ctx.rt.db();
  const [row] = await db
    .select()
    .from(labReports)
    .where(and(eq(labReports.userId, userId), eq(labReports.id, id)));
  if (!row) throw notFound('lab report');
  const results = await resultsOf(db, userId, [id]);
  return toPublic(row, results.get(id) ?? []);
}

/** Deletes the report (its values cascade) and its images, rows then objects. */
export async function deleteLabReport(ctx: Ctx, { id }: { id: string }): Promise<void> {
  const { rt, userId } = ctx;
  const db = await rt.db();
  const objects: StoredObject[] = await db.transaction(async (tx) => {
    const marked = await tx
      .update(files)
      .set({ status: 'deleted' })
      .where(and(eq(files.userId, userId), eq(files.labReportId, id)))
      .returning({ fileId: files.id, key: files.key });
    const gone = await tx
      .delete(labReports)
      .where(and(eq(labReports.userId, userId), eq(labReports.id, id)))
      .returning({ id: labReports.id });
    if (gone.length === 0) throw notFound('lab report');
    return marked;
  });
  await deleteConversationObjects(rt, objects);
}

/** The most values one trend query reads: years of monthly reports of a full panel. */
const TREND_ROWS = 5_000;

/**
 * Each indicator's values over time, oldest first: by standard code where known, else by printed
 * name. `at` is the report's date (its takenAt, else the Beijing day it was stored).
 */
export async function indicators(
  ctx: Ctx,
  opts: { memberId?: string | undefined; code?: string | undefined },
): Promise<Indicator[]> {
  const { userId } = ctx;
  const db = await ctx.rt.db();
  const rows = await db
    .select({
      name: labResults.name,
      code: labResults.code,
      unit: labResults.unit,
      value: labResults.value,
      valueText: labResults.valueText,
      flag: labResults.flag,
      reportId: labResults.reportId,
      takenAt: labReports.takenAt,
      createdAt: labReports.createdAt,
    })
    .from(labResults)
    .innerJoin(labReports, eq(labReports.id, labResults.reportId))
    .where(
      and(
        eq(labResults.userId, userId),
        eq(labReports.userId, userId),
        await whose(db, userId, opts.memberId),
        opts.code ? eq(labResults.code, opts.code) : undefined,
      ),
    )
    .orderBy(desc(labReports.createdAt), asc(labResults.position))
    .limit(TREND_ROWS);
  const at = (r: (typeof rows)[number]) => r.takenAt ?? shanghaiDate(r.createdAt);
  // Oldest first by the report's day, then by when it was stored.
  rows.sort((a, b) => at(a).localeCompare(at(b)) || a.createdAt.getTime() - b.createdAt.getTime());
  const groups = new Map<string, Indicator>();
  for (const r of rows) {
    const key = r.code ? `code:${r.code}` : `name:${r.name}`;
    let g = groups.get(key);
    if (!g) {
      g = { code: r.code, name: r.name, unit: r.unit, points: [] };
      groups.set(key, g);
    }
    // The latest report's name and unit describe the series.
    g.name = r.name;
    if (r.unit) g.unit = r.unit;
    g.points.push({ at: at(r), value: r.value, valueText: r.valueText, flag: r.flag, reportId: r.reportId });
  }
  return [...groups.values()];
}
