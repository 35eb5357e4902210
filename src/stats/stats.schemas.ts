import { Type } from '@sinclair/typebox';
import { Nullable } from '../shared/schema.js';

const Count = Type.Integer({ minimum: 0 });
const Rate = (description: string) => Type.Number({ minimum: 0, description: `${description}; 4 decimals, 0 when the divisor is 0` });

export const CampaignStatsResponse = Type.Object({
  recipients: Type.Integer({ description: 'Messages the fan-out queued' }),
  sent: Count,
  failed: Count,
  bounced: Type.Object({ hard: Count, soft: Count }),
  complained: Count,
  unsubscribed: Count,
  opened: Type.Object({
    unique: Type.Integer({ description: 'Messages opened by a person at least once (machine opens excluded)' }),
    total: Type.Integer({ description: 'Every open, machine opens included' }),
    machine: Type.Integer({ description: 'Opens by mail proxies and prefetchers, or within seconds of sending' }),
  }),
  clicked: Type.Object({
    unique: Type.Integer({ description: 'Messages with at least one click' }),
    total: Type.Integer({ description: 'Every click' }),
  }),
  rates: Type.Object({
    open: Rate('opened.unique / sent'),
    click: Rate('clicked.unique / sent'),
    clickToOpen: Rate('clicked.unique / opened.unique'),
    bounce: Rate('(bounced.hard + bounced.soft) / sent'),
    complaint: Rate('complained / sent'),
    unsubscribe: Rate('unsubscribed / sent'),
  }),
  links: Type.Array(
    Type.Object({ url: Type.String(), clicks: Count, uniqueClicks: Type.Integer({ description: 'Messages whose recipient clicked this link' }) }),
    { description: 'The 100 most clicked links, most clicks first' },
  ),
  byLocale: Type.Array(
    Type.Object({ locale: Nullable(Type.String()), sent: Count, opened: Count, clicked: Count }),
    { description: "Per message locale (null: none); opened and clicked are unique" },
  ),
  timeline: Type.Array(
    Type.Object({ at: Type.String({ format: 'date-time', description: 'Start of the step (UTC)' }), sent: Count, opened: Count, clicked: Count }),
    { description: 'Every step from the first to the last with counts: 1 minute up to a 2-hour span, 5 minutes up to 12 hours, 15 minutes up to 2 days, 1 hour up to 31 days, then 1 day' },
  ),
});
