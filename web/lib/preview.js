// Shows an email's HTML in a sandboxed iframe (srcdoc): no scripts, no forms, no popups into
// the dashboard, no navigation of the dashboard.
//
// A srcdoc document inherits the dashboard's Content-Security-Policy (style-src 'self'), so
// the email's inline `style` attributes and <style> blocks would be refused (and logged as
// violations). Instead they are renamed / lifted out of the HTML text before it goes into the
// frame, and put back through the CSSOM once the frame has loaded, which CSP allows. Remote images stay blocked (img-src 'self' data:),
// which also keeps tracking pixels from firing when an agent opens a message.
import { h } from './dom.js';

export function emailFrame(html, { title = 'Email content' } = {}) {
  const { markup, sheets } = prepare(html);
  const frame = h('iframe', {
    class: 'email-frame',
    title,
    // allow-same-origin lets this page reach into the frame to apply the styles; scripts stay
    // off (no allow-scripts), so the email itself can do nothing with that origin.
    sandbox: 'allow-same-origin allow-popups allow-popups-to-escape-sandbox',
    referrerpolicy: 'no-referrer',
  });
  frame.addEventListener('load', () => {
    const doc = frame.contentDocument;
    if (!doc?.body) return;
    try {
      applyStyles(doc, sheets);
      fit(frame, doc);
    } catch {
      /* an unstyled preview is still readable */
    }
  });
  frame.srcdoc = markup;
  return frame;
}

// Renames style attributes to data-herald-style and lifts <style> blocks out before any HTML
// parser sees them (Chromium checks CSP even while parsing into an inert DOMParser document),
// then drops scripts and makes links open in a new tab.
function prepare(html) {
  const sheets = [];
  let source = String(html ?? '').replace(/<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi, (_, css) => {
    sheets.push(css);
    return '';
  });
  // Inside a start tag, an attribute named style (any case) becomes data-herald-style.
  source = source.replace(/<[a-zA-Z][^<>]*>/g, (tag) =>
    tag.replace(/(\s)style(\s*=)/gi, '$1data-herald-style$2'));
  const doc = new DOMParser().parseFromString(source, 'text/html');
  for (const el of doc.querySelectorAll('script, link, meta[http-equiv], base')) el.remove();
  for (const a of doc.querySelectorAll('a[href]')) {
    a.setAttribute('target', '_blank');
    a.setAttribute('rel', 'noopener noreferrer');
  }
  return { markup: `<!doctype html>${doc.documentElement.outerHTML}`, sheets };
}

function applyStyles(doc, sheets) {
  const body = doc.body;
  for (const el of doc.querySelectorAll('[data-herald-style]')) {
    el.style.cssText = el.getAttribute('data-herald-style');
  }
  // Defaults for what the email does not set itself.
  if (!body.style.fontFamily) body.style.fontFamily = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  if (!body.style.lineHeight) body.style.lineHeight = '1.5';
  if (!body.style.margin) body.style.margin = '16px';
  body.style.display = 'flow-root'; // keeps the last child's margin inside the measured height
  const adopted = [];
  for (const text of sheets) {
    try {
      const sheet = new doc.defaultView.CSSStyleSheet();
      sheet.replaceSync(text);
      adopted.push(sheet);
    } catch {
      /* CSS the browser cannot parse is skipped */
    }
  }
  if (adopted.length) doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, ...adopted];
}

// Sizes the frame to its content (within limits) so the page, not the frame, scrolls.
function fit(frame, doc) {
  const style = doc.defaultView.getComputedStyle(doc.body);
  const content = doc.body.getBoundingClientRect().height
    + parseFloat(style.marginTop) + parseFloat(style.marginBottom);
  frame.style.height = `${Math.ceil(Math.min(Math.max(content, 160), 2400))}px`;
}
