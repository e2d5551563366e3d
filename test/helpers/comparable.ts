// What the tests that check a private package answers exactly like an absent one compare of an answer.

export type Answer = { status: number; headers: Record<string, string>; body: string };

/** `res`'s status, headers and body, without the headers that say nothing about the package (Date, Server-Timing). */
export async function comparable(res: Response): Promise<Answer> {
  const body = await res.text();
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (k !== 'date' && k !== 'server-timing') headers[k] = v;
  });
  return { status: res.status, headers, body };
}
