// The two libraries Verdaccio's htpasswd plugin verifies its older hashes with ship no types.
declare module 'apache-md5' {
  /** Apache's `$apr1$` MD5: with the stored hash as the salt, returns the hash to compare. */
  export default function md5(password: string, salt?: string): string;
}
declare module 'unix-crypt-td-js' {
  /** DES-based crypt(3): with the stored hash as the salt, returns the hash to compare. */
  export default function crypt(password: string, salt: string): string;
}
