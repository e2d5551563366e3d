// Yarn 1: `error An unexpected error occurred: "https://…/x.tgz: Request failed \"401 Unauthorized\""`,
// its `yarn-error.log` trace, and `--verbose` request lines.
import type { Extracted } from './extracted.ts';
import type { Line } from './normalise.ts';

export function parseYarn1(lines: Line[], x: Extracted): void {
  for (const { text: t } of lines) {
    let m: RegExpExecArray | null;
    // The message is quoted once by Yarn and its inner quotes escaped; people paste either form.
    if ((m = /"?(https?:\/\/[^\s"]+?): Request failed \\?"(\d{3}) ([^"\\]+)\\?"/.exec(t))) {
      x.url = m[1];
      x.status = Number(m[2]);
      x.method ??= 'GET';
    }
    if ((m = /Request "(https?:\/\/\S+)" finished with status code (\d{3})/.exec(t)) && Number(m[2]) >= 400) {
      x.url = m[1];
      x.status = Number(m[2]);
      x.method ??= 'GET';
    }
    if ((m = /"?(https?:\/\/[^\s"]+?): ([^"]*(?:certificate|SELF_SIGNED|unable to)[^"]*)"/i.exec(t))) {
      x.url ??= m[1];
      x.networkReason = m[2];
    }
    if ((m = /"?(https?:\/\/[^\s"]+?): Integrity check failed for/.exec(t))) {
      x.url ??= m[1];
      x.code ??= 'EINTEGRITY';
    }
    if ((m = /Couldn't find package "([^"]+)" on the "npm" registry/.exec(t))) {
      x.spec ??= m[1];
      x.status ??= 404;
    }
    if (/Failed to replace env in config/.test(t)) x.code ??= 'EENVREPLACE';
    if ((m = /^yarn (?:install|add) v(\d\S*)/.exec(t))) x.npmVersion ??= m[1];
  }
  if (!x.code && x.status) x.code = `E${x.status}`;
}
