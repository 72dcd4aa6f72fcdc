/**
 * Address suggestions for the To field: a few known addresses that match what the person typed,
 * never the whole directory. An address matches when it, or one of its words (split at . _ - + @),
 * starts with the text typed; whole-address matches come first. Pure, unit-tested without a browser.
 */

export const MAX_SUGGESTIONS = 6;

export function suggestAddresses(known: Iterable<string>, typed: string, limit = MAX_SUGGESTIONS): string[] {
  const text = typed.trim().toLowerCase();
  if (text === '') return [];
  const seen = new Set<string>();
  const starts: string[] = [];
  const words: string[] = [];
  for (const address of known) {
    const lower = address.toLowerCase();
    // Exactly what was typed is nothing to suggest; one address in several letter cases, once.
    if (lower === text || seen.has(lower)) continue;
    seen.add(lower);
    if (lower.startsWith(text)) starts.push(address);
    else if (lower.split(/[._\-+@]/).some((word) => word.startsWith(text))) words.push(address);
  }
  const byText = (a: string, b: string) => a.localeCompare(b);
  return [...starts.sort(byText), ...words.sort(byText)].slice(0, limit);
}
