// Package URLs in every form npm and people produce: /foo, /@scope%2ffoo, /@scope%2Ffoo, /@scope/foo,
// followed by nothing, a version or tag, /-rev/<rev>, /-/<file>.tgz, or /-/<file>.tgz/-rev/<rev>.
import { decodeNameSegment } from '../domain/names.ts';

export type PackagePath =
  | { kind: 'document'; name: string; rev?: string }
  | { kind: 'version'; name: string; spec: string }
  | { kind: 'tarball'; name: string; file: string; rev?: string };

export function parsePackagePath(rawUrl: string): PackagePath | undefined {
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const segs = path.split('/').slice(1);
  if (segs.length === 0 || segs[0] === '' || segs[0] === '-') return undefined;
  let name: string;
  let rest: string[];
  const first = decodeNameSegment(segs[0]);
  if (first.startsWith('@')) {
    if (first.includes('/')) {
      name = first;
      rest = segs.slice(1);
    } else {
      if (segs.length < 2 || !segs[1]) return undefined;
      name = `${first}/${decodeNameSegment(segs[1])}`;
      rest = segs.slice(2);
    }
  } else {
    name = first;
    rest = segs.slice(1);
  }
  const parts = name.split('/');
  if (parts.length > 2 || name.includes('\\') || parts.some((p) => p === '..' || p === '.')) return undefined;
  if (rest.length === 0 || (rest.length === 1 && rest[0] === '')) return { kind: 'document', name };
  if (rest[0] === '-rev' && rest.length === 2) return { kind: 'document', name, rev: decodeNameSegment(rest[1]) };
  if (rest[0] === '-' && rest.length >= 2) {
    // npm names scoped attachments "@scope/name-1.0.0.tgz", so the file may span two segments.
    const revAt = rest.indexOf('-rev', 1);
    const fileSegs = revAt === -1 ? rest.slice(1) : rest.slice(1, revAt);
    const file = fileSegs.map(decodeNameSegment).join('/');
    const rev = revAt === -1 ? undefined : rest[revAt + 1];
    if (!file.endsWith('.tgz') || file.includes('..')) return undefined;
    return { kind: 'tarball', name, file: file.split('/').pop()!, rev };
  }
  if (rest.length === 1) return { kind: 'version', name, spec: decodeNameSegment(rest[0]) };
  return undefined;
}
