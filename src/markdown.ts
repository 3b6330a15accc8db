/**
 * Text from result files and folders (claim texts, environment strings, override values, file
 * names) escaped for where it lands in a Markdown report. Markdown passes HTML through, so an
 * unescaped `<script>` or `<!--` in a claim would run or hide the rest of the report in any
 * renderer that allows HTML; a backtick would end a code span early, a bracket start a link, a
 * line break start a new block. CommonMark's rules are the reference: every ASCII punctuation
 * character may be backslash-escaped, entities never form tags, and a code span is closed only
 * by a backtick run as long as the one that opened it.
 */

/**
 * Inline text: no HTML, no link or image, no emphasis, no code span, no line break; reads as
 * written. Only what can start markup is escaped, so plain prose stays plain in the file:
 * `<` where a tag, comment or autolink could begin (before a letter, `/`, `!` or `?`), `&`
 * where it would form an entity, backslash, backtick, `*`, `~` and `_` (emphasis,
 * strikethrough; `_` inside a word like dW_1 is not emphasis and stays), `]` where a link's target or reference would follow, and a block marker at
 * the start (`#`, `>`, `+`, `-`, `=`, `1.`, `[`).
 */
export function mdText(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/[\\`*~]|_(?![A-Za-z0-9])|(?<![A-Za-z0-9])_/g, (c) => `\\${c}`)
    .replace(/\](?=[([:])/g, '\\]')
    .replace(/&(?=#?[A-Za-z0-9]+;)/g, '&amp;')
    .replace(/<(?=[A-Za-z/!?])/g, '&lt;')
    .replace(/^(\s*)([#>+=[-]|\d+[.)])/, (_m, space: string, mark: string) => `${space}${mark.replace(/[#>+=[.)-]$/, (c) => `\\${c}`)}`);
}

/** A table cell: inline text with the pipe escaped too. */
export const mdCell = (text: string): string => mdText(text).replace(/\|/g, '\\|');

/**
 * A code span holding `text` literally: opened and closed by one backtick more than the longest
 * run inside, padded with spaces when the text starts or ends with a backtick; line breaks
 * become spaces (a code span is one line here).
 */
export function mdCode(text: string): string {
  const flat = text.replace(/\r\n|\r|\n/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A fenced code block's fence for `text`: longer than any backtick run in it. */
export function mdFence(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  return '`'.repeat(Math.max(3, longest + 1));
}

/** A link target (a relative file path): percent-encoded where Markdown or a URL would read it otherwise. */
export function mdHref(path: string): string {
  return encodeURI(path).replace(/[()[\]<>`'"]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** A link to a file, its text the path as written. */
export const mdLink = (text: string, path: string): string => `[${mdText(text)}](${mdHref(path)})`;
