/**
 * Rewrites a rendered email's HTML for open and click tracking (pure).
 *
 * The HTML is the tenant's (and its contacts' data rendered into it), so it
 * is read as a browser would, by a small tokenizer rather than a regular
 * expression over the whole tag: attribute values in double, single or no
 * quotes, `>` inside quoted values, upper-case tags and attribute names,
 * entities in `href` (`&amp;`, `&#38;`, `&#x26;`), whitespace around the URL,
 * comments (skipped, except Outlook's conditional comments, whose content
 * is markup), and the raw text of `<script>`, `<style>`, `<textarea>`,
 * `<title>`. Only the `href` of `<a>` start tags changes; every other byte
 * is copied as it was. Anything it cannot read to the end (a tag left open
 * at the end of the document) is copied unchanged.
 *
 * A link is tracked when its first `href` is an absolute http(s) URL that
 * parses (WHATWG URL), is at most MAX_TRACKED_URL_BYTES long once
 * normalised, does not start with one of `skipPrefixes` (the unsubscribe
 * link, tracking's own links), and the tag has no `data-mc-notrack`
 * attribute (which is removed from the output either way).
 */
export interface RewriteOptions {
  /** The tracked URL for a destination (normalised by `new URL().href`), or undefined to leave the link alone. */
  clickUrl?: (destination: string) => string | undefined;
  /** The open pixel's URL: an `<img>` is inserted before the last `</body>`, or appended. */
  openPixelUrl?: string;
  /** Destinations starting with one of these are never rewritten (compared after normalisation). */
  skipPrefixes?: readonly string[];
  maxUrlBytes?: number;
}

export interface RewriteResult {
  html: string;
  /** Links rewritten. */
  links: number;
}

const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'noembed', 'noframes', 'iframe', 'plaintext']);
const NOTRACK = 'data-mc-notrack';

interface Attribute {
  name: string;
  /** Where the attribute (its name) starts, and ends (after its value). */
  start: number;
  end: number;
  /** The raw value (entities not decoded), or null for an attribute without `=`. */
  value: string | null;
}

/**
 * Where a comment opened at `lt` (`<!--`) ends, as browsers end it: `<!-->`
 * and `<!--->` are empty comments (so `<!--[if !mso]><!-->…` goes on as
 * markup), otherwise at the first `-->` or `--!>`.
 */
function commentEnd(html: string, lt: number): number {
  if (html.startsWith('>', lt + 4)) return lt + 5;
  if (html.startsWith('->', lt + 4)) return lt + 6;
  const candidates = [html.indexOf('-->', lt + 4), html.indexOf('--!>', lt + 4)].filter((at) => at !== -1);
  if (candidates.length === 0) return html.length;
  const at = Math.min(...candidates);
  return at + (html.startsWith('--!>', at) ? 4 : 3);
}

export function rewriteHtml(html: string, options: RewriteOptions): RewriteResult {
  /** Replacements in the input's coordinates: rewritten `<a>` tags, and the pixel (an insertion). */
  const edits: { start: number; end: number; text: string }[] = [];
  let links = 0;
  const length = html.length;
  let i = 0;
  /** Where the last real `</body>` end tag starts (not one inside a comment or a script): the pixel goes there. */
  let bodyEnd = -1;

  while (i < length) {
    const lt = html.indexOf('<', i);
    if (lt === -1) break;
    const next = html.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      if (html.startsWith('<!--', lt)) {
        // Outlook's `<!--[if mso]>…<![endif]-->`: the content is markup Outlook renders.
        if (html.startsWith('[if', lt + 4)) {
          const close = html.indexOf('>', lt + 4);
          i = close === -1 ? length : close + 1;
          continue;
        }
        i = commentEnd(html, lt);
        continue;
      }
      const close = html.indexOf('>', lt + 2);
      i = close === -1 ? length : close + 1;
      continue;
    }
    if (next === 0x3f /* ? */ || next === 0x2f /* / */) {
      if (next === 0x2f && /^body[\s/>]/i.test(html.slice(lt + 2, lt + 7))) bodyEnd = lt;
      const close = html.indexOf('>', lt + 2);
      i = close === -1 ? length : close + 1;
      continue;
    }
    if (!isAsciiLetter(next)) {
      i = lt + 1;
      continue;
    }
    const tag = readStartTag(html, lt);
    if (!tag) break; // unterminated: leave the rest as it is
    i = tag.end;
    const name = tag.name;
    if (RAW_TEXT.has(name)) {
      if (name === 'plaintext') break;
      const close = findEndTag(html, name, tag.end);
      i = close === -1 ? length : close;
      continue;
    }
    if (name !== 'a' || !options.clickUrl) continue;
    const rewritten = rewriteAnchor(html, tag, options);
    if (rewritten === undefined) continue;
    edits.push({ start: lt, end: tag.end, text: rewritten.tag });
    if (rewritten.tracked) links += 1;
  }
  if (options.openPixelUrl) {
    const at = bodyEnd === -1 ? length : bodyEnd;
    edits.push({ start: at, end: at, text: pixelTag(options.openPixelUrl) });
    edits.sort((a, b) => a.start - b.start);
  }
  if (edits.length === 0) return { html, links };
  const parts: string[] = [];
  let copied = 0;
  for (const edit of edits) {
    parts.push(html.slice(copied, edit.start), edit.text);
    copied = edit.end;
  }
  parts.push(html.slice(copied));
  return { html: parts.join(''), links };
}

function rewriteAnchor(
  html: string,
  tag: { start: number; end: number; attributes: Attribute[] },
  options: RewriteOptions,
): { tag: string; tracked: boolean } | undefined {
  const seen = new Set<string>();
  let href: Attribute | undefined;
  const notrack: Attribute[] = [];
  for (const attribute of tag.attributes) {
    if (attribute.name === NOTRACK) notrack.push(attribute);
    // A repeated attribute is ignored by browsers: only the first href counts.
    if (seen.has(attribute.name)) continue;
    seen.add(attribute.name);
    if (attribute.name === 'href') href = attribute;
  }
  let tracked: string | undefined;
  if (notrack.length === 0 && href && href.value !== null) {
    const destination = trackableUrl(decodeEntities(href.value), options);
    if (destination !== undefined) tracked = options.clickUrl!(destination);
  }
  if (tracked === undefined && notrack.length === 0) return undefined;

  // Rebuild the tag from spans of the original: the href's span replaced, data-mc-notrack's removed.
  const edits: { start: number; end: number; text: string }[] = [];
  if (tracked !== undefined) edits.push({ start: href!.start, end: href!.end, text: `href="${escapeAttribute(tracked)}"` });
  for (const attribute of notrack) {
    let start = attribute.start;
    while (start > tag.start && isSpace(html.charCodeAt(start - 1))) start -= 1;
    edits.push({ start, end: attribute.end, text: '' });
  }
  edits.sort((a, b) => a.start - b.start);
  let out = '';
  let at = tag.start;
  for (const edit of edits) {
    out += html.slice(at, edit.start) + edit.text;
    at = edit.end;
  }
  out += html.slice(at, tag.end);
  return { tag: out, tracked: tracked !== undefined };
}

function trackableUrl(raw: string, options: RewriteOptions): string | undefined {
  // What a browser does with an href: leading/trailing C0-and-space stripped, tabs and newlines removed.
  // eslint-disable-next-line no-control-regex
  const value = raw.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '');
  if (!/^https?:\/\//i.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const destination = url.href;
  if (Buffer.byteLength(destination) > (options.maxUrlBytes ?? 2048)) return undefined;
  for (const prefix of options.skipPrefixes ?? []) if (destination.startsWith(prefix)) return undefined;
  return destination;
}

/** A start tag from `<` at `start`, with its attributes (HTML's tokenizer, in short); undefined if it never ends. */
function readStartTag(html: string, start: number): { name: string; start: number; end: number; attributes: Attribute[] } | undefined {
  const length = html.length;
  let i = start + 1;
  while (i < length && !isSpace(html.charCodeAt(i)) && html[i] !== '/' && html[i] !== '>') i += 1;
  const name = html.slice(start + 1, i).toLowerCase();
  const attributes: Attribute[] = [];
  for (;;) {
    while (i < length && (isSpace(html.charCodeAt(i)) || html[i] === '/')) i += 1;
    if (i >= length) return undefined;
    if (html[i] === '>') return { name, start, end: i + 1, attributes };
    const nameStart = i;
    // The first character may be anything but space, '/' and '>' (even '='); then up to space, '/', '>' or '='.
    i += 1;
    while (i < length && !isSpace(html.charCodeAt(i)) && html[i] !== '/' && html[i] !== '>' && html[i] !== '=') i += 1;
    const attrName = html.slice(nameStart, i).toLowerCase();
    let j = i;
    while (j < length && isSpace(html.charCodeAt(j))) j += 1;
    if (html[j] !== '=') {
      attributes.push({ name: attrName, start: nameStart, end: i, value: null });
      continue;
    }
    j += 1;
    while (j < length && isSpace(html.charCodeAt(j))) j += 1;
    if (j >= length) return undefined;
    const quote = html[j];
    let value: string;
    if (quote === '"' || quote === "'") {
      const close = html.indexOf(quote, j + 1);
      if (close === -1) return undefined;
      value = html.slice(j + 1, close);
      i = close + 1;
    } else {
      const valueStart = j;
      while (j < length && !isSpace(html.charCodeAt(j)) && html[j] !== '>') j += 1;
      value = html.slice(valueStart, j);
      i = j;
    }
    attributes.push({ name: attrName, start: nameStart, end: i, value });
  }
}

/** Where `</name` (any case, then space, '/' or '>') starts after `from`, or -1. */
function findEndTag(html: string, name: string, from: number): number {
  const pattern = new RegExp(`</${name}(?=[\\s/>])`, 'ig');
  pattern.lastIndex = from;
  const match = pattern.exec(html);
  return match ? match.index : -1;
}

function pixelTag(url: string): string {
  return `<img src="${escapeAttribute(url)}" width="1" height="1" alt="" border="0" style="display:block;width:1px;height:1px;border:0;margin:0;padding:0" />`;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', tab: '\t', newline: '\n', colon: ':', sol: '/', quest: '?', equals: '=', num: '#', percnt: '%', period: '.', lpar: '(', rpar: ')', plus: '+' };

/** Character references in an attribute value: numeric ones and the names a URL may hold; others stay as written. */
export function decodeEntities(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(/&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z]+));?/g, (whole: string, dec: string | undefined, hex: string | undefined, name: string | undefined, offset: number) => {
    if (dec !== undefined || hex !== undefined) {
      const code = dec !== undefined ? Number(dec) : parseInt(hex!, 16);
      if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
      return String.fromCodePoint(code);
    }
    const decoded = NAMED[name!];
    if (decoded === undefined) return whole;
    if (!whole.endsWith(';')) {
      // Without ';' (legacy): only a few names, and not before '=' (alphanumerics the regex took already): `?a=1&amp=2` stays.
      if (!['amp', 'lt', 'gt', 'quot', 'nbsp'].includes(name!) || value[offset + whole.length] === '=') return whole;
    }
    return decoded;
  });
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const isAsciiLetter = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
