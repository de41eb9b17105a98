// Gives the names that only the wasm module and its JS glue share (imports such as
// `__wbg_new_with_str_and_init_d9f6b5611184e16b`, exports such as `__wbindgen_malloc`) one- or
// two-letter names, in the wasm and in the glue alike. wasm-bindgen hashes every import name and
// ships each twice (once in the wasm, once in the glue's import object), which weighs about 2 KB
// gzipped per entry. binaryen's minifying passes rename only Emscripten's import modules, or also
// the public exports, so this does it.
//
// A name is renamed only where every place the glue uses it is one the glue controls: an import
// is a key of the import object (`name:`), an export is read off the instance (`.name`). Any other
// use (a public function of the same name, say) keeps the name as it is.
//
// Usage: node scripts/short-wasm-names.mjs pkg/NAME_bg.wasm pkg/NAME.js [pkg/NAME_bg.wasm.d.ts]
import { readFileSync, writeFileSync, existsSync } from 'node:fs';

const [wasmPath, gluePath, typesPath] = process.argv.slice(2);
if (!wasmPath || !gluePath) {
  console.error('usage: short-wasm-names.mjs MODULE_bg.wasm MODULE.js [MODULE_bg.wasm.d.ts]');
  process.exit(2);
}

/** Reads the unsigned LEB128 at `bytes[at]`: [value, offset after it]. */
function leb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

/** The unsigned LEB128 encoding of `value`. */
function encodeLeb(value) {
  const out = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/** Reads a name (length, then UTF-8): [string, offset after it]. */
function readName(bytes, at) {
  const [length, start] = leb(bytes, at);
  return [utf8.decode(bytes.subarray(start, start + length)), start + length];
}

const encodeName = (name) => {
  const bytes = encoder.encode(name);
  return [...encodeLeb(bytes.length), ...bytes];
};

/** The length of an import's description after its kind byte. */
function importDescEnd(bytes, kind, at) {
  const limits = (offset) => {
    const flags = bytes[offset];
    let [, next] = leb(bytes, offset + 1);
    if (flags & 1) [, next] = leb(bytes, next);
    return next;
  };
  switch (kind) {
    case 0: return leb(bytes, at)[1]; // function: type index
    case 1: return limits(at + 1); // table: reference type, limits
    case 2: return limits(at); // memory: limits
    case 3: return at + 2; // global: value type, mutability
    case 4: return leb(bytes, at + 1)[1]; // tag: attribute, type index
    default: throw new Error(`unknown import kind ${kind} at byte ${at}`);
  }
}

const wasm = readFileSync(wasmPath);
if (wasm.readUInt32LE(0) !== 0x6d736100) throw new Error(`${wasmPath} is not a wasm module`);

/** The module's sections: { id, start, end } of each one's contents. */
const sections = [];
for (let at = 8; at < wasm.length;) {
  const id = wasm[at];
  const [size, start] = leb(wasm, at + 1);
  sections.push({ id, start, end: start + size, headerStart: at });
  at = start + size;
}

const imports = [];
const exports = [];
for (const section of sections) {
  if (section.id === 2) {
    let [count, at] = leb(wasm, section.start);
    while (count--) {
      let module;
      let name;
      [module, at] = readName(wasm, at);
      [name, at] = readName(wasm, at);
      const kind = wasm[at];
      const end = importDescEnd(wasm, kind, at + 1);
      imports.push({ module, name, desc: wasm.subarray(at, end) });
      at = end;
    }
  } else if (section.id === 7) {
    let [count, at] = leb(wasm, section.start);
    while (count--) {
      let name;
      [name, at] = readName(wasm, at);
      const kind = wasm[at];
      const [, end] = leb(wasm, at + 1);
      exports.push({ name, desc: wasm.subarray(at, end) });
      at = end;
    }
  }
}

let glue = readFileSync(gluePath, 'utf8');
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** Every use of `name` as a whole identifier in the glue, with the characters around it. */
function uses(name) {
  const pattern = new RegExp(`(^|[^\\w$])${escape(name)}(?![\\w$])`, 'g');
  return [...glue.matchAll(pattern)].map((match) => ({
    before: match[1],
    after: glue[match.index + match[0].length],
  }));
}

/** Short identifiers, a to Z, then two characters, skipping `taken`. */
function* shortNames(taken) {
  const first = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const rest = `${first}0123456789`;
  for (const a of first) if (!taken.has(a)) yield a;
  for (const a of first) for (const b of rest) if (!taken.has(a + b)) yield a + b;
  throw new Error('ran out of short names');
}

// Modules the glue imports itself (`import * as x from "./snippets/..."`) and hands over whole:
// their imports must keep the names those files export.
const ownModules = new Set(imports.map((i) => i.module).filter((module) => !glue.includes(`from${JSON.stringify(module)}`)));
// Imports: renamed when the glue names them only as keys of its import object.
const importNames = new Map();
const keptImports = new Set(imports.map((i) => i.name).filter((name) => {
  const found = uses(name);
  return !(found.length > 0 && found.every((use) => use.after === ':'));
}));
const nextImport = shortNames(keptImports);
for (const { module, name } of imports) {
  if (ownModules.has(module) && !keptImports.has(name) && !importNames.has(name)) {
    importNames.set(name, nextImport.next().value);
  }
}
// Import modules: renamed where the glue names them as keys ("./x_bg.js":), never in its own
// `import ... from` statements, which name the snippet files.
const moduleNames = new Map();
const nextModule = shortNames(new Set());
for (const { module } of imports) {
  if (!moduleNames.has(module) && glue.includes(`${JSON.stringify(module)}:`)) {
    moduleNames.set(module, nextModule.next().value);
  }
}
// Exports: renamed when the glue only reads them off the instance (`wasm.name`).
const keptExports = new Set(exports.map((e) => e.name).filter((name) => {
  const found = uses(name);
  return !(found.length > 0 && found.every((use) => use.before === '.'));
}));
const exportNames = new Map();
const nextExport = shortNames(keptExports);
for (const { name } of exports) {
  if (!keptExports.has(name)) exportNames.set(name, nextExport.next().value);
}

// The wasm: new import and export sections, every other section as it was.
const importSection = [...encodeLeb(imports.length)];
for (const { module, name, desc } of imports) {
  const renamed = ownModules.has(module) ? importNames.get(name) : undefined;
  importSection.push(
    ...encodeName(moduleNames.get(module) ?? module),
    ...encodeName(renamed ?? name),
    ...desc,
  );
}
const exportSection = [...encodeLeb(exports.length)];
for (const { name, desc } of exports) {
  exportSection.push(...encodeName(exportNames.get(name) ?? name), ...desc);
}
const parts = [wasm.subarray(0, 8)];
for (const section of sections) {
  const body = section.id === 2 ? importSection : section.id === 7 ? exportSection : null;
  if (body) {
    parts.push(Buffer.from([section.id, ...encodeLeb(body.length), ...body]));
  } else {
    parts.push(wasm.subarray(section.headerStart, section.end));
  }
}
writeFileSync(wasmPath, Buffer.concat(parts));

// The glue: the same renames, each only where the checks above found it.
const replaceWhole = (text, from, to, lead) =>
  text.replace(new RegExp(`(${lead})${escape(from)}(?![\\w$])`, 'g'), `$1${to}`);
for (const [from, to] of importNames) glue = replaceWhole(glue, from, to, '^|[^\\w$]');
for (const [from, to] of exportNames) glue = replaceWhole(glue, from, to, '\\.');
for (const [from, to] of moduleNames) glue = glue.split(`${JSON.stringify(from)}:`).join(`${JSON.stringify(to)}:`);
writeFileSync(gluePath, glue);

// The wasm's own .d.ts lists its exports.
if (typesPath && existsSync(typesPath)) {
  let types = readFileSync(typesPath, 'utf8');
  for (const [from, to] of exportNames) {
    types = types.replace(new RegExp(`export const ${escape(from)}:`), `export const ${to}:`);
  }
  writeFileSync(typesPath, types);
}
console.log(`[build] ${wasmPath}: ${importNames.size} of ${imports.length} imports, ${exportNames.size} of ${exports.length} exports and ${moduleNames.size} modules renamed`);
