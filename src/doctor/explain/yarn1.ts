// Yarn 1: `error An unexpected error occurred: "https://…/x.tgz: Request failed \"401 Unauthorized\""`,
// its `yarn-error.log` trace, and `--verbose` request lines. A packument request that fails shows the
// registry's own `error` text after the URL instead (`"https://…/@acme%2fui: Not found"`, a Tessera
// refusal's words), with no status: the words say which.
import type { Extracted } from './extracted.ts';
import type { Line } from './normalise.ts';

export function parseYarn1(lines: Line[], x: Extracted): void {
  for (const { text: t } of lines) {
    let m: RegExpExecArray | null;
    // The message is quoted once by Yarn and its inner quotes escaped; people paste either form.
    // (Cut after the status when the paste was cut mid-line.)
    if ((m = /"?(https?:\/\/[^\s"]+?): Request failed \\?"(\d{3})\b/.exec(t))) {
      x.url = m[1];
      x.status = Number(m[2]);
      x.method ??= 'GET';
    }
    // A 403 without a body `error`: Yarn's own `Request "<url>" returned a 403`, its quotes escaped inside the message.
    if ((m = /Request \\?"(https?:\/\/[^"\\\s]+)\\?" returned a (\d{3})/.exec(t))) {
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
    // The registry's `error` text after the URL (request-manager rejects with `${url}: ${body.error}`).
    if (
      (m = /(?:An unexpected error occurred: "|^(?:Error: |error )?)(https?:\/\/[^\s"]+?): ([^"]+?)"?\.?$/.exec(t)) &&
      !/^(Request failed|Request \\?"|Integrity check failed)|certificate|SELF_SIGNED|unable to/i.test(m[2])
    ) {
      x.url ??= m[1];
      x.registryError ??= m[2].trim();
      x.method ??= 'GET';
      if (/^not found$/i.test(m[2].trim())) x.status ??= 404;
    }
    if ((m = /Couldn't find package "([^"]+)"(?: required by "[^"]+")? on the "npm" registry/.exec(t))) {
      x.spec ??= m[1];
      x.status ??= 404;
    }
    if (/Failed to replace env in config/.test(t)) x.code ??= 'EENVREPLACE';
    if ((m = /^yarn (?:install|add) v(\d\S*)/.exec(t))) x.npmVersion ??= m[1];
  }
  if (!x.code && x.status) x.code = `E${x.status}`;
}
