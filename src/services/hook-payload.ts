// What a webhook says about a package: npm's hook envelope (event, name, type, version, hookOwner, payload,
// change, time), with the package document as `payload`. The document is bounded: it holds the most recent
// versions, those the dist-tags name and those the event is about (docs/operations.md "Webhooks").
import { distTagsOf } from '../store/packages.ts';
import { documentExcerpt } from '../store/package-excerpt.ts';
import type { Ctx } from './context.ts';

/** The most recently published versions a payload's document holds (besides tagged ones and the event's). */
export const PAYLOAD_RECENT_VERSIONS = 100;

type Doc = Record<string, unknown> & { versions?: Record<string, unknown>; time?: Record<string, string> };

/**
 * The package document as the registry serves it (tarball URLs still carry the base URL placeholder,
 * filled in when sent), trimmed to the versions a payload keeps; null when there is none to read.
 */
export async function payloadDocument(ctx: Ctx, name: string, about: string[]): Promise<Doc | null> {
  const tagged = Object.values(await distTagsOf(ctx.store.db, name));
  const keep = (all: string[]) => new Set([...all.slice(-PAYLOAD_RECENT_VERSIONS), ...tagged, ...about]);
  const text = await documentExcerpt(ctx.store.db, name, keep);
  if (text === undefined) return null;
  const doc = JSON.parse(text) as Doc;
  const versions = doc.versions ?? {};
  const wanted = keep(Object.keys(versions));
  const kept: Record<string, unknown> = {};
  for (const [v, m] of Object.entries(versions)) if (wanted.has(v)) kept[v] = m;
  doc.versions = kept;
  if (doc.time) {
    const { created, modified, ...byVersion } = doc.time;
    const time: Record<string, string> = { created, modified };
    for (const [v, at] of Object.entries(byVersion)) if (v in kept) time[v] = at;
    doc.time = time;
  }
  return doc;
}
