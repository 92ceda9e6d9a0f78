// File reads that treat "not there" (or unreadable) as an answer, not an
// error: for scanning state that may be half written or absent.
import { readFile, readdir, stat } from 'node:fs/promises';

/** The parsed JSON of a file, or undefined if it is missing or not JSON. */
export async function readJsonOrUndefined<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The names in a directory, or none if it is missing. */
export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
