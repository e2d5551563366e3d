// Browse pages: home, search, one package, and the error page (a hidden package's is a missing one's).
import type { Summary, PackagePage } from '../../services/web-browse.ts';
import { html, raw, safeHref, type Html } from './html.ts';
import { layout, type View } from './layout.ts';

const date = (t: number | string | null) => (t === null ? '' : new Date(t).toISOString().slice(0, 10));
export const packageUrl = (name: string, version?: string) =>
  `/-/web/package/${name.split('/').map(encodeURIComponent).join('/')}${version ? `/v/${encodeURIComponent(version)}` : ''}`;

function list(items: Summary[]): Html {
  if (!items.length) return html`<p>No packages to show.</p>`;
  return html`<ul class="results">${items.map(
    (p) => html`<li><a href="${packageUrl(p.name)}"><strong>${p.name}</strong></a>
 <span class="badge">${p.version}</span> ${p.date ? html`<span class="hint">${date(p.date)}</span>` : ''}
 <p class="hint">${p.description}</p></li>`,
  )}</ul>`;
}

export function homePage(v: View, recent: Summary[]): Html {
  return layout(
    v,
    'Packages',
    html`<h1>Packages on this registry</h1>
<p>Point npm at it with <code>npm config set registry ${v.registry}/</code>, then <code>npm login</code>.</p>
<h2>Recently published</h2>${list(recent)}`,
  );
}

export function searchPage(v: View, q: string, total: number, results: Summary[], page: number): Html {
  const next = (page + 1) * 20 < total;
  return layout(
    v,
    `Search: ${q}`,
    html`<h1>Search</h1>
<form method="get" action="/-/web/search"><label for="q">Name, description or keyword</label>
<input id="q" type="search" name="q" value="${q}"> <button>Search</button></form>
${q ? html`<p role="status">${total} package${total === 1 ? '' : 's'} found for “${q}”.</p>${list(results)}` : ''}
${page > 0 ? html`<a href="/-/web/search?q=${encodeURIComponent(q)}&amp;page=${page - 1}">Previous</a> ` : ''}
${next ? html`<a href="/-/web/search?q=${encodeURIComponent(q)}&amp;page=${page + 1}">Next</a>` : ''}`,
    q,
  );
}

function deps(title: string, map: unknown): Html | '' {
  if (!map || typeof map !== 'object') return '';
  const entries = Object.entries(map as Record<string, unknown>);
  if (!entries.length) return '';
  return html`<h2>${title} (${entries.length})</h2><ul>${entries.map(
    ([n, r]) => html`<li><a href="${packageUrl(n)}">${n}</a> <code>${String(r)}</code></li>`,
  )}</ul>`;
}

/** The .npmrc line a scoped package needs, or the flag an unscoped one does. */
function install(v: View, name: string): Html {
  const scope = name.startsWith('@') ? name.split('/')[0] : undefined;
  return scope
    ? html`<pre tabindex="0"><code>echo "${scope}:registry=${v.registry}/" &gt;&gt; .npmrc
npm install ${name}</code></pre>`
    : html`<pre tabindex="0"><code>npm install ${name} --registry=${v.registry}/</code></pre>`;
}

/** `settings`: the settings page's address, for callers the policy lets manage the package. */
export function packagePageHtml(v: View, p: PackagePage, allVersions: boolean, settings?: string): Html {
  const m = p.manifest;
  const repo =
    m.repository && typeof m.repository === 'object' ? (m.repository as { url?: unknown }).url : m.repository;
  const links = [
    ['Homepage', safeHref(m.homepage)],
    ['Repository', safeHref(repo)],
  ].filter(([, h]) => h);
  const shown = p.versions;
  const deprecated = p.deprecated;
  const body = html`<h1>${p.name} <span class="badge">${p.version}</span>
${p.access === 'restricted' ? html` <span class="badge">private</span>` : ''}</h1>
${deprecated ? html`<p class="error deprecated">Deprecated: ${deprecated}</p>` : ''}
<p>${typeof m.description === 'string' ? m.description : ''}</p>
${settings ? html`<p><a href="${settings}">Package settings</a></p>` : ''}
<div class="package"><section class="readme" aria-label="README">
${p.view.readmeHtml ? raw(p.view.readmeHtml) : html`<p class="hint">This version has no README.</p>`}
</section><aside class="side" aria-label="Package details">
<h2>Install</h2>${install(v, p.name)}
${typeof m.license === 'string' ? html`<h2>License</h2><p>${m.license}</p>` : ''}
${links.length ? html`<h2>Links</h2><ul>${links.map(([t, h]) => html`<li><a href="${h}" rel="nofollow noopener">${t}</a></li>`)}</ul>` : ''}
${
  p.provenance
    ? html`<h2>Provenance</h2><p>Published with a signed build attestation${
        p.provenance.source
          ? html` from <code>${p.provenance.source}</code>${p.provenance.workflow ? html` (${p.provenance.workflow})` : ''}`
          : ''
      }.</p>`
    : ''
}
<h2>Dist-tags</h2><ul>${Object.entries(p.distTags).map(
    ([t, ver]) => html`<li><code>${t}</code>: <a href="${packageUrl(p.name, ver)}">${ver}</a></li>`,
  )}</ul>
<h2>Maintainers</h2><ul>${p.maintainers.map((n) => html`<li>${n}</li>`)}</ul>
${deps('Dependencies', m.dependencies)}${deps('Peer dependencies', m.peerDependencies)}
${deps('Optional dependencies', m.optionalDependencies)}
<h2>Versions (${p.versionCount})</h2>
<table><thead><tr><th scope="col">Version</th><th scope="col">Published</th></tr></thead><tbody>
${shown.map(
  (x) => html`<tr><td><a href="${packageUrl(p.name, x.version)}">${x.version}</a>
${x.deprecated ? html` <span class="deprecated">deprecated</span>` : ''}</td><td>${date(x.date)}</td></tr>`,
)}
</tbody></table>
${
  !allVersions && p.versionCount > shown.length
    ? html`
<a href="${packageUrl(p.name, p.version)}?versions=all">All versions</a>`
    : ''
}
<h2>Files (${p.view.files.length})</h2>
<details><summary>Files in the tarball of ${p.version}</summary><ul class="mono">
${p.view.files.map(([f, size]) => html`<li>${f} <span class="hint">${size} B</span></li>`)}</ul></details>
</aside></div>`;
  return layout(v, p.name, body);
}

export function errorPage(v: View, title: string, message: string, help?: string): Html {
  return layout(
    v,
    title,
    html`<h1>${title}</h1><p class="error" role="alert">${message}</p>
${help ? html`<p><a href="/-/help/${help}">Why, and how to fix it</a></p>` : ''}
<p><a href="/-/web/">Back to the packages</a></p>`,
  );
}

export const NOT_FOUND = {
  title: 'Not found',
  message: 'There is no such package or page here, or you may not see it.',
};
