// Runs a WASI command module under Node.js:
//   node --experimental-wasi-unstable-preview1 node_wasi.mjs X.wasm ARGS...
// Node compiles the module itself (Liftoff, then TurboFan); its exit code is the program's.
import { readFile } from 'node:fs/promises';
import { argv } from 'node:process';
import { WASI } from 'node:wasi';

const [file, ...args] = argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [file, ...args], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(file));

// Each WASI function goes through a plain JS function: imported directly, Node 20.20 often
// segfaults at a WASI call made after the program grew its memory past ~32 MB (matmul 1500);
// through a wrapper it never did. The programs make only a handful of WASI calls.
const imports = {};
for (const [name, fn] of Object.entries(wasi.getImportObject().wasi_snapshot_preview1)) {
  imports[name] = (...params) => fn(...params);
}
const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: imports });
process.exitCode = wasi.start(instance);
