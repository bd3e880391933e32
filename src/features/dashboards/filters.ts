import { z } from 'zod';

/** The longest range one dashboard query may cover (rollups are kept per hour). */
export const MAX_RANGE_DAYS = 93;
/** Up to this range the time series are per hour, beyond it per day. */
export const HOURLY_UP_TO_HOURS = 72;

export const TIERS = ['primary', 'fallback_model', 'ngram', 'none'] as const;
export type TierName = (typeof TIERS)[number];

const id = z.string().trim().min(1).max(100);

/**
 * What the page (and the CSV export) may filter on. Strict: an unknown filter is a 400 that
 * names it rather than a filter silently ignored.
 */
export const dashboardFiltersSchema = z.strictObject({
  featureId: id.optional(),
  modelVersionIds: z.array(id).max(20).optional(),
  armId: id.optional(),
  tier: z.enum(TIERS).optional(),
  from: z.coerce.date(),
  to: z.coerce.date(),
});
export type DashboardFilters = z.infer<typeof dashboardFiltersSchema>;
export type DashboardFiltersInput = z.input<typeof dashboardFiltersSchema>;
