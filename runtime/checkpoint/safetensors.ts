// safetensors reader/writer (https://github.com/huggingface/safetensors), so checkpoints open in
// PyTorch/JAX tooling for number-for-number comparisons. Layout:
//   u64 little-endian N | N bytes of JSON header | data buffer
// header: {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//          "__metadata__": {"key": "string value"}}; offsets are relative to the data buffer, which
// they must cover exactly, without holes or overlaps. As the reference writer does, the header is
// padded with spaces to a multiple of 8 bytes and tensors are ordered by decreasing element size
// (then name), so every tensor is aligned to its element size in the file.

import { readFileBytes, writeFileAtomic, writeFileAtomicSync } from "../platform.js";

export type Dtype = "F32" | "F64" | "I32" | "U32";
export type TensorArray = Float32Array | Float64Array | Int32Array | Uint32Array;

export interface Tensor {
  dtype: Dtype;
  shape: number[];
  data: TensorArray;
}

/** A tensor to write; dtype is taken from the array type when omitted. */
export interface TensorInput {
  dtype?: Dtype;
  shape: readonly number[];
  data: TensorArray;
}

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = "SafetensorsError";
  }
}

const DTYPES: Record<Dtype, { size: number; make: (b: ArrayBuffer) => TensorArray }> = {
  F64: { size: 8, make: (b) => new Float64Array(b) },
  F32: { size: 4, make: (b) => new Float32Array(b) },
  I32: { size: 4, make: (b) => new Int32Array(b) },
  U32: { size: 4, make: (b) => new Uint32Array(b) },
};

/** The reference implementation's limit; a larger "header" means a corrupt length field. */
const MAX_HEADER = 100_000_000;

function assertLittleEndian(): void {
  // Typed arrays use host byte order; safetensors is little-endian. Every supported host is LE.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
    throw new Error("safetensors I/O needs a little-endian host");
}

function dtypeOf(data: TensorArray): Dtype {
  if (data instanceof Float32Array) return "F32";
  if (data instanceof Float64Array) return "F64";
  if (data instanceof Int32Array) return "I32";
  return "U32";
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Serialises to a list of chunks (header, then each tensor's bytes) so no giant copy is made. */
export function encodeSafetensors(
  tensors: Record<string, TensorInput> | Map<string, TensorInput>,
  metadata: Record<string, string> = {},
): Uint8Array[] {
  assertLittleEndian();
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))];
  for (const [name, t] of entries) {
    if (name === "" || name === "__metadata__")
      throw new RangeError(`invalid tensor name \`${name}\``);
    const dtype = t.dtype ?? dtypeOf(t.data);
    if (dtype !== dtypeOf(t.data))
      throw new RangeError(`tensor ${name}: dtype ${dtype} does not match its array`);
    if (
      !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      numel(t.shape) !== t.data.length
    ) {
      throw new RangeError(
        `tensor ${name}: shape [${t.shape}] does not match ${t.data.length} elements`,
      );
    }
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") throw new RangeError(`metadata ${k} must be a string`);
  }
  entries.sort(
    ([an, a], [bn, b]) =>
      b.data.BYTES_PER_ELEMENT - a.data.BYTES_PER_ELEMENT || (an < bn ? -1 : an > bn ? 1 : 0),
  );
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const end = offset + t.data.byteLength;
    header[name] = { dtype: dtypeOf(t.data), shape: [...t.shape], data_offsets: [offset, end] };
    offset = end;
  }
  // TextEncoder and DataView rather than Node's Buffer: the page (playground/) writes these too.
  const json = JSON.stringify(header);
  const jsonBytes = new TextEncoder().encode(json).length;
  const headerBytes = new TextEncoder().encode(json + " ".repeat((8 - (jsonBytes % 8)) % 8));
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  return [
    len,
    headerBytes,
    ...entries.map(([, t]) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
  ];
}

/** Parses a whole safetensors file held in memory; `file` names it in errors. */
export function decodeSafetensors(bytes: Uint8Array, file = "<buffer>"): SafetensorsFile {
  assertLittleEndian();
  const fail = (detail: string): never => {
    throw new SafetensorsError(file, detail);
  };
  if (bytes.length < 8)
    fail(`file is truncated: ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER))
    fail(`header length ${n64} is implausible; not a safetensors file or corrupt`);
  const n = Number(n64);
  if (8 + n > bytes.length) {
    fail(
      `file is truncated: header length is ${n} bytes but only ${bytes.length - 8} bytes follow`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message}); corrupt file`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    fail("header is not a JSON object");
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number; dtype: Dtype; shape: number[] }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null) fail("__metadata__ is not an object");
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = t?.dtype;
    if (typeof dtype !== "string" || !(dtype in DTYPES)) {
      fail(
        `tensor \`${name}\` has unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPES).join(", ")})`,
      );
    }
    const shape = t.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor \`${name}\` has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offs = t.data_offsets;
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offs[0] > offs[1]
    ) {
      fail(`tensor \`${name}\` has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const want = numel(shape as number[]) * DTYPES[dtype as Dtype].size;
    if (end - begin !== want) {
      fail(
        `tensor \`${name}\`: shape [${shape}] of ${dtype} needs ${want} bytes but data_offsets span ${end - begin}`,
      );
    }
    spans.push({ name, begin, end, dtype: dtype as Dtype, shape: shape as number[] });
  }
  // The data buffer must be covered exactly once, in offset order.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const s of spans) {
    if (s.begin !== expected) {
      fail(
        `tensor \`${s.name}\` starts at byte ${s.begin} of the data but the previous one ends at ${expected} (overlap or hole)`,
      );
    }
    expected = s.end;
  }
  if (expected > dataLen)
    fail(
      `file is truncated: tensors need ${expected} bytes of data but only ${dataLen} are present`,
    );
  if (expected < dataLen) fail(`${dataLen - expected} unexpected bytes after the last tensor`);
  const tensors = new Map<string, Tensor>();
  for (const s of spans) {
    // Copy into a fresh, aligned buffer. (Not bytes.slice: on a Node Buffer that is a view.)
    const copy = new Uint8Array(s.end - s.begin);
    copy.set(bytes.subarray(dataStart + s.begin, dataStart + s.end));
    const buf = copy.buffer;
    tensors.set(s.name, { dtype: s.dtype, shape: s.shape, data: DTYPES[s.dtype].make(buf) });
  }
  return { tensors, metadata };
}

export function loadSafetensors(path: string): SafetensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileBytes(path);
  } catch (e) {
    throw new SafetensorsError(
      path,
      `cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
    );
  }
  return decodeSafetensors(bytes, path);
}

/** Writes atomically: a crash mid-write leaves the previous checkpoint intact. */
export async function saveSafetensors(
  path: string,
  tensors: Record<string, TensorInput> | Map<string, TensorInput>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export function saveSafetensorsSync(
  path: string,
  tensors: Record<string, TensorInput> | Map<string, TensorInput>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomicSync(path, encodeSafetensors(tensors, metadata));
}
