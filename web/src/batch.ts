/** The batch endpoint takes at most this many ids a request; larger selections are split. */
export const MAX_IDS_PER_REQUEST = 10;

/** Splits ids into consecutive chunks of at most `size`, keeping their order. */
export function chunksOf<T>(items: readonly T[], size = MAX_IDS_PER_REQUEST): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}
