// Writes one entry of an on-disk cache (out/ts-cache, out/diagram-cache): atomically, so a concurrent reader sees the
// whole file or none, and best effort, so a read-only checkout still runs, only without the cache. Plain CommonJS:
// ops/ts-register.js loads it before any TypeScript can run.
"use strict";
const fs = require("fs");
const path = require("path");

/** @param {string} file @param {string} data @returns {boolean} whether the entry was written */
function writeCacheFile(file, data) {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
    return true;
  } catch {
    return false;
  }
}

module.exports = { writeCacheFile };
