// Package names as npm writes them, and the forms they take in URLs.
import validate from 'validate-npm-package-name';
import semver from 'semver';
import { Refusal } from './reasons.ts';

export type PackageName = string;

/** Refuses names npm would not let anyone publish (npm's own rules), and anything path-like. */
export function assertValidName(name: string): void {
  const v = validate(name);
  if (!v.validForNewPackages) {
    const detail = [...(v.errors ?? []), ...(v.warnings ?? [])].join('; ') || 'not a valid package name';
    throw new Refusal('invalid-name', { name, detail });
  }
}

const readable = new Map<string, boolean>();

/** Names already in the registry may be old-style (validForOldPackages) but never path traversal.
 *  Asked on every read, so answers are remembered (bounded). */
export function isReadableName(name: string): boolean {
  let ok = readable.get(name);
  if (ok === undefined) {
    ok = validate(name).validForOldPackages && !name.includes('..');
    if (readable.size > 10_000) readable.clear();
    readable.set(name, ok);
  }
  return ok;
}

/** Refuses, with npm's reason, a name no package can ever have (so no package is revealed by saying so). */
export function assertReadableName(name: string): void {
  if (isReadableName(name)) return;
  const v = validate(name);
  const detail = name.includes('..')
    ? 'a name cannot contain ".."'
    : [...(v.errors ?? [])].join('; ') || 'not a valid package name';
  throw new Refusal('invalid-name', { name, detail });
}

export function scopeOf(name: string): string | undefined {
  return name.startsWith('@') ? name.slice(0, name.indexOf('/')) : undefined;
}

/** `@scope/name` → `name`; the part npm uses in tarball file names. */
export function basename(name: string): string {
  return name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name;
}

/** The name as npm escapes it in request paths: `@scope%2fname`. */
export function escapeName(name: string): string {
  return name.replace('/', '%2f');
}

/** Decodes a package name from a URL segment in any escaping form npm or users produce. */
export function decodeNameSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  let out = segment;
  try {
    out = decodeURIComponent(segment);
  } catch {
    /* leave malformed escapes as they are */
  }
  return out;
}

const tarballVersions = new Map<string, string | undefined>();

/** Parses a tarball file name for a package: `foo-1.2.3.tgz` → `1.2.3`, or undefined.
 *  Every tarball download asks, so answers are remembered (bounded). */
export function versionFromTarball(name: string, filename: string): string | undefined {
  const key = `${name}\0${filename}`;
  if (tarballVersions.has(key)) return tarballVersions.get(key);
  const v = parseTarballName(name, filename);
  if (tarballVersions.size > 10_000) tarballVersions.clear();
  tarballVersions.set(key, v);
  return v;
}

function parseTarballName(name: string, filename: string): string | undefined {
  // npm also names attachments `@scope/name-1.0.0.tgz`; accept both.
  for (const prefix of [`${basename(name)}-`, `${name}-`]) {
    if (filename.startsWith(prefix) && filename.endsWith('.tgz')) {
      const v = filename.slice(prefix.length, -'.tgz'.length);
      if (semver.valid(v) === v) return v;
    }
  }
  return undefined;
}

export function assertValidVersion(version: unknown): asserts version is string {
  if (typeof version !== 'string' || semver.valid(version) !== version) {
    throw new Refusal('invalid-version', { version: String(version) });
  }
}

/** dist-tags npm will accept: not empty, no encoding needed, not a semver range. */
export function isValidTag(tag: string): boolean {
  return tag.length > 0 && encodeURIComponent(tag) === tag && semver.validRange(tag) === null;
}
