/*
 * Reading files named in configuration (`publicKeyFile`, `trustedRoots[].path`).
 * Only regular files are read: the open does not block (a FIFO would otherwise
 * hang the loader forever), the opened descriptor is checked to be a regular file
 * (`/dev/zero` or a socket would otherwise be read until memory runs out), and at
 * most `cap` bytes are read even if the file grows while it is read.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** Why a file named in configuration was refused. */
export class ConfigFileError extends Error {
  readonly name = 'ConfigFileError';
}

/** Reads a regular file of at most `cap` bytes; throws ConfigFileError otherwise. */
export function readRegularFile(file: string, cap: number): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new ConfigFileError((e as Error).message);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new ConfigFileError(`${file} is not a regular file`);
    }
    if (st.size > cap) {
      throw new ConfigFileError(`file larger than ${cap} bytes`);
    }
    // Sized to the file as stat saw it (plus one byte to notice growth) and
    // grown by doubling up to `cap + 1` only if it grows while being read: a
    // buffer of `cap` bytes up front would allocate, say, 1 GiB per artifact.
    let buf = Buffer.allocUnsafe(
      Math.min(cap + 1, Math.max(st.size + 1, 4096)),
    );
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        const grown = Buffer.allocUnsafe(Math.min(cap + 1, buf.length * 2));
        buf.copy(grown, 0, 0, n);
        buf = grown;
      }
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > cap) throw new ConfigFileError(`file larger than ${cap} bytes`);
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
