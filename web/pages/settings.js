// Settings: the seed's two tabs. Branding (the agent's sender identity) and Integrations
// (the agent's own email and SMS accounts, with a plain-words panel saying which account
// sends and who pays).
import { h, replace, uid } from '../lib/dom.js';
import { pageHeader, skeleton, errorState } from '../lib/ui.js';
import { brandingPanel } from './settings-branding.js';
import { integrationsPanel } from './settings-integrations.js';

const TABS = [
  { id: 'branding', label: 'Branding' },
  { id: 'integrations', label: 'Integrations' },
];

export async function render(main, ctx) {
  ctx.setTitle('Settings');
  const agentId = ctx.agentId;
  const initial = ctx.query.get('tab') === 'integrations' ? 'integrations' : 'branding';

  // Tabs (WAI-ARIA tabs pattern, automatic activation): arrows, Home and End move between
  // tabs; only the selected tab is in the tab order.
  const tabButtons = [];
  const panels = {};
  const tablist = h('div', { role: 'tablist', 'aria-label': 'Settings sections', class: 'tabs' });
  for (const t of TABS) {
    const tabId = uid(`tab-${t.id}`);
    const panelId = uid(`panel-${t.id}`);
    const button = h('button', {
      type: 'button', role: 'tab', id: tabId, class: 'tab', 'aria-controls': panelId,
      dataset: { tab: t.id },
    }, t.label);
    const panel = h('section', { role: 'tabpanel', id: panelId, 'aria-labelledby': tabId, tabindex: '0', class: 'tabpanel' },
      skeleton(5));
    button.addEventListener('click', () => select(t.id, { focus: false }));
    tabButtons.push(button);
    panels[t.id] = panel;
    tablist.append(button);
  }
  tablist.addEventListener('keydown', (e) => {
    const i = tabButtons.indexOf(document.activeElement);
    if (i < 0) return;
    let next = null;
    if (e.key === 'ArrowRight') next = (i + 1) % tabButtons.length;
    else if (e.key === 'ArrowLeft') next = (i - 1 + tabButtons.length) % tabButtons.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = tabButtons.length - 1;
    if (next === null) return;
    e.preventDefault();
    select(tabButtons[next].dataset.tab, { focus: true });
  });

  const loaded = {};
  function select(id, { focus }) {
    for (const b of tabButtons) {
      const on = b.dataset.tab === id;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
      if (on && focus) b.focus();
    }
    for (const [pid, p] of Object.entries(panels)) p.hidden = pid !== id;
    // Keep the tab in the address so a reload (or a shared link) opens it again.
    const url = new URL(location.href);
    if (id === 'branding') url.searchParams.delete('tab');
    else url.searchParams.set('tab', id);
    history.replaceState(null, '', url.pathname + url.search);
    if (!loaded[id]) {
      loaded[id] = true;
      load(id);
    }
  }

  async function load(id) {
    const panel = panels[id];
    try {
      if (id === 'branding') await brandingPanel(panel, { agentId, ctx });
      else await integrationsPanel(panel, { agentId, ctx });
    } catch (err) {
      if (err?.name === 'AbortError') return;
      loaded[id] = false;
      replace(panel, errorState(err, () => {
        loaded[id] = true;
        replace(panel, skeleton(5));
        load(id);
      }));
    }
  }

  replace(main,
    pageHeader('Settings', { subtitle: 'Your brand, and the accounts your email and SMS go out through.' }),
    tablist,
    Object.values(panels));
  select(initial, { focus: false });
  // Warm the other tab so switching is instant.
  const other = initial === 'branding' ? 'integrations' : 'branding';
  loaded[other] = true;
  load(other);
}
