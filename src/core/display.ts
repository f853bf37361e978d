/**
 * Text from a caller shown to a human (an approver's terminal, a summary line): every character
 * that could hide or rewrite what is shown — C0 and C1 controls (ESC and CSI start terminal escape
 * sequences), bidirectional overrides, zero-width and blank-looking fillers, variation selectors,
 * Unicode tag characters (invisible "ASCII smuggling"), line and paragraph separators — is
 * written as a visible `\u{…}` escape. What the approver reads is then what is there.
 */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: each one alone is what is found
  /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\u{e0000}-\u{e007f}\u{e0100}-\u{e01ef}]/gu;

export function visibleText(text: string): string {
  return text.replace(UNSAFE, (ch) => `\\u{${ch.codePointAt(0)!.toString(16)}}`);
}

/** A value as one line of JSON with every unsafe character made visible (strings stay quoted). */
export function visibleJson(value: unknown): string {
  return visibleText(JSON.stringify(value) ?? 'undefined');
}
