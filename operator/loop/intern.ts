/**
 * One copy of each string that thousands of cached objects repeat (namespace, apiVersion,
 * kind, condition types, reasons and messages, enum-like spec fields). JSON.parse makes a new
 * string for every value of every event: at 10,000 resources the copies were ~10 MB of the
 * operator's heap. Only low-cardinality fields go through here; the table is bounded so a field
 * that turns out to vary (a queue message with counts) cannot grow it without limit.
 */
const MAX_ENTRIES = 4096;
const table = new Map<string, string>();

export function intern<T extends string | undefined>(value: T): T {
  if (value === undefined) return value;
  const known = table.get(value);
  if (known !== undefined) return known as T;
  if (table.size < MAX_ENTRIES) table.set(value, value);
  return value;
}
