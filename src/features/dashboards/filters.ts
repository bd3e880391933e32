import { z } from 'zod';

/**
 * The longest range one dashboard query may cover. Merging the day rows' latency histograms costs
 * about 0.35 ms a row: a full year (≈ 5,900 day rows) measured 2.2 s on PostgreSQL 15 here, over
 * the page's 1 s budget, so ranges stop at a quarter.
 */
export const MAX_RANGE_DAYS = 93;
/** Up to this range the time series are per hour, beyond it per day. */
export const HOURLY_UP_TO_HOURS = 72;

export const TIERS = ['primary', 'fallback_model', 'ngram', 'none'] as const;
export type TierName = (typeof TIERS)[number];

const id = z.string().trim().min(1).max(100);

// Dates PostgreSQL's timestamp holds and a dashboard could mean; others are a caller's mistake.
const EARLIEST = new Date(Date.UTC(2000, 0, 1));
const LATEST = new Date(Date.UTC(2200, 0, 1));
const instant = z.coerce
  .date({ error: 'Expected a date (ISO 8601 or milliseconds since 1970)' })
  .min(EARLIEST, { error: 'Dates before 2000-01-01 are not supported' })
  .max(LATEST, { error: 'Dates after 2200-01-01 are not supported' });

/**
 * What the page (and the CSV export) may filter on. Strict: an unknown filter is a 400 that
 * names it rather than a filter silently ignored.
 */
export const dashboardFiltersSchema = z.strictObject({
  featureId: id.optional(),
  modelVersionIds: z.array(id).max(20).optional(),
  armId: id.optional(),
  tier: z.enum(TIERS).optional(),
  from: instant,
  to: instant,
});
export type DashboardFilters = z.infer<typeof dashboardFiltersSchema>;
export type DashboardFiltersInput = z.input<typeof dashboardFiltersSchema>;
