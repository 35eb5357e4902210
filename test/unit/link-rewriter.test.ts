import { describe, expect, it } from 'vitest';
import { decodeEntities, rewriteHtml } from '../../src/tracking/link-rewriter.js';
import { applyTracking } from '../../src/tracking/track-html.js';
import { trackingKey, TrackingTokens } from '../../src/tracking/token.js';

const wrap = (url: string) => `T(${url})`;
const rewrite = (html: string, extra: Parameters<typeof rewriteHtml>[1] = {}) =>
  rewriteHtml(html, { clickUrl: wrap, skipPrefixes: ['https://mc.test/u/', 'https://mc.test/track/'], ...extra });

describe('link rewriter', () => {
  it.each([
    ['double quotes', '<a href="https://a.test/x">a</a>', '<a href="T(https://a.test/x)">a</a>'],
    ['single quotes', "<a href='https://a.test/x'>a</a>", '<a href="T(https://a.test/x)">a</a>'],
    ['no quotes', '<a href=https://a.test/x>a</a>', '<a href="T(https://a.test/x)">a</a>'],
    ['upper case tag and attribute', '<A HREF="HTTP://A.TEST/X">a</A>', '<A href="T(http://a.test/X)">a</A>'],
    ['spaces around =', '<a class="b" href = "https://a.test/" >a</a>', '<a class="b" href="T(https://a.test/)" >a</a>'],
    ['> inside another quoted value', '<a title="1 > 0" href="https://a.test/">a</a>', '<a title="1 > 0" href="T(https://a.test/)">a</a>'],
    ['whitespace and newlines inside the URL', '<a href="\n  https://a.test/p\n\tath  ">a</a>', '<a href="T(https://a.test/path)">a</a>'],
    ['newline between attributes', '<a\nhref="https://a.test/"\nclass="x">a</a>', '<a\nhref="T(https://a.test/)"\nclass="x">a</a>'],
    ['self-closing slash', '<a href="https://a.test/"/>', '<a href="T(https://a.test/)"/>'],
  ])('rewrites %s', (_name, html, expected) => {
    expect(rewrite(html).html).toBe(expected);
  });

  it('decodes entities in href before tracking, and escapes what it writes', () => {
    const seen: string[] = [];
    const out = rewriteHtml('<a href="https://a.test/?a=1&amp;b=2&#38;c=3&#x26;d=&quot;4&quot;">x</a>', {
      clickUrl: (url) => {
        seen.push(url);
        return 'https://mc.test/track/c/tok?x=1&y="2"';
      },
    });
    expect(seen).toEqual(['https://a.test/?a=1&b=2&c=3&d=%224%22']);
    expect(out.html).toBe('<a href="https://mc.test/track/c/tok?x=1&amp;y=&quot;2&quot;">x</a>');
  });

  it.each([
    ['mailto:', '<a href="mailto:a@b.test">m</a>'],
    ['tel:', '<a href="tel:+34600000000">t</a>'],
    ['javascript:', '<a href="javascript:alert(1)">j</a>'],
    ['entity-encoded javascript:', '<a href="&#106;avascript:alert(1)">j</a>'],
    ['relative', '<a href="/path">r</a>'],
    ['fragment', '<a href="#top">f</a>'],
    ['protocol-relative', '<a href="//a.test/">p</a>'],
    ['no href', '<a name="x">n</a>'],
    ['empty href', '<a href="">e</a>'],
    ['unparseable URL', '<a href="https://exa mple.test:99999/">u</a>'],
    ['the unsubscribe link', '<a href="https://mc.test/u/abc.def">u</a>'],
    ['an already tracked link', '<a href="https://mc.test/track/c/abc">t</a>'],
    ['a link in a comment', '<!-- <a href="https://a.test/">x</a> -->'],
    ['a link in a script', '<script>var s = "<a href=\'https://a.test/\'>x</a>";</script>'],
    ['a link in a style', '<style>/* <a href="https://a.test/"> */</style>'],
    ['a link in a title', '<title><a href="https://a.test/">x</a></title>'],
    ['an href on another element', '<link href="https://a.test/s.css"><area href="https://a.test/">'],
    ['an attribute merely containing href', '<a data-href="https://a.test/">x</a>'],
    ['an unterminated tag', '<p>x</p><a href="https://a.test/'],
  ])('leaves %s alone', (_name, html) => {
    expect(rewrite(html)).toEqual({ html, links: 0 });
  });

  it('tracks links in Outlook conditional comments (Outlook renders them)', () => {
    expect(rewrite('<!--[if mso]><a href="https://a.test/">o</a><![endif]-->').html).toBe('<!--[if mso]><a href="T(https://a.test/)">o</a><![endif]-->');
  });

  it.each([
    ['the "not Outlook" pattern (MJML)', '<!--[if !mso]><!--><a href="https://a.test/">a</a><!--<![endif]-->'],
    ['an empty comment <!-->', '<!--><a href="https://a.test/">a</a>'],
    ['an empty comment <!--->', '<!---><a href="https://a.test/">a</a>'],
    ['a comment closed by --!>', '<!-- x --!><a href="https://a.test/">a</a>'],
  ])('ends comments where browsers do: %s', (_name, html) => {
    expect(rewrite(html)).toEqual({ html: html.replace('"https://a.test/"', '"T(https://a.test/)"'), links: 1 });
  });

  it('resumes after the end tag of a raw-text element, whatever its case', () => {
    expect(rewrite('<SCRIPT>"<a href=https://x.test/>"</ScRiPt ><a href="https://a.test/">a</a>').html).toBe(
      '<SCRIPT>"<a href=https://x.test/>"</ScRiPt ><a href="T(https://a.test/)">a</a>',
    );
  });

  it('uses only the first href, as browsers do', () => {
    expect(rewrite('<a href="https://a.test/" href="https://evil.test/">a</a>').html).toBe('<a href="T(https://a.test/)" href="https://evil.test/">a</a>');
  });

  it('removes data-mc-notrack (any case, with or without a value) and leaves that link untracked', () => {
    expect(rewrite('<a data-mc-notrack href="https://a.test/">a</a>').html).toBe('<a href="https://a.test/">a</a>');
    expect(rewrite('<a href="https://a.test/" DATA-MC-NOTRACK="yes" class="c">a</a>').html).toBe('<a href="https://a.test/" class="c">a</a>');
    expect(rewrite('<a href="mailto:x@y.test" data-mc-notrack>a</a>').html).toBe('<a href="mailto:x@y.test">a</a>');
  });

  it('counts links and keeps every byte outside the rewritten attributes', () => {
    const html = '<html><body><p>ü &amp; <b>bold</b></p><a href="https://a.test/1">1</a><img src="https://a.test/i.png"><a href="https://a.test/2">2</a></body></html>';
    const out = rewrite(html);
    expect(out.links).toBe(2);
    expect(out.html).toBe(html.replace('"https://a.test/1"', '"T(https://a.test/1)"').replace('"https://a.test/2"', '"T(https://a.test/2)"'));
  });

  it('leaves links over the length limit alone', () => {
    const long = `https://a.test/${'x'.repeat(3000)}`;
    expect(rewrite(`<a href="${long}">l</a>`, { maxUrlBytes: 2048 }).links).toBe(0);
  });

  it('adds the pixel before the last </body>, or at the end', () => {
    const pixel = (html: string) => rewriteHtml(html, { openPixelUrl: 'https://mc.test/track/o/t' }).html;
    expect(pixel('<html><body><p>a</p></BODY ></html>')).toMatch(/^<html><body><p>a<\/p><img src="https:\/\/mc.test\/track\/o\/t" width="1" height="1" alt="" [^>]*\/><\/BODY ><\/html>$/);
    expect(pixel('<p>a</p>')).toMatch(/^<p>a<\/p><img src="https:\/\/mc.test\/track\/o\/t"[^>]*\/>$/);
    // A "</body>" as text, in a comment or in a script does not fool it: the last real end tag is used.
    expect(pixel('<body><pre>&lt;/body&gt;</pre></body>').endsWith('/></body>')).toBe(true);
    expect(pixel('<body><p>a</p></body><!-- </body> -->')).toMatch(/^<body><p>a<\/p><img [^>]*\/><\/body><!-- <\/body> -->$/);
    expect(pixel('<body><script>"</body>"</script><p>a</p></body>')).toMatch(/^<body><script>"<\/body>"<\/script><p>a<\/p><img [^>]*\/><\/body>$/);
    // With links rewritten on both sides of it.
    expect(rewriteHtml('<body><a href="https://a.test/">a</a></body><a href="https://b.test/">b</a>', { clickUrl: wrap, openPixelUrl: 'P' }).html).toBe(
      '<body><a href="T(https://a.test/)">a</a><img src="P" width="1" height="1" alt="" border="0" style="display:block;width:1px;height:1px;border:0;margin:0;padding:0" /></body><a href="T(https://b.test/)">b</a>',
    );
  });

  it('decodes legacy entities without ";" only where browsers do', () => {
    expect(decodeEntities('a&ampb')).toBe('a&ampb');
    expect(decodeEntities('?a=1&amp=2')).toBe('?a=1&amp=2');
    expect(decodeEntities('?a=1&amp;b=2&amp c')).toBe('?a=1&b=2& c');
    expect(decodeEntities('&#0;&#x110000;&unknown;')).toBe('\ufffd\ufffd&unknown;');
  });
});

describe('applyTracking', () => {
  const spec = {
    key: trackingKey('s'.repeat(40)),
    publicUrl: 'https://MC.test',
    tenantId: '0197a1c2-6b1e-7c3d-9a4f-2b8e5d7c9a10',
    campaignId: '0197a1c2-6b1e-7c3d-9a4f-2b8e5d7c9a11',
    messageId: 42,
    opens: true,
    clicks: true,
  };
  const tokens = new TrackingTokens('s'.repeat(40));

  it('seals each destination into a click token, adds an open pixel, skips the unsubscribe link', () => {
    const html = applyTracking(
      '<body><a href="https://a.test/x?y=1&amp;z=2">a</a><a href="https://a.test/x?y=1&amp;z=2">again</a><a href="https://mc.test/u/tok">unsubscribe</a></body>',
      spec,
    );
    const clicks = [...html.matchAll(/href="https:\/\/MC\.test\/track\/c\/([A-Za-z0-9_-]+)"/g)].map((m) => m[1]!);
    expect(clicks).toHaveLength(2);
    expect(clicks[0]).toBe(clicks[1]); // one token per destination and message
    expect(tokens.open(clicks[0]!, 'click')).toEqual({ kind: 'click', tenantId: spec.tenantId, campaignId: spec.campaignId, messageId: 42, url: 'https://a.test/x?y=1&z=2' });
    expect(html).toContain('href="https://mc.test/u/tok"');
    const open = /src="https:\/\/MC\.test\/track\/o\/([A-Za-z0-9_-]+)"/.exec(html)![1]!;
    expect(tokens.open(open, 'open')).toEqual({ kind: 'open', tenantId: spec.tenantId, campaignId: spec.campaignId, messageId: 42 });
  });

  it('does only what is switched on', () => {
    const html = '<body><a href="https://a.test/">a</a></body>';
    expect(applyTracking(html, { ...spec, opens: false, clicks: false })).toBe(html);
    expect(applyTracking(html, { ...spec, opens: false })).not.toContain('/track/o/');
    expect(applyTracking(html, { ...spec, clicks: false })).toContain('href="https://a.test/"');
  });
});
