// A value the configuration cannot take: the key and the reason, and the file once loadConfig knows it, so
// an operator gets one line that says where to look (never a stack trace).
export class ConfigError extends Error {
  readonly key: string;
  readonly why: string;
  constructor(key: string, why: string, file?: string) {
    super(`config${file ? ` ${file}` : ''}: ${key ? `${key}: ` : ''}${why}`);
    this.key = key;
    this.why = why;
  }
}
