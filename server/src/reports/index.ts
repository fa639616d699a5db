/**
 * Reports: the merchant dashboard's figures. It owns no table: each figure comes from the module
 * that owns the data through `ReportSources` (wired in the composition root), in 15-minute UTC
 * buckets that this module folds into the merchant's local days.
 */
export { createReportsService, BUCKET_MS } from './service.ts';
export type { ReportsService, ReportSources, Dashboard, PeriodFigures, DayFigures } from './service.ts';
export { checkTimeZone, startOfLocalDay, wallClock, isoDate } from './zones.ts';
