/** Writes a cache entry atomically, best effort (ops/cache-file.js); false when it could not. */
export function writeCacheFile(file: string, data: string): boolean;
