// A `.tflite` model with TFLite metadata added, so MediaPipe's Tasks API takes it: the legacy
// BlazeFace files have none, and the Tasks API refuses a float32 input without
// NormalizationOptions. `withImageMetadata(model)` returns a new model whose `metadata` list
// gains a "TFLITE_METADATA" entry (a ModelMetadata FlatBuffer, file identifier "M001", from
// tflite-support's metadata_schema.fbs): the input is an RGB image normalised by (x - 127.5) /
// 127.5, as faceswap-detect's letterbox does. Everything else stays byte for byte: the original
// file is kept whole at the end and a new Model table in front of it refers to its objects (a
// FlatBuffer's offsets are relative and point forward, so prefixing bytes keeps them valid).

/** Field numbers (vtable slots) of the tables written or read here. */
const MODEL = { version: 0, buffers: 4, metadata: 6, fields: 8 };
const BUFFER_DATA = 0;
const METADATA = { name: 0, buffer: 1 };

/**
 * A FlatBuffer builder that writes back to front (as FlatBuffers' own builders do), optionally
 * on top of existing bytes (`tail`), whose objects are then addressed by their distance from the
 * end. Offsets returned are distances from the end of the buffer.
 */
class Builder {
  constructor(tail = new Uint8Array(0), room = 1 << 16) {
    this.bytes = new Uint8Array(tail.length + room);
    this.head = room;
    this.bytes.set(tail, room);
    this.view = new DataView(this.bytes.buffer);
    this.fields = null;
  }

  offset() {
    return this.bytes.length - this.head;
  }

  /** Pads so that after `size` more bytes the position is a multiple of `align`. */
  prep(align, size) {
    while ((this.offset() + size) % align !== 0) this.u8(0);
  }

  grow(size) {
    if (this.head < size) throw new Error('tflite-metadata: builder room exhausted');
    this.head -= size;
  }

  u8(v) { this.grow(1); this.view.setUint8(this.head, v); }
  u16(v) { this.grow(2); this.view.setUint16(this.head, v, true); }
  u32(v) { this.grow(4); this.view.setUint32(this.head, v, true); }
  f32(v) { this.grow(4); this.view.setFloat32(this.head, v, true); }

  /** A uoffset to the object `target` (a distance from the end). */
  ref(target) {
    this.prep(4, 0);
    this.u32(this.offset() + 4 - target);
  }

  string(text) {
    const utf8 = new TextEncoder().encode(text);
    this.prep(4, utf8.length + 1);
    this.u8(0);
    this.grow(utf8.length);
    this.bytes.set(utf8, this.head);
    this.u32(utf8.length);
    return this.offset();
  }

  bytesVector(data, align = 16) {
    this.prep(4, data.length);
    this.prep(align, data.length);
    this.grow(data.length);
    this.bytes.set(data, this.head);
    this.u32(data.length);
    return this.offset();
  }

  floats(values) {
    this.prep(4, values.length * 4);
    for (const v of [...values].reverse()) this.f32(v);
    this.u32(values.length);
    return this.offset();
  }

  refs(targets) {
    this.prep(4, targets.length * 4);
    for (const t of [...targets].reverse()) this.ref(t);
    this.u32(targets.length);
    return this.offset();
  }

  /**
   * A table of `fields`: [slot, kind, value] with kind 'ref' (a distance from the end), 'u32',
   * 'u8'. Larger fields first keeps the padding small.
   */
  table(fields) {
    const order = { ref: 0, u32: 0, u8: 1 };
    const sorted = [...fields].sort((a, b) => order[a[1]] - order[b[1]]).reverse();
    const start = this.offset();
    const at = new Map();
    for (const [slot, kind, value] of sorted) {
      if (kind === 'ref') this.ref(value);
      else if (kind === 'u32') { this.prep(4, 0); this.u32(value); }
      else this.u8(value);
      at.set(slot, this.offset());
    }
    this.prep(4, 0);
    this.u32(0); // the soffset to the vtable, set below
    const object = this.offset();
    const slots = Math.max(0, ...fields.map(([slot]) => slot + 1));
    for (let slot = slots - 1; slot >= 0; slot--) this.u16(at.has(slot) ? object - at.get(slot) : 0);
    this.u16(object - start);
    this.u16((slots + 2) * 2);
    const vtable = this.offset();
    this.view.setInt32(this.bytes.length - object, vtable - object, true);
    return object;
  }

  /** The finished buffer with `root` and a 4-byte file identifier. */
  finish(root, identifier) {
    this.prep(16, 8);
    for (let i = 3; i >= 0; i--) this.u8(identifier.charCodeAt(i));
    this.ref(root);
    return this.bytes.slice(this.head);
  }
}

/** The ModelMetadata FlatBuffer: one input, an RGB image, mean 127.5 and std 127.5. */
function imageMetadata(name) {
  const b = new Builder();
  const mean = b.floats([127.5]);
  const std = b.floats([127.5]);
  const normalization = b.table([[0, 'ref', mean], [1, 'ref', std]]);
  // ProcessUnit { options_type: NormalizationOptions (1), options }
  const unit = b.table([[0, 'u8', 1], [1, 'ref', normalization]]);
  // ImageProperties { color_space: RGB (1) }
  const image = b.table([[0, 'u8', 1]]);
  // Content { content_properties_type: ImageProperties (2), content_properties }
  const content = b.table([[0, 'u8', 2], [1, 'ref', image]]);
  const units = b.refs([unit]);
  const inputName = b.string('image');
  // TensorMetadata { name, content, process_units }
  const tensor = b.table([[0, 'ref', inputName], [3, 'ref', content], [4, 'ref', units]]);
  const inputs = b.refs([tensor]);
  // SubGraphMetadata { input_tensor_metadata }
  const subgraph = b.table([[2, 'ref', inputs]]);
  const subgraphs = b.refs([subgraph]);
  const modelName = b.string(name);
  const version = b.string('1.0.0');
  // ModelMetadata { name, subgraph_metadata, min_parser_version }
  const root = b.table([[0, 'ref', modelName], [3, 'ref', subgraphs], [7, 'ref', version]]);
  return b.finish(root, 'M001');
}

/** Reads the uoffset at `at`: the absolute position it points to. */
function follow(view, at) {
  return at + view.getUint32(at, true);
}

/** The absolute positions of a table's fields (undefined where absent). */
function fieldsOf(view, table, count) {
  const vtable = table - view.getInt32(table, true);
  const size = view.getUint16(vtable, true);
  return Array.from({ length: count }, (_, slot) => {
    const at = 4 + slot * 2;
    const rel = at < size ? view.getUint16(vtable + at, true) : 0;
    return rel ? table + rel : undefined;
  });
}

/** The elements of the vector of offsets at `field` (absolute positions), or []. */
function refsAt(view, field) {
  if (field === undefined) return [];
  const vector = follow(view, field);
  return Array.from({ length: view.getUint32(vector, true) }, (_, i) => follow(view, vector + 4 + i * 4));
}

/** `model` (a `.tflite` file's bytes) with an image input's metadata added (see the top). */
export function withImageMetadata(model, name = 'blazeface') {
  const padded = new Uint8Array(Math.ceil(model.length / 16) * 16);
  padded.set(model);
  const view = new DataView(padded.buffer);
  const root = follow(view, 0);
  const fields = fieldsOf(view, root, MODEL.fields);
  const buffers = refsAt(view, fields[MODEL.buffers]);
  const metadata = refsAt(view, fields[MODEL.metadata]);

  const b = new Builder(padded);
  // An old object at absolute position p is at distance (padded.length - p) from the end.
  const old = (p) => padded.length - p;
  const data = b.bytesVector(imageMetadata(name), 16);
  const buffer = b.table([[BUFFER_DATA, 'ref', data]]);
  const newBuffers = b.refs([...buffers.map(old), buffer]);
  const entryName = b.string('TFLITE_METADATA');
  const entry = b.table([[METADATA.name, 'ref', entryName], [METADATA.buffer, 'u32', buffers.length]]);
  const newMetadata = b.refs([...metadata.map(old), entry]);
  const table = [];
  for (let slot = 0; slot < MODEL.fields; slot++) {
    if (slot === MODEL.buffers) table.push([slot, 'ref', newBuffers]);
    else if (slot === MODEL.metadata) table.push([slot, 'ref', newMetadata]);
    else if (fields[slot] === undefined) continue;
    else if (slot === MODEL.version) table.push([slot, 'u32', view.getUint32(fields[slot], true)]);
    else table.push([slot, 'ref', old(follow(view, fields[slot]))]);
  }
  return b.finish(b.table(table), 'TFL3');
}
