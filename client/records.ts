// Health records: lab reports (化验单) read from uploaded photos, and each value over time.
// Upload the photos first (client.uploadImage), then read them: `records.readLabReport({ imageIds })`.
import type { Caller } from './http.js';
import type { AbortSignalLike } from './transport.js';
import type { Page } from './types.js';

export type LabFlag = 'high' | 'low' | 'normal' | 'abnormal';

export type LabItem = {
  name: string;
  /** A standard abbreviation (GLU, HbA1c, ALT, WBC, …) where known. */
  code: string | null;
  value: number | null;
  /** As printed. */
  valueText: string | null;
  unit: string | null;
  referenceRange: { low: number | null; high: number | null; text: string | null };
  /** The report's own mark, else computed from the range. */
  flag: LabFlag | null;
};

export type LabReport = {
  id: string;
  memberId: string | null;
  /** YYYY-MM-DD, when the report prints it. */
  takenAt: string | null;
  institution: string | null;
  imageIds: string[];
  items: LabItem[];
  createdAt: string;
};

/** 1–4 completed uploads not yet sent in a chat; `memberId`: whose report (absent: the caller's). */
export type CreateLabReportRequest = { imageIds: string[]; memberId?: string };
/** Absent memberId: the account holder's own. */
export type ListLabReportsQuery = { memberId?: string; cursor?: string; limit?: number };
export type IndicatorsQuery = { memberId?: string; code?: string };

export type IndicatorPoint = {
  /** The report's date (YYYY-MM-DD), else the day it was stored. */
  at: string;
  value: number | null;
  valueText: string | null;
  flag: LabFlag | null;
  reportId: string;
};
export type Indicator = { code: string | null; name: string; unit: string | null; points: IndicatorPoint[] };

type Opts = { signal?: AbortSignalLike };
const sig = (o: Opts | undefined) => (o?.signal ? { signal: o.signal } : {});
const seg = (id: string) => encodeURIComponent(id);

export interface RecordsClient {
  /** 422: not a lab report; 502: the model failed (nothing stored; try again). Takes seconds. */
  readLabReport(body: CreateLabReportRequest, o?: Opts): Promise<LabReport>;
  listLabReports(query?: ListLabReportsQuery, o?: Opts): Promise<Page<LabReport>>;
  getLabReport(id: string, o?: Opts): Promise<LabReport>;
  deleteLabReport(id: string, o?: Opts): Promise<void>;
  /** Each indicator's values over time, oldest first. */
  indicators(query?: IndicatorsQuery, o?: Opts): Promise<{ items: Indicator[] }>;
}

export function recordsClient(call: Caller): RecordsClient {
  return {
    readLabReport: (body, o) => call.json({ method: 'POST', path: '/records/lab-reports', body, ...sig(o) }),
    listLabReports: (query, o) =>
      call.json({ method: 'GET', path: '/records/lab-reports', query: { ...query }, ...sig(o) }),
    getLabReport: (id, o) => call.json({ method: 'GET', path: `/records/lab-reports/${seg(id)}`, ...sig(o) }),
    deleteLabReport: (id, o) =>
      call.empty({ method: 'DELETE', path: `/records/lab-reports/${seg(id)}`, ...sig(o) }),
    indicators: (query, o) =>
      call.json({ method: 'GET', path: '/records/indicators', query: { ...query }, ...sig(o) }),
  };
}
