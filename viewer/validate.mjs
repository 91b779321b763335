#!/usr/bin/env node
// Usage: node viewer/validate.mjs FILE.glb
// Prints the Khronos glTF-Validator report (JSON) to stdout and exits 0.
// The report's `issues.numErrors` / `issues.numWarnings` say whether the file is clean.
// Exits 2 on a usage error, an unreadable file, or when the validator cannot parse the input at all.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import validator from 'gltf-validator';

const file = process.argv[2];
if (!file || process.argv.length > 3) {
  process.stderr.write('usage: node viewer/validate.mjs FILE.glb\n');
  process.exit(2);
}

let bytes;
try {
  bytes = new Uint8Array(await readFile(file));
} catch (err) {
  process.stderr.write(`validate.mjs: cannot read ${file}: ${err.message}\n`);
  process.exit(2);
}

try {
  const report = await validator.validateBytes(bytes, {
    uri: basename(file),
    maxIssues: 0, // 0 = no limit
    // room3d GLBs are self-contained: any external URI is a failure.
    externalResourceFunction: (uri) => Promise.reject(new Error(`external resource not allowed: ${uri}`)),
  });
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
} catch (err) {
  process.stderr.write(`validate.mjs: validator rejected ${file}: ${err}\n`);
  process.exit(2);
}
