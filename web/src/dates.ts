/**
 * How a message's time reads in a list row: relative when recent ("now", "3 min", "14:05", "Tue"),
 * a short date beyond a week ("12 Mar", "12 Mar 2024"), and the exact time for the row's title
 * (shown on hover). Pure: the current time and the time zone are parameters, so it is unit-tested
 * without a browser or a clock (test/web/client-logic.test.ts).
 */

export interface When {
  /** the short text shown in the row */
  text: string;
  /** the exact time, shown on hover */
  title: string;
  /** the machine-readable time, for <time datetime> */
  iso: string;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
// A server clock a little ahead of this one still reads "now", not a date.
const SKEW_ALLOWED = 5 * MINUTE;

// English, day before month ("12 Mar"), 24-hour time: the page's language is English, and a fixed
// form keeps rows the same width and the tests deterministic. Formatters are costly to build: cached.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone ?? ''}|${JSON.stringify(options)}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat('en-GB', { ...options, ...(timeZone ? { timeZone } : {}) });
    formatters.set(key, found);
  }
  return found;
}

/** The calendar day of an instant in the time zone, as a day number (days since 1970-01-01). */
function dayNumber(date: Date, timeZone: string | undefined): { day: number; year: number } {
  const parts = formatter(timeZone, { year: 'numeric', month: 'numeric', day: 'numeric' }).formatToParts(date);
  const part = (type: string) => Number(parts.find((candidate) => candidate.type === type)?.value);
  const year = part('year');
  return { day: Math.round(Date.UTC(year, part('month') - 1, part('day')) / (24 * HOUR)), year };
}

/**
 * The row text and hover title of a message's `created_at`; undefined when it has none (messages
 * stored before times were kept) or it cannot be read: the row then shows nothing rather than a guess.
 */
export function formatWhen(iso: string | null | undefined, now: Date, timeZone?: string): When | undefined {
  if (!iso) return undefined;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return undefined;
  const title = formatter(timeZone, { dateStyle: 'full', timeStyle: 'long' }).format(date);
  const age = now.getTime() - date.getTime();
  const result = (text: string): When => ({ text, title, iso: date.toISOString() });

  if (age < MINUTE && age > -SKEW_ALLOWED) return result('now');
  if (age >= MINUTE && age < HOUR) return result(`${Math.floor(age / MINUTE)} min`);

  const then = dayNumber(date, timeZone);
  const today = dayNumber(now, timeZone);
  const daysAgo = today.day - then.day;
  if (age > 0 && daysAgo === 0) return result(formatter(timeZone, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(date));
  // Within the last six days the weekday is unambiguous ("Tue" is never today's weekday a week on).
  if (age > 0 && daysAgo >= 1 && daysAgo <= 6) return result(formatter(timeZone, { weekday: 'short' }).format(date));
  if (then.year === today.year) return result(formatter(timeZone, { day: 'numeric', month: 'short' }).format(date));
  return result(formatter(timeZone, { day: 'numeric', month: 'short', year: 'numeric' }).format(date));
}
