/**
 * The variables a Liquid template reads, for the dashboard's editor
 * ("variables detected"): every name path (`contact.first_name`, `plan`,
 * `unsubscribeUrl`) in `{{ … }}` outputs and in the expressions of `{% if %}`,
 * `{% elsif %}`, `{% unless %}`, `{% case %}`, `{% when %}`, `{% for %}`,
 * `{% assign %}` and `{% capture %}` tags — filters' arguments included,
 * filter names, keywords, string and number literals and the template's own
 * loop and assigned names left out. Sorted, each once.
 *
 * Pure and dependency-free: imported by the web app (web/src) and the server's
 * tests alike. A lexical scan, not a parser: it never fails, and text that is
 * not Liquid yields nothing.
 */
const KEYWORDS = new Set(['and', 'or', 'contains', 'in', 'true', 'false', 'nil', 'null', 'empty', 'blank', 'with', 'as', 'reversed', 'limit', 'offset', 'forloop']);
const TAG_EXPRESSIONS = new Set(['if', 'elsif', 'unless', 'case', 'when', 'for', 'tablerow', 'assign', 'capture', 'echo', 'cycle']);

const BLOCK = /\{\{-?([\s\S]*?)-?\}\}|\{%-?\s*(\w+)([\s\S]*?)-?%\}/g;
/** Strings, then name paths (a.b, a[0].c, a["x"]), then a filter's name after `|`. */
const TOKEN = /'[^']*'|"[^"]*"|\|\s*[A-Za-z_][\w-]*|[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])*/g;

export function detectVariables(...sources: (string | null | undefined)[]): string[] {
  const found = new Set<string>();
  const local = new Set<string>();
  for (const source of sources) {
    if (!source) continue;
    for (const block of source.matchAll(BLOCK)) {
      let expression: string;
      if (block[1] !== undefined) expression = block[1];
      else {
        const tag = block[2]!;
        if (!TAG_EXPRESSIONS.has(tag)) continue;
        expression = block[3] ?? '';
        if (tag === 'for' || tag === 'tablerow') {
          const loop = /^\s*([A-Za-z_]\w*)\s+in\s+([\s\S]*)$/.exec(expression);
          if (loop) {
            local.add(loop[1]!);
            expression = loop[2]!;
          }
        } else if (tag === 'assign') {
          const assign = /^\s*([A-Za-z_]\w*)\s*=\s*([\s\S]*)$/.exec(expression);
          if (assign) {
            local.add(assign[1]!);
            expression = assign[2]!;
          }
        } else if (tag === 'capture') {
          const name = /^\s*([A-Za-z_]\w*)/.exec(expression);
          if (name) local.add(name[1]!);
          continue;
        }
      }
      for (const token of expression.matchAll(TOKEN)) {
        const text = token[0];
        if (text.startsWith("'") || text.startsWith('"') || text.startsWith('|')) continue;
        // A named argument (`default: x, allow_false: true`): the filter's name went with its `|`, so a name before a colon is an argument's.
        if (/^\s*:/.test(expression.slice(token.index + text.length))) continue;
        const path = text.replace(/\[\d+\]/g, '');
        if (KEYWORDS.has(path.split('.')[0]!)) continue;
        found.add(path);
      }
    }
  }
  return [...found].filter((path) => !local.has(path.split('.')[0]!)).sort();
}
